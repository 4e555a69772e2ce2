// exo-scenario: runs scenario files (docs/scenarios.md) against in-process mocks on simulated
// time and reports like a test runner. Exit: 0 all passed, 1 a scenario failed, 2 usage or format.
// GCC 12 reports a false -Wnull-dereference in CLI11's detail::split (a vector<string> growing)
// when it is inlined here; the warning stays on everywhere else.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "exo/common/log.hpp"
#include "exo/scenarios/replay.hpp"
#include "exo/scenarios/runner.hpp"
#include "exo/scenarios/scenario.hpp"

namespace {

namespace fs = std::filesystem;
using exo::scenarios::Scenario;
using exo::scenarios::ScenarioResult;

// Files named on the command line, and *.json/*.jsonc under directories, in a stable order.
std::vector<std::string> Expand(const std::vector<std::string>& paths, std::string& error) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(p, ec)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".jsonc" || ext == ".json")) {
          found.push_back(entry.path().string());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      error = p + ": no such file or directory";
      return {};
    }
  }
  return files;
}

std::string FileName(const std::string& name) {
  std::string out;  // '@' kept: "<name>@graph" is a scenario's Graph variant
  for (char ch : name) {
    out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '@')
               ? ch
               : '_';
  }
  return out;
}

struct RunArgs {
  std::vector<std::string> paths;
  std::string filter, junit, report, transcript_dir, golden_dir, client_double = "none";
  std::string client_command;  // an out-of-process client, split on spaces
  std::string transport = "all";
  std::string harness;  // out-of-process servers: the exo-harness binary  // ews | graph | all: which of each scenario's transports run
  unsigned jobs = 1;
  bool keep_going = false, update_golden = false;
  std::optional<std::uint64_t> seed;
};

// Golden transcripts: each run compared with <dir>/<name>.transcript (or written, to update).
bool CheckGolden(const RunArgs& a, ScenarioResult& r) {
  const fs::path file = fs::path(a.golden_dir) / (FileName(r.name) + ".transcript");
  if (a.update_golden) {
    if (!r.passed) return true;  // a failing run is no reference
    std::error_code ec;
    fs::create_directories(a.golden_dir, ec);
    std::ofstream(file, std::ios::trunc) << r.transcript;
    return true;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    r.failures.push_back("golden: no " + file.string() +
                         "; record it with `exo-scenario run --golden " + a.golden_dir +
                         " --update-golden " + r.file + "`");
    r.passed = false;
    return false;
  }
  const std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (auto diff = exo::scenarios::CompareTranscripts(golden, r.transcript)) {
    r.failures.push_back("golden: the transcript differs from " + file.string() +
                         " (if the change is intended: --update-golden)\n" + *diff);
    r.passed = false;
    return false;
  }
  return true;
}

int Run(const RunArgs& args) {
  const std::vector<std::string>& paths = args.paths;
  const std::string& filter = args.filter;
  const std::string& junit = args.junit;
  const std::string& report = args.report;
  const std::string& transcript_dir = args.transcript_dir;
  const unsigned jobs = args.jobs;
  const bool keep_going = args.keep_going;
  const std::optional<std::uint64_t>& seed = args.seed;
  exo::scenarios::RunOptions run_options;
  if (auto d = exo::scenarios::ParseClientDouble(args.client_double)) {
    run_options.client_double = *d;
  } else {
    std::cerr << "exo-scenario: unknown --client-double " << args.client_double
              << " (none, ignores-backoff, never-refreshes-tokens, commits-before-handing)\n";
    return 2;
  }
  if (!args.client_command.empty()) {
    std::istringstream words(args.client_command);
    for (std::string w; words >> w;) run_options.client_command.push_back(w);
    // "exo-mailbox" means the one built beside this exo-scenario, when there is one.
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && !run_options.client_command.empty() &&
        run_options.client_command.front().find('/') == std::string::npos &&
        fs::exists(self.parent_path() / run_options.client_command.front())) {
      run_options.client_command.front() = (self.parent_path() / run_options.client_command.front()).string();
    }
    if (!args.golden_dir.empty()) {
      std::cerr << "exo-scenario: --golden compares the in-process client's transcripts; not with --client-command\n";
      return 2;
    }
  }
  if (!args.harness.empty()) {
    // "exo-harness" means the one built beside this exo-scenario, when there is one.
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    run_options.harness = args.harness;
    if (!ec && args.harness.find('/') == std::string::npos &&
        fs::exists(self.parent_path() / args.harness)) {
      run_options.harness = (self.parent_path() / args.harness).string();
    }
  }
  if (args.transport != "all" && args.transport != "ews" && args.transport != "graph") {
    std::cerr << "exo-scenario: unknown --transport " << args.transport << " (ews, graph, all)\n";
    return 2;
  }
  if (args.update_golden && args.golden_dir.empty()) {
    std::cerr << "exo-scenario: --update-golden needs --golden DIR\n";
    return 2;
  }
  std::string error;
  const std::vector<std::string> files = Expand(paths.empty() ? std::vector<std::string>{"scenarios/library"} : paths, error);
  if (!error.empty()) {
    std::cerr << "exo-scenario: " << error << "\n";
    return 2;
  }
  std::vector<Scenario> scenarios;
  std::vector<std::string> transports;  // scenarios[i] runs over transports[i]
  int format_errors = 0;
  for (const auto& f : files) {
    auto s = exo::scenarios::LoadScenario(f);
    if (!s) {
      std::cerr << "exo-scenario: " << s.error().message << "\n";
      ++format_errors;
      continue;
    }
    if (seed) s->seed = *seed;
    if (!filter.empty()) {
      std::string tags;
      for (const auto& t : s->tags) tags += " " + t;
      if (s->name.find(filter) == std::string::npos && tags.find(filter) == std::string::npos) continue;
    }
    // One run per transport the scenario holds for (--transport: only that one).
    for (const std::string& t : s->transports) {
      if (args.transport != "all" && args.transport != t) continue;
      scenarios.push_back(*s);
      transports.push_back(t);
    }
  }
  if (format_errors > 0) return 2;
  if (scenarios.empty()) {
    std::cerr << "exo-scenario: no scenario matches\n";
    return 2;
  }
  if (!transcript_dir.empty()) {
    std::error_code ec;
    fs::create_directories(transcript_dir, ec);
    if (ec) {
      std::cerr << "exo-scenario: " << transcript_dir << ": " << ec.message() << "\n";
      return 2;
    }
  }

  std::cout << "running " << scenarios.size() << " scenario(s) with " << jobs << " job(s)\n";
  std::vector<ScenarioResult> results(scenarios.size());
  std::vector<bool> ran(scenarios.size(), false);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex out_mu;
  std::size_t done = 0;
  auto worker = [&] {
    for (std::size_t i = next++; i < scenarios.size() && !stop; i = next++) {
      exo::scenarios::RunOptions options = run_options;
      options.transport = transports[i];
      ScenarioResult r = exo::scenarios::RunScenario(scenarios[i], options);
      if (!args.golden_dir.empty() && r.passed && !r.skipped) CheckGolden(args, r);
      std::lock_guard lock(out_mu);
      ++done;
      std::cout << "[" << done << "/" << scenarios.size() << "] "
                << (r.skipped ? "SKIP " : r.passed ? "PASS " : "FAIL ")
                << r.name << " (" << r.wall.count() << " ms, "
                << exo::scenarios::FormatOffset(r.simulated) << " simulated, seed " << r.seed << ")\n";
      if (r.skipped) std::cout << "    skipped: " << r.skip_reason << "\n";
      for (const auto& f : r.failures) {
        std::string indented = f;  // a multi-line failure (a golden diff) stays under its scenario
        for (auto pos = indented.find('\n'); pos != std::string::npos; pos = indented.find('\n', pos + 5)) {
          indented.replace(pos, 1, "\n    ");
        }
        std::cout << "    " << indented << "\n";
      }
      std::cout.flush();
      if (!r.passed && !keep_going) stop = true;
      results[i] = std::move(r);
      ran[i] = true;
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, jobs); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  std::vector<ScenarioResult> finished;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (ran[i]) finished.push_back(results[i]);
  }
  std::size_t passed = 0, skipped = 0;
  std::chrono::milliseconds wall{};
  for (const auto& r : finished) {
    passed += r.passed && !r.skipped ? 1 : 0;
    skipped += r.skipped ? 1 : 0;
    wall += r.wall;
    if (!transcript_dir.empty()) {
      std::ofstream(fs::path(transcript_dir) / (FileName(r.name) + ".transcript"), std::ios::trunc)
          << r.transcript;
    }
  }
  std::cout << "\n" << passed << " passed, " << finished.size() - passed - skipped << " failed";
  if (skipped > 0) std::cout << ", " << skipped << " skipped";
  if (finished.size() < scenarios.size()) {
    std::cout << ", " << scenarios.size() - finished.size() << " not run (stopped at the first failure; --keep-going runs all)";
  }
  std::cout << " (" << wall.count() << " ms of scenario time on the wall clock)\n";
  for (const auto& r : finished) {
    if (r.passed) continue;
    // Again at the end, with why: a CI log cut in the middle still shows what failed.
    std::cout << "  FAILED " << r.name << " (" << r.file << ", seed " << r.seed << ")\n";
    for (const auto& f : r.failures) {
      const std::string first = f.substr(0, f.find('\n'));
      std::cout << "    " << (first.size() > 400 ? first.substr(0, 400) + "…" : first) << "\n";
    }
  }
  if (!junit.empty()) {
    std::ofstream out(junit, std::ios::trunc);
    out << exo::scenarios::JunitXml(finished, "exo-scenario");
    if (!out.flush()) {
      std::cerr << "exo-scenario: cannot write " << junit << "\n";
      return 2;
    }
  }
  if (!report.empty()) {
    std::ofstream out(report, std::ios::trunc);
    out << exo::scenarios::HtmlReport(finished, "exo-scenario");
    if (!out.flush()) {
      std::cerr << "exo-scenario: cannot write " << report << "\n";
      return 2;
    }
    std::cout << "report: " << report << "\n";
  }
  return passed + skipped == scenarios.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exo-scenario: scripted end-to-end scenarios on simulated time (docs/scenarios.md).\n"
      "Each scenario starts mock-aad and mock-ews in-process and runs the real client library."};
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "Run scenario files (directories: every *.jsonc below)");
  RunArgs args;
  std::vector<std::string>& paths = args.paths;
  std::string &filter = args.filter, &junit = args.junit, &report = args.report,
              &transcripts = args.transcript_dir;
  std::string log_level = "off";
  unsigned& jobs = args.jobs;
  bool& keep_going = args.keep_going;
  std::optional<std::uint64_t>& seed = args.seed;
  run->add_option("paths", paths, "Scenario files or directories; default: scenarios/library");
  run->add_option("--filter", filter, "Only scenarios whose name or a tag contains this");
  run->add_option("-j,--jobs", jobs, "Scenarios run in parallel (threads; one world each)")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  run->add_flag("-k,--keep-going", keep_going, "Run every scenario even after a failure");
  run->add_option("--junit", junit, "Write JUnit XML here");
  run->add_option("--report", report, "Write an HTML report (timeline pictures) here");
  run->add_option("--transcript", transcripts, "Write <name>.transcript per scenario here");
  run->add_option("--seed", seed, "Override every scenario's seed");
  run->add_option("--transport", args.transport,
                  "Run each scenario over this of its transports (ews, graph), or over each it "
                  "holds for (all; a Graph variant is named <name>@graph)")
      ->capture_default_str();
  run->add_option("--golden", args.golden_dir,
                  "Compare each transcript with DIR/<name>.transcript; a difference fails");
  run->add_flag("--update-golden", args.update_golden,
                "Write the passing runs' transcripts into --golden DIR instead of comparing");
  run->add_option("--client-command", args.client_command,
                  "Put your own client under the scenarios, out of process: a command with {config} "
                  "{clock} {events} {out} {poll}, e.g. \"exo-mailbox monitor --config {config} "
                  "--clock-url {clock} --events {events} --no-notifications --out-dir {out} "
                  "--poll-interval {poll}\" (docs/scenarios.md)");
  run->add_option("--harness", args.harness,
                  "Run the servers out of process: start this exo-harness per scenario and build, "
                  "change and check the world through its control APIs and admin PowerShell only "
                  "(\"exo-harness\": the one beside exo-scenario)");
  run->add_option("--client-double", args.client_double,
                  "Run a deliberately broken client: ignores-backoff, never-refreshes-tokens, "
                  "commits-before-handing (the scenarios must catch it)")
      ->capture_default_str();
  run->add_option("--log-level", log_level, "Library logs on stderr: trace … off")->capture_default_str();
  CLI::App* replay = app.add_subcommand(
      "replay",
      "Serve a cassette (exo-mailbox ... --record FILE) back to the real client in order, on a\n"
      "frozen clock. Exit: 0 consumed in order; 1 a divergence, or requests beyond the cassette\n"
      "or exchanges never requested; 2 a bad cassette or --config");
  exo::scenarios::ReplayOptions replay_options;
  std::string replay_config;
  replay->add_option("cassette", replay_options.cassette, "The cassette (JSON)")->required();
  replay->add_option("--config", replay_config,
                     "The client's real .config (identity, folder, disposition); its secret, key "
                     "and CA are replaced. Default: derived from the cassette");
  replay->add_option("--steps", replay_options.max_steps, "Monitor rounds before giving up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  replay->add_flag("--verbose", replay_options.verbose,
                   "Also print each exchange's request and response bodies (shortened)");
  replay->add_option("--log-level", log_level, "Library logs on stderr: trace … off")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!exo::log::SetLevel(log_level)) {
    std::cerr << "exo-scenario: unknown --log-level " << log_level << "\n";
    return 2;
  }
  if (*replay) {
    if (!replay_config.empty()) replay_options.config = replay_config;
    return exo::scenarios::Replay(replay_options, std::cout, std::cerr);
  }
  return Run(args);
}
