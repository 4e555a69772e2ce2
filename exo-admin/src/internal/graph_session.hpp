// The Microsoft Graph PowerShell SDK's application cmdlets over mock-aad's Graph subset
// (docs/mock-aad.md, "Microsoft Graph subset"): each cmdlet maps to the one request the SDK
// would send; what mock-aad does not serve is refused with a message that says so.
#pragma once

#include <optional>
#include <string>

#include "internal/https_client.hpp"
#include "internal/outcome.hpp"
#include "internal/sign_in.hpp"

namespace exo::admin {

class GraphSession {
 public:
  // `authority`: mock-aad's base URL, which also serves /v1.0.
  GraphSession(HttpsClient& http, std::string authority);

  // Connect-MgGraph as a delegated administrator (password grant, Graph PowerShell client id).
  Outcome Connect(const std::string& tenant, const std::string& user, const std::string& password,
                  bool welcome);
  Outcome ConnectWithToken(const std::string& access_token, bool welcome);
  void Disconnect() {
    token_.reset();
    sign_in_.reset();
  }
  bool connected() const { return token_.has_value(); }

  Outcome Run(const BoundCommand& cmd, const std::string& written);

 private:
  // One Graph request; the parsed body (null for 204) or the SDK's error record.
  Result<Value> Request(const std::string& method, const std::string& path, const Value& body,
                        const std::string& cmdlet, std::optional<ErrorRecord>& error);

  HttpsClient& http_;
  std::string authority_;
  std::optional<Token> token_;
  // The password sign-in, kept for the session as the Graph SDK keeps its refresh token: an
  // expired access token is renewed silently, once per request.
  struct SignIn {
    std::string tenant, user, password;
  };
  std::optional<SignIn> sign_in_;
  std::string client_id_ = kGraphPowerShellClientId;
};

// Graph JSON names as the SDK's PowerShell objects show them ("appId" -> "AppId"), recursively;
// @odata annotations dropped.
Value ToSdkObject(const Value& graph);
// The reverse for hashtables a script passes (-PasswordCredential @{DisplayName=...}).
Value ToGraphJson(const Value& hashtable);

}  // namespace exo::admin
