// The HTTP(S) listener both mocks are built on: cpp-httplib on a bounded thread pool, bound to
// port 0 by default, with the journal, fault injection and the /_exo control API wired in.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <memory>
#include <optional>
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
  void Stop();

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

// Registers GET/POST /_exo/clock[/advance|/set], /_exo/faults[/{id}] and /_exo/journal.
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
