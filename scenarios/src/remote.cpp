// Child processes through posix_spawn in their own process groups, waited on through a pidfd (so a
// bounded wait for an exit is a poll, not a loop of sleeps), and the clock driver's idle rule.
#include "internal/remote.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "exo/common/clock.hpp"
#include "exo/common/file.hpp"

extern char** environ;

namespace exo::scenarios::internal {

namespace {

using std::chrono::milliseconds;

Error ProcessError(const std::string& code, std::string message) {
  Error e;
  e.category = ErrorCategory::kInternal;
  e.code = code;
  e.message = std::move(message);
  return e;
}

// Real time, for the limits that bound a hung process; never simulated time.
MonoTime RealNow() { return RealClock::Instance().Monotonic(); }

int RemainingMs(MonoTime deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - RealNow()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

// Reaps `pid` if it has exited, or once it does within `limit` (nullopt: no limit).
std::optional<ExitStatus> Reap(pid_t pid, std::optional<milliseconds> limit) {
  int status = 0;
  if (!limit) {
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return ExitStatus{};
    }
    return FromWaitStatus(status);
  }
  const MonoTime deadline = RealNow() + *limit;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, RemainingMs(deadline));
    } while (ready < 0 && errno == EINTR);
    ::close(pidfd);
  } else {
    // Kernels without pidfd (before 5.3): look now and then until the limit.
    while (true) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return FromWaitStatus(status);
      if (r < 0 && errno != EINTR) return ExitStatus{};
      if (RealNow() >= deadline) return std::nullopt;
      RealClock::Instance().SleepFor(milliseconds(5));
    }
  }
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return FromWaitStatus(status);
  if (r < 0 && errno == ECHILD) return ExitStatus{};  // not ours to reap
  return std::nullopt;
}

struct Spawn {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value
  std::filesystem::path cwd;
  int stdout_fd = -1, stderr_fd = -1;
  bool search_path = false;
};

// The child gets /dev/null as input, its own process group, an empty signal mask and default
// handlers (the runner may block or ignore SIGTERM and SIGPIPE; the child must not inherit that).
Result<pid_t> SpawnChild(const Spawn& s, const std::string& error_code) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (s.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&fa, s.stdout_fd, STDOUT_FILENO);
  if (s.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&fa, s.stderr_fd, STDERR_FILENO);
  if (!s.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, s.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> argv_storage = s.argv;
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = s.env;
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = s.search_path ? ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data())
                               : ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::string what = "cannot start " + s.argv.front();
    if (!s.cwd.empty()) what += " in " + s.cwd.string();
    return std::unexpected(ProcessError(error_code, what + ": " + std::strerror(rc)));
  }
  return pid;
}

std::vector<std::string> Environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (!extra.contains(name)) env.push_back(entry);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

int OpenOutput(const std::filesystem::path& file) {
  return ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    default:
      return "?";
  }
}

// Signals the process group, then reaps the leader: SIGTERM with a grace, then SIGKILL.
ExitStatus Terminate(pid_t pid, std::optional<ExitStatus>& exit, int first_signal,
                     milliseconds grace) {
  if (exit) return *exit;
  if (first_signal != SIGKILL) {
    ::kill(-pid, first_signal);
    if (auto s = Reap(pid, grace)) return *(exit = *s);
  }
  ::kill(-pid, SIGKILL);
  return *(exit = Reap(pid, std::nullopt));
}

}  // namespace

std::string ExitStatus::Describe() const {
  if (signal != 0) {
    return "killed by signal " + std::to_string(signal) + " (" + SignalName(signal) + ")";
  }
  return "exit code " + std::to_string(code);
}

// ---- HarnessProcess ----

Result<std::unique_ptr<HarnessProcess>> HarnessProcess::Start(Options o) {
  std::error_code ec;
  std::filesystem::create_directories(o.work_dir, ec);
  if (ec) {
    return std::unexpected(
        ProcessError("HarnessStart", "cannot create " + o.work_dir.string() + ": " + ec.message()));
  }
  const auto ready_file = o.work_dir / "ready.json";
  std::filesystem::remove(ready_file, ec);
  std::unique_ptr<HarnessProcess> h(new HarnessProcess());
  h->log_ = o.work_dir / "harness.log";
  const int log_fd = OpenOutput(h->log_);
  int out[2];
  if (log_fd < 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    if (log_fd >= 0) ::close(log_fd);
    return std::unexpected(ProcessError(
        "HarnessStart", std::string("cannot set up its output: ") + std::strerror(errno)));
  }
  Spawn s;
  s.argv.push_back(o.binary.string());
  s.argv.insert(s.argv.end(), o.args.begin(), o.args.end());
  s.argv.push_back("--ready-file");
  s.argv.push_back(ready_file.string());
  s.env = Environment({});
  s.stdout_fd = out[1];
  s.stderr_fd = log_fd;
  auto pid = SpawnChild(s, "HarnessStart");
  ::close(out[1]);
  ::close(log_fd);
  if (!pid) {
    ::close(out[0]);
    return std::unexpected(pid.error());
  }
  h->pid_ = *pid;
  h->stdout_fd_ = out[0];

  // It writes the ready file, then prints the same JSON: each time output arrives, look at the
  // file. Output ending (it exited) or the limit is the failure.
  const MonoTime deadline = RealNow() + o.ready_limit;
  auto failed = [&](const std::string& why) -> Result<std::unique_ptr<HarnessProcess>> {
    std::string message = "exo-harness " + why;
    const std::string tail = h->LogTail(2000);
    if (!tail.empty()) message += "; its standard error ends with:\n" + tail;
    return std::unexpected(ProcessError("HarnessStart", message));
  };
  auto take_ready = [&] {
    auto text = ReadFile(ready_file);
    if (!text) return false;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("control")) return false;
    h->ready_ = std::move(j);
    return true;
  };
  char buf[4096];
  while (true) {
    if (take_ready()) return h;
    const int left = RemainingMs(deadline);
    if (left == 0) {
      h->Stop(milliseconds(2000));
      return failed("wrote no ready file within " + std::to_string(o.ready_limit.count()) +
                    " ms (killed)");
    }
    pollfd p{h->stdout_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::read(h->stdout_fd_, buf, sizeof buf);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    // End of its output: it exited (or closed stdout, which it never does).
    if (take_ready()) return h;
    const auto status = Reap(h->pid_, milliseconds(5000));
    if (status) h->exit_ = status;
    return failed("exited before it was ready (" +
                  (status ? status->Describe() : std::string("still running")) + ")");
  }
}

HarnessProcess::~HarnessProcess() {
  Stop();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::vector<std::string> HarnessProcess::control_urls() const {
  std::vector<std::string> urls;
  for (const char* key : {"control", "ewsControl"}) {
    if (ready_.contains(key) && ready_[key].is_string()) urls.push_back(ready_[key]);
  }
  return urls;
}

std::filesystem::path HarnessProcess::ca_file() const {
  return ready_.contains("ca") && ready_["ca"].is_string() ? ready_["ca"].get<std::string>() : "";
}

ExitStatus HarnessProcess::Stop(milliseconds grace) {
  if (pid_ < 0) return ExitStatus{};
  return Terminate(pid_, exit_, SIGTERM, grace);
}

std::string HarnessProcess::LogTail(std::size_t bytes) const {
  auto text = ReadFile(log_);
  if (!text) return "";
  return text->size() > bytes ? text->substr(text->size() - bytes) : *text;
}

// ---- ClientProcess ----

Result<std::unique_ptr<ClientProcess>> ClientProcess::Start(Options o) {
  if (o.argv.empty()) return std::unexpected(ProcessError("ClientStart", "no command given"));
  const int out = OpenOutput(o.stdout_file);
  const int err = OpenOutput(o.stderr_file);
  if (out < 0 || err < 0) {
    const std::string why = std::strerror(errno);
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    return std::unexpected(ProcessError(
        "ClientStart",
        "cannot open " + o.stdout_file.string() + " or " + o.stderr_file.string() + ": " + why));
  }
  Spawn s;
  s.argv = o.argv;
  s.env = Environment(o.environment);
  s.cwd = o.working_dir;
  s.stdout_fd = out;
  s.stderr_fd = err;
  s.search_path = true;
  auto pid = SpawnChild(s, "ClientStart");
  ::close(out);
  ::close(err);
  if (!pid) return std::unexpected(pid.error());
  std::unique_ptr<ClientProcess> c(new ClientProcess());
  c->pid_ = *pid;
  c->events_file_ = o.events_file;
  return c;
}

ClientProcess::~ClientProcess() {
  if (pid_ >= 0) Kill();
}

ClientProcess::Events ClientProcess::ReadEvents() {
  Events out;
  if (events_file_.empty()) return out;
  std::ifstream in(events_file_, std::ios::binary);
  if (!in) return out;  // not created yet
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uintmax_t>(in.tellg());
  if (size < events_offset_) {
    out.errors.push_back(events_file_.string() + " shrank (was " + std::to_string(events_offset_) +
                         " bytes, now " + std::to_string(size) +
                         "): reading it again from the start");
    events_offset_ = 0;
    events_line_ = 0;
    partial_.clear();
  }
  in.seekg(static_cast<std::streamoff>(events_offset_));
  std::string chunk(size - events_offset_, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<std::size_t>(in.gcount()));
  events_offset_ += chunk.size();
  partial_ += chunk;
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = partial_.substr(start, nl - start);
    ++events_line_;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      out.errors.push_back(events_file_.string() + " line " + std::to_string(events_line_) +
                           " is no JSON object: " + line.substr(0, 200));
      continue;
    }
    out.events.push_back(std::move(j));
  }
  partial_.erase(0, start);
  return out;
}

ExitStatus ClientProcess::Kill() { return Terminate(pid_, exit_, SIGKILL, milliseconds(0)); }

ExitStatus ClientProcess::Stop(milliseconds grace) {
  return Terminate(pid_, exit_, SIGTERM, grace);
}

std::optional<ExitStatus> ClientProcess::Exited() {
  if (!exit_) exit_ = Reap(pid_, milliseconds(0));
  return exit_;
}

// ---- RemoteClockDriver ----

std::string ServerClock::Describe() const {
  std::string s = control_url + ": t=" + std::to_string(monotonic_ms) +
                  " inFlight=" + std::to_string(in_flight) + " parked=" + std::to_string(parked);
  if (parked_until_ms) s += " (until " + std::to_string(*parked_until_ms) + ")";
  s += " waiting=[";
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (i > 0) s += ", ";
    s += waiting[i].who + "@" + std::to_string(waiting[i].until_ms);
  }
  return s + "]";
}

RemoteClockDriver::RemoteClockDriver(Options options)
    : options_(std::move(options)), http_(options_.http) {
  for (auto& url : options_.control_urls) {
    while (!url.empty() && url.back() == '/') url.pop_back();
  }
  if (!http_) {
    client::HttpOptions h;
    h.ca_bundle = options_.ca_bundle;
    http_ = client::MakeHttpTransport(h);
  }
}

Result<ServerClock> RemoteClockDriver::Read(std::size_t index) {
  ServerClock c;
  c.control_url = options_.control_urls.at(index);
  auto res = http_->Send(client::HttpRequest{"GET", c.control_url + "/clock", {}, {}});
  if (!res) return std::unexpected(res.error());
  const auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || !j.is_object() || !j["monotonicMs"].is_number_integer() ||
      !j["inFlight"].is_number_integer() || !j["waiting"].is_array()) {
    return std::unexpected(ProcessError(
        "ClockRead", "GET " + c.control_url + "/clock answered HTTP " +
                         std::to_string(res->status) + " without the clock's activity (" +
                         res->body.substr(0, 200) + ")"));
  }
  c.monotonic_ms = j["monotonicMs"];
  c.in_flight = j["inFlight"];
  c.parked = j.value("parked", std::size_t{0});
  if (j.contains("parkedUntilMs") && j["parkedUntilMs"].is_number_integer()) {
    c.parked_until_ms = j["parkedUntilMs"].get<std::int64_t>();
  }
  for (const auto& w : j["waiting"]) {
    c.waiting.push_back(
        {w.value("id", ""), w.value("who", ""), w.value("untilMs", std::int64_t{0})});
  }
  return c;
}

Result<RemoteIdle> RemoteClockDriver::WaitForIdle(milliseconds real_limit) {
  const MonoTime deadline = RealNow() + real_limit;
  milliseconds pause{0};
  std::vector<ServerClock> seen(options_.control_urls.size());
  while (true) {
    bool busy = false;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      auto c = Read(i);
      if (!c) return std::unexpected(c.error());
      seen[i] = std::move(*c);
      busy = busy || seen[i].in_flight > seen[i].parked;
    }
    // The monitor's wait, if it waits for a time still ahead (one whose time has come is about
    // to end: the client is waking up, not idle).
    std::optional<std::size_t> holder;
    const ServerClock::Waiter* monitor = nullptr;
    std::optional<std::int64_t> parked_until;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      for (const auto& w : seen[i].waiting) {
        if (w.who != options_.monitor_who || w.until_ms <= seen[i].monotonic_ms) continue;
        if (!monitor || w.until_ms < monitor->until_ms) {
          monitor = &w;
          holder = i;
        }
      }
      if (seen[i].parked_until_ms && (!parked_until || *seen[i].parked_until_ms < *parked_until)) {
        parked_until = seen[i].parked_until_ms;
      }
    }
    if (!busy && monitor) {
      // Read its server again, after every other server's activity: a wait still listed now was
      // there all along (a client leaves its wait only through that server), so "waiting" and
      // "nothing in flight" held at one moment.
      const std::string id = monitor->id;
      const std::int64_t until = monitor->until_ms;
      auto again = Read(*holder);
      if (!again) return std::unexpected(again.error());
      const bool still = std::any_of(again->waiting.begin(), again->waiting.end(),
                                     [&](const auto& w) { return w.id == id; });
      if (still && again->in_flight == again->parked) {
        RemoteIdle idle;
        idle.now_ms = again->monotonic_ms;
        idle.monitor_until_ms = until;
        idle.parked_until_ms = parked_until;
        idle.next_ms = parked_until ? std::min(until, *parked_until) : until;
        return idle;
      }
      seen[*holder] = std::move(*again);
    } else if (!busy && !monitor && parked_until && options_.client_polls_only &&
               std::none_of(seen.begin(), seen.end(), [&](const ServerClock& c) {
                 // A monitor wait whose time has come: the client is waking up.
                 return std::any_of(c.waiting.begin(), c.waiting.end(),
                                    [&](const auto& w) { return w.who == options_.monitor_who; });
               })) {
      RemoteIdle idle;
      idle.now_ms = seen.front().monotonic_ms;
      idle.parked_until_ms = parked_until;
      idle.next_ms = *parked_until;
      return idle;
    }
    if (RealNow() >= deadline) {
      std::string what;
      for (const auto& c : seen) what += "\n  " + c.Describe();
      return std::unexpected(ProcessError(
          "ClientHang", "the client was not idle within " + std::to_string(real_limit.count()) +
                            " ms of real time: no wait named '" + options_.monitor_who +
                            "' for a later time with nothing in flight. Last seen:" + what));
    }
    // Paces the reads; what they show decides, never how long this was.
    pause = std::min(milliseconds(20), pause == milliseconds(0) ? milliseconds(1) : pause * 2);
    RealClock::Instance().SleepFor(pause);
  }
}

Result<void> RemoteClockDriver::AdvanceTo(std::int64_t monotonic_ms) {
  for (const auto& url : options_.control_urls) {
    client::HttpRequest req{"POST", url + "/clock/advance", {}, {}};
    req.headers.emplace("Content-Type", "application/json");
    req.body = nlohmann::json{{"toMs", monotonic_ms}}.dump();
    auto res = http_->Send(req);
    if (!res) return std::unexpected(res.error());
    if (res->status != 200) {
      return std::unexpected(ProcessError("ClockAdvance", "POST " + req.url + " answered HTTP " +
                                                              std::to_string(res->status) + ": " +
                                                              res->body.substr(0, 200)));
    }
  }
  return {};
}

}  // namespace exo::scenarios::internal
