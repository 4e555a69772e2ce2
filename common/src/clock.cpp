#include "exo/common/clock.hpp"

#include <utility>

namespace exo {

void Clock::SleepFor(Duration d) { WaitUntil(Monotonic() + d, {}); }

SystemTime RealClock::Now() const { return std::chrono::system_clock::now(); }
MonoTime RealClock::Monotonic() const { return std::chrono::steady_clock::now(); }

bool RealClock::WaitUntil(MonoTime deadline, const std::function<bool()>& done) {
  std::unique_lock lock(mu_);
  if (!done) {
    while (std::chrono::steady_clock::now() < deadline) cv_.wait_until(lock, deadline);
    return false;
  }
  return cv_.wait_until(lock, deadline, done);
}

void RealClock::Notify() {
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
}

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

SystemTime OffsetClock::Now() const {
  std::lock_guard lock(mu_);
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<SystemTime::duration>(system_offset_);
}

MonoTime OffsetClock::Monotonic() const {
  std::lock_guard lock(mu_);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<MonoTime::duration>(mono_offset_);
}

bool OffsetClock::WaitUntil(MonoTime deadline, const std::function<bool()>& done) {
  std::unique_lock lock(mu_);
  while (true) {
    if (done && done()) return true;
    // The deadline is in offset time; an Advance() moves it closer, so re-derive it each wake.
    const auto real_deadline =
        deadline - std::chrono::duration_cast<MonoTime::duration>(mono_offset_);
    if (std::chrono::steady_clock::now() >= real_deadline) return false;
    cv_.wait_until(lock, real_deadline);
  }
}

void OffsetClock::Notify() {
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
}

void OffsetClock::Advance(Duration d) {
  if (d <= Duration::zero()) return;
  {
    std::lock_guard lock(mu_);
    mono_offset_ += d;
    system_offset_ += d;
  }
  cv_.notify_all();
}

void OffsetClock::SetNow(SystemTime t) {
  {
    std::lock_guard lock(mu_);
    system_offset_ = t - std::chrono::system_clock::now();
  }
  cv_.notify_all();
}

SimulatedClock::SimulatedClock(SystemTime start)
    : system_offset_(std::chrono::duration_cast<Duration>(start.time_since_epoch())) {}

SystemTime SimulatedClock::DefaultStart() {
  using namespace std::chrono;
  return sys_days{year{2026} / November / 2} + hours{9};
}

SystemTime SimulatedClock::Now() const {
  std::lock_guard lock(mu_);
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(system_offset_ + mono_));
}

MonoTime SimulatedClock::Monotonic() const {
  std::lock_guard lock(mu_);
  return MonoTime(std::chrono::duration_cast<MonoTime::duration>(mono_));
}

namespace {
// The tag TagThreadWaits set on this thread: stored with each of its waits.
thread_local const void* t_wait_tag = nullptr;
}  // namespace

bool SimulatedClock::WaitUntil(MonoTime deadline, const std::function<bool()>& done) {
  return Wait(deadline, done, std::nullopt);
}

bool SimulatedClock::WaitUntilOrRealLimit(MonoTime deadline, const std::function<bool()>& done,
                                          std::chrono::milliseconds real_limit) {
  return Wait(deadline, done, real_limit);
}

bool SimulatedClock::Wait(MonoTime deadline, const std::function<bool()>& done,
                          std::optional<std::chrono::milliseconds> real_limit) {
  // The real-time limit bounds how long a remote party may hold a thread; it never moves
  // simulated time and never decides what the waiter sees of it.
  const bool limited = real_limit.has_value();
  const auto real_deadline = limited ? std::chrono::steady_clock::now() + *real_limit
                                     : std::chrono::steady_clock::time_point::max();
  std::unique_lock lock(mu_);
  auto now = [&] { return MonoTime(std::chrono::duration_cast<MonoTime::duration>(mono_)); };
  auto it = deadlines_.emplace(deadline, Entry{t_wait_tag, false});
  cv_.notify_all();  // AwaitWaiters watches the waiter count
  bool satisfied = false;
  bool timed_out = false;
  while (true) {
    if (done && done()) {
      satisfied = true;
      break;
    }
    if (now() >= deadline || timed_out) break;
    it->second.settled = true;
    if (limited) {
      timed_out = cv_.wait_until(lock, real_deadline) == std::cv_status::timeout;
    } else {
      cv_.wait(lock);
    }
  }
  deadlines_.erase(it);
  cv_.notify_all();
  return satisfied;
}

void SimulatedClock::UnsettleLocked() {
  for (auto& [deadline, entry] : deadlines_) entry.settled = false;
}

void SimulatedClock::Notify() {
  {
    std::lock_guard lock(mu_);
    UnsettleLocked();
  }
  cv_.notify_all();
}

void SimulatedClock::Advance(Duration d) {
  if (d <= Duration::zero()) return;
  {
    std::lock_guard lock(mu_);
    mono_ += d;
    UnsettleLocked();
  }
  cv_.notify_all();
}

void SimulatedClock::AdvanceTo(MonoTime t) {
  {
    std::lock_guard lock(mu_);
    const auto target = std::chrono::duration_cast<Duration>(t.time_since_epoch());
    if (target > mono_) {
      mono_ = target;
      UnsettleLocked();
    }
  }
  cv_.notify_all();
}

void SimulatedClock::SetNow(SystemTime t) {
  {
    std::lock_guard lock(mu_);
    system_offset_ = std::chrono::duration_cast<Duration>(t.time_since_epoch()) - mono_;
    UnsettleLocked();
  }
  cv_.notify_all();
}

std::optional<MonoTime> SimulatedClock::NextWakeup() const {
  std::lock_guard lock(mu_);
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::size_t SimulatedClock::WaiterCount() const {
  std::lock_guard lock(mu_);
  return deadlines_.size();
}

bool SimulatedClock::AwaitWaiters(std::size_t n, std::chrono::milliseconds real_limit) {
  std::unique_lock lock(mu_);
  // The real-time limit only bounds a broken test; it never decides an outcome.
  return cv_.wait_for(lock, real_limit, [&] { return deadlines_.size() >= n; });
}

std::vector<SimulatedClock::Waiter> SimulatedClock::Waiters() const {
  std::lock_guard lock(mu_);
  std::vector<Waiter> out;
  out.reserve(deadlines_.size());
  for (const auto& [deadline, entry] : deadlines_)
    out.push_back({deadline, entry.tag, entry.settled});
  return out;
}

const void* SimulatedClock::TagThreadWaits(const void* tag) {
  return std::exchange(t_wait_tag, tag);
}

}  // namespace exo
