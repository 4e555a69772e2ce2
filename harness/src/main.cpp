// exo-harness: a local Entra ID (mock-aad) and Exchange Online (mock-ews) on one clock, with one
// CA and one ready file, serving until SIGTERM or SIGINT. Every user of the world gets a mailbox.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <iostream>

#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/serve.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"

namespace {
int Die(const std::string& what) {
  std::cerr << "exo-harness: " << what << "\n";
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exo-harness: mock-aad (Entra ID) and mock-ews (Exchange Online EWS) on one clock.\n"
      "Tokens mock-aad issues are trusted by mock-ews; every user in the world has a mailbox.\n"
      "Documentation: docs/mock-aad.md"};
  std::string host = "127.0.0.1";
  bool no_tls = false;
  std::string ca_dir, world_file, ready_file, clock_mode = "real", start_time, log_level;
  std::vector<std::string> host_names, extra_mailboxes;
  std::uint64_t seed = 1;
  app.add_option("--host", host, "Address both servers listen on (each on a free port)")
      ->capture_default_str();
  app.add_flag("--no-tls", no_tls, "Plain HTTP instead of HTTPS");
  app.add_option("--ca-dir", ca_dir,
                 "Harness CA directory shared by both servers; created if absent. Default: a "
                 "new temporary directory");
  app.add_option("--world", world_file, "mock-aad world file (docs/mock-aad.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--host-name", host_names, "Extra name on mock-aad's certificate (repeatable)");
  app.add_option("--mailbox", extra_mailboxes,
                 "Also create this mailbox (SMTP address in a world domain; repeatable)");
  app.add_option("--clock", clock_mode, "real (advanceable by the control API) or simulated")
      ->check(CLI::IsMember({"simulated", "real"}))
      ->capture_default_str();
  app.add_option("--start-time", start_time, "Clock start, ISO 8601");
  app.add_option("--seed", seed, "Seed for generated ids and passwords")->capture_default_str();
  app.add_option("--ready-file", ready_file,
                 "Write aad, ews, ca, tenant, admin and mailboxes here (JSON) once both serve");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  CLI11_PARSE(app, argc, argv);
  if (!log_level.empty() && !exo::log::SetLevel(log_level)) return Die("unknown --log-level");

  exo::SimulatedClock simulated;
  exo::OffsetClock offset;
  if (!start_time.empty()) {
    auto t = exo::ParseIso8601(start_time);
    if (!t) return Die("--start-time must be ISO 8601");
    simulated.SetNow(*t);
    offset.SetNow(*t);
  }
  exo::AdjustableClock& clock =
      clock_mode == "simulated" ? static_cast<exo::AdjustableClock&>(simulated) : offset;

  // One CA for both servers, so clients trust one file.
  if (ca_dir.empty() && !no_tls) {
    std::string pattern = "/tmp/exo-harness-XXXXXX";
    if (!mkdtemp(pattern.data())) return Die("cannot create a temporary directory");
    ca_dir = pattern;
  }

  exo::aad::MockAadOptions aad_options;
  aad_options.host = host;
  aad_options.tls = !no_tls;
  aad_options.ca_dir = ca_dir;
  aad_options.host_names = host_names;
  aad_options.seed = seed;
  if (!world_file.empty()) {
    auto text = exo::ReadFile(world_file);
    if (!text) return Die(text.error().Describe());
    auto world = nlohmann::json::parse(*text, nullptr, false, /*ignore_comments=*/true);
    if (world.is_discarded()) return Die(world_file + " is not valid JSON");
    aad_options.world = world;
  }

  exo::mock::BlockStopSignals();  // before any server thread starts

  auto aad = exo::aad::MockAad::Start(aad_options, clock, &clock);
  if (!aad) return Die(aad.error().Describe());
  exo::mock_ews::MockEwsOptions ews_options;
  ews_options.host = host;
  ews_options.tls = !no_tls;
  ews_options.ca_dir = ca_dir;
  ews_options.seed = seed;
  auto ews = exo::mock_ews::MockEws::Start(ews_options, clock, &clock);
  if (!ews) return Die(ews.error().Describe());

  // Every tenant is an Exchange organization trusting its tokens; every user has a mailbox.
  exo::aad::MockAad* issuer = aad->get();
  nlohmann::json mailboxes = nlohmann::json::array();
  const nlohmann::json dump = issuer->directory().Dump();
  for (const auto& t : dump["tenants"]) {
    const std::string tid = t["id"];
    if (auto r = (*ews)->TrustTenant({tid, [issuer] { return issuer->Jwks(); }}); !r) {
      return Die(r.error().Describe());
    }
    if (auto r = (*ews)->store().CreateOrganization(tid, t["displayName"].get<std::string>()); !r) {
      return Die(r.error().Describe());
    }
    for (const auto& u : t["users"]) {
      exo::mock_ews::MailboxSpec spec;
      spec.organization_id = tid;
      spec.primary_smtp_address = u["userPrincipalName"];
      spec.display_name = u["displayName"];
      if (auto m = (*ews)->store().CreateMailbox(spec); !m) return Die(m.error().Describe());
      mailboxes.push_back(spec.primary_smtp_address);
    }
  }
  for (const auto& smtp : extra_mailboxes) {
    const auto at = smtp.find('@');
    auto tenant = at == std::string::npos ? std::nullopt
                                          : issuer->directory().FindTenant(smtp.substr(at + 1));
    if (!tenant) return Die("--mailbox " + smtp + ": its domain is not a domain of any tenant");
    exo::mock_ews::MailboxSpec spec;
    spec.organization_id = tenant->id;
    spec.primary_smtp_address = smtp;
    if (auto m = (*ews)->store().CreateMailbox(spec); !m) return Die(m.error().Describe());
    mailboxes.push_back(smtp);
  }

  nlohmann::json ready = issuer->ReadyInfo();
  ready["ews"] = (*ews)->ews_url();
  ready["ewsControl"] = (*ews)->base_url() + "/_exo";
  ready["mailboxes"] = mailboxes;
  ready["clock"] = clock_mode;
  ready["pid"] = ::getpid();
  if (!ready_file.empty()) {
    // 0600: it holds the admin password exo-admin signs in with.
    if (auto w = exo::WriteFileAtomically(ready_file, ready.dump(2) + "\n", 0600); !w) {
      return Die(w.error().Describe());
    }
  }
  std::cout << ready.dump(2) << std::endl;

  exo::mock::WaitForStopSignal();
  (*ews)->Stop();
  (*aad)->Stop();
  return 0;
}
