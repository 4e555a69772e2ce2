// The control API of ExchangeAdmin, for tests and scenarios out of process:
//   GET /_exo/admin/state        everything, with what is still propagating (StateJson)
//   GET /_exo/admin/propagation  the delays and the front-end count
//   PUT /_exo/admin/propagation  changes them (keys as GET shows; minutes may be fractional)
#pragma once

#include <nlohmann/json.hpp>

#include "exo/common/result.hpp"
#include "exo/mock_ews/exchange_admin.hpp"

namespace exo::mock {
class HttpServer;
}

namespace exo::mock_ews {

nlohmann::json PropagationJson(const PropagationSettings& p);
// `base` with the keys `body` names replaced. Error (kConfiguration): a key of the wrong type.
Result<PropagationSettings> ParsePropagation(const nlohmann::json& body, PropagationSettings base);

void RegisterAdminControlRoutes(mock::HttpServer& server, ExchangeAdmin& admin);

}  // namespace exo::mock_ews
