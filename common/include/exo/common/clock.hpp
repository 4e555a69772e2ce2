// The one source of time for every ExoHarness component: system time for timestamps and token
// lifetimes, monotonic time for intervals, and waits that a simulated clock can fast-forward.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

namespace exo {

using SystemTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

// Clock is the injected time interface. Nothing else in the project reads the time or sleeps.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock (UTC) time: token iat/exp, timestamps in responses and logs.
  virtual SystemTime Now() const = 0;
  // Monotonic time: deadlines, back-offs, cache expiry. Never goes backwards.
  virtual MonoTime Monotonic() const = 0;

  // Blocks until Monotonic() >= deadline or until `done` returns true, whichever comes first.
  // `done` (may be empty) is evaluated under the clock's internal lock whenever time moves or
  // Notify() is called, so it must be cheap and must not call back into the clock. Returns true
  // when `done` was satisfied, false when the deadline passed.
  virtual bool WaitUntil(MonoTime deadline, const std::function<bool()>& done) = 0;

  // Re-evaluates the `done` predicates of all waiters. Call it after changing the state they
  // read, without holding a lock that those predicates take.
  virtual void Notify() = 0;

  // Convenience: WaitUntil(Monotonic() + d, {}).
  void SleepFor(Duration d);
};

// The production clock: std::chrono's system and steady clocks.
class RealClock final : public Clock {
 public:
  SystemTime Now() const override;
  MonoTime Monotonic() const override;
  bool WaitUntil(MonoTime deadline, const std::function<bool()>& done) override;
  void Notify() override;

  // A process-wide instance, for binaries that run on real time.
  static RealClock& Instance();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// A clock its owner can move forward or step: what the harness control API and the scenario
// runner drive.
class AdjustableClock : public Clock {
 public:
  // Moves both system and monotonic time forward by `d` (negative values are ignored) and
  // wakes waiters whose deadline passed.
  virtual void Advance(Duration d) = 0;
  // Steps system time to `t` (forwards or backwards); monotonic time is unaffected.
  virtual void SetNow(SystemTime t) = 0;
  // True when time stands still between adjustments (simulated), false when it also flows.
  virtual bool frozen() const = 0;
};

// Real time plus an offset that only grows: what a harness server uses when real clients (which
// stamp assertions with their own wall clock) talk to it, while tests can still jump ahead.
class OffsetClock final : public AdjustableClock {
 public:
  SystemTime Now() const override;
  MonoTime Monotonic() const override;
  bool WaitUntil(MonoTime deadline, const std::function<bool()>& done) override;
  void Notify() override;
  void Advance(Duration d) override;
  void SetNow(SystemTime t) override;
  bool frozen() const override { return false; }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Duration mono_offset_{};
  Duration system_offset_{};
};

// A clock that moves only when its owner says so (tests, the scenario runner, the harness control
// API). Monotonic time starts at an arbitrary epoch; system time starts at `start` and moves with
// it, except that SetNow() may step system time alone, as an NTP correction would.
class SimulatedClock final : public AdjustableClock {
 public:
  explicit SimulatedClock(SystemTime start = DefaultStart());

  SystemTime Now() const override;
  MonoTime Monotonic() const override;
  bool WaitUntil(MonoTime deadline, const std::function<bool()>& done) override;
  void Notify() override;

  void Advance(Duration d) override;
  // Moves monotonic time forward to `t` if it lies in the future.
  void AdvanceTo(MonoTime t);
  void SetNow(SystemTime t) override;
  bool frozen() const override { return true; }

  // The earliest deadline any waiter is blocked on, if any: where a runner jumps to next.
  std::optional<MonoTime> NextWakeup() const;
  // How many threads are blocked in WaitUntil right now.
  std::size_t WaiterCount() const;
  // Blocks the calling thread (on a condition, with a real-time safety limit) until at least
  // `n` threads wait on this clock. For tests that must advance time only once a server thread
  // is parked. Returns false if the limit passed first.
  bool AwaitWaiters(std::size_t n, std::chrono::milliseconds real_limit = std::chrono::seconds(10));

  // 2026-11-02T09:00:00Z: a fixed, documented start so runs are reproducible.
  static SystemTime DefaultStart();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Duration mono_{};
  Duration system_offset_{};  // system = epoch + offset + mono
  std::multimap<MonoTime, int> deadlines_;
};

}  // namespace exo
