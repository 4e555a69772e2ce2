// A Clock read from a harness's control API, so that a client in its own process runs on the
// harness's simulated time (exo-harness --clock simulated, exo-scenario driving a user's client):
// token expiry, back-off, polling and the config watcher all move only when the harness's clock
// does. docs/client.md, "Running under exo-scenario out of process".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "exo/client/http.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

struct ControlClockOptions {
  // The control API's base: "https://127.0.0.1:PORT/_exo" (the ready file's "control").
  std::string control_url;
  // CAs trusted besides the system's: the harness CA (the ready file's "ca").
  std::optional<std::filesystem::path> ca_bundle;
  // Tests may bring their own transport; null: MakeHttpTransport with ca_bundle.
  std::shared_ptr<HttpTransport> http;
  // The `who` of waits on threads that named themselves nothing (ScopedWaitLabel).
  std::string default_who = "client";
  // Real time one long poll may stay open before it is posted again (the server caps it at 30 s).
  std::chrono::milliseconds poll_timeout{20000};
};

// Now() and Monotonic() are each one GET /_exo/clock (nothing is cached, so nothing goes stale).
// WaitUntil is a long poll, POST /_exo/clock/wait {"untilMs","who","id","timeoutMs"}, posted
// again when it ends on its real-time limit; Notify() re-checks the `done` predicates of the
// waits in progress and ends those that hold by closing their connection, and the waiting thread
// then cancels its wait on the server (DELETE /_exo/clock/wait/{id}) before it returns, so the
// server never lists a waiter that has left. Thread-safe.
class ControlClock final : public Clock {
 public:
  // Reads the clock once. Errors: the control API cannot be reached (kTransient, with the URL),
  // or its clock is not simulated (kConfiguration: start the harness with --clock simulated).
  static Result<std::unique_ptr<ControlClock>> Connect(ControlClockOptions options);
  ~ControlClock() override;

  // When the harness cannot be reached these log the failure and return the last time read, so
  // time never goes backwards; the harness going away ends a scenario anyway.
  SystemTime Now() const override;
  MonoTime Monotonic() const override;
  bool WaitUntil(MonoTime deadline, const std::function<bool()>& done) override;
  void Notify() override;

  // Names the calling thread's waits (their "who") while it lives; nestable. The thread that
  // runs MailboxMonitor::Run() names itself "monitor": a runner knows the client is idle when a
  // "monitor" wait is listed and nothing is in flight.
  class ScopedWaitLabel {
   public:
    explicit ScopedWaitLabel(std::string who);
    ~ScopedWaitLabel();
    ScopedWaitLabel(const ScopedWaitLabel&) = delete;
    ScopedWaitLabel& operator=(const ScopedWaitLabel&) = delete;

   private:
    std::string previous_;
  };

 private:
  struct Wait;
  struct Reading {
    SystemTime now;
    MonoTime monotonic;
  };

  explicit ControlClock(ControlClockOptions options);
  Result<Reading> Read() const;
  Reading ReadOrLast() const;
  // Ends wait `id` on the server; logged, not returned: the server's own limit ends it anyway.
  void CancelRemote(const std::string& id);
  // After a transport failure: a short real-time pause before trying again, ended early by
  // Notify() when `done` holds. Returns whether it holds.
  bool PauseAfterFailure(const std::function<bool()>& done);

  ControlClockOptions options_;
  std::shared_ptr<HttpTransport> http_;
  std::string id_prefix_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<Wait*> waits_;
  std::uint64_t next_wait_ = 0;
  mutable Reading last_{};
};

}  // namespace exo::client
