#include "exo/common/result.hpp"

namespace exo {

const char* ToString(ErrorCategory c) {
  switch (c) {
    case ErrorCategory::kConfiguration: return "configuration";
    case ErrorCategory::kAuthentication: return "authentication";
    case ErrorCategory::kAuthorization: return "authorization";
    case ErrorCategory::kThrottled: return "throttled";
    case ErrorCategory::kTransient: return "transient";
    case ErrorCategory::kProtocol: return "protocol";
    case ErrorCategory::kNotFound: return "not-found";
    case ErrorCategory::kInternal: return "internal";
  }
  return "internal";
}

std::string Error::Describe() const {
  std::string out = code.empty() ? std::string(ToString(category)) : code;
  out += ": " + message;
  if (!remedy.empty()) out += " (" + remedy + ")";
  return out;
}

bool IsRetryable(const Error& e) {
  return e.category == ErrorCategory::kThrottled || e.category == ErrorCategory::kTransient;
}

}  // namespace exo
