// EWS throttling as Exchange Online applies it to one application acting on one mailbox: the
// EWSMaxConcurrency limit, the ConcurrentSyncCalls limit, and a recharging budget of EWS time
// (EwsMaxBurst / EwsRechargeRate), plus forced answers for tests and scenarios, all on the server's
// clock. It also notices clients that retry before the back-off they were given has elapsed.
// Wire facts: shared/reference/ews.md §3.4.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::mock_ews {

// The policy's numbers. Defaults are Exchange Online's where known (EWSMaxConcurrency 27,
// ConcurrentSyncCalls 5; EwsMaxBurst 300000 ms and EwsRechargeRate 900000 ms per hour are the
// Exchange 2013+ global policy's, which EXO does not publish) and inferred where not.
struct ThrottlingLimits {
  // Requests of one app for one mailbox in flight at once; the next one is refused with
  // ErrorExceededConnectionCount. 0: unlimited.
  std::size_t max_concurrency = 27;
  // SyncFolderItems requests of one app for one mailbox in flight at once; the next one gets
  // ErrorServerBusy inside its response message (HTTP 200), back-off `sync_back_off`. 0: unlimited.
  std::size_t max_concurrent_sync = 5;
  Duration sync_back_off = std::chrono::milliseconds(5000);
  // The budget: a bucket of EWS time holding at most `max_burst`, refilled at `recharge_per_hour`
  // per hour; each admitted request costs `request_cost` ([infer]: Exchange charges the time a
  // request really spends, which a simulated clock cannot measure). A request the bucket cannot
  // pay for gets ErrorServerBusy (SOAP fault, HTTP 500) with BackOffMilliseconds = the time until
  // it can.
  bool budget_enabled = true;
  Duration max_burst = std::chrono::milliseconds(300000);
  Duration recharge_per_hour = std::chrono::milliseconds(900000);
  Duration request_cost = std::chrono::milliseconds(100);
  // Admitted requests keep their concurrency slot this long on the server's clock before they are
  // served: a slow server, and the way tests hold requests in flight without sleeping.
  Duration hold{};
};

// How a throttled request is answered.
enum class ThrottleForm {
  kFault,            // SOAP fault ErrorServerBusy, HTTP 500 (exchangelib reads BackOffMilliseconds)
  kResponseMessage,  // HTTP 200, ErrorServerBusy in the operation's response message
  kHttp503,          // HTTP 503 with Retry-After, before any SOAP processing
};

// A forced answer for the next `times` requests, or until `until` on the server's clock, or (with
// neither) until cleared. Applies to every app and mailbox.
struct ForcedThrottling {
  ThrottleForm form = ThrottleForm::kFault;
  // BackOffMilliseconds; absent: the answer carries no MessageXml at all.
  std::optional<std::int64_t> back_off_ms = 5000;
  std::int64_t retry_after_seconds = 30;  // kHttp503
  std::optional<std::uint64_t> times;
  std::optional<SystemTime> until;
};

// Why a request was refused; kNone when it was admitted.
enum class ThrottleReason { kNone, kConcurrency, kConcurrentSync, kBudget, kForced };

// Thread-safe. The EWS facade calls ArriveHttp() for every authenticated request and Admit() for
// every impersonated one; tests and the control API use the rest.
class ThrottlingPolicy {
 public:
  explicit ThrottlingPolicy(Clock& clock) : clock_(clock) {}
  ThrottlingPolicy(const ThrottlingPolicy&) = delete;
  ThrottlingPolicy& operator=(const ThrottlingPolicy&) = delete;

  void SetLimits(const ThrottlingLimits& limits);
  ThrottlingLimits limits() const;
  void Force(const ForcedThrottling& force);
  void ClearForce();
  std::optional<ForcedThrottling> forced() const;
  // Forgets every app's and mailbox's state (in-flight counts stay), keeps limits and force.
  void ResetState();

  // Requests that arrived before the back-off (or Retry-After) they had been given elapsed.
  std::uint64_t early_retries() const;

  // What the policy decided for one request. While `admitted`, the request holds its concurrency
  // slot(s) until this object is destroyed.
  class Decision {
   public:
    Decision() = default;
    Decision(Decision&& other) noexcept { *this = std::move(other); }
    Decision& operator=(Decision&& other) noexcept;
    ~Decision();

    ThrottleReason reason = ThrottleReason::kNone;
    ThrottleForm form = ThrottleForm::kFault;
    std::optional<std::int64_t> back_off_ms;
    std::int64_t retry_after_seconds = 0;
    std::size_t limit = 0;          // the policy value that was exceeded
    std::optional<Duration> early;  // how long before its back-off elapsed the request came
    Duration hold{};                // admitted: serve after this long on the server's clock
    bool admitted() const { return reason == ThrottleReason::kNone; }

   private:
    friend class ThrottlingPolicy;
    ThrottlingPolicy* policy_ = nullptr;
    std::string key_;
    bool sync_ = false;
  };

  // Before any SOAP processing: the forced HTTP 503, and early retries after one.
  Decision ArriveHttp(const std::string& app_id);
  // After impersonation: forced SOAP answers, concurrency, budget; early retries after a SOAP
  // back-off. `sync`: the operation is SyncFolderItems.
  Decision Admit(const std::string& app_id, const std::string& mailbox, bool sync);

  // The control API's form. JSON keys (camelCase, durations in ms): maxConcurrency,
  // maxConcurrentSync, syncBackOffMs, budgetEnabled, maxBurstMs, rechargeMsPerHour, requestCostMs,
  // holdMs, and force {form: "fault"|"message"|"503", backOffMs (number or null),
  // retryAfterSeconds, times, forMs} (null clears it). Unknown keys are an error, so a typo is not
  // silently a no-op.
  nlohmann::json ToJson() const;
  Result<void> Update(const nlohmann::json& j);

 private:
  struct KeyState {
    std::size_t in_flight = 0;
    std::size_t sync_in_flight = 0;
    Duration balance{};
    MonoTime refilled{};
    bool budget_started = false;
    std::optional<MonoTime> not_before;  // the back-off last given ends here
    std::uint64_t throttled = 0;
    std::uint64_t early_retries = 0;
  };

  void Release(const std::string& key, bool sync);
  // Under mu_: notes an early arrival for `key` into `d`.
  void NoteArrival(KeyState& s, Decision& d, MonoTime now);
  // Under mu_: the forced answer, if it applies to this request (counted against its `times`).
  std::optional<ForcedThrottling> TakeForced(bool http_level);
  // Under mu_: counts a refusal and starts the back-off it announces.
  void Count(KeyState& s, Decision& d, MonoTime now);
  void Refill(KeyState& s, MonoTime now) const;

  Clock& clock_;
  mutable std::mutex mu_;
  ThrottlingLimits limits_;
  std::optional<ForcedThrottling> force_;
  std::map<std::string, KeyState> keys_;
  std::uint64_t early_retries_ = 0;
  std::map<std::string, std::uint64_t> answers_;  // throttled answers by code
};

}  // namespace exo::mock_ews
