// Logging for every component through spdlog: one named logger per component, writing to
// standard error, its level set by EXO_LOG_LEVEL (trace, debug, info, warn, error, off).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace exo::log {

// The logger named `component`, created on first use. Thread-safe.
std::shared_ptr<spdlog::logger> Get(const std::string& component);
// Sets the level of every logger, present and future ("info", "debug", ...), overriding
// EXO_LOG_LEVEL whether called before or after the first Get(). Unknown names are rejected with
// false.
bool SetLevel(const std::string& level);

}  // namespace exo::log
