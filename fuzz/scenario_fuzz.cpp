// The scenario file parser (scenarios/src/scenario.cpp): the input is a .jsonc file's text.
#include <cstdint>
#include <string>

#include "exo/scenarios/scenario.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto scenario =
      exo::scenarios::ParseScenario(std::string(exo::fuzz::AsText(data, size)), "fuzz.jsonc");
  exo::fuzz::Show(scenario ? "parsed " + scenario->name : scenario.error().Describe());
  return 0;
}
