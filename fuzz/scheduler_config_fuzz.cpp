// The client's scheduler .config parser and validation (client/src/config.cpp): the input is the
// file's text. Relative paths resolve against a fixed source path; nothing is read from disk.
#include <cstdint>
#include <string>

#include "exo/client/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = exo::client::ParseClientConfig(exo::fuzz::AsText(data, size),
                                               "/nonexistent/fuzz/scheduler.config");
  exo::fuzz::Show(config ? "parsed" : config.error().Describe());
  return 0;
}
