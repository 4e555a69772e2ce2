// The crash test: exo-ingest-probe, a real monitor process over the production library (durable
// SQLite checkpoint store, mark-read), is SIGKILLed at many random instants while it ingests 1000
// messages from mock-ews, and restarted each time until a run finishes. Nothing may be lost, and
// nothing may be handed again once its hand-over was committed.
//
// What the monitor guarantees (monitor.hpp, checkpoint_store.hpp): the handler sees a message at
// least once; when the handler returns success the monitor commits the row as kHanded, durable
// when SetState returns, and a committed row is never handed again. A kill between the handler's
// return and that commit leaves the row kSeen, so the next run hands it again: one duplicate at
// most per kill, since the monitor hands one message at a time. The probe's handler appends the
// key to its log and fsyncs it before returning, so the log is a superset of the committed
// hand-overs, and each duplicate in it must be a key that was logged but not committed at a kill.
//
// The kill plan is drawn from a seed printed with the results; EXO_CRASH_SEED=<seed> repeats the
// plan (the instants still depend on scheduling). The test never sleeps: it waits on the child's
// stdout, where the probe reports each hand-over and each mark-read, and on waitpid.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../bench/ingest_rig.hpp"
#include "../common/temp_dir.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"

namespace exo::client::test {
namespace {

using bench::Child;
using bench::ChildExit;
using bench::IngestRig;

// CI's size; EXO_CRASH_KILLS and EXO_CRASH_MESSAGES scale it (the at-scale run of
// docs/RELIABILITY.md: 1000 kills over 10000 messages).
std::size_t FromEnv(const char* name, std::size_t fallback) {
  const char* s = std::getenv(name);
  return s != nullptr && *s != '\0' ? std::strtoull(s, nullptr, 10) : fallback;
}
const std::size_t kMessages = FromEnv("EXO_CRASH_MESSAGES", 1000);
const std::size_t kKills = FromEnv("EXO_CRASH_KILLS", 40);
// The ingest is 2 progress lines per message (a hand-over and a mark-read) plus repeats; about
// 3 in 4 kills follow progress lines, so killing after 1..kMaxEventsPerRun of them (mean half
// that) spreads the kills over both phases; sized so the kills use up about half the lines (runs
// also progress before their first line), leaving work for the unkilled last run.
const std::uint64_t kMaxEventsPerRun =
    std::max<std::uint64_t>(2, (2 * kMessages / 2) / std::max<std::size_t>(1, kKills * 3 / 8));
// The one wait limit: a probe silent for this long is hung, and the test fails instead.
constexpr std::chrono::milliseconds kSilenceLimit = std::chrono::seconds(60);

std::uint64_t Seed() {
  if (const char* s = std::getenv("EXO_CRASH_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 10);
  }
  return (static_cast<std::uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
}

// The probe's log: one key per line. `torn` is set when the file ends inside a line, which a
// single O_APPEND write per line should make impossible.
std::vector<std::string> ReadLog(const std::filesystem::path& file, bool& torn) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  torn = !all.empty() && all.back() != '\n';
  std::vector<std::string> lines;
  std::size_t from = 0;
  for (std::size_t nl = all.find('\n'); nl != std::string::npos; nl = all.find('\n', from)) {
    lines.push_back(all.substr(from, nl - from));
    from = nl + 1;
  }
  return lines;
}

// Keys in `state` per message state, read between runs (no probe is running then).
std::map<MessageState, std::set<std::string>> StoreRows(const std::filesystem::path& state,
                                                        const FolderKey& key) {
  std::map<MessageState, std::set<std::string>> rows;
  // Before a probe first opened it there is nothing to read; creating it here would be a change.
  if (!std::filesystem::exists(state)) return rows;
  auto store = OpenSqliteCheckpointStore(state);
  EXPECT_TRUE(store.has_value()) << store.error().Describe();
  if (!store) return rows;
  for (MessageState s : {MessageState::kSeen, MessageState::kHanded, MessageState::kDisposed}) {
    auto listed = (*store)->Messages(key, s, 1'000'000);
    EXPECT_TRUE(listed.has_value()) << listed.error().Describe();
    if (!listed) continue;
    for (const MessageRecord& r : *listed) rows[s].insert(r.idempotency_key);
  }
  return rows;
}

// What the parent read of one run before it killed the probe or the probe ended.
struct RunOutput {
  std::size_t events = 0;  // "handed" and "marked-read" lines
  std::string last_event;  // the last of them
  bool ended = false;      // the probe closed its stdout (it exited)
  bool silent = false;     // it said nothing for kSilenceLimit (hung): the test fails
  std::string report;      // its final JSON line, when read
};

// Reads progress lines until `events` were read (0: until the output ends).
RunOutput Follow(Child& child, std::size_t events) {
  RunOutput out;
  while (events == 0 || out.events < events) {
    auto line = child.ReadLine(kSilenceLimit);
    if (!line) {
      out.silent = true;
      break;
    }
    if (!*line) {
      out.ended = true;
      break;
    }
    if ((*line)->starts_with("handed ") || **line == "marked-read") {
      ++out.events;
      out.last_event = **line;
    } else if ((*line)->starts_with("{")) {
      out.report = **line;
    }
  }
  return out;
}

// Discards `bytes` bytes of output, wherever they end (mid-line too).
RunOutput SkipBytes(Child& child, std::size_t bytes) {
  RunOutput out;
  while (bytes > 0) {
    auto n = child.Skip(bytes, kSilenceLimit);
    if (!n) {
      out.silent = true;
      break;
    }
    if (*n == 0) {
      out.ended = true;
      break;
    }
    bytes -= *n;
  }
  return out;
}

// One kill, and what the store and the log said right after it.
struct KillPoint {
  std::size_t log_lines = 0;        // lines in the log when the probe was dead
  std::set<std::string> committed;  // keys the store had committed as handed (or disposed)
};

// Verifies a monitor process SIGKILLed at random instants (40 in CI) while it ingests messages
// (1000 in CI), and
// restarted each time, loses none, hands none again after its hand-over was committed (each
// duplicate is a hand-over a kill interrupted, one at most per kill), and ends with every message
// read on the server and disposed in the store.
TEST(CrashTest, KilledMonitorLosesNothingAndRepeatsNothingCommitted) {
  const std::uint64_t seed = Seed();
  std::cout << "crash test seed " << seed << " (EXO_CRASH_SEED=" << seed
            << " repeats the kill plan)" << std::endl;
  SeededRandom random(seed);
  RealClock& clock = RealClock::Instance();
  const MonoTime started = clock.Monotonic();

  exo::testing::TempDir dir;
  const std::string mailbox = IngestRig::Address("monitor");
  auto rig = IngestRig::Start(dir.path() / "ca", {mailbox});
  ASSERT_TRUE(rig.has_value()) << rig.error().Describe();
  auto delivered = (*rig)->Deliver(mailbox, kMessages);
  ASSERT_TRUE(delivered.has_value()) << delivered.error().Describe();
  const std::set<std::string> expected(delivered->begin(), delivered->end());
  ASSERT_EQ(expected.size(), kMessages) << "Message-IDs must be unique";

  const std::filesystem::path state = dir.path() / "checkpoint.db";
  const std::filesystem::path log = dir.path() / "handed.log";
  const std::filesystem::path probe_stderr = dir.path() / "probe.stderr";
  const FolderKey key{mailbox, "inbox"};
  std::vector<std::string> args = (*rig)->ProbeArgs(EXO_INGEST_PROBE, mailbox, state);
  args.insert(args.end(), {"--expect", std::to_string(kMessages), "--log", log.string(),
                           "--poll-ms", "200", "--timeout", "120"});

  std::vector<KillPoint> kills;
  std::map<std::string, std::size_t> kill_kinds;  // where the kills landed, for the figures
  bool finished = false;
  std::string report;
  auto probe_log = [&] {
    auto text = ReadFile(probe_stderr);
    return text ? text->substr(text->size() > 4000 ? text->size() - 4000 : 0) : std::string();
  };
  // Killed runs, then unkilled runs until one exits 0 (normally the first).
  for (int run = 0; !finished; ++run) {
    ASSERT_LT(run, static_cast<int>(kKills) + 5) << "the probe never finished; its stderr:\n"
                                                 << probe_log();
    auto child = Child::Spawn(args, probe_stderr);
    ASSERT_TRUE(child.has_value()) << child.error().Describe();
    RunOutput out;
    std::string kind;
    if (kills.size() < kKills) {
      // Most kills follow a progress line, so they land in the hand-over and disposition code;
      // the others land in start-up (token, lease, sync) or anywhere in the output.
      const std::uint64_t plan = random.Below(100);
      if (plan < 10) {
        kind = "at spawn";
      } else if (plan < 25) {
        kind = "mid-output";
        out = SkipBytes(**child, 1 + random.Below(4000));
      } else {
        out = Follow(**child, 1 + random.Below(kMaxEventsPerRun));
        kind = out.last_event == "marked-read" ? "after a mark-read" : "after a hand-over";
      }
      if (!out.ended) (*child)->Kill();
    } else {
      out = Follow(**child, 0);
    }
    if (out.silent) (*child)->Kill();
    ASSERT_FALSE(out.silent) << "the probe hung; its stderr:\n" << probe_log();
    const ChildExit exit = (*child)->Wait();
    if (exit.killed()) {
      KillPoint k;
      bool torn = false;
      k.log_lines = ReadLog(log, torn).size();
      ASSERT_FALSE(torn) << "a log line was torn by kill " << kills.size() + 1;
      for (auto& [s, keys] : StoreRows(state, key)) {
        if (s != MessageState::kSeen) k.committed.insert(keys.begin(), keys.end());
      }
      kills.push_back(std::move(k));
      ++kill_kinds[kind];
      continue;
    }
    // It ended on its own (also when it won the race with a kill): it must have finished.
    ASSERT_EQ(exit.exit_code(), 0) << "probe status " << exit.status << "; its stderr:\n"
                                   << probe_log();
    finished = true;
  }
  // One more start after the end: it must find everything done and hand nothing.
  {
    auto child = Child::Spawn(args, probe_stderr);
    ASSERT_TRUE(child.has_value()) << child.error().Describe();
    RunOutput out = Follow(**child, 0);
    if (out.silent) (*child)->Kill();
    ASSERT_FALSE(out.silent) << "the probe hung; its stderr:\n" << probe_log();
    EXPECT_EQ((*child)->Wait().exit_code(), 0) << probe_log();
    EXPECT_EQ(out.events, 0u) << "a restart after the end handed or disposed again";
    report = out.report;
  }
  const double seconds = std::chrono::duration<double>(clock.Monotonic() - started).count();

  bool torn = false;
  const std::vector<std::string> lines = ReadLog(log, torn);
  EXPECT_FALSE(torn);
  std::map<std::string, std::size_t> times_handed;
  for (const std::string& k : lines) ++times_handed[k];

  // 0 lost, and nothing handed that was not delivered.
  std::size_t lost = 0;
  for (const std::string& id : expected) {
    if (!times_handed.contains(id)) {
      ++lost;
      ADD_FAILURE() << "never handed: " << id;
    }
  }
  for (const auto& [k, n] : times_handed) {
    EXPECT_TRUE(expected.contains(k)) << "handed but never delivered: " << k;
  }

  // 0 handed twice after commit: what the store had committed at a kill never shows up in the
  // log after that point. And the log is durable before the commit: nothing is committed that
  // is not in the log yet.
  std::size_t after_commit = 0;
  std::map<std::string, std::size_t> interruptions;  // key -> kills between its log and commit
  std::map<std::string, std::size_t> first_commit;   // key -> the first kill that saw it committed
  for (std::size_t i = 0; i < kills.size(); ++i) {
    const KillPoint& k = kills[i];
    const auto end = lines.begin() + static_cast<std::ptrdiff_t>(k.log_lines);
    const std::set<std::string> logged(lines.begin(), end);
    for (const std::string& c : k.committed) {
      EXPECT_TRUE(logged.contains(c)) << c << " committed before it was logged, at kill " << i + 1;
      first_commit.emplace(c, i);
    }
    // The killed run logged these; the ones it did not commit, it was handing when it died.
    const auto begin =
        lines.begin() + static_cast<std::ptrdiff_t>(i > 0 ? kills[i - 1].log_lines : 0);
    std::set<std::string> in_flight;
    for (auto l = begin; l != end; ++l) {
      if (!k.committed.contains(*l)) in_flight.insert(*l);
    }
    EXPECT_LE(in_flight.size(), 1u) << "kill " << i + 1 << " interrupted more than one hand-over";
    for (const std::string& l : in_flight) ++interruptions[l];
  }
  for (std::size_t l = 0; l < lines.size(); ++l) {
    auto c = first_commit.find(lines[l]);
    if (c != first_commit.end() && kills[c->second].log_lines <= l) {
      ++after_commit;
      ADD_FAILURE() << lines[l] << " was committed at kill " << c->second + 1
                    << " and handed again (log line " << l + 1 << "), seed " << seed;
    }
  }
  // Each repeat of a hand-over follows a kill that interrupted it.
  std::size_t duplicates = 0;
  for (const auto& [k, n] : times_handed) {
    duplicates += n - 1;
    const auto i = interruptions.find(k);
    const std::size_t interrupted = i == interruptions.end() ? 0 : i->second;
    EXPECT_LE(n - 1, interrupted) << k << " was handed " << n << " times but only " << interrupted
                                  << " kills interrupted its hand-over";
  }
  EXPECT_LE(duplicates, kills.size());

  // Every disposition applied, those pending at a kill included, and the store agrees.
  auto inbox = (*rig)->Inbox(mailbox);
  ASSERT_TRUE(inbox.has_value()) << inbox.error().Describe();
  EXPECT_EQ(inbox->total, kMessages);
  EXPECT_EQ(inbox->unread, 0u);
  auto rows = StoreRows(state, key);
  EXPECT_EQ(rows[MessageState::kSeen].size(), 0u);
  EXPECT_EQ(rows[MessageState::kHanded].size(), 0u);
  EXPECT_EQ(rows[MessageState::kDisposed], expected);
  const auto final_report = nlohmann::json::parse(report, nullptr, false);
  ASSERT_TRUE(final_report.is_object()) << "no final report from the probe: " << report;
  EXPECT_EQ(final_report.value("handedTotal", 0u), kMessages);
  EXPECT_EQ(final_report.value("handed", 1u), 0u);
  EXPECT_EQ(final_report.value("pending", 1u), 0u);

  std::string kinds;
  for (const auto& [kind, n] : kill_kinds) {
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
  }
  std::cout << "crash test: " << kMessages << " messages, " << kills.size() << " kills (" << kinds
            << "), " << lines.size() << " hand-overs logged, " << duplicates << " duplicates ("
            << interruptions.size() << " messages caught mid-hand-over), " << lost << " lost, "
            << after_commit << " handed again after commit, " << seconds << " s, seed " << seed
            << std::endl;
}

}  // namespace
}  // namespace exo::client::test
