#include "exo/common/clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>

namespace exo {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// A WaitUntil predicate that counts its evaluations and lets the test block (on a condition,
// never on a sleep) until the waiter has re-evaluated after a time step or Notify(). The clock
// runs the predicate, its deadline check and its exit under one hold of its lock, so once an
// evaluation is seen, WaiterCount() already reflects that evaluation's outcome.
class PredicateProbe {
 public:
  std::function<bool()> Predicate() {
    return [this] {
      std::lock_guard lock(mu_);
      ++evaluations_;
      cv_.notify_all();
      return satisfied_;
    };
  }
  std::size_t Evaluations() const {
    std::lock_guard lock(mu_);
    return evaluations_;
  }
  // True once more than `n` evaluations happened; the real-time limit only bounds a broken test.
  bool AwaitEvaluationsAbove(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return evaluations_ > n; });
  }
  void Satisfy() {
    std::lock_guard lock(mu_);
    satisfied_ = true;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t evaluations_ = 0;
  bool satisfied_ = false;
};

SystemTime At(std::chrono::sys_days day, Duration time_of_day) { return day + time_of_day; }

// ---- SimulatedClock ----

// Verifies that DefaultStart is the documented 2026-11-02T09:00:00Z (Unix 1793610000).
TEST(SimulatedClockTest, DefaultStartIsDocumentedInstant) {
  using namespace std::chrono;
  EXPECT_EQ(SimulatedClock::DefaultStart(), At(sys_days{year{2026} / November / 2}, hours(9)));
  EXPECT_EQ(duration_cast<seconds>(SimulatedClock::DefaultStart().time_since_epoch()).count(),
            1793610000);
}

// Verifies that a default-constructed clock reads DefaultStart() and has no waiters.
TEST(SimulatedClockTest, StartsAtDefaultStart) {
  SimulatedClock clock;
  EXPECT_EQ(clock.Now(), SimulatedClock::DefaultStart());
  EXPECT_EQ(clock.WaiterCount(), 0u);
  EXPECT_EQ(clock.NextWakeup(), std::nullopt);
}

// Verifies that the constructor's start instant is what Now() reports, to the nanosecond.
TEST(SimulatedClockTest, StartsAtGivenInstant) {
  using namespace std::chrono;
  const SystemTime start = At(sys_days{year{2025} / May / 14},
                              hours(9) + minutes(12) + seconds(44) + nanoseconds(123456700));
  SimulatedClock clock(start);
  EXPECT_EQ(clock.Now(), start);
}

// Verifies that time does not move on its own: repeated reads return identical values.
TEST(SimulatedClockTest, TimeStandsStillWithoutAdvance) {
  SimulatedClock clock;
  const SystemTime now = clock.Now();
  const MonoTime mono = clock.Monotonic();
  EXPECT_EQ(clock.Now(), now);
  EXPECT_EQ(clock.Monotonic(), mono);
}

// Verifies that Advance moves system and monotonic time by exactly the same amount.
TEST(SimulatedClockTest, AdvanceMovesNowAndMonotonicTogether) {
  SimulatedClock clock;
  const SystemTime now0 = clock.Now();
  const MonoTime mono0 = clock.Monotonic();

  clock.Advance(seconds(90));
  EXPECT_EQ(clock.Now() - now0, seconds(90));
  EXPECT_EQ(clock.Monotonic() - mono0, seconds(90));

  clock.Advance(std::chrono::nanoseconds(1));
  EXPECT_EQ(clock.Now() - now0, seconds(90) + std::chrono::nanoseconds(1));
  EXPECT_EQ(clock.Monotonic() - mono0, seconds(90) + std::chrono::nanoseconds(1));
}

// Verifies that negative and zero Advance calls leave both clocks where they were.
TEST(SimulatedClockTest, NegativeOrZeroAdvanceIsIgnored) {
  SimulatedClock clock;
  const SystemTime now0 = clock.Now();
  const MonoTime mono0 = clock.Monotonic();

  clock.Advance(-seconds(5));
  clock.Advance(Duration::zero());
  EXPECT_EQ(clock.Now(), now0);
  EXPECT_EQ(clock.Monotonic(), mono0);
}

// Verifies that SetNow steps system time forwards and backwards without touching monotonic time,
// and that later advances move on from the stepped value.
TEST(SimulatedClockTest, SetNowStepsSystemTimeOnly) {
  SimulatedClock clock;
  clock.Advance(seconds(10));
  const MonoTime mono = clock.Monotonic();
  const SystemTime later = SimulatedClock::DefaultStart() + hours(24);
  const SystemTime earlier = SimulatedClock::DefaultStart() - hours(1);

  clock.SetNow(later);
  EXPECT_EQ(clock.Now(), later);
  EXPECT_EQ(clock.Monotonic(), mono);

  clock.SetNow(earlier);
  EXPECT_EQ(clock.Now(), earlier);
  EXPECT_EQ(clock.Monotonic(), mono);

  clock.Advance(seconds(3));
  EXPECT_EQ(clock.Now(), earlier + seconds(3));
  EXPECT_EQ(clock.Monotonic(), mono + seconds(3));
}

// Verifies that AdvanceTo moves both clocks forward to a future target and ignores past ones.
TEST(SimulatedClockTest, AdvanceToMovesForwardOnly) {
  SimulatedClock clock;
  const SystemTime now0 = clock.Now();
  const MonoTime mono0 = clock.Monotonic();

  clock.AdvanceTo(mono0 + minutes(2));
  EXPECT_EQ(clock.Monotonic(), mono0 + minutes(2));
  EXPECT_EQ(clock.Now(), now0 + minutes(2));

  clock.AdvanceTo(mono0 + minutes(1));  // in the past now
  EXPECT_EQ(clock.Monotonic(), mono0 + minutes(2));
  EXPECT_EQ(clock.Now(), now0 + minutes(2));

  clock.AdvanceTo(clock.Monotonic());  // the present
  EXPECT_EQ(clock.Monotonic(), mono0 + minutes(2));
}

// Verifies that WaitUntil returns false at once, without blocking, when the deadline has passed.
TEST(SimulatedClockTest, WaitUntilPastDeadlineReturnsFalseImmediately) {
  SimulatedClock clock;
  clock.Advance(seconds(5));
  EXPECT_FALSE(clock.WaitUntil(clock.Monotonic() - seconds(1), {}));
  EXPECT_FALSE(clock.WaitUntil(clock.Monotonic(), {}));
  EXPECT_EQ(clock.WaiterCount(), 0u);
  EXPECT_EQ(clock.NextWakeup(), std::nullopt);
}

// Verifies that WaitUntil returns true at once when its predicate already holds, even with a
// deadline far in the future.
TEST(SimulatedClockTest, WaitUntilSatisfiedPredicateReturnsTrueImmediately) {
  SimulatedClock clock;
  EXPECT_TRUE(clock.WaitUntil(clock.Monotonic() + hours(1), [] { return true; }));
  EXPECT_EQ(clock.WaiterCount(), 0u);
}

// Verifies that a parked waiter returns false exactly when Advance reaches its deadline: a step
// that stops short keeps it parked, the step onto the deadline releases it.
TEST(SimulatedClockTest, WaitUntilReturnsFalseWhenAdvanceReachesDeadline) {
  SimulatedClock clock;
  PredicateProbe probe;
  const MonoTime deadline = clock.Monotonic() + seconds(10);
  auto waiter =
      std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, probe.Predicate()); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(clock.NextWakeup(), deadline);

  const std::size_t before = probe.Evaluations();
  clock.Advance(seconds(9) + milliseconds(999));
  EXPECT_TRUE(probe.AwaitEvaluationsAbove(before));
  EXPECT_EQ(clock.WaiterCount(), 1u) << "woke before its deadline";
  EXPECT_EQ(clock.NextWakeup(), deadline);

  clock.Advance(milliseconds(1));
  EXPECT_FALSE(waiter.get());
  EXPECT_EQ(clock.WaiterCount(), 0u);
  EXPECT_EQ(clock.NextWakeup(), std::nullopt);
  EXPECT_EQ(clock.Monotonic(), deadline);
}

// Verifies that a single Advance far past the deadline also releases the waiter with false.
TEST(SimulatedClockTest, WaitUntilReturnsFalseWhenAdvanceOvershootsDeadline) {
  SimulatedClock clock;
  const MonoTime deadline = clock.Monotonic() + seconds(10);
  auto waiter = std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, {}); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  clock.Advance(hours(1));
  EXPECT_FALSE(waiter.get());
  EXPECT_EQ(clock.WaiterCount(), 0u);
}

// Verifies that AdvanceTo onto a waiter's deadline releases it like Advance does.
TEST(SimulatedClockTest, AdvanceToReleasesWaiterAtDeadline) {
  SimulatedClock clock;
  const MonoTime deadline = clock.Monotonic() + minutes(5);
  auto waiter = std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, {}); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  ASSERT_EQ(clock.NextWakeup(), deadline);
  clock.AdvanceTo(*clock.NextWakeup());
  EXPECT_FALSE(waiter.get());
  EXPECT_EQ(clock.Monotonic(), deadline);
}

// Verifies that WaitUntil returns true once its predicate becomes true and Notify() is called,
// without any time passing.
TEST(SimulatedClockTest, WaitUntilReturnsTrueWhenPredicateBecomesTrueAfterNotify) {
  SimulatedClock clock;
  std::atomic<bool> ready{false};
  const MonoTime start = clock.Monotonic();
  auto waiter = std::async(std::launch::async, [&] {
    return clock.WaitUntil(start + hours(1), [&] { return ready.load(); });
  });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  ready = true;
  clock.Notify();
  EXPECT_TRUE(waiter.get());
  EXPECT_EQ(clock.Monotonic(), start);
  EXPECT_EQ(clock.WaiterCount(), 0u);
}

// Verifies that Notify() with the predicate still false re-evaluates it but keeps the waiter
// parked until its deadline.
TEST(SimulatedClockTest, NotifyWithUnsatisfiedPredicateKeepsWaiting) {
  SimulatedClock clock;
  PredicateProbe probe;
  const MonoTime deadline = clock.Monotonic() + seconds(30);
  auto waiter =
      std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, probe.Predicate()); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  const std::size_t before = probe.Evaluations();
  clock.Notify();
  EXPECT_TRUE(probe.AwaitEvaluationsAbove(before));
  EXPECT_EQ(clock.WaiterCount(), 1u);

  clock.Advance(seconds(30));
  EXPECT_FALSE(waiter.get());
}

// Verifies that a predicate made true before the deadline is reported as satisfied when a time
// step re-evaluates it, even if the step also passes the deadline (the predicate wins).
TEST(SimulatedClockTest, PredicateCheckedBeforeDeadlineOnAdvance) {
  SimulatedClock clock;
  PredicateProbe probe;
  const MonoTime deadline = clock.Monotonic() + seconds(10);
  auto waiter =
      std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, probe.Predicate()); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  probe.Satisfy();
  clock.Advance(seconds(20));
  EXPECT_TRUE(waiter.get());
}

// Verifies that SetNow wakes waiters to re-check but does not release a monotonic deadline.
TEST(SimulatedClockTest, SetNowDoesNotReleaseMonotonicWaiter) {
  SimulatedClock clock;
  PredicateProbe probe;
  const MonoTime deadline = clock.Monotonic() + seconds(10);
  auto waiter =
      std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, probe.Predicate()); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  const std::size_t before = probe.Evaluations();
  clock.SetNow(clock.Now() + hours(48));
  EXPECT_TRUE(probe.AwaitEvaluationsAbove(before));
  EXPECT_EQ(clock.WaiterCount(), 1u);

  clock.Advance(seconds(10));
  EXPECT_FALSE(waiter.get());
}

// Verifies that NextWakeup reports the earliest deadline among several waiters, then the next one
// once the earliest waiter has left.
TEST(SimulatedClockTest, NextWakeupReportsEarliestWaiterDeadline) {
  SimulatedClock clock;
  const MonoTime start = clock.Monotonic();
  auto late =
      std::async(std::launch::async, [&] { return clock.WaitUntil(start + seconds(30), {}); });
  auto early =
      std::async(std::launch::async, [&] { return clock.WaitUntil(start + seconds(10), {}); });

  EXPECT_TRUE(clock.AwaitWaiters(2));
  EXPECT_EQ(clock.WaiterCount(), 2u);
  EXPECT_EQ(clock.NextWakeup(), start + seconds(10));

  clock.AdvanceTo(start + seconds(10));
  EXPECT_FALSE(early.get());
  EXPECT_EQ(clock.WaiterCount(), 1u);
  EXPECT_EQ(clock.NextWakeup(), start + seconds(30));

  clock.AdvanceTo(start + seconds(30));
  EXPECT_FALSE(late.get());
  EXPECT_EQ(clock.NextWakeup(), std::nullopt);
}

// Verifies that one Advance releases every waiter whose deadline it reaches, including two waiters
// on the same deadline.
TEST(SimulatedClockTest, AdvanceReleasesAllDueWaiters) {
  SimulatedClock clock;
  const MonoTime deadline = clock.Monotonic() + seconds(5);
  auto first = std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, {}); });
  auto second = std::async(std::launch::async, [&] { return clock.WaitUntil(deadline, {}); });

  EXPECT_TRUE(clock.AwaitWaiters(2));
  EXPECT_EQ(clock.NextWakeup(), deadline);
  clock.Advance(seconds(5));
  EXPECT_FALSE(first.get());
  EXPECT_FALSE(second.get());
  EXPECT_EQ(clock.WaiterCount(), 0u);
}

// Verifies that SleepFor on a simulated clock parks until the clock is advanced by the duration.
TEST(SimulatedClockTest, SleepForWaitsForSimulatedDuration) {
  SimulatedClock clock;
  const MonoTime start = clock.Monotonic();
  auto sleeper = std::async(std::launch::async, [&] { clock.SleepFor(minutes(15)); });

  EXPECT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(clock.NextWakeup(), start + minutes(15));
  clock.Advance(minutes(15));
  sleeper.get();
  EXPECT_EQ(clock.WaiterCount(), 0u);
}

// Verifies that AwaitWaiters reports false when the waiters never arrive within its limit, and
// true at once when zero waiters are asked for.
TEST(SimulatedClockTest, AwaitWaitersWithoutWaitersHitsLimit) {
  SimulatedClock clock;
  EXPECT_TRUE(clock.AwaitWaiters(0, milliseconds(0)));
  EXPECT_FALSE(clock.AwaitWaiters(1, milliseconds(0)));
}

// Verifies that WaitUntilOrRealLimit gives up after its real-time limit without moving simulated
// time, reporting false (the deadline was not reached) and leaving no waiter behind.
TEST(SimulatedClockTest, WaitUntilOrRealLimitGivesUpOnRealTime) {
  SimulatedClock clock;
  const MonoTime start = clock.Monotonic();
  EXPECT_FALSE(clock.WaitUntilOrRealLimit(start + hours(1), {}, milliseconds(50)));
  EXPECT_EQ(clock.Monotonic(), start);
  EXPECT_EQ(clock.WaiterCount(), 0u);
}

// Verifies that WaitUntilOrRealLimit ends like WaitUntil when time reaches the deadline or the
// predicate holds, long before its real-time limit.
TEST(SimulatedClockTest, WaitUntilOrRealLimitEndsOnTimeOrPredicate) {
  SimulatedClock clock;
  const MonoTime deadline = clock.Monotonic() + minutes(5);
  auto timed = std::async(std::launch::async, [&] {
    return clock.WaitUntilOrRealLimit(deadline, {}, std::chrono::hours(1));
  });
  EXPECT_TRUE(clock.AwaitWaiters(1));
  clock.AdvanceTo(deadline);
  EXPECT_FALSE(timed.get());
  EXPECT_EQ(clock.Monotonic(), deadline);

  std::atomic<bool> ready{false};
  auto satisfied = std::async(std::launch::async, [&] {
    return clock.WaitUntilOrRealLimit(
        deadline + hours(1), [&] { return ready.load(); }, std::chrono::hours(1));
  });
  EXPECT_TRUE(clock.AwaitWaiters(1));
  ready = true;
  clock.Notify();
  EXPECT_TRUE(satisfied.get());
}

// Verifies that Waiters() lists each blocked thread with its deadline and the tag its thread set,
// settled once it is blocked, and never settled after a Notify() until it has re-checked its
// predicate.
TEST(SimulatedClockTest, WaitersReportTagAndSettledState) {
  SimulatedClock clock;
  PredicateProbe probe;
  const int tag = 0;
  const MonoTime deadline = clock.Monotonic() + seconds(30);
  auto waiter = std::async(std::launch::async, [&] {
    SimulatedClock::TagThreadWaits(&tag);
    const bool r = clock.WaitUntil(deadline, probe.Predicate());
    SimulatedClock::TagThreadWaits(nullptr);
    return r;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  auto waiters = clock.Waiters();
  ASSERT_EQ(waiters.size(), 1u);
  EXPECT_EQ(waiters[0].deadline, deadline);
  EXPECT_EQ(waiters[0].tag, &tag);
  EXPECT_TRUE(waiters[0].settled);

  const std::size_t before = probe.Evaluations();
  clock.Notify();
  waiters = clock.Waiters();
  ASSERT_EQ(waiters.size(), 1u);
  // Settled again only once it has looked at its predicate after the Notify().
  if (waiters[0].settled) {
    EXPECT_GT(probe.Evaluations(), before);
  }
  ASSERT_TRUE(probe.AwaitEvaluationsAbove(before));
  waiters = clock.Waiters();
  ASSERT_EQ(waiters.size(), 1u);
  EXPECT_TRUE(waiters[0].settled);

  clock.Advance(seconds(30));
  EXPECT_FALSE(waiter.get());
  EXPECT_TRUE(clock.Waiters().empty());
  // A thread that never tagged itself waits untagged.
  auto untagged =
      std::async(std::launch::async, [&] { return clock.WaitUntil(deadline + hours(1), {}); });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(clock.Waiters().at(0).tag, nullptr);
  clock.Advance(hours(1));
  EXPECT_FALSE(untagged.get());
}

// ---- RealClock ----

// Verifies that RealClock::WaitUntil with a deadline already in the past and no predicate returns
// false at once.
TEST(RealClockTest, WaitUntilPastDeadlineReturnsFalseImmediately) {
  RealClock clock;
  EXPECT_FALSE(clock.WaitUntil(clock.Monotonic() - seconds(1), {}));
}

// Verifies that RealClock::WaitUntil returns false for a past deadline with a false predicate.
TEST(RealClockTest, WaitUntilPastDeadlineWithFalsePredicateReturnsFalse) {
  RealClock clock;
  EXPECT_FALSE(clock.WaitUntil(clock.Monotonic() - seconds(1), [] { return false; }));
}

// Verifies that RealClock::WaitUntil returns true at once when the predicate already holds, even
// with a deadline an hour away.
TEST(RealClockTest, WaitUntilSatisfiedPredicateReturnsTrueImmediately) {
  RealClock clock;
  EXPECT_TRUE(clock.WaitUntil(clock.Monotonic() + hours(1), [] { return true; }));
}

// Verifies that RealClock::WaitUntil returns true when another thread makes the predicate true
// and calls Notify(), long before its deadline.
TEST(RealClockTest, WaitUntilReturnsTrueAfterNotify) {
  RealClock clock;
  std::atomic<bool> ready{false};
  const MonoTime deadline = clock.Monotonic() + seconds(60);
  auto waiter = std::async(std::launch::async,
                           [&] { return clock.WaitUntil(deadline, [&] { return ready.load(); }); });
  ready = true;
  clock.Notify();
  EXPECT_TRUE(waiter.get());
}

// Verifies that RealClock's monotonic time never goes backwards between reads.
TEST(RealClockTest, MonotonicDoesNotGoBackwards) {
  RealClock clock;
  MonoTime previous = clock.Monotonic();
  for (int i = 0; i < 1000; ++i) {
    const MonoTime next = clock.Monotonic();
    EXPECT_GE(next, previous);
    previous = next;
  }
}

// Verifies that RealClock::Now() follows std::chrono::system_clock.
TEST(RealClockTest, NowFollowsSystemClock) {
  RealClock clock;
  const auto before = std::chrono::system_clock::now();
  const SystemTime now = clock.Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

// Verifies that RealClock::Instance() is one process-wide object.
TEST(RealClockTest, InstanceIsSingleton) {
  EXPECT_EQ(&RealClock::Instance(), &RealClock::Instance());
}

}  // namespace
}  // namespace exo
