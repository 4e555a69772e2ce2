// The control routes every mock shares: the clock, fault rules and the journal.
#include "exo/common/time_format.hpp"
#include "exo/mock_kit/http_server.hpp"

namespace exo::mock {
namespace {

nlohmann::json ClockJson(Clock& clock, AdjustableClock* sim) {
  nlohmann::json j = {{"mode", !sim            ? "real"
                               : sim->frozen() ? "simulated"
                                               : "offset"},
                      {"now", FormatIso8601Ticks(clock.Now())},
                      {"monotonicMs", std::chrono::duration_cast<std::chrono::milliseconds>(
                                          clock.Monotonic().time_since_epoch())
                                          .count()}};
  if (auto* frozen = dynamic_cast<SimulatedClock*>(sim)) {
    if (auto next = frozen->NextWakeup()) {
      j["nextWakeupMs"] =
          std::chrono::duration_cast<std::chrono::milliseconds>(next->time_since_epoch()).count();
    } else {
      j["nextWakeupMs"] = nullptr;
    }
    j["waiters"] = frozen->WaiterCount();
  }
  return j;
}

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

  r.Get(p + "/clock", [&clock, sim](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, ClockJson(clock, sim));
  });
  // {"by": "65m"} or {"seconds": 3900}
  r.Post(p + "/clock/advance", [&clock, sim](const httplib::Request& req, httplib::Response& res) {
    if (!sim)
      return ReplyControlError(res, 409, "FixedClock", "this server's clock cannot be moved");
    auto body = ParseBody(req, res);
    if (!body) return;
    std::optional<Duration> by;
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
    ReplyJson(res, ClockJson(clock, sim));
  });
  // {"now": "2027-04-01T00:00:00Z"}: steps system time; monotonic time never goes back.
  r.Post(p + "/clock/set", [&clock, sim](const httplib::Request& req, httplib::Response& res) {
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
    ReplyJson(res, ClockJson(clock, sim));
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
