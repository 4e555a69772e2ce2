#include "exo/common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace exo::log {
namespace {
std::once_flag g_init;

bool ApplyLevel(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  return true;
}

// Runs once, at the first Get() or SetLevel(), so the defaults land before any explicit level
// and can never overwrite one.
void InitFromEnvironment() {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_level(spdlog::level::warn);
  if (const char* level = std::getenv("EXO_LOG_LEVEL")) ApplyLevel(level);
}
}  // namespace

std::shared_ptr<spdlog::logger> Get(const std::string& component) {
  std::call_once(g_init, InitFromEnvironment);
  if (auto existing = spdlog::get(component)) return existing;
  try {
    return spdlog::stderr_color_mt(component);
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(component);  // created concurrently by another thread
  }
}

bool SetLevel(const std::string& level) {
  std::call_once(g_init, InitFromEnvironment);
  return ApplyLevel(level);
}

}  // namespace exo::log
