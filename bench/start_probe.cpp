// exo-start-probe: how long a server takes from exec to its first served request, and how much
// memory it holds idle after that: the same measurement for our mocks and for the peers the
// benchmark suite compares them with (oauth2-mock-server, WireMock, nginx), so the figures are
// comparable. A benchmark tool, not a test: it prints one JSON line and asserts nothing.
//
//   exo-start-probe --url https://127.0.0.1:PORT/path [--idle-ms 1000] -- CMD [ARG...]
//   exo-start-probe --ready-file F --ready-key aad --path /x -- CMD [ARG...]
//
// The server runs in its own process group; memory is the sum over that group (a JVM, nginx's
// master and workers): VmRSS as `ps` shows it, and PSS (shared pages split between sharers).
#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Steady = std::chrono::steady_clock;

struct Target {
  bool tls = true;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";
};

// "https://127.0.0.1:8443/x" -> Target; nullopt when it is not scheme://host:port[/path].
std::optional<Target> ParseUrl(const std::string& url) {
  Target t;
  std::string rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    t.tls = false;
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) t.path = rest.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  t.host = authority.substr(0, colon);
  try {
    t.port = std::stoi(authority.substr(colon + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return t;
}

// Whether something accepts TCP connections on the port yet (refusal is immediate on loopback).
bool Accepts(const Target& t) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(t.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// One GET; any HTTP status counts as served (some peers answer 404 for a path they lack).
std::optional<int> Get(const Target& t) {
  if (t.tls) {
    httplib::SSLClient cli(t.host, t.port);
    cli.enable_server_certificate_verification(false);
    cli.set_connection_timeout(std::chrono::seconds(5));
    cli.set_read_timeout(std::chrono::seconds(5));
    auto res = cli.Get(t.path.c_str());
    if (!res) return std::nullopt;
    return res->status;
  }
  httplib::Client cli(t.host, t.port);
  cli.set_connection_timeout(std::chrono::seconds(5));
  cli.set_read_timeout(std::chrono::seconds(5));
  auto res = cli.Get(t.path.c_str());
  if (!res) return std::nullopt;
  return res->status;
}

std::optional<Target> FromReadyFile(const std::string& file, const std::string& key,
                                    const std::string& path) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  auto t = ParseUrl(j[key].get<std::string>());
  if (t && !path.empty()) t->path = path;
  return t;
}

// A "Key:   123 kB" line of a /proc file, in kB; 0 when absent.
long ProcKb(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key + ":")) return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return 0;
}

struct Memory {
  long rss_kb = 0, pss_kb = 0;
  int processes = 0;
};

// Sums VmRSS and Pss over every process whose process group is `pgid`.
Memory GroupMemory(pid_t pgid) {
  Memory m;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return m;
  while (dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat("/proc/" + name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp != pgid) continue;
    ++m.processes;
    m.rss_kb += ProcKb("/proc/" + name + "/status", "VmRSS");
    m.pss_kb += ProcKb("/proc/" + name + "/smaps_rollup", "Pss");
  }
  ::closedir(proc);
  return m;
}

void StopGroup(pid_t pid) {
  ::kill(-pid, SIGTERM);
  const auto deadline = Steady::now() + std::chrono::seconds(5);
  int status = 0;
  while (Steady::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ::kill(-pid, SIGKILL);  // stragglers of the group (a JVM's helpers, nginx workers)
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "exo-start-probe: exec a server, time its first served request, then its idle memory "
      "(measures, asserts nothing)"};
  std::string url, ready_file, ready_key, path, log_file = "/dev/null";
  int idle_ms = 1000;
  double timeout_s = 60;
  std::vector<std::string> command;
  app.add_option("--url", url, "The URL to GET once the server accepts connections");
  app.add_option("--ready-file", ready_file, "Instead of --url: read the URL from this JSON file");
  app.add_option("--ready-key", ready_key, "The ready file's key holding the URL");
  app.add_option("--path", path, "With --ready-file: the path to GET");
  app.add_option("--idle-ms", idle_ms, "Idle time after the first request before measuring memory")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "Give up after this many seconds")->capture_default_str();
  app.add_option("--log", log_file, "The server's stdout and stderr")->capture_default_str();
  app.add_option("command", command, "The server and its arguments (after --)")->required();
  CLI11_PARSE(app, argc, argv);
  std::optional<Target> target;
  if (!url.empty()) {
    target = ParseUrl(url);
    if (!target) {
      std::fprintf(stderr, "exo-start-probe: not a URL: %s\n", url.c_str());
      return 2;
    }
  } else if (ready_file.empty() || ready_key.empty()) {
    std::fprintf(stderr, "exo-start-probe: --url or --ready-file with --ready-key\n");
    return 2;
  } else {
    std::remove(ready_file.c_str());
  }

  std::vector<char*> args;
  for (auto& a : command) args.push_back(a.data());
  args.push_back(nullptr);
  std::fflush(nullptr);
  const auto t0 = Steady::now();
  const pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    ::setpgid(0, 0);
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with the child's own call

  const auto deadline = t0 + std::chrono::duration<double>(timeout_s);
  double start_ms = -1;
  std::optional<int> status;
  while (Steady::now() < deadline) {
    int ws = 0;
    if (::waitpid(pid, &ws, WNOHANG) == pid) {
      std::fprintf(stderr, "exo-start-probe: %s exited before serving (see %s)\n", args[0],
                   log_file.c_str());
      return 1;
    }
    if (!url.empty() || (target = FromReadyFile(ready_file, ready_key, path))) {
      if (Accepts(*target) && (status = Get(*target))) {
        start_ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        break;
      }
      if (url.empty()) target.reset();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (start_ms < 0) {
    StopGroup(pid);
    std::fprintf(stderr, "exo-start-probe: no answer from %s within %.0f s\n", args[0], timeout_s);
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
  const Memory m = GroupMemory(pid);
  StopGroup(pid);
  const nlohmann::json out = {{"startMs", start_ms},        {"status", *status},
                              {"idleRssKb", m.rss_kb},      {"idlePssKb", m.pss_kb},
                              {"processes", m.processes},   {"idleMs", idle_ms}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
