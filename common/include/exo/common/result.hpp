// Errors as values: every expected failure in ExoHarness is an exo::Error carrying what decides a
// retry, the service's own code, the back-off hint and the remedy a person can act on.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "exo/common/clock.hpp"

namespace exo {

enum class ErrorCategory {
  kConfiguration,   // our own settings are wrong: fix the config, retrying cannot help
  kAuthentication,  // the identity was refused (bad or expired secret, bad token)
  kAuthorization,   // the identity is known but not allowed (consent, access policy, RBAC)
  kThrottled,       // the service asked us to slow down; honour retry_after
  kTransient,       // network or server trouble that may pass
  kProtocol,        // the peer said something we cannot understand
  kNotFound,        // the named thing does not exist
  kInternal,        // a bug or an environment failure (disk, entropy)
};

const char* ToString(ErrorCategory c);

struct Error {
  ErrorCategory category = ErrorCategory::kInternal;
  std::string code;     // the service's own code: "AADSTS7000222", "ErrorAccessDenied", "HTTP 503"
  std::string message;  // what happened, in one sentence
  std::string remedy;   // what fixes it, naming the setup step where there is one
  std::optional<Duration> retry_after;  // the server's back-off hint, if it gave one
  int http_status = 0;                  // 0 when no HTTP exchange was involved

  // "code: message (remedy)" for logs and CLI output.
  std::string Describe() const;
};

// The one place that decides whether an operation that failed with `e` may be retried as is.
bool IsRetryable(const Error& e);

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> Fail(ErrorCategory category, std::string code, std::string message,
                                   std::string remedy = {}) {
  return std::unexpected(Error{category, std::move(code), std::move(message), std::move(remedy),
                               std::nullopt, 0});
}

}  // namespace exo
