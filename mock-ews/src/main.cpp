// mock-ews: serve a local Exchange Online (or, --deployment on-premises, Exchange Server) EWS
// endpoint on its own until SIGTERM or SIGINT, trusting tokens of tenants whose signing keys it
// fetches from an Entra ID authority (real or mock-aad).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>

#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_ews/mock_ews.hpp"
#include "exo/mock_kit/serve.hpp"
#include "internal/remote_jwks.hpp"
#include "internal/world_mailboxes.hpp"

namespace {

int Die(int code, const std::string& what) {
  std::cerr << "mock-ews: " << what << "\n";
  return code;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mock-ews: a local Exchange Online EWS endpoint (POST /EWS/Exchange.asmx) for tests.\n"
      "Trusts app-only tokens of the tenants named with --trust-tenant (and those of --world),\n"
      "fetching their signing keys from --authority through OIDC discovery.\n"
      "Documentation: docs/mock-ews.md"};
  std::string host = "127.0.0.1", authority = "https://login.microsoftonline.com";
  int port = 0;
  bool no_tls = false, require_keys = false;
  std::string ca_dir, ca_file, world_file, ready_file, clock_mode = "real", start_time, log_level;
  std::string deployment = "exchange-online", public_url;
  bool app_only_oauth = false;
  std::vector<std::string> trusted, extra_mailboxes;
  std::uint64_t seed = 1;
  std::size_t threads = 64;
  double refresh_interval_s = 300, max_age_s = 12 * 3600;
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port to listen on; 0 picks a free one")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_flag("--no-tls", no_tls, "Serve plain HTTP instead of HTTPS");
  app.add_option("--ca-dir", ca_dir,
                 "Harness CA directory (ca.pem, ca-key.pem), shared with mock-aad; created if "
                 "absent. Its ca.pem is also trusted when fetching keys. Default: a new "
                 "temporary directory");
  app.add_option("--trust-tenant", trusted,
                 "Accept tokens of this tenant (GUID; repeatable). Keys come from "
                 "{authority}/{tenant}/v2.0/.well-known/openid-configuration");
  app.add_option("--authority", authority, "Entra ID origin to fetch tenants' signing keys from")
      ->capture_default_str();
  app.add_option("--ca-file", ca_file,
                 "CA certificates (PEM) to verify --authority with, instead of the system store "
                 "(default: the system store, plus the harness CA of --ca-dir)")
      ->check(CLI::ExistingFile);
  app.add_flag("--require-keys", require_keys,
               "Fail start-up when a tenant's keys cannot be fetched (default: warn, serve, and "
               "retry when the first token arrives)");
  app.add_option("--jwks-refresh-interval", refresh_interval_s,
                 "At most one on-demand key fetch per tenant per this many seconds of the clock")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--jwks-max-age", max_age_s,
                 "Refresh cached keys older than this many seconds on the next token")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--world", world_file,
                 "mock-aad world file: each tenant becomes a trusted organization, each user a "
                 "mailbox; a top-level \"mailboxes\" list adds more (docs/mock-ews.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--mailbox", extra_mailboxes, "Create a mailbox: TENANT_ID:smtp (repeatable)");
  app.add_option("--clock", clock_mode, "real (advanceable by the control API) or simulated")
      ->check(CLI::IsMember({"simulated", "real"}))
      ->capture_default_str();
  app.add_option("--start-time", start_time,
                 "Clock start, ISO 8601 (simulated default: 2026-11-02T09:00:00Z; real: now)");
  app.add_option("--seed", seed, "Seed for the store's ids and generated MIME")
      ->capture_default_str();
  app.add_option("--threads", threads, "Worker threads (connections served at once)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--ready-file", ready_file,
                 "Write the endpoints, CA path and mailboxes here (JSON) once serving");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  app.add_option("--deployment", deployment,
                 "exchange-online, or on-premises: an Exchange Server of a hybrid organization "
                 "(tokens for --public-url; docs/mock-ews.md \"On-premises\")")
      ->check(CLI::IsMember({"exchange-online", "on-premises"}))
      ->capture_default_str();
  app.add_option("--public-url", public_url,
                 "On-premises: the server's public origin, e.g. https://mail.contoso.com: the "
                 "token audience it accepts, the URL autodiscover advertises, a name on its "
                 "certificate");
  app.add_flag("--app-only-oauth", app_only_oauth,
               "On-premises: app-only OAuth is configured (V1S2SAppOnly and the partner "
               "application's AppOnlyPermissions); without it app-only tokens get 403");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, whatever CLI11's own code.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!log_level.empty() && !exo::log::SetLevel(log_level)) {
    return Die(2, "unknown --log-level '" + log_level + "'");
  }
  static const std::regex kGuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  for (const auto& t : trusted) {
    if (!std::regex_match(t, kGuid)) {
      return Die(2, "--trust-tenant '" + t + "' is not a tenant id (a GUID)");
    }
  }
  const bool on_premises = deployment == "on-premises";
  if (on_premises && public_url.empty()) {
    return Die(2, "--deployment on-premises needs --public-url (e.g. https://mail.contoso.com)");
  }
  if (!on_premises && (!public_url.empty() || app_only_oauth)) {
    return Die(2, "--public-url and --app-only-oauth apply to --deployment on-premises only");
  }
  if (!authority.starts_with("https://") && !authority.starts_with("http://")) {
    return Die(2, "--authority must be an http(s) origin, not '" + authority + "'");
  }
  nlohmann::json world;
  if (!world_file.empty()) {
    auto text = exo::ReadFile(world_file);
    if (!text) return Die(2, text.error().Describe());
    world = nlohmann::json::parse(*text, nullptr, false, /*ignore_comments=*/true);
    if (world.is_discarded()) return Die(2, world_file + " is not valid JSON");
  }

  exo::SystemTime start = exo::SimulatedClock::DefaultStart();
  if (!start_time.empty()) {
    auto t = exo::ParseIso8601(start_time);
    if (!t) return Die(2, "--start-time must be ISO 8601, not '" + start_time + "'");
    start = *t;
  }
  exo::SimulatedClock simulated(start);
  exo::OffsetClock offset;
  if (!start_time.empty() && clock_mode == "real") offset.SetNow(start);
  exo::AdjustableClock& clock =
      clock_mode == "simulated" ? static_cast<exo::AdjustableClock&>(simulated) : offset;

  exo::mock::BlockStopSignals();  // before any server thread starts

  // Declared before the server so that they outlive every request that reads them.
  std::vector<std::unique_ptr<exo::mock_ews::RemoteJwks>> key_sets;
  exo::mock_ews::MockEwsOptions options;
  options.host = host;
  options.port = port;
  options.tls = !no_tls;
  options.ca_dir = ca_dir;
  options.seed = seed;
  options.threads = threads;
  if (on_premises) {
    options.deployment = exo::mock_ews::Deployment::kExchangeServer;
    options.on_premises.public_url = public_url;
    options.on_premises.app_only_oauth = app_only_oauth;
  }
  auto ews = exo::mock_ews::MockEws::Start(options, clock, &clock);
  if (!ews) {
    return Die(ews.error().code == "InvalidPublicUrl" ? 2 : 1, ews.error().Describe());
  }

  nlohmann::json mailboxes = nlohmann::json::array();
  if (!world_file.empty()) {
    auto seeded = exo::mock_ews::SeedFromWorld(world, (*ews)->store());
    if (!seeded) return Die(2, world_file + ": " + seeded.error().message);
    for (const auto& id : seeded->tenant_ids) trusted.push_back(id);
    for (const auto& smtp : seeded->smtp) mailboxes.push_back(smtp);
  }
  for (const auto& m : extra_mailboxes) {
    auto seeded = exo::mock_ews::SeedOne(m, (*ews)->store());
    if (!seeded) return Die(2, seeded.error().message);
    mailboxes.push_back(*seeded);
  }

  // Keys are fetched with the system store plus the harness CA, so one mock-ews can trust
  // mock-aad and the real service; --ca-file replaces both.
  exo::mock_ews::OidcSource source;
  source.authority = authority;
  if (!ca_file.empty()) {
    source.ca_file = ca_file;
  } else if (!ca_dir.empty() && std::filesystem::exists(std::filesystem::path(ca_dir) / "ca.pem")) {
    source.ca_file = std::filesystem::path(ca_dir) / "ca.pem";
    source.also_system_store = true;
  }
  exo::mock_ews::RemoteJwksPolicy policy;
  policy.min_refresh_interval =
      std::chrono::duration_cast<exo::Duration>(std::chrono::duration<double>(refresh_interval_s));
  policy.max_age =
      std::chrono::duration_cast<exo::Duration>(std::chrono::duration<double>(max_age_s));
  std::set<std::string> seen;
  nlohmann::json trust = nlohmann::json::array();
  for (const auto& tenant : trusted) {
    if (!seen.insert(Lower(tenant)).second) continue;
    exo::mock_ews::OidcSource s = source;
    s.tenant_id = Lower(tenant);
    auto& keys = *key_sets.emplace_back(std::make_unique<exo::mock_ews::RemoteJwks>(
        [s] { return exo::mock_ews::FetchOidcJwks(s); }, clock, policy));
    nlohmann::json entry = {{"id", s.tenant_id}, {"authority", authority}};
    if (auto fetched = keys.Refresh(); !fetched) {
      if (require_keys) return Die(1, "tenant " + s.tenant_id + ": " + fetched.error().Describe());
      std::cerr << "mock-ews: warning: tenant " << s.tenant_id << ": " << fetched.error().Describe()
                << "; serving anyway, its tokens are refused until a fetch succeeds (retried "
                   "when a token arrives)\n";
      entry["error"] = fetched.error().Describe();
    }
    entry["keys"] = keys.Keys()["keys"].size();
    trust.push_back(entry);
    exo::mock_ews::TrustedTenant trust_entry;
    trust_entry.tenant_id = s.tenant_id;
    // An unknown kid (a key rotated in at the issuer) refetches the JWKS, rate-limited.
    trust_entry.jwks_for_kid = [&keys](const std::string& kid) { return keys.KeysFor(kid); };
    auto added = (*ews)->TrustTenant(std::move(trust_entry));
    if (!added) return Die(1, added.error().Describe());
  }
  if (trust.empty()) {
    std::cerr << "mock-ews: warning: no tenant is trusted (--trust-tenant, --world): every token "
                 "will be refused\n";
  }

  nlohmann::json ready = {
      {"ews", (*ews)->base_url()},
      {"ewsUrl", (*ews)->ews_url()},
      {"control", (*ews)->base_url() + "/_exo"},
      {"ca", no_tls ? nlohmann::json() : nlohmann::json((*ews)->ca_file().string())},
      {"mailboxes", mailboxes},
      {"trustedTenants", trust},
      {"pid", ::getpid()},
      {"clock", clock_mode},
      {"deployment", deployment}};
  if (on_premises) {
    ready["publicUrl"] = (*ews)->public_url();
    ready["appOnlyOAuth"] = app_only_oauth;
  } else {
    ready["graph"] = (*ews)->graph_url();  // Microsoft Graph mail (Exchange Online only)
  }
  if (!ready_file.empty()) {
    if (auto w = exo::WriteFileAtomically(ready_file, ready.dump(2) + "\n"); !w) {
      return Die(1, w.error().Describe());
    }
  }
  std::cout << ready.dump(2) << std::endl;

  exo::mock::WaitForStopSignal();
  (*ews)->Stop();
  return 0;
}
