#include "internal/throttling.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "exo/common/time_format.hpp"
#include "exo/mock_kit/journal.hpp"

namespace exo::mock_ews {

using nlohmann::json;

namespace {

constexpr std::int64_t kNsPerMs = 1000000;
// An hour of nanoseconds times a recharge rate in nanoseconds overflows 64 bits.
__extension__ using Int128 = __int128;
constexpr const char* kBusyText =
    "The server cannot service this request right now. Try again later.";
constexpr const char* kConnectionCountText =
    "You have exceeded the available concurrent connections for your account.  Try again once "
    "your other requests have completed.";

std::int64_t Ms(Duration d) { return d.count() / kNsPerMs; }
Duration FromMs(std::int64_t ms) { return std::chrono::milliseconds(ms); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const char* FormName(ThrottleForm f) {
  switch (f) {
    case ThrottleForm::kFault:
      return "fault";
    case ThrottleForm::kResponseMessage:
      return "message";
    case ThrottleForm::kHttp503:
      return "503";
  }
  return "fault";
}

// The response code a decision is answered with; the key of the "throttled" counters.
std::string AnswerCode(const ThrottlingPolicy::Decision& d) {
  if (d.form == ThrottleForm::kHttp503) return "503";
  if (d.reason == ThrottleReason::kConcurrency) return "ErrorExceededConnectionCount";
  return "ErrorServerBusy";
}

// Exchange's diagnostic sentence (as in ews-managed-api#293 and the ConcurrentSyncCalls message
// of ews.md §3.4), for the policy part that refused the request.
std::string BudgetSentence(std::string_view part, std::uint64_t value, std::int64_t back_off_ms) {
  return "This operation exceeds the throttling budget for policy part '" + std::string(part) +
         "', policy value '" + std::to_string(value) +
         "',  Budget type: 'Ews'.  Suggested backoff time " + std::to_string(back_off_ms) + " ms.";
}

// The payload elements the schema (or clients, for SyncFolderItems: ews.md §0.8) need in an error
// response message of `op`.
std::string EmptyPayload(std::string_view op) {
  static const std::set<std::string_view> kItemOps = {"GetItem", "UpdateItem", "MoveItem",
                                                      "CopyItem", "CreateItem"};
  if (kItemOps.contains(op)) return "<m:Items/>";
  if (op == "GetFolder" || op == "CreateFolder") return "<m:Folders/>";
  if (op == "SyncFolderItems") {
    return "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>";
  }
  return "";
}

std::string BackOffValue(std::int64_t ms) {
  return "<t:Value Name=\"BackOffMilliseconds\">" + std::to_string(ms) + "</t:Value>";
}

}  // namespace

// ---- ThrottlingPolicy::Decision ----

ThrottlingPolicy::Decision& ThrottlingPolicy::Decision::operator=(Decision&& other) noexcept {
  if (this == &other) return *this;
  if (policy_) policy_->Release(key_, sync_);
  reason = other.reason;
  form = other.form;
  back_off_ms = other.back_off_ms;
  retry_after_seconds = other.retry_after_seconds;
  limit = other.limit;
  early = other.early;
  hold = other.hold;
  policy_ = std::exchange(other.policy_, nullptr);
  key_ = std::move(other.key_);
  sync_ = other.sync_;
  return *this;
}

ThrottlingPolicy::Decision::~Decision() {
  if (policy_) policy_->Release(key_, sync_);
}

// ---- ThrottlingPolicy ----

void ThrottlingPolicy::SetLimits(const ThrottlingLimits& limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

ThrottlingLimits ThrottlingPolicy::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

void ThrottlingPolicy::Force(const ForcedThrottling& force) {
  std::lock_guard lock(mu_);
  force_ = force;
}

void ThrottlingPolicy::ClearForce() {
  std::lock_guard lock(mu_);
  force_.reset();
}

std::optional<ForcedThrottling> ThrottlingPolicy::forced() const {
  std::lock_guard lock(mu_);
  return force_;
}

void ThrottlingPolicy::ResetState() {
  std::lock_guard lock(mu_);
  for (auto& [key, s] : keys_) {
    KeyState fresh;
    fresh.in_flight = s.in_flight;
    fresh.sync_in_flight = s.sync_in_flight;
    s = fresh;
  }
  early_retries_ = 0;
  answers_.clear();
}

std::uint64_t ThrottlingPolicy::early_retries() const {
  std::lock_guard lock(mu_);
  return early_retries_;
}

void ThrottlingPolicy::NoteArrival(KeyState& s, Decision& d, MonoTime now) {
  if (!s.not_before) return;
  if (now >= *s.not_before) {
    s.not_before.reset();
    return;
  }
  d.early = *s.not_before - now;
  ++s.early_retries;
  ++early_retries_;
}

std::optional<ForcedThrottling> ThrottlingPolicy::TakeForced(bool http_level) {
  if (!force_) return std::nullopt;
  if (force_->until && clock_.Now() >= *force_->until) {
    force_.reset();
    return std::nullopt;
  }
  if ((force_->form == ThrottleForm::kHttp503) != http_level) return std::nullopt;
  ForcedThrottling taken = *force_;
  if (force_->times && --*force_->times == 0) force_.reset();
  return taken;
}

void ThrottlingPolicy::Refill(KeyState& s, MonoTime now) const {
  if (!s.budget_started) {
    s.budget_started = true;
    s.balance = limits_.max_burst;
    s.refilled = now;
    return;
  }
  const auto hour = std::chrono::duration_cast<Duration>(std::chrono::hours(1)).count();
  const Int128 gained =
      static_cast<Int128>((now - s.refilled).count()) * limits_.recharge_per_hour.count() / hour;
  const Int128 balance = s.balance.count() + gained;
  s.balance = Duration(static_cast<std::int64_t>(
      std::min<Int128>(balance, static_cast<Int128>(limits_.max_burst.count()))));
  s.refilled = now;
}

void ThrottlingPolicy::Count(KeyState& s, Decision& d, MonoTime now) {
  ++s.throttled;
  ++answers_[AnswerCode(d)];
  if (d.form == ThrottleForm::kHttp503) {
    s.not_before = now + std::chrono::seconds(d.retry_after_seconds);
  } else if (d.back_off_ms && *d.back_off_ms > 0) {
    s.not_before = now + FromMs(*d.back_off_ms);
  }
}

ThrottlingPolicy::Decision ThrottlingPolicy::ArriveHttp(const std::string& app_id) {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.Monotonic();
  Decision d;
  const std::string key = app_id + "\n*";
  auto it = keys_.find(key);
  if (it != keys_.end()) NoteArrival(it->second, d, now);
  if (auto forced = TakeForced(true)) {
    d.reason = ThrottleReason::kForced;
    d.form = ThrottleForm::kHttp503;
    d.retry_after_seconds = forced->retry_after_seconds;
    Count(keys_[key], d, now);
  }
  return d;
}

ThrottlingPolicy::Decision ThrottlingPolicy::Admit(const std::string& app_id,
                                                   const std::string& mailbox, bool sync) {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.Monotonic();
  Decision d;
  const std::string key = app_id + "\n" + Lower(mailbox);
  KeyState& s = keys_[key];
  NoteArrival(s, d, now);
  if (auto forced = TakeForced(false)) {
    d.reason = ThrottleReason::kForced;
    d.form = forced->form;
    d.back_off_ms = forced->back_off_ms;
    Count(s, d, now);
    return d;
  }
  if (limits_.max_concurrency != 0 && s.in_flight >= limits_.max_concurrency) {
    d.reason = ThrottleReason::kConcurrency;
    d.limit = limits_.max_concurrency;
    Count(s, d, now);
    return d;
  }
  if (sync && limits_.max_concurrent_sync != 0 && s.sync_in_flight >= limits_.max_concurrent_sync) {
    d.reason = ThrottleReason::kConcurrentSync;
    d.form = ThrottleForm::kResponseMessage;
    d.limit = limits_.max_concurrent_sync;
    d.back_off_ms = Ms(limits_.sync_back_off);
    Count(s, d, now);
    return d;
  }
  if (limits_.budget_enabled) {
    Refill(s, now);
    if (s.balance < limits_.request_cost) {
      d.reason = ThrottleReason::kBudget;
      d.limit = static_cast<std::size_t>(Ms(limits_.max_burst));
      // Exchange publishes no "never": a budget that does not recharge asks for an hour.
      std::int64_t wait_ms = 3600 * 1000;
      if (limits_.recharge_per_hour.count() > 0) {
        const auto hour = std::chrono::duration_cast<Duration>(std::chrono::hours(1)).count();
        const Int128 needed = (limits_.request_cost - s.balance).count();
        const Int128 wait_ns = (needed * hour + limits_.recharge_per_hour.count() - 1) /
                               limits_.recharge_per_hour.count();
        wait_ms = static_cast<std::int64_t>((wait_ns + kNsPerMs - 1) / kNsPerMs);
      }
      d.back_off_ms = wait_ms;
      Count(s, d, now);
      return d;
    }
    s.balance -= limits_.request_cost;
  }
  ++s.in_flight;
  if (sync) ++s.sync_in_flight;
  d.policy_ = this;
  d.key_ = key;
  d.sync_ = sync;
  d.hold = limits_.hold;
  return d;
}

void ThrottlingPolicy::Release(const std::string& key, bool sync) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  if (it->second.in_flight > 0) --it->second.in_flight;
  if (sync && it->second.sync_in_flight > 0) --it->second.sync_in_flight;
}

json ThrottlingPolicy::ToJson() const {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.Monotonic();
  json j = {{"maxConcurrency", limits_.max_concurrency},
            {"maxConcurrentSync", limits_.max_concurrent_sync},
            {"syncBackOffMs", Ms(limits_.sync_back_off)},
            {"budgetEnabled", limits_.budget_enabled},
            {"maxBurstMs", Ms(limits_.max_burst)},
            {"rechargeMsPerHour", Ms(limits_.recharge_per_hour)},
            {"requestCostMs", Ms(limits_.request_cost)},
            {"holdMs", Ms(limits_.hold)},
            {"force", nullptr},
            {"earlyRetries", early_retries_},
            {"throttled", json::object()},
            {"mailboxes", json::array()}};
  if (force_) {
    json f = {{"form", FormName(force_->form)},
              {"backOffMs", force_->back_off_ms ? json(*force_->back_off_ms) : json(nullptr)},
              {"retryAfterSeconds", force_->retry_after_seconds}};
    if (force_->times) f["times"] = *force_->times;
    if (force_->until) f["until"] = FormatIso8601(*force_->until);
    j["force"] = f;
  }
  for (const auto& [code, n] : answers_) j["throttled"][code] = n;
  for (const auto& [key, s] : keys_) {
    const auto nl = key.find('\n');
    json m = {{"app", key.substr(0, nl)},
              {"mailbox", key.substr(nl + 1)},
              {"inFlight", s.in_flight},
              {"throttled", s.throttled},
              {"earlyRetries", s.early_retries}};
    if (s.budget_started) m["budgetMs"] = Ms(s.balance);
    if (s.not_before && *s.not_before > now) m["backOffRemainingMs"] = Ms(*s.not_before - now);
    j["mailboxes"].push_back(m);
  }
  return j;
}

namespace {

Result<std::int64_t> NonNegative(const json& v, const std::string& key) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) {
    return Fail(ErrorCategory::kConfiguration, "InvalidThrottling",
                key + " must be a non-negative integer");
  }
  return v.get<std::int64_t>();
}

Result<ForcedThrottling> ParseForce(const json& f, Clock& clock) {
  if (!f.is_object()) {
    return Fail(ErrorCategory::kConfiguration, "InvalidThrottling",
                "force must be an object, or null to clear it");
  }
  ForcedThrottling force;
  for (const auto& [key, v] : f.items()) {
    if (key == "form") {
      const std::string form = v.is_string() ? v.get<std::string>() : "";
      if (form == "fault") {
        force.form = ThrottleForm::kFault;
      } else if (form == "message") {
        force.form = ThrottleForm::kResponseMessage;
      } else if (form == "503") {
        force.form = ThrottleForm::kHttp503;
      } else {
        return Fail(ErrorCategory::kConfiguration, "InvalidThrottling",
                    "force.form must be \"fault\", \"message\" or \"503\"");
      }
    } else if (key == "backOffMs") {
      if (v.is_null()) {
        force.back_off_ms.reset();
      } else {
        auto ms = NonNegative(v, "force.backOffMs");
        if (!ms) return std::unexpected(ms.error());
        force.back_off_ms = *ms;
      }
    } else if (key == "retryAfterSeconds") {
      auto s = NonNegative(v, "force.retryAfterSeconds");
      if (!s) return std::unexpected(s.error());
      force.retry_after_seconds = *s;
    } else if (key == "times") {
      auto n = NonNegative(v, "force.times");
      if (!n) return std::unexpected(n.error());
      force.times = static_cast<std::uint64_t>(*n);
    } else if (key == "forMs") {
      auto ms = NonNegative(v, "force.forMs");
      if (!ms) return std::unexpected(ms.error());
      force.until = clock.Now() + FromMs(*ms);
    } else {
      return Fail(ErrorCategory::kConfiguration, "InvalidThrottling", "unknown key force." + key);
    }
  }
  return force;
}

}  // namespace

Result<void> ThrottlingPolicy::Update(const json& j) {
  if (!j.is_object()) {
    return Fail(ErrorCategory::kConfiguration, "InvalidThrottling", "expected a JSON object");
  }
  // Validate everything first so a bad request changes nothing.
  ThrottlingLimits limits = this->limits();
  std::optional<std::optional<ForcedThrottling>> force;  // outer: present; inner: null clears
  const std::vector<std::pair<const char*, Duration ThrottlingLimits::*>> durations = {
      {"syncBackOffMs", &ThrottlingLimits::sync_back_off},
      {"maxBurstMs", &ThrottlingLimits::max_burst},
      {"rechargeMsPerHour", &ThrottlingLimits::recharge_per_hour},
      {"requestCostMs", &ThrottlingLimits::request_cost},
      {"holdMs", &ThrottlingLimits::hold}};
  for (const auto& [key, v] : j.items()) {
    auto duration = std::find_if(durations.begin(), durations.end(),
                                 [&key](const auto& d) { return key == d.first; });
    if (duration != durations.end()) {
      auto ms = NonNegative(v, key);
      if (!ms) return std::unexpected(ms.error());
      limits.*(duration->second) = FromMs(*ms);
    } else if (key == "maxConcurrency" || key == "maxConcurrentSync") {
      auto n = NonNegative(v, key);
      if (!n) return std::unexpected(n.error());
      (key == "maxConcurrency" ? limits.max_concurrency : limits.max_concurrent_sync) =
          static_cast<std::size_t>(*n);
    } else if (key == "budgetEnabled") {
      if (!v.is_boolean()) {
        return Fail(ErrorCategory::kConfiguration, "InvalidThrottling",
                    "budgetEnabled must be a boolean");
      }
      limits.budget_enabled = v.get<bool>();
    } else if (key == "force") {
      if (v.is_null()) {
        force.emplace(std::nullopt);
      } else {
        auto f = ParseForce(v, clock_);
        if (!f) return std::unexpected(f.error());
        force.emplace(*f);
      }
    } else {
      return Fail(ErrorCategory::kConfiguration, "InvalidThrottling", "unknown key " + key);
    }
  }
  std::lock_guard lock(mu_);
  limits_ = limits;
  if (force) force_ = *force;
  return {};
}

// ---- Answers ----

SoapReply ThrottledReply(const ThrottlingPolicy::Decision& d, std::string_view op) {
  mock::Annotate("throttle", AnswerCode(d));
  if (d.back_off_ms) mock::Annotate("throttle.back_off_ms", std::to_string(*d.back_off_ms));
  if (d.reason == ThrottleReason::kConcurrency) {
    // ews-managed-api#293: the policy, its limit and Exchange's sentence, no BackOffMilliseconds.
    return Fault("ErrorExceededConnectionCount", kConnectionCountText, kConnectionCountText,
                 "<t:Value Name=\"Policy\">MaxConcurrency</t:Value><t:Value "
                 "Name=\"MaxConcurrencyLimit\">" +
                     std::to_string(d.limit) + "</t:Value><t:Value Name=\"ErrorMessage\">" +
                     Esc(BudgetSentence("MaxConcurrency", d.limit, 0)) + "</t:Value>");
  }
  std::string text = kBusyText;
  if (d.reason == ThrottleReason::kConcurrentSync) {
    text += ", " + BudgetSentence("ConcurrentSyncCalls", d.limit, d.back_off_ms.value_or(0));
  } else if (d.reason == ThrottleReason::kBudget) {
    // [infer] the policy part's name for the time budget.
    text += ", " + BudgetSentence("MaxBurst", d.limit, d.back_off_ms.value_or(0));
  }
  const std::string message_xml = d.back_off_ms ? BackOffValue(*d.back_off_ms) : "";
  if (d.form == ThrottleForm::kResponseMessage) {
    const std::string o(op);
    std::string message = "<m:" + o + "ResponseMessage ResponseClass=\"Error\"><m:MessageText>" +
                          Esc(text) +
                          "</m:MessageText><m:ResponseCode>ErrorServerBusy</m:ResponseCode>"
                          "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>";
    if (!message_xml.empty()) message += "<m:MessageXml>" + message_xml + "</m:MessageXml>";
    message += EmptyPayload(op) + "</m:" + o + "ResponseMessage>";
    return Response(op, message);
  }
  return Fault("ErrorServerBusy", text, text, message_xml);
}

void AnnotateEarly(const ThrottlingPolicy::Decision& d) {
  if (!d.early) return;
  mock::Annotate("throttle.early_retry", "true");
  // Rounded up: a retry 0.4 ms early is still early.
  mock::Annotate("throttle.early_by_ms",
                 std::to_string((d.early->count() + kNsPerMs - 1) / kNsPerMs));
}

std::string UnavailableBody() {
  return "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML "
         "4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n"
         "<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n"
         "<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n"
         "<BODY><h2>Service Unavailable</h2>\r\n"
         "<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n"
         "</BODY></HTML>\r\n";
}

bool IsSoapContentType(std::string_view content_type) {
  const std::string t = Lower(std::string(content_type));
  const auto semi = t.find(';');
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  if (trim(t.substr(0, semi)) != "text/xml") return false;
  if (semi == std::string::npos) return true;
  // Parameters: only charset matters, and only the encodings WCF's text encoder reads.
  std::size_t pos = semi + 1;
  while (pos <= t.size()) {
    const auto next = t.find(';', pos);
    const std::string param =
        trim(t.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (param.rfind("charset=", 0) == 0) {
      std::string charset = param.substr(8);
      charset.erase(std::remove(charset.begin(), charset.end(), '"'), charset.end());
      if (charset != "utf-8" && charset != "utf-16" && charset != "utf-16le" &&
          charset != "utf-16be") {
        return false;
      }
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return true;
}

std::string ContentTypeRefusal(std::string_view content_type) {
  return "Cannot process the message because the content type '" + std::string(content_type) +
         "' was not the expected type 'text/xml; charset=utf-8'.";
}

std::string ServicePage(std::string_view base_url) {
  const std::string wsdl = std::string(base_url) + "/EWS/Services.wsdl";
  return "<HTML><HEAD><TITLE>Service</TITLE></HEAD><BODY><DIV id=\"content\">"
         "<P class=\"heading1\">Service</P><BR/><P class=\"intro\">You have created a service.<P "
         "class='intro'>To test this service, you will need to create a client and use it to call "
         "the service. You can do this using the svcutil.exe tool from the command line with the "
         "following syntax:</P><BR/><PRE>svcutil.exe <A HREF=\"" +
         wsdl + "\">" + wsdl + "</A></PRE></DIV></BODY></HTML>";
}

std::size_t XmlDepth(pugi::xml_node root, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  pugi::xml_node n = root.first_child();
  if (n) depth = 1;
  while (n && deepest <= limit) {
    if (n.type() == pugi::node_element) deepest = std::max(deepest, depth);
    if (n.first_child()) {
      n = n.first_child();
      ++depth;
      continue;
    }
    while (n && !n.next_sibling()) {
      n = n.parent();
      --depth;
      if (n == root) return deepest;
    }
    if (n) n = n.next_sibling();
  }
  return deepest;
}

}  // namespace exo::mock_ews
