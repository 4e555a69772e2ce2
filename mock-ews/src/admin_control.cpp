#include "internal/admin_control.hpp"

#include "exo/mock_kit/http_server.hpp"

namespace exo::mock_ews {

void RegisterAdminControlRoutes(mock::HttpServer& server, ExchangeAdmin& admin) {
  auto& r = server.router();
  const std::string p = std::string(mock::kControlPrefix) + "/admin";
  r.Get(p + "/state", [&admin](const httplib::Request&, httplib::Response& res) {
    mock::ReplyJson(res, admin.StateJson());
  });
  r.Get(p + "/propagation", [&admin](const httplib::Request&, httplib::Response& res) {
    mock::ReplyJson(res, PropagationJson(admin.propagation()));
  });
  r.Put(p + "/propagation", [&admin](const httplib::Request& req, httplib::Response& res) {
    const auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return mock::ReplyControlError(res, 400, "InvalidJson",
                                     "the request body is not a JSON object");
    }
    auto settings = ParsePropagation(body, admin.propagation());
    if (!settings) {
      return mock::ReplyControlError(res, 400, settings.error().code, settings.error().message);
    }
    admin.SetPropagation(*settings);
    mock::ReplyJson(res, PropagationJson(admin.propagation()));
  });
}

}  // namespace exo::mock_ews
