#include "exo/common/log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace exo::log {
namespace {

// Restores the "warn" default after a test changed the global level.
class LevelReset {
 public:
  LevelReset() = default;
  ~LevelReset() { SetLevel("warn"); }
  LevelReset(const LevelReset&) = delete;
  LevelReset& operator=(const LevelReset&) = delete;
};

// Verifies that Get returns one logger per component name, created on first use.
TEST(LogTest, GetReturnsOneLoggerPerComponent) {
  const auto aad = Get("log-test-aad");
  ASSERT_NE(aad, nullptr);
  EXPECT_EQ(aad->name(), "log-test-aad");
  EXPECT_EQ(Get("log-test-aad"), aad);
  const auto ews = Get("log-test-ews");
  ASSERT_NE(ews, nullptr);
  EXPECT_NE(ews, aad);
}

// Verifies that SetLevel changes loggers that exist and loggers created afterwards.
TEST(LogTest, SetLevelAppliesToPresentAndFutureLoggers) {
  LevelReset reset;
  const auto existing = Get("log-test-existing");
  ASSERT_TRUE(SetLevel("debug"));
  EXPECT_EQ(existing->level(), spdlog::level::debug);
  EXPECT_EQ(Get("log-test-future")->level(), spdlog::level::debug);

  ASSERT_TRUE(SetLevel("error"));
  EXPECT_EQ(existing->level(), spdlog::level::err);
  EXPECT_EQ(Get("log-test-future")->level(), spdlog::level::err);
}

// Verifies every documented level name, including "off".
TEST(LogTest, SetLevelAcceptsDocumentedNames) {
  LevelReset reset;
  const auto logger = Get("log-test-names");
  const std::pair<const char*, spdlog::level::level_enum> kNames[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"off", spdlog::level::off},
  };
  for (const auto& [name, level] : kNames) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(SetLevel(name));
    EXPECT_EQ(logger->level(), level);
  }
}

// Verifies that unknown level names are rejected and leave the level unchanged.
TEST(LogTest, SetLevelRejectsUnknownNames) {
  LevelReset reset;
  const auto logger = Get("log-test-unknown");
  ASSERT_TRUE(SetLevel("info"));
  for (const char* bad : {"verbose", "", "INFO", "Off", "warn "}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(SetLevel(bad));
    EXPECT_EQ(logger->level(), spdlog::level::info);
  }
}

// Verifies that a level set before the first Get() survives it: a binary that parses --log-level
// and calls SetLevel before creating any logger must not be reset to the default.
TEST(LogTest, SetLevelBeforeFirstGetIsKept) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no logger created yet
  EXPECT_EXIT(
      {
        ::unsetenv("EXO_LOG_LEVEL");
        SetLevel("debug");
        const bool kept = Get("log-test-early")->level() == spdlog::level::debug;
        std::exit(kept ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// Verifies that an explicit SetLevel wins over EXO_LOG_LEVEL even when it comes before the
// first Get().
TEST(LogTest, SetLevelOverridesEnvironment) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("EXO_LOG_LEVEL", "trace", 1);
        SetLevel("error");
        const bool kept = Get("log-test-override")->level() == spdlog::level::err;
        std::exit(kept ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// Verifies that EXO_LOG_LEVEL sets the level of the first logger in a fresh process.
TEST(LogTest, EnvironmentSetsInitialLevel) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("EXO_LOG_LEVEL", "trace", 1);
        const bool traced = Get("log-test-env")->level() == spdlog::level::trace;
        std::exit(traced ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace exo::log
