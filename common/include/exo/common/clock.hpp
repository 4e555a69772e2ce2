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
#include <vector>

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

  // WaitUntil that also gives up after `real_limit` of real time: for waits a remote party holds
  // open (the control API's POST /_exo/clock/wait), so a party that went away never pins a
  // thread. Returns true when `done` was satisfied, false otherwise (compare Monotonic() with
  // the deadline to tell a reached deadline from the real limit).
  bool WaitUntilOrRealLimit(MonoTime deadline, const std::function<bool()>& done,
                            std::chrono::milliseconds real_limit);

  // A thread blocked in WaitUntil, as Waiters() sees it.
  struct Waiter {
    MonoTime deadline;
    const void* tag = nullptr;  // what TagThreadWaits set on the waiting thread
    // True once the waiter re-checked its `done` after time last moved or Notify() was called,
    // and is blocked again: it will not leave before its deadline or another change. False
    // while it may be about to leave (an event it waits for may just have happened).
    bool settled = false;
  };
  // The threads blocked on this clock now, earliest deadline first.
  std::vector<Waiter> Waiters() const;
  // Labels the calling thread's waits on any SimulatedClock with `tag` (null: none) until it is
  // changed, so that a server can tell its own request threads among Waiters(). Returns the
  // previous tag.
  static const void* TagThreadWaits(const void* tag);

  // 2026-11-02T09:00:00Z: a fixed, documented start so runs are reproducible.
  static SystemTime DefaultStart();

 private:
  struct Entry {
    const void* tag = nullptr;
    bool settled = false;
  };
  bool Wait(MonoTime deadline, const std::function<bool()>& done,
            std::optional<std::chrono::milliseconds> real_limit);
  // Under mu_: every waiter must re-check its predicate before it counts as settled again.
  void UnsettleLocked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Duration mono_{};
  Duration system_offset_{};  // system = epoch + offset + mono
  std::multimap<MonoTime, Entry> deadlines_;
};

}  // namespace exo
