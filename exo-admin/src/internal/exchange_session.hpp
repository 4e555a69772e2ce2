// Exchange Online PowerShell V3 as the module talks to Exchange: sign-in through mock-aad, the
// connect-time module file, and every other cmdlet as POST /adminapi/beta/{tenant}/InvokeCommand
// with the module's headers (docs/research/exo-admin-api.md §1-4).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/crypto.hpp"
#include "internal/https_client.hpp"
#include "internal/outcome.hpp"
#include "internal/sign_in.hpp"

namespace exo::admin {

// How Connect-ExchangeOnline signs in.
struct ExchangeSignIn {
  enum class Kind { kPassword, kCertificate, kAccessToken };
  Kind kind = Kind::kPassword;
  std::string user, password;              // kPassword (ROPC)
  std::string app_id, organization;        // kCertificate
  std::optional<crypto::Certificate> certificate;
  std::optional<crypto::PrivateKey> key;
  std::string access_token;                // kAccessToken
};

class ExchangeSession {
 public:
  // `exchange`: mock-ews's base URL (https://host:port); `authority`: mock-aad's.
  ExchangeSession(HttpsClient& http, Clock& clock, std::string exchange, std::string authority);

  // Connect-ExchangeOnline: token, module file, banner (unless !show_banner).
  Outcome Connect(ExchangeSignIn sign_in, bool show_banner);
  void Disconnect();
  bool connected() const { return token_.has_value(); }
  // False only when the module file listed the caller's cmdlets and `cmdlet` is not among them.
  bool MayRun(const std::string& cmdlet) const;

  // One cmdlet as InvokeCommand, following @odata.nextLink; `written` is the name as typed.
  Outcome Invoke(const BoundCommand& cmd, const std::string& written);

 private:
  Result<Token> SignIn();
  HeaderList Headers(const std::string& cmdlet, const std::string& request_id,
                     const std::string& warning_action) const;
  ErrorRecord ErrorFromReply(const HttpReply& reply, const std::string& cmdlet,
                             const std::string& url) const;
  ErrorRecord SignInError(const Error& e) const;

  HttpsClient& http_;
  Clock& clock_;
  std::string exchange_, authority_;
  ExchangeSignIn sign_in_;
  std::optional<Token> token_;
  std::string connection_id_;
  std::string module_path_;  // the generated tmpEXO psm1 errors point into
  std::optional<std::set<std::string>> allowed_;  // lower-case cmdlet names
};

}  // namespace exo::admin
