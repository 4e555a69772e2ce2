#include "exo/mock_kit/faults.hpp"

#include <strings.h>

#include <algorithm>

#include "exo/common/time_format.hpp"

namespace exo::mock {
namespace {
std::unexpected<Error> BadRule(const std::string& why) {
  return Fail(ErrorCategory::kConfiguration, "InvalidFaultRule", why);
}
}  // namespace

Result<FaultRule> FaultRule::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return BadRule("a fault rule is a JSON object");
  static const std::vector<std::string> kKeys = {
      "id",         "method",    "path",  "bodyContains",       "status", "body", "contentType",
      "headers",    "latencyMs", "reset", "truncateAfterBytes", "times",  "from", "until",
      "probability"};
  FaultRule r;
  try {
    for (const auto& [k, v] : j.items()) {
      if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end()) {
        return BadRule("unknown key '" + k + "'");
      }
    }
    if (j.contains("id")) r.id = j["id"].get<std::string>();
    if (j.contains("method")) r.method = j["method"].get<std::string>();
    if (j.contains("path")) r.path = j["path"].get<std::string>();
    if (j.contains("bodyContains")) r.body_contains = j["bodyContains"].get<std::string>();
    if (j.contains("status")) {
      const int s = j["status"].get<int>();
      if (s < 100 || s > 599) return BadRule("status must be 100..599");
      r.status = s;
    }
    if (j.contains("body")) r.body = j["body"].get<std::string>();
    if (j.contains("contentType")) r.content_type = j["contentType"].get<std::string>();
    if (j.contains("headers")) r.headers = j["headers"].get<std::map<std::string, std::string>>();
    if (j.contains("latencyMs")) {
      const auto ms = j["latencyMs"].get<std::int64_t>();
      if (ms < 0) return BadRule("latencyMs must not be negative");
      r.latency = std::chrono::milliseconds(ms);
    }
    if (j.contains("reset")) r.reset = j["reset"].get<bool>();
    if (j.contains("truncateAfterBytes"))
      r.truncate_after = j["truncateAfterBytes"].get<std::size_t>();
    if (j.contains("times")) r.times = j["times"].get<std::uint64_t>();
    for (const char* key : {"from", "until"}) {
      if (!j.contains(key)) continue;
      auto t = ParseIso8601(j[key].get<std::string>());
      if (!t) return BadRule(std::string(key) + " must be an ISO 8601 time");
      (std::string(key) == "from" ? r.from : r.until) = *t;
    }
    if (j.contains("probability")) {
      r.probability = j["probability"].get<double>();
      if (r.probability < 0 || r.probability > 1) return BadRule("probability must be in [0, 1]");
    }
  } catch (const nlohmann::json::exception& e) {
    return BadRule(std::string("wrong type: ") + e.what());
  }
  try {
    r.compiled = std::regex(r.path, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& e) {
    return BadRule("path is not a valid regular expression: " + std::string(e.what()));
  }
  return r;
}

nlohmann::json FaultRule::ToJson() const {
  nlohmann::json j = {{"id", id}, {"path", path}, {"hits", hits}, {"probability", probability}};
  if (!method.empty()) j["method"] = method;
  if (!body_contains.empty()) j["bodyContains"] = body_contains;
  if (status) j["status"] = *status;
  if (!body.empty()) j["body"] = body;
  if (status) j["contentType"] = content_type;
  if (!headers.empty()) j["headers"] = headers;
  if (latency.count()) {
    j["latencyMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(latency).count();
  }
  if (reset) j["reset"] = true;
  if (truncate_after) j["truncateAfterBytes"] = *truncate_after;
  if (times) j["times"] = *times;
  if (from) j["from"] = FormatIso8601(*from);
  if (until) j["until"] = FormatIso8601(*until);
  return j;
}

std::string FaultInjector::Add(FaultRule rule) {
  std::lock_guard lock(mu_);
  if (rule.id.empty()) rule.id = "fault-" + std::to_string(next_id_++);
  std::erase_if(rules_, [&](const FaultRule& r) { return r.id == rule.id; });
  // Rules built in-process skip FromJson; an invalid pattern there is a programmer error.
  rule.compiled = std::regex(rule.path, std::regex::ECMAScript | std::regex::icase);
  rules_.push_back(rule);
  return rule.id;
}

bool FaultInjector::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  return std::erase_if(rules_, [&](const FaultRule& r) { return r.id == id; }) > 0;
}

void FaultInjector::Clear() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

std::vector<FaultRule> FaultInjector::List() const {
  std::lock_guard lock(mu_);
  return rules_;
}

std::optional<FaultDecision> FaultInjector::Decide(const std::string& method,
                                                   const std::string& path,
                                                   const std::string& body) {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  for (auto& r : rules_) {
    if (r.times && r.hits >= *r.times) continue;
    if (r.from && now < *r.from) continue;
    if (r.until && now >= *r.until) continue;
    if (!r.method.empty() && strcasecmp(r.method.c_str(), method.c_str()) != 0) continue;
    if (!r.body_contains.empty() && body.find(r.body_contains) == std::string::npos) continue;
    if (!std::regex_search(path, r.compiled)) continue;
    if (r.probability < 1.0 && random_.Unit() >= r.probability) continue;
    ++r.hits;
    return FaultDecision{r.id,   r.latency,      r.reset,   r.status,
                         r.body, r.content_type, r.headers, r.truncate_after};
  }
  return std::nullopt;
}

}  // namespace exo::mock
