// exo-admin: runs an administrator's PowerShell setup lines (Connect-ExchangeOnline,
// New-ServicePrincipal, New-ApplicationAccessPolicy, Connect-MgGraph, New-MgApplication, ...)
// against mock-aad and mock-ews over HTTPS. Documentation: docs/exo-admin.md.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"
#include "exo/common/file.hpp"
#include "exo/exo_admin/runner.hpp"

namespace {

constexpr int kUsageError = 2;

// Prompts on the controlling terminal, so that a script can come on standard input.
class TerminalPrompter final : public exo::admin::Prompter {
 public:
  std::optional<std::string> ReadLine(const std::string& prompt) override {
    return Read(prompt, /*echo=*/true);
  }
  std::optional<std::string> ReadSecret(const std::string& prompt) override {
    return Read(prompt, /*echo=*/false);
  }

 private:
  static std::optional<std::string> Read(const std::string& prompt, bool echo) {
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    (void)!::write(fd, prompt.data(), prompt.size());
    termios old{};
    const bool is_tty = ::tcgetattr(fd, &old) == 0;
    if (!echo && is_tty) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    char c;
    bool got = false;
    while (::read(fd, &c, 1) == 1) {
      got = true;
      if (c == '\n') break;
      line += c;
    }
    if (!echo && is_tty) {
      ::tcsetattr(fd, TCSAFLUSH, &old);
      (void)!::write(fd, "\n", 1);
    }
    ::close(fd);
    if (!got) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
};

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The ready file names mock-ews by its EWS URL; the admin API lives at the same origin.
std::string ExchangeBase(std::string url) {
  url = TrimSlash(std::move(url));
  const std::string suffix = "/ews/exchange.asmx";
  if (url.size() >= suffix.size()) {
    std::string tail = url.substr(url.size() - suffix.size());
    for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tail == suffix) url.erase(url.size() - suffix.size());
  }
  return url;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exo-admin: runs PowerShell setup lines (Exchange Online PowerShell V3, Microsoft Graph "
      "PowerShell) verbatim against mock-aad and mock-ews.\n"
      "Reads the script from --script or standard input. Documentation: docs/exo-admin.md"};
  std::string script, ready_file, authority, exchange, ca, tenant, user, password;
  bool json = false, continue_on_error = false;
  app.add_option("--script,-f", script, "PowerShell file to run (default: standard input)");
  app.add_option("script_file", script, "Same as --script");
  app.add_option("--ready-file", ready_file,
                 "exo-harness ready file: aad, ews, ca, tenant and admin are read from it")
      ->check(CLI::ExistingFile);
  app.add_option("--authority", authority, "mock-aad base URL (https://127.0.0.1:PORT)");
  app.add_option("--exchange", exchange, "mock-ews base URL (or its /EWS/Exchange.asmx URL)");
  app.add_option("--ca", ca, "CA certificate (PEM) to trust for both servers")
      ->check(CLI::ExistingFile);
  app.add_option("--tenant", tenant, "Default tenant for Connect-MgGraph (id or domain)");
  app.add_option("--user", user,
                 "User for Get-Credential and Connect-MgGraph (env EXO_ADMIN_USER; default: the "
                 "ready file's admin)");
  app.add_option("--password", password,
                 "Password for every sign-in (env EXO_ADMIN_PASSWORD; default: the ready file's "
                 "admin password for the admin, else a prompt on the terminal)");
  app.add_flag("--json", json, "Print output objects as JSON, one per line");
  app.add_flag("--continue-on-error", continue_on_error,
               "Run the remaining lines after a failed one (the exit status is still 1)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsageError;
  }

  exo::admin::RunnerOptions options;
  if (!ready_file.empty()) {
    auto text = exo::ReadFile(ready_file);
    if (!text) {
      std::cerr << "exo-admin: " << text.error().Describe() << "\n";
      return kUsageError;
    }
    const auto ready = nlohmann::json::parse(*text, nullptr, false);
    if (!ready.is_object()) {
      std::cerr << "exo-admin: " << ready_file << " is not a ready file (JSON object)\n";
      return kUsageError;
    }
    auto str = [](const nlohmann::json& j, const char* k) {
      return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    options.endpoints.authority = TrimSlash(str(ready, "aad"));
    options.endpoints.exchange = ExchangeBase(str(ready, "ews"));
    options.endpoints.ca_file = str(ready, "ca");
    if (ready.contains("tenant") && ready["tenant"].is_object()) {
      options.endpoints.tenant = str(ready["tenant"], "id");
    }
    if (ready.contains("admin") && ready["admin"].is_object()) {
      options.endpoints.admin_upn = str(ready["admin"], "upn");
      options.endpoints.admin_password = str(ready["admin"], "password");
    }
  }
  if (!authority.empty()) options.endpoints.authority = TrimSlash(authority);
  if (!exchange.empty()) options.endpoints.exchange = ExchangeBase(exchange);
  if (!ca.empty()) options.endpoints.ca_file = ca;
  if (!tenant.empty()) options.endpoints.tenant = tenant;
  if (user.empty() && std::getenv("EXO_ADMIN_USER")) user = std::getenv("EXO_ADMIN_USER");
  if (!user.empty()) options.user = user;
  if (password.empty() && std::getenv("EXO_ADMIN_PASSWORD")) {
    password = std::getenv("EXO_ADMIN_PASSWORD");
  }
  if (!password.empty()) options.password = password;
  options.json = json;
  options.continue_on_error = continue_on_error;
  options.script_path = script;

  TerminalPrompter prompter;
  exo::admin::Runner runner(options, prompter, std::cout, std::cerr,
                            exo::RealClock::Instance());
  int failures = 0;
  if (script.empty() || script == "-") {
    failures = runner.Run(std::cin);
  } else {
    std::ifstream in(script);
    if (!in) {
      std::cerr << "exo-admin: cannot read " << script << "\n";
      return kUsageError;
    }
    failures = runner.Run(in);
  }
  return failures == 0 ? 0 : 1;
}
