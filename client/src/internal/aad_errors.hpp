// Token endpoint failures into typed errors: the AADSTS code, a category that decides retrying,
// and the remedy keyed to the seed's setup steps.
#pragma once

#include <optional>
#include <string>

#include "exo/client/http.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// The first "AADSTS<digits>" in `text`.
std::optional<long> FirstAadstsCode(const std::string& text);
// A non-200 answer of the token endpoint (JSON error body, or anything else).
Error ParseTokenError(const HttpResponse& response);

}  // namespace exo::client
