#include "exo/mock_ews/graph_throttling.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace exo::mock_ews {

using nlohmann::json;

namespace {

std::int64_t Ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Whole seconds, rounded up, at least 1: Retry-After is an integer number of seconds.
std::int64_t CeilSeconds(Duration d) {
  const auto ns = d.count();
  const std::int64_t s = (ns + 999999999) / 1000000000;
  return std::max<std::int64_t>(s, 1);
}

Result<std::int64_t> NonNegative(const json& v, const std::string& key) {
  if (!v.is_number() || v.get<double>() < 0) {
    return Fail(ErrorCategory::kConfiguration, "InvalidThrottling", key + " must be a number >= 0");
  }
  return static_cast<std::int64_t>(v.get<double>());
}

}  // namespace

GraphThrottling::Decision& GraphThrottling::Decision::operator=(Decision&& other) noexcept {
  if (this == &other) return *this;
  if (policy_) policy_->Release(key_);
  reason = other.reason;
  retry_after_seconds = other.retry_after_seconds;
  early = other.early;
  hold = other.hold;
  policy_ = std::exchange(other.policy_, nullptr);
  key_ = std::move(other.key_);
  return *this;
}

GraphThrottling::Decision::~Decision() {
  if (policy_) policy_->Release(key_);
}

void GraphThrottling::SetLimits(const GraphThrottlingLimits& limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

GraphThrottlingLimits GraphThrottling::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

void GraphThrottling::ResetState() {
  std::lock_guard lock(mu_);
  for (auto& [key, s] : keys_) {
    KeyState fresh;
    fresh.in_flight = s.in_flight;
    s = std::move(fresh);
  }
  early_retries_ = 0;
}

std::uint64_t GraphThrottling::early_retries() const {
  std::lock_guard lock(mu_);
  return early_retries_;
}

void GraphThrottling::Release(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it != keys_.end() && it->second.in_flight > 0) --it->second.in_flight;
}

GraphThrottling::Decision GraphThrottling::Admit(const std::string& app_id,
                                                 const std::string& mailbox) {
  const MonoTime now = clock_.Monotonic();
  std::string key = app_id;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  key += "|" + mailbox;
  std::lock_guard lock(mu_);
  KeyState& s = keys_[key];
  Decision d;
  if (s.not_before && now < *s.not_before) {
    d.early = *s.not_before - now;
    ++s.early_retries;
    ++early_retries_;
  }
  // The 10-minute budget counts every arrival, refused ones included.
  while (!s.arrivals.empty() && now - s.arrivals.front() >= limits_.window) {
    s.arrivals.pop_front();
  }
  s.arrivals.push_back(now);
  if (limits_.max_requests > 0 && s.arrivals.size() > limits_.max_requests) {
    // Room comes back when enough of the oldest arrivals have left the window [infer: Graph does
    // not document how it computes Retry-After for this limit].
    const std::size_t excess = s.arrivals.size() - limits_.max_requests;
    const MonoTime frees_at = s.arrivals[excess - 1] + limits_.window;
    d.reason = GraphThrottleReason::kRate;
    d.retry_after_seconds = CeilSeconds(frees_at - now);
  } else if (limits_.max_concurrency > 0 && s.in_flight >= limits_.max_concurrency) {
    // Retry-After 1 second, as Graph sends on Outlook 429s (msgraph-sdk-javascript#297:
    // "retry-after set to 1 on every 429").
    d.reason = GraphThrottleReason::kConcurrency;
    d.retry_after_seconds = 1;
  }
  if (!d.admitted()) {
    ++s.throttled;
    s.not_before = now + std::chrono::seconds(d.retry_after_seconds);
    return d;
  }
  ++s.in_flight;
  d.hold = limits_.hold;
  d.policy_ = this;
  d.key_ = std::move(key);
  return d;
}

json GraphThrottling::ToJson() const {
  std::lock_guard lock(mu_);
  json keys = json::object();
  for (const auto& [key, s] : keys_) {
    keys[key] = {{"inFlight", s.in_flight},
                 {"requestsInWindow", s.arrivals.size()},
                 {"throttled", s.throttled},
                 {"earlyRetries", s.early_retries}};
  }
  return {{"maxConcurrency", limits_.max_concurrency},
          {"maxRequests", limits_.max_requests},
          {"windowSeconds", Ms(limits_.window) / 1000},
          {"holdMs", Ms(limits_.hold)},
          {"earlyRetries", early_retries_},
          {"state", keys}};
}

Result<void> GraphThrottling::Update(const json& j) {
  if (!j.is_object()) {
    return Fail(ErrorCategory::kConfiguration, "InvalidThrottling", "expected a JSON object");
  }
  GraphThrottlingLimits limits = this->limits();
  for (const auto& [key, v] : j.items()) {
    auto n = NonNegative(v, key);
    if (!n) return std::unexpected(n.error());
    if (key == "maxConcurrency") {
      limits.max_concurrency = static_cast<std::size_t>(*n);
    } else if (key == "maxRequests") {
      limits.max_requests = static_cast<std::size_t>(*n);
    } else if (key == "windowSeconds") {
      if (*n == 0) {
        return Fail(ErrorCategory::kConfiguration, "InvalidThrottling",
                    "windowSeconds must be at least 1");
      }
      limits.window = std::chrono::seconds(*n);
    } else if (key == "holdMs") {
      limits.hold = std::chrono::milliseconds(*n);
    } else {
      return Fail(ErrorCategory::kConfiguration, "InvalidThrottling", "unknown key " + key);
    }
  }
  SetLimits(limits);
  return {};
}

}  // namespace exo::mock_ews
