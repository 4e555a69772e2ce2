// The HTTP(S) listener both mocks are built on: cpp-httplib on a bounded thread pool, bound to
// port 0 by default, with the journal, fault injection and the /_exo control API wired in.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/common/result.hpp"
#include "exo/common/tls.hpp"
#include "exo/mock_kit/faults.hpp"
#include "exo/mock_kit/journal.hpp"

namespace exo::mock {

// The reserved path prefix of the harness control API on every mock.
inline constexpr const char* kControlPrefix = "/_exo";

struct ServerOptions {
  std::string name = "mock";       // logger name
  std::string host = "127.0.0.1";  // listen address
  int port = 0;                    // 0: any free port
  std::optional<tls::ServerIdentity> tls;  // absent: plain HTTP
  std::string public_host;  // host[:port] clients use in URLs; default host:bound-port
  std::size_t threads = 64;
  std::size_t max_body_bytes = 4 * 1024 * 1024;  // larger requests get 413
  std::size_t journal_capacity = 2000;
};

// The long polls a server holds open for POST /_exo/clock/wait: who waits for which monotonic
// time, listed by GET /_exo/clock as "waiting". Thread-safe.
class RemoteWaits {
 public:
  struct Waiter {
    std::string id;   // the client's, or one made up by Add
    std::string who;  // "monitor", or any name the client gave
    std::int64_t until_ms = 0;
  };
  // Registers the wait `req` makes. Null when `w.id` was cancelled before the wait arrived:
  // answer it at once. Otherwise the flag Cancel() and DropHungUp() set, for the wait's `done`.
  std::shared_ptr<const std::atomic<bool>> Add(Waiter& w, const httplib::Request& req);
  void Remove(const std::string& id);
  // Ends wait `id`: it leaves the list at once (before this returns) and its flag is set; an id
  // that has not arrived yet is remembered, so a wait that arrives later with it ends at once.
  // The caller then wakes the clock's waiters (Clock::Notify).
  void Cancel(const std::string& id);
  // Ends, like Cancel, the waits whose client has closed its connection (it gave up, or died):
  // a client that is gone is never listed as waiting. True when it ended any.
  bool DropHungUp();
  std::vector<Waiter> List() const;

 private:
  struct Entry {
    Waiter waiter;
    std::shared_ptr<std::atomic<bool>> cancelled;
    int socket = -1;  // the connection's descriptor, owned by httplib while the wait runs
  };
  mutable std::mutex mu_;
  std::uint64_t next_id_ = 0;
  std::map<std::string, Entry> waits_;
  std::set<std::string> tombstones_;  // cancelled before they arrived (bounded)
  std::deque<std::string> tombstone_order_;
};

// Owns the listener thread. Register routes on router() before Start(). Thread-safe after.
class HttpServer {
 public:
  HttpServer(ServerOptions options, Clock& clock, Random& random);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes for the mock's own API: fault rules apply to these (after the body is read, so
  // bodyContains works, and before the handler runs, so a fault never leaves side effects).
  void Get(const std::string& pattern, httplib::Server::Handler handler);
  void Post(const std::string& pattern, httplib::Server::Handler handler);
  void Put(const std::string& pattern, httplib::Server::Handler handler);
  void Patch(const std::string& pattern, httplib::Server::Handler handler);
  void Delete(const std::string& pattern, httplib::Server::Handler handler);

  // The raw router, for control routes (faults never apply to them) and hooks.
  httplib::Server& router() { return *server_; }
  Journal& journal() { return journal_; }
  FaultInjector& faults() { return faults_; }
  Clock& clock() { return clock_; }

  // Binds and starts serving. Connections are accepted (queued) as soon as this returns.
  Result<void> Start();
  // Ends the clock long polls at once (stopping() turns true, the clock's waiters are woken),
  // then stops the listener and joins its threads.
  void Stop();
  bool stopping() const { return stopping_; }

  // What the server is doing now, for GET /_exo/clock. `in_flight`: requests it is handling
  // (read, routed, being answered), the control API excluded. `parked`: those of them blocked on
  // a SimulatedClock for a later time (a fault's latency, a throttling hold, a hanging
  // GetStreamingEvents) that have seen the latest clock change, so they stay blocked until time
  // moves or something else happens; `parked_until` is the earliest of their deadlines. A
  // request in flight and not parked is work in progress.
  struct Activity {
    std::size_t in_flight = 0;
    std::size_t parked = 0;
    std::optional<MonoTime> parked_until;
  };
  Activity activity() const;
  RemoteWaits& remote_waits() { return remote_waits_; }

  int port() const { return port_; }
  // "https://127.0.0.1:41234" (no trailing slash).
  std::string base_url() const;
  bool tls() const { return options_.tls.has_value(); }

 private:
  void InstallHooks();
  httplib::Server::Handler WithFaults(httplib::Server::Handler handler);
  void ServeWithFaults(const httplib::Server::Handler& handler, const httplib::Request& req,
                       httplib::Response& res);

  ServerOptions options_;
  Clock& clock_;
  Journal journal_;
  FaultInjector faults_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<std::size_t> in_flight_{0};
  // Connections accepted and waiting for a worker of the pool (more clients than threads).
  std::atomic<std::size_t> queued_{0};
  int listen_socket_ = -1;
  std::atomic<bool> stopping_{false};
  RemoteWaits remote_waits_;
};

// A mock's TLS identity: the harness CA from `ca_dir` (created there if absent; in a new
// temporary directory when `ca_dir` is empty) and a server certificate it issues for loopback,
// `listen_host` and `names`.
struct ServerTls {
  tls::ServerIdentity identity;
  std::filesystem::path ca_file;
  std::string ca_pem;
};
Result<ServerTls> PrepareServerTls(const std::filesystem::path& ca_dir,
                                   std::vector<std::string> names, const std::string& listen_host);

// Registers GET/POST /_exo/clock[/advance|/set|/wait], DELETE /_exo/clock/wait/{id},
// /_exo/faults[/{id}] and /_exo/journal (docs/mock-aad.md, "Harness control API").
// `adjustable` is the server's clock when the harness may move it, null when it may only be read.
void RegisterCommonControlRoutes(HttpServer& server, AdjustableClock* adjustable);

// Control API helpers: JSON answers and errors with {"error": {"code", "message"}}.
void ReplyJson(httplib::Response& res, const nlohmann::json& body, int status = 200);

// A route pattern that matches the literal `path` in any letter case ('.' literal): IIS paths are
// case-insensitive and clients write /EWS/Exchange.asmx and /ews/exchange.asmx alike.
std::string AnyCasePath(std::string_view path);
void ReplyControlError(httplib::Response& res, int status, const std::string& code,
                       const std::string& message);

}  // namespace exo::mock
