// aad_bench: how fast mock-aad issues tokens, against the machine's RSA-2048 signing limit (every
// token is one RS256 signature), and how long it takes from start to the first served request.
// A benchmark, not a test: it prints figures and asserts nothing.
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>
#include <thread>
#include <vector>

#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/tls.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "load.hpp"

namespace {

using Steady = std::chrono::steady_clock;
constexpr const char* kAppId = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
constexpr const char* kSecret = "bench8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ012345";

nlohmann::json BenchWorld() {
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

using exo::bench::LoadResult;

// `connections` keep-alive clients, each posting client_credentials requests back to back.
LoadResult Load(int port, const std::string& ca, int connections, double seconds) {
  const std::string path = std::string("/") + exo::aad::kDefaultTenantId + "/oauth2/v2.0/token";
  const std::string body = std::string("grant_type=client_credentials&client_id=") + kAppId +
                           "&client_secret=" + httplib::detail::encode_query_param(kSecret) +
                           "&scope=https%3A%2F%2Foutlook.office365.com%2F.default";
  return exo::bench::RunLoad(
      port, ca, connections, seconds,
      [&](httplib::SSLClient& cli, int, std::uint64_t) -> std::optional<std::size_t> {
        auto res = cli.Post(path.c_str(), body, "application/x-www-form-urlencoded");
        if (!res || res->status != 200) return std::nullopt;
        return res->body.size();
      });
}

// RS256 signatures per second on one thread, in this process.
double SignRate(double seconds) {
  auto key = exo::crypto::PrivateKey::GenerateRsa(2048);
  std::uint64_t n = 0;
  const auto deadline = Steady::now() + std::chrono::duration<double>(seconds);
  const auto start = Steady::now();
  while (Steady::now() < deadline) {
    (void)key->Sign(exo::crypto::SignatureScheme::kRsaPkcs1Sha256, "header.payload");
    ++n;
  }
  return static_cast<double>(n) / std::chrono::duration<double>(Steady::now() - start).count();
}

// `openssl speed -multi N rsa2048` signs/s, or a negative value when openssl is not available.
double OpensslSpeed(int multi, int seconds) {
  const std::string cmd = "openssl speed -seconds " + std::to_string(seconds) + " -multi " +
                          std::to_string(multi) + " rsa2048 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  // "rsa 2048 bits 0.000693s 0.000021s   1443.0  48192.3"  (sign/s is the first rate)
  static const std::regex re(R"(rsa\s+2048 bits\s+\S+\s+\S+\s+([0-9.]+))");
  std::smatch m;
  if (std::regex_search(out, m, re)) return std::stod(m[1]);
  return -1;
}

// Spawns the mock-aad binary with `ca_dir` and measures until its first served request.
double BinaryStartToFirstRequestMs(const std::string& bin, const std::filesystem::path& dir) {
  const std::string ready = (dir / "ready.json").string();
  const std::string ca_dir = (dir / "ca").string();
  std::filesystem::remove(ready);
  std::fflush(nullptr);  // the child must not inherit unflushed output
  const auto t0 = Steady::now();
  const pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(bin.c_str(), bin.c_str(), "--ready-file", ready.c_str(), "--ca-dir", ca_dir.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  double ms = -1;
  // Polls the ready file, then one request; bounded at 10 s of wall time.
  while (Steady::now() - t0 < std::chrono::seconds(10)) {
    auto text = exo::ReadFile(ready);
    if (text && !text->empty()) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (!j.is_discarded()) {
        const std::string aad = j["aad"];
        const auto colon = aad.rfind(':');
        httplib::SSLClient cli("127.0.0.1", std::stoi(aad.substr(colon + 1)));
        cli.set_tcp_nodelay(true);
        cli.set_ca_cert_path((ca_dir + "/ca.pem").c_str());
        cli.enable_server_certificate_verification(true);
        auto res = cli.Get((std::string("/") + exo::aad::kDefaultTenantId +
                            "/v2.0/.well-known/openid-configuration")
                               .c_str());
        if (res && res->status == 200) {
          ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
          break;
        }
      }
    }
    std::this_thread::yield();
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "aad_bench: mock-aad token issuance rate and start-up time (measures, asserts nothing)"};
  double seconds = 5;
  std::vector<int> connections = {1, 8, 64};
  bool smoke = false;
  std::string json_out;
  std::string bin_dir;
  app.add_option("--seconds", seconds, "Duration of each load run")->capture_default_str();
  app.add_option("--connections", connections, "Concurrent keep-alive clients per run");
  app.add_flag("--smoke", smoke, "A run of about two seconds that only proves the bench works");
  app.add_option("--json", json_out, "Also write the figures here as JSON");
  app.add_option("--bin-dir", bin_dir, "Where the mock-aad binary is (default: next to this one)");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    seconds = 0.5;
    connections = {1, 4};
  }
  if (bin_dir.empty()) bin_dir = std::filesystem::path(argv[0]).parent_path().string();

  exo::RealClock& clock = exo::RealClock::Instance();
  exo::aad::MockAadOptions options;
  options.world = BenchWorld();
  const auto t0 = Steady::now();
  auto server = exo::aad::MockAad::Start(options, clock);
  if (!server) {
    std::cerr << "aad_bench: " << server.error().Describe() << "\n";
    return 1;
  }
  const double start_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();

  nlohmann::json report = {{"startInProcessMs", start_ms}, {"runs", nlohmann::json::array()}};
  const double sign1 = SignRate(smoke ? 0.3 : 2.0);
  const double speed =
      smoke ? -1 : OpensslSpeed(static_cast<int>(std::thread::hardware_concurrency()), 3);
  report["rs256SignPerSecondOneThread"] = sign1;
  report["opensslSpeedMultiSignPerSecond"] = speed;

  std::printf("mock-aad token issuance (client_credentials, HTTPS keep-alive, %.1f s per run)\n",
              seconds);
  std::printf("  RS256 sign rate, 1 thread in-process : %8.0f /s\n", sign1);
  if (speed > 0) {
    std::printf("  openssl speed -multi %u rsa2048      : %8.0f sign/s (the ceiling)\n",
                std::thread::hardware_concurrency(), speed);
  }
  std::printf("  %-12s %12s %10s %10s %10s %10s\n", "connections", "tokens/s", "of limit", "p50 ms",
              "p99 ms", "errors");
  for (int c : connections) {
    const auto r = Load((*server)->port(), (*server)->ca_file().string(), c, seconds);
    const double limit = speed > 0 ? speed : sign1;
    std::printf("  %-12d %12.0f %9.0f%% %10.2f %10.2f %10llu\n", c, r.per_second,
                100.0 * r.per_second / limit, r.p50_ms, r.p99_ms,
                static_cast<unsigned long long>(r.failed));
    report["runs"].push_back({{"connections", c},
                              {"tokensPerSecond", r.per_second},
                              {"p50Ms", r.p50_ms},
                              {"p99Ms", r.p99_ms},
                              {"errors", r.failed}});
  }
  (*server)->Stop();

  const std::string bin = bin_dir + "/mock-aad";
  if (std::filesystem::exists(bin)) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("exo-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // Cold: the CA and signing keys are made; warm: both are loaded from --ca-dir.
    const double cold = BinaryStartToFirstRequestMs(bin, dir);
    const double warm = BinaryStartToFirstRequestMs(bin, dir);
    std::filesystem::remove_all(dir);
    report["binaryStartToFirstRequestMs"] = {{"cold", cold}, {"warm", warm}};
    std::printf("  start to first served request, cold  : %8.1f ms (binary; makes CA and keys)\n",
                cold);
    std::printf("  start to first served request, warm  : %8.1f ms (binary; --ca-dir reused)\n",
                warm);
  }
  std::printf("  start in-process (keys pooled, CA new): %8.1f ms\n", start_ms);
  if (!json_out.empty()) (void)exo::WriteFileAtomically(json_out, report.dump(2) + "\n");
  return 0;
}
