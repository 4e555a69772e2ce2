#include "exo/client/control_clock.hpp"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "exo/common/log.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"

namespace exo::client {

namespace {

// The calling thread's label; empty: the clock's default.
thread_local std::string t_who;

std::shared_ptr<spdlog::logger> Log() { return log::Get("client.clock"); }

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

// One WaitUntil in progress: what Notify() checks and how it ends the exchange.
struct ControlClock::Wait {
  const std::function<bool()>* done = nullptr;
  StreamCancel cancel;
};

ControlClock::ScopedWaitLabel::ScopedWaitLabel(std::string who)
    : previous_(std::exchange(t_who, std::move(who))) {}

ControlClock::ScopedWaitLabel::~ScopedWaitLabel() { t_who = std::move(previous_); }

ControlClock::ControlClock(ControlClockOptions options)
    : options_(std::move(options)),
      http_(options_.http),
      // Wait ids only need to be unique on one server: the process and a random part keep two
      // clients (or two runs of one) apart in its list and its cancel tombstones.
      id_prefix_(std::to_string(::getpid()) + "-" + SecureRandom::Instance().Uuid().substr(0, 8)) {
  options_.control_url = TrimSlash(options_.control_url);
  if (!http_) {
    HttpOptions h;
    h.ca_bundle = options_.ca_bundle;
    http_ = MakeHttpTransport(h);
  }
}

ControlClock::~ControlClock() = default;

Result<std::unique_ptr<ControlClock>> ControlClock::Connect(ControlClockOptions options) {
  std::unique_ptr<ControlClock> clock(new ControlClock(std::move(options)));
  const std::string url = clock->options_.control_url + "/clock";
  auto res = clock->http_->Send(HttpRequest{"GET", url, {}, {}});
  if (!res) {
    Error e = res.error();
    e.message = "cannot read the harness clock: " + e.message;
    if (e.remedy.empty()) e.remedy = "give --clock-url the ready file's \"control\" URL";
    return std::unexpected(e);
  }
  const auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !body.is_object() || !body.contains("monotonicMs")) {
    return Fail(
        ErrorCategory::kConfiguration, "ClockUrl",
        url + " is not a harness control API (HTTP " + std::to_string(res->status) + ")",
        "give --clock-url the ready file's \"control\" URL, e.g. https://127.0.0.1:PORT/_exo");
  }
  if (body.value("mode", "") != "simulated") {
    return Fail(ErrorCategory::kConfiguration, "NotSimulated",
                "the harness at " + clock->options_.control_url + " runs on " +
                    body.value("mode", "?") + " time, which a client cannot wait on",
                "start exo-harness with --clock simulated, or run without --clock-url");
  }
  if (auto reading = clock->Read(); reading) clock->last_ = *reading;
  return clock;
}

Result<ControlClock::Reading> ControlClock::Read() const {
  auto res = http_->Send(HttpRequest{"GET", options_.control_url + "/clock", {}, {}});
  if (!res) return std::unexpected(res.error());
  const auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !body.is_object() || !body["monotonicMs"].is_number_integer() ||
      !body["now"].is_string()) {
    return Fail(ErrorCategory::kProtocol, "ClockUrl",
                "GET " + options_.control_url + "/clock answered HTTP " +
                    std::to_string(res->status) + ": " + res->body.substr(0, 200));
  }
  auto now = ParseIso8601(body["now"].get<std::string>());
  if (!now) {
    return Fail(ErrorCategory::kProtocol, "ClockUrl",
                "the harness clock's \"now\" is no ISO 8601 time: " + body["now"].dump());
  }
  return Reading{*now,
                 MonoTime(std::chrono::milliseconds(body["monotonicMs"].get<std::int64_t>()))};
}

ControlClock::Reading ControlClock::ReadOrLast() const {
  auto reading = Read();
  std::lock_guard lock(mu_);
  if (!reading) {
    Log()->error("{}; using the last time read", reading.error().Describe());
    return last_;
  }
  // Monotonic time never goes back, whatever the harness says (a restarted harness would).
  if (reading->monotonic < last_.monotonic) reading->monotonic = last_.monotonic;
  last_ = *reading;
  return *reading;
}

SystemTime ControlClock::Now() const { return ReadOrLast().now; }

MonoTime ControlClock::Monotonic() const { return ReadOrLast().monotonic; }

bool ControlClock::WaitUntil(MonoTime deadline, const std::function<bool()>& done) {
  Wait wait;
  wait.done = &done;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    waits_.insert(&wait);
    seq = ++next_wait_;
  }
  struct Unregister {
    ControlClock* self;
    Wait* wait;
    ~Unregister() {
      std::lock_guard lock(self->mu_);
      self->waits_.erase(wait);
    }
  } unregister{this, &wait};

  // The server wakes a waiter once its monotonic time reaches untilMs; rounding up means it
  // never wakes us before `deadline`.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch());
  const std::int64_t until_ms = std::max<std::int64_t>(0, (ns.count() + 999999) / 1000000);
  const std::string who = t_who.empty() ? options_.default_who : t_who;
  for (int attempt = 0;; ++attempt) {
    {
      // The reset and the check under one hold of mu_: a Notify() either comes before (and the
      // check sees `done`) or after (and cancels this exchange).
      std::lock_guard lock(mu_);
      wait.cancel.Reset();
      if (done && done()) return true;
    }
    const std::string id = id_prefix_ + "-" + std::to_string(seq) + "-" + std::to_string(attempt);
    HttpRequest req;
    req.method = "POST";
    req.url = options_.control_url + "/clock/wait";
    req.headers.emplace("Content-Type", "application/json");
    req.body = nlohmann::json{{"untilMs", until_ms},
                              {"who", who},
                              {"id", id},
                              {"timeoutMs", options_.poll_timeout.count()}}
                   .dump();
    std::string body;
    auto res = http_->SendStreaming(
        req,
        [&body](std::string_view chunk) {
          body.append(chunk);
          return true;
        },
        &wait.cancel);
    if (wait.cancel.cancelled()) {
      // Notify() saw `done` hold. The server may still list the wait: take it off before the
      // caller goes on, so that "monitor is waiting" is never stale.
      CancelRemote(id);
      return true;
    }
    if (!res) {
      Log()->error("waiting on the harness clock: {}", res.error().Describe());
      if (PauseAfterFailure(done)) return true;
      continue;
    }
    const auto answer = nlohmann::json::parse(body, nullptr, false);
    if (res->status != 200 || !answer.is_object() || !answer["reached"].is_boolean()) {
      Log()->error("POST {} answered HTTP {}: {}", req.url, res->status, body.substr(0, 200));
      if (PauseAfterFailure(done)) return true;
      continue;
    }
    if (answer["reached"].get<bool>()) {
      std::lock_guard lock(mu_);
      return done && done();
    }
    // The server's real-time limit (or its stop, or a cancel of ours that crossed): post again.
  }
}

void ControlClock::CancelRemote(const std::string& id) {
  auto res = http_->Send(HttpRequest{"DELETE", options_.control_url + "/clock/wait/" + id, {}, {}});
  if (!res) {
    Log()->warn("cancelling wait {} on the harness: {}", id, res.error().Describe());
  } else if (res->status >= 300) {
    Log()->warn("cancelling wait {} on the harness: HTTP {}", id, res->status);
  }
}

bool ControlClock::PauseAfterFailure(const std::function<bool()>& done) {
  // Real time on purpose: this paces retries against a harness that does not answer, and never
  // decides what the client sees of simulated time.
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return done && done(); });
}

void ControlClock::Notify() {
  std::lock_guard lock(mu_);
  for (Wait* w : waits_) {
    if (*w->done && (*w->done)() && !w->cancel.cancelled()) w->cancel.Cancel();
  }
  cv_.notify_all();
}

}  // namespace exo::client
