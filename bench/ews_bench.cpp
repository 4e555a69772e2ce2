// ews_bench: how many EWS requests per second mock-ews serves for what a mailbox monitor sends most
// (FindItem pages and GetItem, with and without MIME), over HTTPS keep-alive connections with a
// real mock-aad token validated on every request. A benchmark, not a test: it asserts nothing.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "exo/common/file.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"
#include "load.hpp"

namespace {

using Steady = std::chrono::steady_clock;
using nlohmann::json;
constexpr const char* kAppId = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
constexpr const char* kSecret = "bench8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ012345";
constexpr const char* kMailbox = "monitor@contoso.onmicrosoft.com";

json BenchWorld() {
  return {{"tenants",
           {{{"id", exo::aad::kDefaultTenantId},
             {"domains", {exo::aad::kDefaultTenantDomain}},
             {"applications",
              {{{"appId", kAppId},
                {"displayName", "Bench Daemon"},
                {"passwordCredentials", {{{"secretText", kSecret}}}},
                {"appRoleAssignments",
                 {{{"resource", "https://outlook.office365.com"},
                   {"appRole", "full_access_as_app"}}}}}}}}}}};
}

// exchangelib's envelope: Exchange2016, PrimarySmtpAddress impersonation.
std::string Envelope(const std::string& body) {
  return std::string(
             "<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope "
             "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
             "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "
             "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><s:Header>"
             "<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>"
             "<t:ConnectingSID><t:PrimarySmtpAddress>") +
         kMailbox +
         "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>"
         "<s:Body>" +
         body + "</s:Body></s:Envelope>";
}

std::string FindItemPage(std::size_t offset) {
  return Envelope(
      "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
      "</m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"50\" Offset=\"" +
      std::to_string(offset) +
      "\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
      "</m:ParentFolderIds></m:FindItem>");
}

std::string GetItem(const exo::mock_ews::Item& item, bool mime) {
  return Envelope(std::string("<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape>") +
                  (mime ? "<t:IncludeMimeContent>true</t:IncludeMimeContent>" : "") +
                  "</m:ItemShape><m:ItemIds><t:ItemId Id=\"" + item.id + "\" ChangeKey=\"" +
                  item.change_key + "\"/></m:ItemIds></m:GetItem>");
}

struct Case {
  std::string name;
  std::vector<std::string> bodies;  // sent in turn, each connection from its own offset
};

using exo::bench::LoadResult;

LoadResult Load(int port, const std::string& ca, const std::string& token, const Case& c,
                int connections, double seconds) {
  const httplib::Headers headers = {{"Authorization", "Bearer " + token},
                                    {"X-AnchorMailbox", kMailbox}};
  return exo::bench::RunLoad(
      port, ca, connections, seconds,
      [&](httplib::SSLClient& cli, int connection, std::uint64_t n) -> std::optional<std::size_t> {
        // Each connection walks the bodies from its own offset.
        const std::size_t next = static_cast<std::size_t>(connection) * 7 + n;
        const std::string& body = c.bodies[next % c.bodies.size()];
        auto res = cli.Post("/EWS/Exchange.asmx", headers, body, "text/xml; charset=utf-8");
        if (!res || res->status != 200 ||
            res->body.find("ResponseClass=\"Success\"") == std::string::npos) {
          return std::nullopt;
        }
        return res->body.size();
      });
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

int Die(const std::string& what) {
  std::cerr << "ews_bench: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ews_bench: mock-ews FindItem and GetItem requests per second over HTTPS keep-alive, "
      "token validation included (measures, asserts nothing)"};
  double seconds = 3;
  std::vector<int> connections = {1, 8, 64};
  std::size_t messages = 500;
  std::size_t threads = 64;
  bool smoke = false;
  std::string json_out, only;
  app.add_option("--seconds", seconds, "Duration of each case")->capture_default_str();
  app.add_option("--connections", connections, "Concurrent keep-alive clients per case");
  app.add_option("--messages", messages, "Messages in the Inbox")->capture_default_str();
  app.add_option("--threads", threads, "mock-ews worker threads")->capture_default_str();
  app.add_option("--only", only, "Run only the cases whose name contains this text (e.g. MIME)");
  app.add_flag("--smoke", smoke, "A run of about two seconds that only proves the bench works");
  app.add_option("--json", json_out, "Also write the figures here as JSON");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    seconds = 0.2;
    connections = {1, 4};
    messages = 60;
  }
  // Each keep-alive connection holds a worker thread; fewer threads would measure queueing.
  const int most = *std::max_element(connections.begin(), connections.end());
  threads = std::max(threads, static_cast<std::size_t>(most));

  exo::RealClock& clock = exo::RealClock::Instance();
  const auto ca_dir =
      std::filesystem::temp_directory_path() / ("exo-ews-bench-" + std::to_string(getpid()));
  exo::aad::MockAadOptions aad_options;
  aad_options.world = BenchWorld();
  aad_options.ca_dir = ca_dir;
  aad_options.threads = 4;
  auto aad = exo::aad::MockAad::Start(aad_options, clock);
  if (!aad) return Die(aad.error().Describe());
  exo::mock_ews::MockEwsOptions ews_options;
  ews_options.ca_dir = ca_dir;
  ews_options.threads = threads;
  auto ews = exo::mock_ews::MockEws::Start(ews_options, clock);
  if (!ews) return Die(ews.error().Describe());
  exo::aad::MockAad* issuer = aad->get();
  if (auto t =
          (*ews)->TrustTenant({exo::aad::kDefaultTenantId, [issuer] { return issuer->Jwks(); }});
      !t) {
    return Die(t.error().Describe());
  }

  auto& store = (*ews)->store();
  if (auto o = store.CreateOrganization(exo::aad::kDefaultTenantId, "Contoso"); !o) {
    return Die(o.error().Describe());
  }
  exo::mock_ews::MailboxSpec spec;
  spec.organization_id = exo::aad::kDefaultTenantId;
  spec.primary_smtp_address = kMailbox;
  if (auto m = store.CreateMailbox(spec); !m) return Die(m.error().Describe());
  // Mail of a typical size (a few KB of text) from a handful of senders.
  std::vector<exo::mock_ews::Item> items;
  for (std::size_t i = 0; i < messages; ++i) {
    exo::mock_ews::MessageDraft draft;
    draft.from = {"Sender " + std::to_string(i % 7),
                  "sender" + std::to_string(i % 7) + "@fabrikam.com"};
    draft.to = {{"Monitor", kMailbox}};
    draft.subject = "Order " + std::to_string(10000 + i) + " shipped";
    for (int line = 0; line < 40; ++line) {
      draft.body += "Line " + std::to_string(line) + " of the message about order " +
                    std::to_string(10000 + i) + ", shipped today.\r\n";
    }
    auto item = store.DeliverToInbox(kMailbox, store.ComposeMime(draft));
    if (!item) return Die(item.error().Describe());
    items.push_back(*item);
  }

  const std::string ca = (*ews)->ca_file().string();
  httplib::SSLClient aad_client("127.0.0.1", (*aad)->port());
  aad_client.set_ca_cert_path(ca.c_str());
  aad_client.enable_server_certificate_verification(true);
  auto token_res = aad_client.Post(
      (std::string("/") + exo::aad::kDefaultTenantId + "/oauth2/v2.0/token").c_str(),
      std::string("grant_type=client_credentials&client_id=") + kAppId +
          "&client_secret=" + httplib::detail::encode_query_param(kSecret) +
          "&scope=https%3A%2F%2Foutlook.office365.com%2F.default",
      "application/x-www-form-urlencoded");
  if (!token_res || token_res->status != 200) return Die("mock-aad issued no token");
  const std::string token = json::parse(token_res->body)["access_token"];
  // Exchange's throttling budget (a few thousand requests, then 2.5/s) would measure the policy,
  // not the server: lift it through the control API (a mock without throttling answers 404).
  httplib::SSLClient control("127.0.0.1", (*ews)->port());
  control.set_ca_cert_path(ca.c_str());
  control.enable_server_certificate_verification(true);
  auto lifted =
      control.Put("/_exo/throttling",
                  R"({"budgetEnabled": false, "maxConcurrency": 0, "maxConcurrentSync": 0})",
                  "application/json");
  if (!lifted || (lifted->status != 200 && lifted->status != 204 && lifted->status != 404)) {
    return Die(
        "cannot lift throttling: " +
        (lifted ? std::to_string(lifted->status) + " " + lifted->body : std::string("no answer")));
  }

  std::vector<Case> cases(3);
  cases[0].name = "FindItem page of 50 (Default)";
  for (std::size_t off = 0; off + 50 <= messages; off += 50)
    cases[0].bodies.push_back(FindItemPage(off));
  cases[1].name = "GetItem 1 item (Default)";
  cases[2].name = "GetItem 1 item + MIME";
  for (const auto& item : items) {
    cases[1].bodies.push_back(GetItem(item, false));
    cases[2].bodies.push_back(GetItem(item, true));
  }

  json report = {{"messages", messages},     {"secondsPerCase", seconds},
                 {"serverThreads", threads}, {"nproc", std::thread::hardware_concurrency()},
                 {"cpu", CpuModel()},        {"runs", json::array()}};
  std::printf(
      "mock-ews over HTTPS keep-alive, token validated per request (%zu messages, %.1f s "
      "per case, %u CPUs: %s)\n",
      messages, seconds, std::thread::hardware_concurrency(), CpuModel().c_str());
  std::printf("  %-32s %11s %10s %9s %9s %11s %7s\n", "case", "connections", "requests/s", "p50 ms",
              "p99 ms", "bytes/resp", "errors");
  for (const auto& c : cases) {
    if (!only.empty() && c.name.find(only) == std::string::npos) continue;
    for (int n : connections) {
      const auto r = Load((*ews)->port(), ca, token, c, n, seconds);
      std::printf("  %-32s %11d %10.0f %9.2f %9.2f %11.0f %7llu\n", c.name.c_str(), n, r.per_second,
                  r.p50_ms, r.p99_ms, r.mean_response_bytes,
                  static_cast<unsigned long long>(r.failed));
      report["runs"].push_back({{"case", c.name},
                                {"connections", n},
                                {"requestsPerSecond", r.per_second},
                                {"p50Ms", r.p50_ms},
                                {"p99Ms", r.p99_ms},
                                {"meanResponseBytes", r.mean_response_bytes},
                                {"errors", r.failed}});
    }
  }
  (*ews)->Stop();
  (*aad)->Stop();
  std::filesystem::remove_all(ca_dir);
  if (!json_out.empty()) (void)exo::WriteFileAtomically(json_out, report.dump(2) + "\n");
  return 0;
}
