// The control routes every mock shares: the clock, fault rules and the journal.
#include <algorithm>
#include <cmath>

#include "exo/common/time_format.hpp"
#include "exo/mock_kit/http_server.hpp"

namespace exo::mock {
namespace {

std::int64_t Ms(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

nlohmann::json ClockJson(HttpServer& server, AdjustableClock* sim) {
  Clock& clock = server.clock();
  // Activity before the waiting list: a client seen waiting here was waiting when the activity
  // was read, so "waiting and nothing in flight" is never a mix of two moments in the wrong
  // order (docs/mock-aad.md, "Simulated time across processes").
  const HttpServer::Activity activity = server.activity();
  nlohmann::json j = {
      {"mode", !sim            ? "real"
               : sim->frozen() ? "simulated"
                               : "offset"},
      {"now", FormatIso8601Ticks(clock.Now())},
      {"monotonicMs", Ms(clock.Monotonic())},
      {"inFlight", activity.in_flight},
      {"parked", activity.parked},
      {"parkedUntilMs", activity.parked_until ? nlohmann::json(Ms(*activity.parked_until))
                                              : nlohmann::json(nullptr)}};
  // A client that hung up (gave up its wait, or died) is not waiting, whatever its request's
  // thread has yet to notice.
  if (server.remote_waits().DropHungUp()) clock.Notify();
  nlohmann::json waiting = nlohmann::json::array();
  for (const RemoteWaits::Waiter& w : server.remote_waits().List()) {
    waiting.push_back({{"id", w.id}, {"who", w.who}, {"untilMs", w.until_ms}});
  }
  j["waiting"] = std::move(waiting);
  if (auto* frozen = dynamic_cast<SimulatedClock*>(sim)) {
    if (auto next = frozen->NextWakeup()) {
      j["nextWakeupMs"] = Ms(*next);
    } else {
      j["nextWakeupMs"] = nullptr;
    }
    j["waiters"] = frozen->WaiterCount();
  }
  return j;
}

// The answer to a long poll: the clock as the waiter leaves it.
nlohmann::json WaitJson(Clock& clock, bool reached, const char* reason) {
  nlohmann::json j = {{"now", FormatIso8601Ticks(clock.Now())},
                      {"monotonicMs", Ms(clock.Monotonic())},
                      {"reached", reached}};
  if (!reached) j["reason"] = reason;
  return j;
}

constexpr std::int64_t kDefaultWaitTimeoutMs = 5000;
constexpr std::int64_t kMaxWaitTimeoutMs = 30000;

std::optional<nlohmann::json> ParseBody(const httplib::Request& req, httplib::Response& res) {
  if (req.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    ReplyControlError(res, 400, "InvalidJson", "the request body is not JSON");
    return std::nullopt;
  }
  return j;
}

}  // namespace

void RegisterCommonControlRoutes(HttpServer& server, AdjustableClock* sim) {
  auto& r = server.router();
  Clock& clock = server.clock();
  const std::string p = kControlPrefix;

  r.Get(p + "/clock", [&server, sim](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, ClockJson(server, sim));
  });
  // {"by": "65m"}, {"seconds": 3900} or {"toMs": M}: to monotonic time M (milliseconds, as
  // monotonicMs reads), if that is ahead; repeating it is harmless.
  r.Post(p + "/clock/advance", [&server, &clock, sim](const httplib::Request& req,
                                                      httplib::Response& res) {
    if (!sim)
      return ReplyControlError(res, 409, "FixedClock", "this server's clock cannot be moved");
    auto body = ParseBody(req, res);
    if (!body) return;
    std::optional<Duration> by;
    if (body->contains("toMs")) {
      const auto& to = (*body)["toMs"];
      if (!to.is_number_integer() || to.get<std::int64_t>() < 0) {
        return ReplyControlError(res, 400, "InvalidTime",
                                 "toMs is a monotonic time in whole milliseconds (>= 0)");
      }
      const MonoTime target{std::chrono::milliseconds(to.get<std::int64_t>())};
      if (auto* frozen = dynamic_cast<SimulatedClock*>(sim)) {
        frozen->AdvanceTo(target);
      } else if (target > clock.Monotonic()) {
        sim->Advance(target - clock.Monotonic());
      }
      return ReplyJson(res, ClockJson(server, sim));
    }
    if (body->contains("by") && (*body)["by"].is_string()) {
      by = ParseDuration((*body)["by"].get<std::string>());
    } else if (body->contains("seconds") && (*body)["seconds"].is_number()) {
      by = std::chrono::duration_cast<Duration>(
          std::chrono::duration<double>((*body)["seconds"].get<double>()));
    }
    if (!by || by->count() < 0) {
      return ReplyControlError(res, 400, "InvalidDuration",
                               "give {\"by\": \"65m\"} or {\"seconds\": N} with N >= 0");
    }
    sim->Advance(*by);
    ReplyJson(res, ClockJson(server, sim));
  });
  // {"now": "2027-04-01T00:00:00Z"}: steps system time; monotonic time never goes back.
  r.Post(p + "/clock/set", [&server, &clock, sim](const httplib::Request& req,
                                                  httplib::Response& res) {
    if (!sim)
      return ReplyControlError(res, 409, "FixedClock", "this server's clock cannot be moved");
    auto body = ParseBody(req, res);
    if (!body) return;
    std::optional<SystemTime> t;
    if (body->contains("now") && (*body)["now"].is_string()) {
      t = ParseIso8601((*body)["now"].get<std::string>());
    }
    if (!t) return ReplyControlError(res, 400, "InvalidTime", "give {\"now\": \"<ISO 8601>\"}");
    if (*t > clock.Now())
      sim->Advance(*t - clock.Now());
    else
      sim->SetNow(*t);
    ReplyJson(res, ClockJson(server, sim));
  });
  // {"untilMs": M, "who": "monitor", "timeoutMs": 5000, "id": "…"}: a long poll on the simulated
  // clock (docs/mock-aad.md, "Simulated time across processes").
  r.Post(p + "/clock/wait", [&server, &clock, sim](const httplib::Request& req,
                                                   httplib::Response& res) {
    auto* frozen = dynamic_cast<SimulatedClock*>(sim);
    if (!frozen) {
      return ReplyControlError(
          res, 409, "NotSimulated",
          "POST /_exo/clock/wait needs a simulated clock (exo-harness --clock simulated); this "
          "server's clock runs on real time, so wait on your own clock instead");
    }
    auto body = ParseBody(req, res);
    if (!body) return;
    if (!body->is_object() || !body->contains("untilMs") || !(*body)["untilMs"].is_number() ||
        (*body)["untilMs"].get<double>() < 0) {
      return ReplyControlError(res, 400, "InvalidWait",
                               "give {\"untilMs\": M} with M a monotonic time in milliseconds "
                               "(as GET /_exo/clock's monotonicMs reads), M >= 0");
    }
    RemoteWaits::Waiter w;
    // A fractional target is rounded up: the waiter never wakes before the time it asked for.
    w.until_ms = static_cast<std::int64_t>(std::ceil((*body)["untilMs"].get<double>()));
    w.who = "client";
    if (body->contains("who")) {
      if (!(*body)["who"].is_string() || (*body)["who"].get<std::string>().empty()) {
        return ReplyControlError(res, 400, "InvalidWait", "who is a non-empty string");
      }
      w.who = (*body)["who"].get<std::string>();
    }
    if (body->contains("id")) {
      if (!(*body)["id"].is_string() || (*body)["id"].get<std::string>().empty() ||
          (*body)["id"].get<std::string>().size() > 128) {
        return ReplyControlError(res, 400, "InvalidWait", "id is a string of 1 to 128 characters");
      }
      w.id = (*body)["id"].get<std::string>();
    }
    std::int64_t timeout_ms = kDefaultWaitTimeoutMs;
    if (body->contains("timeoutMs")) {
      if (!(*body)["timeoutMs"].is_number() || (*body)["timeoutMs"].get<double>() < 0) {
        return ReplyControlError(res, 400, "InvalidWait", "timeoutMs is a number >= 0");
      }
      timeout_ms = std::min<std::int64_t>(
          kMaxWaitTimeoutMs, static_cast<std::int64_t>((*body)["timeoutMs"].get<double>()));
    }
    const MonoTime until{std::chrono::milliseconds(w.until_ms)};
    if (server.stopping()) return ReplyJson(res, WaitJson(clock, false, "stopping"));
    auto cancelled = server.remote_waits().Add(w, req);
    if (!cancelled) return ReplyJson(res, WaitJson(clock, false, "cancelled"));
    // Listed (above) before it blocks: a reader that sees it may advance at once, and the wait
    // then finds its deadline passed. It leaves the list before the answer is written.
    frozen->WaitUntilOrRealLimit(
        until, [&] { return cancelled->load() || server.stopping(); },
        std::chrono::milliseconds(timeout_ms));
    server.remote_waits().Remove(w.id);
    const bool reached = clock.Monotonic() >= until;
    const char* reason = cancelled->load()   ? "cancelled"
                         : server.stopping() ? "stopping"
                                             : "timeout";
    ReplyJson(res, WaitJson(clock, reached, reason));
  });
  // Ends a long poll by the id its POST gave (or will give: a cancel may overtake its wait).
  r.Delete(p + R"(/clock/wait/([^/]+))",
           [&server, &clock](const httplib::Request& req, httplib::Response& res) {
             server.remote_waits().Cancel(req.matches[1]);
             clock.Notify();
             res.status = 204;
           });

  r.Get(p + "/faults", [&server](const httplib::Request&, httplib::Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& rule : server.faults().List()) list.push_back(rule.ToJson());
    ReplyJson(res, {{"faults", list}});
  });
  r.Post(p + "/faults", [&server](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseBody(req, res);
    if (!body) return;
    auto rule = FaultRule::FromJson(*body);
    if (!rule) return ReplyControlError(res, 400, rule.error().code, rule.error().message);
    ReplyJson(res, {{"id", server.faults().Add(*rule)}}, 201);
  });
  r.Delete(p + "/faults", [&server](const httplib::Request&, httplib::Response& res) {
    server.faults().Clear();
    res.status = 204;
  });
  r.Delete(p + R"(/faults/([^/]+))",
           [&server](const httplib::Request& req, httplib::Response& res) {
             if (!server.faults().Remove(req.matches[1])) {
               return ReplyControlError(res, 404, "NotFound",
                                        "no fault rule '" + std::string(req.matches[1]) + "'");
             }
             res.status = 204;
           });

  // ?since=SEQ&path=SUBSTRING&method=POST&status=401&limit=N&<annotation>=<value>
  r.Get(p + "/journal", [&server](const httplib::Request& req, httplib::Response& res) {
    JournalQuery q;
    try {
      for (const auto& [k, v] : req.params) {
        if (k == "since")
          q.since_seq = std::stoull(v);
        else if (k == "path")
          q.path_contains = v;
        else if (k == "method")
          q.method = v;
        else if (k == "status")
          q.status = std::stoi(v);
        else if (k == "limit")
          q.limit = std::stoull(v);
        else
          q.annotations[k] = v;
      }
    } catch (const std::exception&) {
      return ReplyControlError(res, 400, "InvalidQuery", "since, status and limit are numbers");
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : server.journal().Query(q)) list.push_back(e.ToJson());
    ReplyJson(res, {{"entries", list}, {"lastSeq", server.journal().last_seq()}});
  });
  r.Delete(p + "/journal", [&server](const httplib::Request&, httplib::Response& res) {
    server.journal().Clear();
    res.status = 204;
  });
}

}  // namespace exo::mock
