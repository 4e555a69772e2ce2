// mock-aad: serve a local Entra ID until SIGTERM or SIGINT.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/serve.hpp"
#include "exo/mock_aad/mock_aad.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "mock-aad: a local Microsoft Entra ID (Azure AD) token service for tests.\n"
      "Serves the v1 and v2 token endpoints, OIDC discovery, JWKS, instance discovery, a\n"
      "Microsoft Graph subset for app registrations, and the harness control API under /_exo.\n"
      "Documentation: docs/mock-aad.md"};
  std::string listen = "127.0.0.1:0";
  bool no_tls = false;
  std::string ca_dir, world_file, ready_file, clock_mode = "real", start_time, log_level;
  std::vector<std::string> host_names;
  std::uint64_t seed = 1;
  std::size_t threads = 64;
  app.add_option("--listen", listen, "Address and port to listen on; port 0 picks a free one")
      ->capture_default_str();
  app.add_flag("--no-tls", no_tls, "Serve plain HTTP instead of HTTPS (MSAL refuses http)");
  app.add_option("--ca-dir", ca_dir,
                 "Directory holding the harness CA (ca.pem, ca-key.pem); created if absent, so "
                 "clients can trust it once. Default: a new temporary directory per run");
  app.add_option("--world", world_file, "World file: tenants, users, apps, secrets (JSON)")
      ->check(CLI::ExistingFile);
  app.add_option("--host-name", host_names,
                 "Extra name for the server certificate, e.g. login.microsoftonline.com "
                 "(repeatable)");
  app.add_option("--clock", clock_mode,
                 "real: wall-clock time, which POST /_exo/clock/advance can move ahead (what "
                 "real clients need: they stamp certificate assertions with their own clock); "
                 "simulated: time stands still except through /_exo/clock (deterministic runs)")
      ->check(CLI::IsMember({"simulated", "real"}))
      ->capture_default_str();
  app.add_option("--start-time", start_time,
                 "Clock start, ISO 8601 (simulated default: 2026-11-02T09:00:00Z; real default: "
                 "now)");
  app.add_option("--seed", seed, "Seed for ids, trace ids and the default admin password")
      ->capture_default_str();
  app.add_option("--threads", threads, "Worker threads (connections served at once)")
      ->capture_default_str();
  app.add_option("--ready-file", ready_file,
                 "Write endpoints, CA path, tenant and admin credentials here (JSON) once the "
                 "server accepts connections");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  CLI11_PARSE(app, argc, argv);

  if (!log_level.empty() && !exo::log::SetLevel(log_level)) {
    std::cerr << "mock-aad: unknown --log-level '" << log_level << "'\n";
    return 2;
  }
  exo::aad::MockAadOptions options;
  const auto colon = listen.rfind(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no port");
    options.host = listen.substr(0, colon);
    if (options.host.size() > 2 && options.host.front() == '[') {
      options.host = options.host.substr(1, options.host.size() - 2);
    }
    options.port = std::stoi(listen.substr(colon + 1));
    if (options.port < 0 || options.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    std::cerr << "mock-aad: --listen must be HOST:PORT (e.g. 127.0.0.1:0), not '" << listen << "'\n";
    return 2;
  }
  options.tls = !no_tls;
  options.ca_dir = ca_dir;
  options.host_names = host_names;
  options.seed = seed;
  options.threads = threads;
  if (!world_file.empty()) {
    auto text = exo::ReadFile(world_file);
    if (!text) {
      std::cerr << "mock-aad: " << text.error().Describe() << "\n";
      return 2;
    }
    auto world = nlohmann::json::parse(*text, nullptr, false, /*ignore_comments=*/true);
    if (world.is_discarded()) {
      std::cerr << "mock-aad: " << world_file << " is not valid JSON\n";
      return 2;
    }
    options.world = world;
  }

  exo::SystemTime start = exo::SimulatedClock::DefaultStart();
  if (!start_time.empty()) {
    auto t = exo::ParseIso8601(start_time);
    if (!t) {
      std::cerr << "mock-aad: --start-time must be ISO 8601, not '" << start_time << "'\n";
      return 2;
    }
    start = *t;
  }
  exo::SimulatedClock simulated(start);
  exo::OffsetClock offset;
  if (!start_time.empty() && clock_mode == "real") offset.SetNow(start);
  exo::AdjustableClock& clock =
      clock_mode == "simulated" ? static_cast<exo::AdjustableClock&>(simulated) : offset;

  exo::mock::BlockStopSignals();  // before any server thread starts

  auto server = exo::aad::MockAad::Start(options, clock, &clock);
  if (!server) {
    std::cerr << "mock-aad: " << server.error().Describe() << "\n";
    return 1;
  }
  nlohmann::json ready = (*server)->ReadyInfo();
  ready["pid"] = ::getpid();
  ready["clock"] = clock_mode;
  if (!ready_file.empty()) {
    if (auto w = exo::WriteFileAtomically(ready_file, ready.dump(2) + "\n"); !w) {
      std::cerr << "mock-aad: " << w.error().Describe() << "\n";
      return 1;
    }
  }
  std::cout << ready.dump(2) << std::endl;

  exo::mock::WaitForStopSignal();
  (*server)->Stop();
  return 0;
}
