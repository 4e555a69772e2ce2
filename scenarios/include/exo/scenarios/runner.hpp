// Runs one scenario: mock-aad and mock-ews (and an on-premises Exchange Server) in-process on one
// SimulatedClock, the real exo::client library against them, the clock jumped from wake-up to
// wake-up. Deterministic under the scenario's seed: the transcript is byte-identical across runs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "exo/scenarios/scenario.hpp"

namespace exo::scenarios {

struct ScenarioResult {
  std::string name;
  std::string file;
  std::uint64_t seed = 0;
  bool passed = false;
  std::vector<std::string> failures;  // each "at +01:05:00 timeline[3]: what was wrong"
  std::string transcript;             // normalized: simulated times, no ports, paths or ids
  std::chrono::milliseconds wall{};   // how long it took on the wall clock (reports only)
  Duration simulated{};               // how much simulated time it covered
};

// Never throws; a world that cannot be built is a failure of the scenario. Thread-safe: each
// call builds its own world, so scenarios may run in parallel.
ScenarioResult RunScenario(const Scenario& scenario);

// JUnit XML (testsuites/testsuite/testcase/failure) for CI.
std::string JunitXml(const std::vector<ScenarioResult>& results, const std::string& suite_name);

}  // namespace exo::scenarios
