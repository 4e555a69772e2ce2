// Out of process: what the runner uses to drive exo-harness and a user's own client in their own
// processes. It starts the harness and waits for its ready file, starts the client's command and
// reads the events it appends (exo-mailbox --events), and moves the harness's simulated clock only
// when the client is idle, judged from the control API (GET /_exo/clock's "waiting", "inFlight"
// and "parked"; docs/mock-aad.md, "Simulated time across processes"). Nothing here sleeps to let
// time pass: real-time limits only bound a process that hangs, and each names what it saw.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/result.hpp"

namespace exo::scenarios::internal {

// How a child process ended.
struct ExitStatus {
  int code = -1;   // the exit code, or -1 when a signal ended it
  int signal = 0;  // the signal that ended it, or 0
  // "exit code 3", "killed by signal 9 (SIGKILL)".
  std::string Describe() const;
};

// exo-harness as a child process in its own process group: started with --ready-file, ready once
// that file is written. Not thread-safe.
class HarnessProcess {
 public:
  struct Options {
    std::filesystem::path binary;  // exo-harness
    // Its arguments but --ready-file, e.g. --clock simulated --start-time T --world F --seed N.
    std::vector<std::string> args;
    // Where the ready file and its standard error (harness.log) go; created if absent.
    std::filesystem::path work_dir;
    // Real time it may take to start; it only bounds a harness that hangs.
    std::chrono::milliseconds ready_limit{30000};
  };

  // Starts it and waits for its ready file. Errors (kInternal, code "HarnessStart"): it could not
  // be started, it exited first (its status and the end of its standard error), or the limit
  // passed (then it is killed).
  static Result<std::unique_ptr<HarnessProcess>> Start(Options options);
  // Stop() if still running.
  ~HarnessProcess();
  HarnessProcess(const HarnessProcess&) = delete;
  HarnessProcess& operator=(const HarnessProcess&) = delete;

  // The ready file: aad, control, ews, ewsControl, ca, tenant, admin, mailboxes, clock, pid.
  const nlohmann::json& ready() const { return ready_; }
  // Its servers' control APIs: mock-aad's ("control") then mock-ews's ("ewsControl"). They share
  // one clock (exo-harness runs both on it), so one advance moves both.
  std::vector<std::string> control_urls() const;
  std::filesystem::path ca_file() const;
  pid_t pid() const { return pid_; }

  // SIGTERM, then SIGKILL if it has not exited within `grace` of real time. Idempotent. Close
  // the connections kept alive to it first (destroy the RemoteClockDriver and the clients' HTTP):
  // its servers' stop waits up to 5 s for each idle one.
  ExitStatus Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // The last `bytes` of its standard error.
  std::string LogTail(std::size_t bytes = 4000) const;

 private:
  HarnessProcess() = default;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // kept open: it prints the ready JSON there
  std::filesystem::path log_;
  nlohmann::json ready_;
  std::optional<ExitStatus> exit_;
};

// A user's client as a child process in its own process group (a shell wrapper and what it starts
// are signalled together), standard output and error to files. Not thread-safe.
class ClientProcess {
 public:
  struct Options {
    std::vector<std::string> argv;                   // argv[0] is looked up in PATH
    std::map<std::string, std::string> environment;  // added to the runner's, replacing same names
    std::filesystem::path working_dir;               // empty: the runner's
    std::filesystem::path stdout_file, stderr_file;  // required
    // The JSON-lines file the client appends events to (its --events); empty: none.
    std::filesystem::path events_file;
  };
  struct Events {
    std::vector<nlohmann::json> events;  // complete lines since the last read, parsed
    std::vector<std::string> errors;     // lines that are no JSON object: "line 7: ..."
  };

  // Error (kInternal, code "ClientStart"): the command cannot be started (not found, not
  // executable, a working directory that does not exist).
  static Result<std::unique_ptr<ClientProcess>> Start(Options options);
  // Kill() if still running.
  ~ClientProcess();
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  // The events appended since the last call; a line still being written waits for the next call.
  Events ReadEvents();
  // SIGKILL (a crash, nothing gets to clean up), then reaps it.
  ExitStatus Kill();
  // SIGTERM (the client finishes its current message and exits), then SIGKILL if it has not
  // exited within `grace` of real time.
  ExitStatus Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Its status if it has exited, without waiting.
  std::optional<ExitStatus> Exited();
  pid_t pid() const { return pid_; }

 private:
  ClientProcess() = default;

  pid_t pid_ = -1;
  std::filesystem::path events_file_;
  std::uintmax_t events_offset_ = 0;
  std::size_t events_line_ = 0;
  std::string partial_;
  std::optional<ExitStatus> exit_;
};

// One server's clock as GET /_exo/clock reports it.
struct ServerClock {
  struct Waiter {
    std::string id, who;
    std::int64_t until_ms = 0;
  };
  std::string control_url;
  std::int64_t monotonic_ms = 0;
  std::size_t in_flight = 0;  // requests being handled, the control API excluded
  std::size_t parked = 0;     // of those, blocked on the clock for a later time
  std::optional<std::int64_t> parked_until_ms;
  std::vector<Waiter> waiting;  // the clients' long polls (POST /_exo/clock/wait)

  // "https://…/_exo: t=60000 inFlight=1 parked=0 waiting=[monitor@120000]".
  std::string Describe() const;
};

// The client is idle: nothing is being worked on, and it waits for simulated time.
struct RemoteIdle {
  std::int64_t now_ms = 0;                       // the clock when seen idle
  std::optional<std::int64_t> monitor_until_ms;  // the client's "monitor" wait
  std::optional<std::int64_t> parked_until_ms;   // the earliest slow answer on a server
  std::int64_t next_ms = 0;                      // where to advance: the earliest of the two
};

// Moves the harness's simulated clock for an out-of-process client, through the control APIs of
// one or more servers. Not thread-safe.
class RemoteClockDriver {
 public:
  struct Options {
    std::vector<std::string> control_urls;  // e.g. HarnessProcess::control_urls()
    std::optional<std::filesystem::path> ca_bundle;
    std::shared_ptr<client::HttpTransport> http;  // null: HTTPS trusting ca_bundle
    std::string monitor_who = "monitor";          // the label of the client's main wait
    // The client makes its requests from the thread that waits as "monitor" only (exo-mailbox
    // with --no-notifications). Then a request parked on a server's clock (a fault's latency, a
    // throttling hold) with no monitor wait listed is the client blocked on that answer: idle,
    // to be woken at the answer's deadline. Without it, only a monitor wait counts as idle.
    bool client_polls_only = true;
  };

  explicit RemoteClockDriver(Options options);

  // One GET /_exo/clock on server `index`.
  Result<ServerClock> Read(std::size_t index);

  // Reads every server until the client is idle, and returns when to wake it:
  //   - no server has a request in flight that is not parked, and
  //   - a wait named monitor_who with untilMs > monotonicMs is listed on some server (the one the
  //     client waits on), read again after all the others and still there (same id); or, with
  //     client_polls_only, no such wait but a parked request.
  // Error (kInternal, code "ClientHang"), when real_limit passes first: what each server showed
  // last. That is a client that neither waits nor works through the harness (a hang, a busy
  // loop, a handler that never returns), never a reason to advance anyway. Transport errors
  // (the harness is gone) are returned at once.
  Result<RemoteIdle> WaitForIdle(std::chrono::milliseconds real_limit);

  // POST /_exo/clock/advance {"toMs"} on every server: idempotent, so servers that share one
  // clock (one exo-harness) are moved once and the others find it there already.
  Result<void> AdvanceTo(std::int64_t monotonic_ms);

 private:
  Options options_;
  std::shared_ptr<client::HttpTransport> http_;
};

}  // namespace exo::scenarios::internal
