#include "exo/common/result.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace exo {
namespace {

const std::vector<std::pair<ErrorCategory, const char*>>& AllCategories() {
  static const std::vector<std::pair<ErrorCategory, const char*>> kAll = {
      {ErrorCategory::kConfiguration, "configuration"},
      {ErrorCategory::kAuthentication, "authentication"},
      {ErrorCategory::kAuthorization, "authorization"},
      {ErrorCategory::kThrottled, "throttled"},
      {ErrorCategory::kTransient, "transient"},
      {ErrorCategory::kProtocol, "protocol"},
      {ErrorCategory::kNotFound, "not-found"},
      {ErrorCategory::kInternal, "internal"},
  };
  return kAll;
}

Error ErrorOf(ErrorCategory category) {
  Error e;
  e.category = category;
  return e;
}

// Verifies that only throttled and transient failures may be retried as is.
TEST(ErrorTest, IsRetryableOnlyForThrottledAndTransient) {
  for (const auto& [category, name] : AllCategories()) {
    SCOPED_TRACE(name);
    const bool expected =
        category == ErrorCategory::kThrottled || category == ErrorCategory::kTransient;
    EXPECT_EQ(IsRetryable(ErrorOf(category)), expected);
  }
}

// Verifies that retryability depends on the category alone, not on a back-off hint, an HTTP
// status or a code that merely looks transient.
TEST(ErrorTest, IsRetryableIgnoresHintsOutsideCategory) {
  Error denied = ErrorOf(ErrorCategory::kAuthorization);
  denied.http_status = 503;
  denied.retry_after = std::chrono::seconds(30);
  denied.code = "HTTP 503";
  EXPECT_FALSE(IsRetryable(denied));

  Error throttled = ErrorOf(ErrorCategory::kThrottled);
  throttled.http_status = 429;
  EXPECT_TRUE(IsRetryable(throttled));
}

// Verifies the stable category names used in logs and CLI output.
TEST(ErrorTest, ToStringNamesEveryCategory) {
  for (const auto& [category, name] : AllCategories()) {
    EXPECT_STREQ(ToString(category), name);
  }
}

// Verifies the "code: message (remedy)" layout.
TEST(ErrorTest, DescribeWithCodeMessageAndRemedy) {
  Error e;
  e.category = ErrorCategory::kAuthentication;
  e.code = "AADSTS7000222";
  e.message = "The provided client secret keys are expired.";
  e.remedy = "create a new client secret (setup step 3)";
  EXPECT_EQ(e.Describe(),
            "AADSTS7000222: The provided client secret keys are expired. "
            "(create a new client secret (setup step 3))");
}

// Verifies that Describe leaves out the parentheses when there is no remedy.
TEST(ErrorTest, DescribeWithoutRemedy) {
  Error e;
  e.category = ErrorCategory::kAuthorization;
  e.code = "ErrorAccessDenied";
  e.message = "Access is denied.";
  EXPECT_EQ(e.Describe(), "ErrorAccessDenied: Access is denied.");
}

// Verifies that Describe falls back to the category name when the service gave no code.
TEST(ErrorTest, DescribeWithoutCodeUsesCategory) {
  Error e;
  e.category = ErrorCategory::kThrottled;
  e.message = "slow down";
  e.remedy = "wait";
  EXPECT_EQ(e.Describe(), "throttled: slow down (wait)");
  EXPECT_EQ(ErrorOf(ErrorCategory::kNotFound).Describe(), "not-found: ");
}

// Verifies that a default Error is an internal error with no hints.
TEST(ErrorTest, DefaultIsInternalWithoutHints) {
  const Error e;
  EXPECT_EQ(e.category, ErrorCategory::kInternal);
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.retry_after, std::nullopt);
  EXPECT_EQ(e.http_status, 0);
  EXPECT_FALSE(IsRetryable(e));
}

// Verifies that Fail builds an unexpected Error carrying exactly the given fields.
TEST(ResultTest, FailCarriesCategoryCodeMessageRemedy) {
  const Result<int> r =
      Fail(ErrorCategory::kConfiguration, "config", "tenant id missing", "set EXO_TENANT");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(r.error().code, "config");
  EXPECT_EQ(r.error().message, "tenant id missing");
  EXPECT_EQ(r.error().remedy, "set EXO_TENANT");
  EXPECT_EQ(r.error().retry_after, std::nullopt);
  EXPECT_EQ(r.error().http_status, 0);

  const Result<void> v = Fail(ErrorCategory::kTransient, "HTTP 503", "unavailable");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().remedy, "");
  EXPECT_TRUE(IsRetryable(v.error()));
}

// Verifies that a Result holds a value when not failed.
TEST(ResultTest, HoldsValue) {
  const Result<std::string> r = std::string("token");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "token");
  const Result<void> ok;
  EXPECT_TRUE(ok.has_value());
}

}  // namespace
}  // namespace exo
