// Runs an administrator's PowerShell lines against the harness: Exchange Online cmdlets through
// mock-ews's admin API (InvokeCommand, as Exchange Online PowerShell V3 sends them), Microsoft
// Graph SDK application cmdlets through mock-aad's Graph subset, sign-in through mock-aad. It
// talks to both only over HTTP(S), as the real modules do, and prints what they would print.
#pragma once

#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "exo/common/clock.hpp"

namespace exo::admin {

struct Endpoints {
  std::string authority;  // mock-aad's base URL ("https://127.0.0.1:41234")
  std::string exchange;   // mock-ews's base URL (the admin API lives under /adminapi)
  std::string ca_file;    // PEM to trust; empty: the system store
  std::string tenant;     // default tenant for Connect-MgGraph (id or domain); may be empty
  // The harness's administrator (ready file): signing in as this UPN needs no password option.
  std::string admin_upn, admin_password;
};

struct RunnerOptions {
  Endpoints endpoints;
  std::optional<std::string> user;      // Get-Credential / Connect-MgGraph user (--user)
  std::optional<std::string> password;  // any sign-in's password (--password)
  bool json = false;                    // output objects as JSON lines
  bool continue_on_error = false;       // keep going after a failed statement
  std::string script_path;              // for "At <path>:<line> char:<col>"; empty: stdin
};

// Reads what a sign-in needs from the person at the terminal. Implementations return nullopt
// when nobody can answer (no terminal).
class Prompter {
 public:
  virtual ~Prompter() = default;
  virtual std::optional<std::string> ReadLine(const std::string& prompt) = 0;
  virtual std::optional<std::string> ReadSecret(const std::string& prompt) = 0;
};

// Runner keeps one PowerShell session: variables, the Exchange and Graph connections.
// Objects go to `out`; errors, warnings and prompts' echoes to `err`; banners to `out` (to `err`
// with json, so that `out` holds only JSON). Not thread-safe.
class Runner {
 public:
  Runner(RunnerOptions options, Prompter& prompter, std::ostream& out, std::ostream& err,
         Clock& clock);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Reads statements line by line (joining backtick continuations and open strings or
  // hashtables) and runs each as it is complete. Stops at the first failed statement unless
  // continue_on_error. Returns how many statements failed.
  int Run(std::istream& in);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace exo::admin
