// Fault injection for the mocks: rules that match requests and answer with a status and body,
// add latency on the server's clock, reset the connection or truncate the response; they can
// fire N times, only within a time window, or with a seeded probability.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"

namespace exo::mock {

struct FaultRule {
  std::string id;
  // Matching. Empty method matches any; path is an ECMAScript regex searched in the path.
  std::string method;
  std::string path = ".*";
  std::string body_contains;  // e.g. a SOAP operation or a client_id
  // Action.
  std::optional<int> status;  // answer instead of the real handler
  std::string body;
  std::string content_type = "text/plain";
  std::map<std::string, std::string> headers;
  Duration latency{};                           // on the server's clock, before anything else
  bool reset = false;                           // abort the connection with a TCP RST
  std::optional<std::size_t> truncate_after;    // send only this many body bytes, then close
  // Firing.
  std::optional<std::uint64_t> times;  // fire at most this many times
  std::optional<SystemTime> from, until;  // active only in [from, until) on the server's clock
  double probability = 1.0;
  std::uint64_t hits = 0;  // times fired so far

  // JSON form used by the control API (camelCase: method, path, bodyContains, status, body,
  // contentType, headers, latencyMs, reset, truncateAfterBytes, times, from, until,
  // probability). Unknown keys are an error, so a typo is not silently a no-op.
  static Result<FaultRule> FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;

  std::regex compiled;
};

// What the server must do for one request, decided by the first rule that fires.
struct FaultDecision {
  std::string rule_id;
  Duration latency{};
  bool reset = false;
  std::optional<int> status;
  std::string body;
  std::string content_type;
  std::map<std::string, std::string> headers;
  std::optional<std::size_t> truncate_after;
};

// Thread-safe.
class FaultInjector {
 public:
  FaultInjector(Clock& clock, Random& random) : clock_(clock), random_(random) {}

  std::string Add(FaultRule rule);  // returns the rule id (generated if empty)
  bool Remove(const std::string& id);
  void Clear();
  std::vector<FaultRule> List() const;

  // Finds the first active matching rule, counts the hit and returns what to do.
  std::optional<FaultDecision> Decide(const std::string& method, const std::string& path,
                                      const std::string& body);

 private:
  Clock& clock_;
  Random& random_;
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
  std::uint64_t next_id_ = 1;
};

}  // namespace exo::mock
