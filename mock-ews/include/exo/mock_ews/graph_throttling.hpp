// Microsoft Graph's throttling of Outlook resources as mock-ews applies it to one application
// acting on one mailbox: 4 concurrent requests and 10,000 requests per 10 minutes
// (microsoft-graph-docs-contrib concepts/throttling-limits.md, "Outlook service limits"),
// answered 429 ApplicationThrottled with Retry-After, on the server's clock. It also notices
// clients that come back before the Retry-After they were given.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::mock_ews {

struct GraphThrottlingLimits {
  // Requests of one app for one mailbox in flight at once; the next one gets 429 ("Application is
  // over its MailboxConcurrency limit."). 0: unlimited.
  std::size_t max_concurrency = 4;
  // Requests of one app for one mailbox within any `window`; every request counts, refused ones
  // too ("Microsoft Graph continues to log usage while you're throttled", concepts/throttling.md).
  // 0: unlimited.
  std::size_t max_requests = 10000;
  Duration window = std::chrono::minutes(10);
  // Admitted requests keep their concurrency slot this long on the server's clock before they are
  // served: how tests hold requests in flight without sleeping.
  Duration hold{};
};

enum class GraphThrottleReason { kNone, kConcurrency, kRate };

// Thread-safe. The Graph facade calls Admit() once per authorized request.
class GraphThrottling {
 public:
  explicit GraphThrottling(Clock& clock) : clock_(clock) {}
  GraphThrottling(const GraphThrottling&) = delete;
  GraphThrottling& operator=(const GraphThrottling&) = delete;

  void SetLimits(const GraphThrottlingLimits& limits);
  GraphThrottlingLimits limits() const;
  // Forgets every app's and mailbox's counts and back-offs (in-flight slots stay).
  void ResetState();
  // Requests that arrived before the Retry-After they had been given elapsed.
  std::uint64_t early_retries() const;

  // What the policy decided for one request. While admitted, the request holds its concurrency
  // slot until this object is destroyed.
  class Decision {
   public:
    Decision() = default;
    Decision(Decision&& other) noexcept { *this = std::move(other); }
    Decision& operator=(Decision&& other) noexcept;
    ~Decision();

    GraphThrottleReason reason = GraphThrottleReason::kNone;
    std::int64_t retry_after_seconds = 0;
    std::optional<Duration> early;  // how long before its Retry-After elapsed the request came
    Duration hold{};
    bool admitted() const { return reason == GraphThrottleReason::kNone; }

   private:
    friend class GraphThrottling;
    GraphThrottling* policy_ = nullptr;
    std::string key_;
  };

  Decision Admit(const std::string& app_id, const std::string& mailbox);

  // The control API's form (GET/PUT /_exo/graph/throttling). Keys: maxConcurrency, maxRequests,
  // windowSeconds, holdMs; unknown keys are an error (kConfiguration).
  nlohmann::json ToJson() const;
  Result<void> Update(const nlohmann::json& j);

 private:
  struct KeyState {
    std::size_t in_flight = 0;
    std::deque<MonoTime> arrivals;  // within the window, oldest first
    std::optional<MonoTime> not_before;
    std::uint64_t throttled = 0;
    std::uint64_t early_retries = 0;
  };
  void Release(const std::string& key);

  Clock& clock_;
  mutable std::mutex mu_;
  GraphThrottlingLimits limits_;
  std::map<std::string, KeyState> keys_;
  std::uint64_t early_retries_ = 0;
};

}  // namespace exo::mock_ews
