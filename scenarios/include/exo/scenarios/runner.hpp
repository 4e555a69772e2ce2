// Runs one scenario: mock-aad and mock-ews (and an on-premises Exchange Server) in-process on one
// SimulatedClock, the real exo::client library against them, the clock jumped from wake-up to
// wake-up. Deterministic under the scenario's seed: the transcript is byte-identical across runs.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "exo/scenarios/scenario.hpp"

namespace exo::scenarios {

// One HTTP exchange the client made, as the report draws it along simulated time.
struct Exchange {
  Duration at{};         // since the start
  std::string server;    // aad | ews | onprem | control
  std::string what;      // "token", "SyncFolderItems", "GetUserSettings", "GET /…"
  int status = 0;        // HTTP status; 0: no answer (reset, truncated, timed out)
  std::string outcome;   // ok | denied | throttled | error | network
  std::string detail;    // the service's error code (AADSTS7000222, ErrorServerBusy) or empty
};

// A stretch of simulated time the client spent in one state: the report shades it.
struct Span {
  Duration from{}, to{};
  std::string kind;      // denied | throttled | failing | healthy
  std::string label;     // the error code that explains it, or empty
};

// A timeline step, a handed message or a failed check, as a mark on the time axis.
struct Marker {
  Duration at{};
  std::string kind;      // step | handed | fail
  std::string text;
};

struct ScenarioResult {
  std::string name;
  std::string file;
  std::uint64_t seed = 0;
  bool passed = false;
  std::vector<std::string> failures;  // each "at +01:05:00 timeline[3]: what was wrong"
  std::string transcript;             // normalized: simulated times, no ports, paths or ids
  std::chrono::milliseconds wall{};   // how long it took on the wall clock (reports only)
  Duration simulated{};               // how much simulated time it covered
  bool skipped = false;               // the scenario needs what this run cannot do (passed stays true)
  std::string skip_reason;
  std::string description;
  std::vector<std::string> tags;
  std::vector<Exchange> exchanges;    // in the order the client made them
  std::vector<Span> spans;            // consecutive, covering the run from the client's open
  std::vector<Marker> markers;
};

// Deliberately broken clients, to prove the scenarios catch what they claim to: each makes the
// relevant scenarios fail with a message that says why.
enum class ClientDouble {
  kNone,
  kIgnoresBackOff,         // retries a throttled request after 1 s, whatever the server asked
  kNeverRefreshesTokens,   // keeps presenting its first token after it expired
  kCommitsBeforeHanding,   // marks a message handed before the application has it
};
const char* ToString(ClientDouble d);
std::optional<ClientDouble> ParseClientDouble(const std::string& name);

struct RunOptions {
  ClientDouble client_double = ClientDouble::kNone;
  // Which of the scenario's transports (Scenario::transports) this run reads the mailbox over:
  // "ews" or "graph"; empty: the scenario's first. One the scenario does not hold for is a skip.
  std::string transport;
  // An out-of-process client (a user's own binary) instead of the library in-process: argv with
  // {config} {clock} {events} {out} {poll} replaced. It runs on the world's simulated clock through
  // the control API (POST /_exo/clock/wait) and reports what it does as --events JSON lines
  // (docs/scenarios.md, "Your own client"). Empty: the library in-process.
  std::vector<std::string> client_command;
  // Out-of-process servers: this exo-harness binary is started per world (--clock simulated, the
  // world's start and seed, its apps as a world file, its mailboxes), and the world is built,
  // changed and checked through its control APIs and admin PowerShell only, its clock moved with
  // the runner's. Empty: mock-aad and mock-ews in-process.
  std::string harness;
};

// Never throws; a world that cannot be built is a failure of the scenario. Thread-safe: each
// call builds its own world, so scenarios may run in parallel.
ScenarioResult RunScenario(const Scenario& scenario, const RunOptions& options = {});

// Golden transcripts: nothing when `actual` equals `golden`, else what a reviewer reads: the
// counts that changed ("http aad token: 3 -> 6") and a unified diff of the lines, capped.
std::optional<std::string> CompareTranscripts(const std::string& golden, const std::string& actual);

// JUnit XML (testsuites/testsuite/testcase/failure) for CI.
std::string JunitXml(const std::vector<ScenarioResult>& results, const std::string& suite_name);

// A self-contained HTML page (inline CSS and SVG, no script, no external resource; also
// well-formed XML): the suite's summary, a table of scenarios, and per scenario its failures, a
// timeline picture of its exchanges, states and steps along simulated time, and its transcript.
// Everything from the results is escaped. Deterministic: the same results give the same bytes.
std::string HtmlReport(const std::vector<ScenarioResult>& results, const std::string& title);

}  // namespace exo::scenarios
