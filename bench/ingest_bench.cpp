// ingest_bench: how fast a client ingests a mailbox from mock-ews, and how much memory it needs.
// The same job twice in one run, on the same in-process mock-aad and mock-ews: exo-ingest-probe
// (the production monitor: durable SQLite checkpoint, hand-over, mark-read) and exchangelib doing
// the same (bench/exchangelib_ingest.py), each as a child process into its own mailbox of N
// unread messages. Messages per second from the child's start to its exit (start-up and token
// included); peak RSS is the client's own (ru_maxrss from wait4), not this process's, which hosts
// the mocks and the mail. --transport graph runs the probe's ingest over Microsoft Graph instead
// (same mail, same mark-read, same checkpoint); exchangelib speaks EWS only and sits that out.
// A benchmark, not a test: it asserts nothing about the figures, but a client that does not
// finish the job is an error.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

// GCC 12 reports a false -Wnull-dereference in CLI11's detail::split (a vector<string> growing)
// in some translation units, depending on inlining choices made across the whole file.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/file.hpp"
#include "ingest_rig.hpp"

namespace exo::bench {
namespace {

using nlohmann::json;

struct Measured {
  std::string client;
  bool ran = false;
  std::string skipped;  // why it did not run
  std::size_t handed = 0;
  double seconds = 0;
  double per_second = 0;
  double peak_rss_mb = 0;
  double cpu_seconds = 0;  // user + system of the child
  std::size_t unread_after = 0;
  json report;  // the child's own last line
};

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

constexpr const char* kExecMeasured = "--exec-measured";

// `ingest_bench --exec-measured FILE CMD [ARG...]`: runs CMD as a forked child and writes its
// wait4 figures to FILE as JSON; exits with CMD's status. Why the detour: posix_spawn (vfork)
// execs the client from this process's address space, and the kernel folds that address space's
// high-water RSS (the mocks and all the mail) into the client's ru_maxrss at exec. Forked from
// this small, freshly started process instead, the client's ru_maxrss is its own.
int ExecMeasured(int argc, char** argv) {
  if (argc < 4) return 2;
  const pid_t pid = ::fork();
  if (pid < 0) return 125;
  if (pid == 0) {
    // Dies with us: the bench kills this process when a client hangs.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execv(argv[3], argv + 3);
    std::fprintf(stderr, "ingest_bench: exec %s: %s\n", argv[3], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  const json figures = {{"maxRssKb", usage.ru_maxrss},
                        {"userSeconds", Seconds(usage.ru_utime)},
                        {"systemSeconds", Seconds(usage.ru_stime)}};
  if (!WriteFileAtomically(argv[2], figures.dump())) return 125;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs one client to its end, following its stdout ("handed ..." lines, then a JSON line).
Result<Measured> Measure(const std::string& self, const std::string& client,
                         const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::filesystem::path& work_dir) {
  Clock& clock = RealClock::Instance();
  Measured m;
  m.client = client;
  const std::filesystem::path stderr_file = work_dir / (client + ".stderr");
  const std::filesystem::path figures_file = work_dir / (client + ".rusage.json");
  std::vector<std::string> measured = {self, kExecMeasured, figures_file.string()};
  measured.insert(measured.end(), argv.begin(), argv.end());
  const MonoTime start = clock.Monotonic();
  auto child = Child::Spawn(measured, stderr_file, env);
  if (!child) return std::unexpected(child.error());
  std::string last;
  for (;;) {
    // Generous: a client that says nothing for this long is hung.
    auto line = (*child)->ReadLine(std::chrono::minutes(5));
    if (!line) {
      (*child)->Kill();
      return std::unexpected(line.error());
    }
    if (!*line) break;
    if ((*line)->starts_with("handed ")) {
      ++m.handed;
    } else if ((*line)->starts_with("{")) {
      last = **line;
    }
  }
  const ChildExit exit = (*child)->Wait();
  m.seconds = std::chrono::duration<double>(clock.Monotonic() - start).count();
  auto text = ReadFile(stderr_file);
  const std::string said = text ? text->substr(text->size() > 3000 ? text->size() - 3000 : 0) : "";
  if (exit.exit_code() == 77) {
    m.skipped = said.empty() ? client + " is not available (exit 77)" : said;
    return m;
  }
  if (exit.exit_code() != 0) {
    return Fail(ErrorCategory::kInternal, "ClientFailed",
                client + " ended with status " + std::to_string(exit.status) + ": " + said);
  }
  auto figures_text = ReadFile(figures_file);
  if (!figures_text) return std::unexpected(figures_text.error());
  const json figures = json::parse(*figures_text, nullptr, false);
  m.ran = true;
  m.per_second = m.seconds > 0 ? static_cast<double>(m.handed) / m.seconds : 0;
  m.peak_rss_mb = figures.value("maxRssKb", 0.0) / 1024.0;
  m.cpu_seconds = figures.value("userSeconds", 0.0) + figures.value("systemSeconds", 0.0);
  m.report = json::parse(last, nullptr, false);
  return m;
}

int Die(const std::string& what) {
  std::cerr << "ingest_bench: " << what << "\n";
  return 1;
}

int RunBench(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], kExecMeasured) == 0) return ExecMeasured(argc, argv);
  CLI::App app{
      "ingest_bench: N messages ingested from mock-ews by exo-ingest-probe and by exchangelib "
      "(messages/s, the client's peak RSS; measures, asserts nothing)"};
  std::size_t messages = 10000;
  bool smoke = false;
  std::string json_out;
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  const std::filesystem::path here = std::filesystem::path(self).parent_path();
  std::string probe = (here / "exo-ingest-probe").string();
  std::string python = "/usr/bin/python3";
  std::string script = EXO_EXCHANGELIB_INGEST;
  std::string work_dir;
  bool skip_exchangelib = false;
  std::string transport_name = "ews";
  app.add_option("--messages", messages, "Messages in each mailbox")->capture_default_str();
  app.add_flag("--smoke", smoke, "50 messages: only proves the bench works");
  app.add_option("--json", json_out, "Also write the figures here as JSON");
  app.add_option("--probe", probe, "exo-ingest-probe")->capture_default_str();
  // exchangelib is Debian's python3-exchangelib: the system interpreter, not a pyenv shim.
  app.add_option("--python", python, "Interpreter with exchangelib")->capture_default_str();
  app.add_option("--script", script, "exchangelib_ingest.py")->capture_default_str();
  app.add_option("--work-dir", work_dir,
                 "Where the CA, the probe's checkpoint store and the logs go (default: a new "
                 "directory under TMPDIR, removed at the end)");
  app.add_flag("--no-exchangelib", skip_exchangelib, "Only the probe");
  app.add_option("--transport", transport_name,
                 "What the probe reads the mailbox over: ews or graph (exchangelib: EWS only, "
                 "so it runs with ews only)")
      ->check(CLI::IsMember({"ews", "graph"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (smoke) messages = 50;
  const IngestTransport transport =
      transport_name == "graph" ? IngestTransport::kGraph : IngestTransport::kEws;

  const bool own_dir = work_dir.empty();
  const std::filesystem::path dir = own_dir ? std::filesystem::temp_directory_path() /
                                                  ("exo-ingest-bench-" + std::to_string(::getpid()))
                                            : std::filesystem::path(work_dir);
  std::filesystem::create_directories(dir);
  const std::string probe_mailbox = IngestRig::Address("probe");
  const std::string python_mailbox = IngestRig::Address("exchangelib");
  auto rig = IngestRig::Start(dir / "ca", {probe_mailbox, python_mailbox});
  if (!rig) return Die(rig.error().Describe());

  std::vector<Measured> results;
  {
    if (auto d = (*rig)->Deliver(probe_mailbox, messages); !d) return Die(d.error().Describe());
    const std::filesystem::path state = dir / "probe-checkpoint.db";
    std::filesystem::remove(state);
    std::vector<std::string> args = (*rig)->ProbeArgs(probe, probe_mailbox, state, transport);
    args.insert(args.end(), {"--expect", std::to_string(messages)});
    auto m = Measure(self, "exo-ingest-probe", args, {}, dir);
    if (!m) return Die(m.error().Describe());
    results.push_back(*m);
  }
  if (skip_exchangelib || transport != IngestTransport::kEws) {
    Measured m;
    m.client = "exchangelib";
    m.skipped = skip_exchangelib ? "--no-exchangelib" : "it speaks EWS only";
    results.push_back(m);
  } else if (!std::filesystem::exists(python)) {
    Measured m;
    m.client = "exchangelib";
    m.skipped = python + " not found";
    results.push_back(m);
  } else {
    if (auto d = (*rig)->Deliver(python_mailbox, messages); !d) return Die(d.error().Describe());
    const std::vector<std::string> args = {python,        script,
                                           "--ews-url",   (*rig)->ews().ews_url(),
                                           "--token-url", (*rig)->token_url(),
                                           "--tenant",    aad::kDefaultTenantId,
                                           "--app",       kIngestAppId,
                                           "--secret",    kIngestSecret,
                                           "--mailbox",   python_mailbox};
    const std::string ca = (*rig)->ca_file();
    // requests (under exchangelib and its OAuth session) lets this win over verify=True.
    const std::vector<std::string> env = {"REQUESTS_CA_BUNDLE=" + ca, "NO_PROXY=127.0.0.1",
                                          "no_proxy=127.0.0.1"};
    auto m = Measure(self, "exchangelib", args, env, dir);
    if (!m) return Die(m.error().Describe());
    results.push_back(*m);
  }
  for (Measured& m : results) {
    if (!m.ran) continue;
    auto inbox = (*rig)->Inbox(m.client == "exchangelib" ? python_mailbox : probe_mailbox);
    if (inbox) m.unread_after = inbox->unread;
  }

  std::printf(
      "ingest of %zu messages from mock-ews over HTTPS (the probe over %s), one client process "
      "each (%u CPUs: %s)\n",
      messages, transport == IngestTransport::kGraph ? "Microsoft Graph" : "EWS",
      std::thread::hardware_concurrency(), CpuModel().c_str());
  std::printf("  the probe's checkpoint store (SQLite, WAL, synchronous=FULL) is in %s\n",
              dir.string().c_str());
  std::printf("  %-34s %8s %9s %10s %13s %8s %7s\n", "client", "handed", "seconds", "msgs/s",
              "peak RSS MB", "CPU s", "unread");
  json report = {{"messages", messages},
                 {"transport", TransportName(transport)},
                 {"nproc", std::thread::hardware_concurrency()},
                 {"cpu", CpuModel()},
                 {"clients", json::array()}};
  for (const Measured& m : results) {
    std::string name = m.client;
    if (m.client == "exchangelib" && m.report.is_object()) {
      name += " " + m.report.value("exchangelib", std::string()) + " (Python " +
              m.report.value("python", std::string()) + ")";
    }
    if (!m.ran) {
      std::printf("  %-34s skipped: %s\n", name.c_str(), m.skipped.c_str());
      report["clients"].push_back({{"client", m.client}, {"skipped", m.skipped}});
      continue;
    }
    std::printf("  %-34s %8zu %9.2f %10.1f %13.1f %8.2f %7zu\n", name.c_str(), m.handed, m.seconds,
                m.per_second, m.peak_rss_mb, m.cpu_seconds, m.unread_after);
    report["clients"].push_back({{"client", name},
                                 {"handed", m.handed},
                                 {"seconds", m.seconds},
                                 {"messagesPerSecond", m.per_second},
                                 {"peakRssMb", m.peak_rss_mb},
                                 {"cpuSeconds", m.cpu_seconds},
                                 {"unreadAfter", m.unread_after},
                                 {"report", m.report}});
  }
  rig->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  if (!json_out.empty()) {
    if (auto w = WriteFileAtomically(json_out, report.dump(2) + "\n"); !w) {
      return Die(w.error().Describe());
    }
  }
  return 0;
}

}  // namespace
}  // namespace exo::bench

int main(int argc, char** argv) { return exo::bench::RunBench(argc, argv); }
