// The token endpoints (v1 /oauth2/token and v2 /oauth2/v2.0/token) as a function from a parsed
// request to Entra's exact answer: client credentials (secret or certificate) and the password
// grant, with the AADSTS errors in the order Entra checks them.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_aad/directory.hpp"
#include "internal/aad_errors.hpp"
#include "internal/signing_keys.hpp"

namespace exo::aad {

struct TokenRequest {
  bool v2 = true;
  std::string tenant_segment;  // as in the path
  std::string method = "POST";
  std::string content_type;
  std::string body;           // raw form body
  std::string authorization;  // Authorization header, if any
  std::string client_request_id;
  std::string origin;  // "https://host:port" as the client addressed this server
};

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Thread-safe.
class TokenService {
 public:
  TokenService(Directory& directory, SigningKeySet& keys, Clock& clock, Random& random);

  HttpAnswer Handle(const TokenRequest& request);

  // Trace ids end in "00", as Entra's do.
  std::string NewTraceId();
  // The headers Entra sends on every token and error response.
  void AddStandardHeaders(HttpAnswer& a, const std::string& trace_id,
                          const std::string& client_request_id) const;
  HttpAnswer ErrorAnswer(const AadError& e, const std::string& trace_id,
                         const std::string& correlation_id);

  // Forget replayed-assertion and throttling state (harness reset).
  void Reset();

 private:
  struct Grant;
  HttpAnswer ClientCredentials(const TokenRequest& req, const Tenant& tenant,
                               const std::multimap<std::string, std::string>& form,
                               const std::string& trace, const std::string& corr);
  HttpAnswer Password(const TokenRequest& req, const Tenant& tenant,
                      const std::multimap<std::string, std::string>& form,
                      const std::string& trace, const std::string& corr);
  std::optional<AadError> CheckAssertion(const TokenRequest& req, const Tenant& tenant,
                                         const Application& app, const std::string& client_id,
                                         const std::string& assertion,
                                         const std::string& assertion_type);
  std::optional<HttpAnswer> Throttle(const std::string& client_id, const std::string& trace,
                                     const std::string& corr);
  HttpAnswer Success(const TokenRequest& req, const nlohmann::ordered_json& claims, bool v2_token,
                     const std::string& resource_as_requested, const std::string& scope_field,
                     const nlohmann::ordered_json& extra, const std::string& trace,
                     const std::string& corr);

  Directory& directory_;
  SigningKeySet& keys_;
  Clock& clock_;
  Random& random_;
  std::mutex mu_;
  std::unordered_map<std::string, SystemTime> seen_jti_;  // jti -> assertion expiry
  std::unordered_map<std::string, std::deque<MonoTime>> recent_;  // client_id -> request times
};

}  // namespace exo::aad
