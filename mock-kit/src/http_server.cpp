#include "exo/mock_kit/http_server.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <utility>

#include "exo/common/log.hpp"
#include "exo/common/time_format.hpp"

namespace exo::mock {
namespace {

// RFC 7231 IMF-fixdate ("Sun, 29 Nov 2026 10:35:00 GMT"); strftime's names are the C locale's.
std::string HttpDate(SystemTime t) {
  const auto secs = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm));
}

// httplib's pool, counting the connections accepted but not yet taken by a worker: a kept-alive
// connection holds its worker, so with more clients than threads the others would wait for it to
// go idle (seconds) and time out; while any wait, answers close their connection instead
// (InstallHooks), which rotates the workers fairly over every client.
class CountingPool final : public httplib::TaskQueue {
 public:
  CountingPool(std::size_t threads, std::atomic<std::size_t>& queued)
      : pool_(threads), queued_(queued) {}
  void enqueue(std::function<void()> fn) override {
    ++queued_;
    pool_.enqueue([this, fn = std::move(fn)] {
      --queued_;
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::atomic<std::size_t>& queued_;
};

// httplib does not expose a request's socket; a reset fault finds it by its port pair. Only
// fault injection pays for this scan.
int FindConnectionSocket(const httplib::Request& req) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = strtol(e->d_name, &end, 10);
    if (*end != '\0' || fd < 0) continue;
    sockaddr_storage local{}, peer{};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &pl) != 0) continue;
    auto port_of = [](const sockaddr_storage& s) -> int {
      if (s.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(s).sin_port);
      if (s.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(s).sin6_port);
      return -1;
    };
    if (port_of(local) == req.local_port && port_of(peer) == req.remote_port) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
  return found;
}

// Sends a TCP RST now: linger 0 makes the close abortive, and dup2 closes the connection while
// leaving a dead socket in the descriptor slot that httplib still owns and will close itself.
void ResetConnection(const httplib::Request& req) {
  const int fd = FindConnectionSocket(req);
  if (fd < 0) return;
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  const int dead = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (dead < 0) return;
  dup2(dead, fd);
  close(dead);
}

std::multimap<std::string, std::string> CopyHeaders(const httplib::Headers& h) {
  std::multimap<std::string, std::string> out;
  for (const auto& [k, v] : h) {
    // httplib adds the connection's addresses as pseudo-headers; they were never sent.
    if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" || k == "LOCAL_PORT")
      continue;
    out.emplace(k, v);
  }
  return out;
}

void ApplyTruncation(httplib::Response& res, std::size_t keep) {
  auto body = std::make_shared<std::string>(std::move(res.body));
  res.body.clear();
  std::string type = res.get_header_value("Content-Type");
  if (type.empty()) type = "application/octet-stream";
  // Content-Length announces the whole body; returning false after `keep` bytes makes httplib
  // drop the connection, so the client sees a short read.
  res.set_content_provider(body->size(), type,
                           [body, keep](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                             const std::size_t end = std::min(keep, body->size());
                             if (offset >= end) return false;
                             sink.write(body->data() + offset, end - offset);
                             return true;
                           });
}

// Set by the pre-routing hook when a fault truncates the real handler's answer.
thread_local std::optional<std::size_t> t_truncate_after;
// The response body as the handler produced it: httplib gzips it before the post-routing hook and
// the logger when the client accepts gzip (exchangelib and ews-javascript-api do); the journal
// keeps text.
thread_local std::optional<std::string> t_response_body;
// The server whose in-flight count the request on this thread is part of (set by the pre-routing
// hook for everything outside the control API, cleared by the logger once the answer is written).
thread_local HttpServer* t_counted_by = nullptr;

bool IsControlPath(const std::string& path) { return path.rfind(kControlPrefix, 0) == 0; }

}  // namespace

std::shared_ptr<const std::atomic<bool>> RemoteWaits::Add(Waiter& w, const httplib::Request& req) {
  // Found before the lock: the scan of the process's descriptors is the slow part.
  const int socket = FindConnectionSocket(req);
  std::lock_guard lock(mu_);
  if (w.id.empty()) w.id = "w" + std::to_string(++next_id_);
  if (tombstones_.erase(w.id) > 0) {
    std::erase(tombstone_order_, w.id);
    return nullptr;
  }
  auto flag = std::make_shared<std::atomic<bool>>(false);
  waits_[w.id] = Entry{w, flag, socket};
  return flag;
}

void RemoteWaits::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  waits_.erase(id);
}

void RemoteWaits::Cancel(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = waits_.find(id); it != waits_.end()) {
    *it->second.cancelled = true;
    waits_.erase(it);
    return;
  }
  // A cancel can overtake its own wait (the client gave up while the request was on its way).
  // The oldest tombstones are of clients long gone; a few hundred bound the memory.
  if (!tombstones_.insert(id).second) return;
  tombstone_order_.push_back(id);
  if (tombstone_order_.size() > 512) {
    tombstones_.erase(tombstone_order_.front());
    tombstone_order_.pop_front();
  }
}

bool RemoteWaits::DropHungUp() {
  std::lock_guard lock(mu_);
  bool dropped = false;
  for (auto it = waits_.begin(); it != waits_.end();) {
    // The descriptor stays open while its wait runs (httplib closes it only after the handler
    // returns, and the handler removes the entry first). POLLRDHUP: the peer sent FIN, whatever
    // is still unread before it.
    pollfd p{it->second.socket, POLLRDHUP, 0};
    const bool gone = it->second.socket >= 0 && ::poll(&p, 1, 0) > 0 &&
                      (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    if (gone) {
      *it->second.cancelled = true;
      it = waits_.erase(it);
      dropped = true;
    } else {
      ++it;
    }
  }
  return dropped;
}

std::vector<RemoteWaits::Waiter> RemoteWaits::List() const {
  std::lock_guard lock(mu_);
  std::vector<Waiter> out;
  for (const auto& [id, entry] : waits_) out.push_back(entry.waiter);
  return out;
}

HttpServer::HttpServer(ServerOptions options, Clock& clock, Random& random)
    : options_(std::move(options)),
      clock_(clock),
      journal_(options_.journal_capacity),
      faults_(clock, random) {
  if (options_.tls) {
    server_ = std::make_unique<httplib::SSLServer>(options_.tls->certificate.get(),
                                                   options_.tls->key.get());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const std::size_t threads = options_.threads == 0 ? 1 : options_.threads;
  server_->new_task_queue = [this, threads] { return new CountingPool(threads, queued_); };
  server_->set_socket_options([this](int sock) {
    httplib::default_socket_options(sock);
    listen_socket_ = sock;  // only the listening socket comes here
  });
  server_->set_payload_max_length(options_.max_body_bytes);
  // Small request/response exchanges on keep-alive connections: Nagle plus delayed ACK would add
  // ~40 ms to every one.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(1000);
  server_->set_read_timeout(30);
  server_->set_write_timeout(30);
  InstallHooks();
}

HttpServer::~HttpServer() { Stop(); }

httplib::Server::Handler HttpServer::WithFaults(httplib::Server::Handler handler) {
  return [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    ServeWithFaults(handler, req, res);
    // Before httplib compresses it (its apply_ranges runs ahead of the post-routing hook).
    t_response_body = res.body;
  };
}

void HttpServer::ServeWithFaults(const httplib::Server::Handler& handler,
                                 const httplib::Request& req, httplib::Response& res) {
  {
    auto decision = faults_.Decide(req.method, req.path, req.body);
    if (!decision) return handler(req, res);
    Annotate("fault", decision->rule_id);
    if (decision->latency.count() > 0) clock_.SleepFor(decision->latency);
    if (decision->reset) {
      ResetConnection(req);
      res.status = 500;  // never reaches the client: the connection is gone
      return;
    }
    if (!decision->status) {
      t_truncate_after = decision->truncate_after;
      return handler(req, res);
    }
    res.status = *decision->status;
    for (const auto& [k, v] : decision->headers) res.set_header(k, v);
    res.set_content(decision->body, decision->content_type);
    if (decision->truncate_after) ApplyTruncation(res, *decision->truncate_after);
  }
}

void HttpServer::Get(const std::string& p, httplib::Server::Handler h) {
  server_->Get(p, WithFaults(std::move(h)));
}
void HttpServer::Post(const std::string& p, httplib::Server::Handler h) {
  server_->Post(p, WithFaults(std::move(h)));
}
void HttpServer::Put(const std::string& p, httplib::Server::Handler h) {
  server_->Put(p, WithFaults(std::move(h)));
}
void HttpServer::Patch(const std::string& p, httplib::Server::Handler h) {
  server_->Patch(p, WithFaults(std::move(h)));
}
void HttpServer::Delete(const std::string& p, httplib::Server::Handler h) {
  server_->Delete(p, WithFaults(std::move(h)));
}

void HttpServer::InstallHooks() {
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    TakeAnnotations();  // a fresh set for this request
    t_truncate_after.reset();
    t_response_body.reset();
    // A request whose answer never reached the logger (a write that failed early) still counts:
    // take it back before counting this one.
    if (t_counted_by != nullptr) --std::exchange(t_counted_by, nullptr)->in_flight_;
    if (IsControlPath(req.path)) {
      SimulatedClock::TagThreadWaits(nullptr);
    } else {
      ++in_flight_;
      t_counted_by = this;
      // Waits on the clock from this thread are this server's parked requests (activity()).
      SimulatedClock::TagThreadWaits(this);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_->set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    // Every answer carries Date, as IIS and Entra's front doors send it, on the server's clock:
    // clients judge token lifetimes by it (the authority's clock, never their own).
    if (!res.has_header("Date")) res.set_header("Date", HttpDate(clock_.Now()));
    if (t_truncate_after) ApplyTruncation(res, *std::exchange(t_truncate_after, std::nullopt));
    if (queued_ > 0) res.set_header("Connection", "close");  // CountingPool says why
  });
  server_->set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        // A handler that throws has a bug; answer 500 and keep serving.
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log::Get(options_.name)->error("handler for {} {} threw: {}", req.method, req.path, what);
        res.status = 500;
        res.set_content("", "text/plain");
      });
  server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    // The answer is written (or failed): the request is no longer in flight. Counted before the
    // journal entry is recorded, so a client that reads the journal after its answer never sees
    // its own request still in flight.
    if (t_counted_by == this) {
      t_counted_by = nullptr;
      SimulatedClock::TagThreadWaits(nullptr);
      --in_flight_;
    }
    if (IsControlPath(req.path)) {
      TakeAnnotations();
      return;  // harness control traffic is not the client's conversation
    }
    JournalEntry e;
    e.time = clock_.Now();
    e.method = req.method;
    e.path = req.path;
    // The raw query string: req.params also holds a form body's fields.
    const auto q = req.target.find('?');
    e.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
    e.request_headers = CopyHeaders(req.headers);
    e.request_body = req.body;
    e.status = res.status;
    e.response_headers = CopyHeaders(res.headers);
    // Recorded before content coding; the headers still say how it travelled.
    // A streamed answer (chunked content provider) has no body at post-routing; its handler
    // collects what it wrote in res.body instead.
    std::string handled = t_response_body ? *std::exchange(t_response_body, std::nullopt) : "";
    e.response_body = handled.empty() ? res.body : std::move(handled);
    e.remote = req.remote_addr + ":" + std::to_string(req.remote_port);
    e.annotations = TakeAnnotations();
    journal_.Record(std::move(e));
  });
}

Result<void> HttpServer::Start() {
  static std::once_flag sigpipe;
  // A client that hangs up mid-response must not kill the process.
  std::call_once(sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  if (!server_->is_valid()) {
    return Fail(ErrorCategory::kConfiguration, "tls", "the TLS server could not be set up");
  }
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
  } else {
    port_ = server_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    return Fail(ErrorCategory::kConfiguration, "bind",
                "cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                    " (address in use, or not an address of this machine)");
  }
  // Debian's cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into
  // the library): a burst of connections overflows it, and the kernel drops SYNs (clients retry
  // a second later) or resets them. Listening again raises it to the system's limit.
  if (listen_socket_ >= 0) ::listen(listen_socket_, SOMAXCONN);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs; wait for it so Stop() can never hang. This is
  // thread start-up, bounded, not a timing decision of the mock.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < limit) {
    std::this_thread::yield();
  }
  log::Get(options_.name)->info("listening on {}", base_url());
  return {};
}

void HttpServer::Stop() {
  // Long polls first: the listener's threads are joined below, and one held by a wait would
  // hold up the stop until the wait's real-time limit.
  if (!stopping_.exchange(true)) clock_.Notify();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpServer::Activity HttpServer::activity() const {
  Activity a;
  a.in_flight = in_flight_;
  if (auto* sim = dynamic_cast<SimulatedClock*>(&clock_)) {
    const MonoTime now = sim->Monotonic();
    for (const SimulatedClock::Waiter& w : sim->Waiters()) {
      if (w.tag != this || !w.settled || w.deadline <= now) continue;
      ++a.parked;
      if (!a.parked_until || w.deadline < *a.parked_until) a.parked_until = w.deadline;
    }
  }
  // The two are read one after the other: never report more parked than in flight.
  a.parked = std::min(a.parked, a.in_flight);
  return a;
}

std::string HttpServer::base_url() const {
  std::string host = options_.public_host;
  if (host.empty()) {
    host = options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    host += ":" + std::to_string(port_);
  }
  return std::string(tls() ? "https://" : "http://") + host;
}

Result<ServerTls> PrepareServerTls(const std::filesystem::path& ca_dir,
                                   std::vector<std::string> names, const std::string& listen_host) {
  std::filesystem::path dir = ca_dir;
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "exo-ca-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      return Fail(ErrorCategory::kInternal, "io", "cannot create a temporary directory");
    }
    dir = pattern;
  }
  auto ca = tls::CertificateAuthority::LoadOrCreate(dir);
  if (!ca) return std::unexpected(ca.error());
  // A wildcard listen address is no name a client can use; loopback is always on the cert.
  if (listen_host != "0.0.0.0" && listen_host != "::") names.push_back(listen_host);
  auto identity = ca->IssueServer(names);
  if (!identity) return std::unexpected(identity.error());
  return ServerTls{*identity, dir / tls::CertificateAuthority::kCertFile, ca->CertificatePem()};
}

std::string AnyCasePath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      out += '[';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out += ']';
    } else if (c == '.') {
      out += "\\.";
    } else {
      out += c;
    }
  }
  return out;
}

void ReplyJson(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  // Journal bodies are whatever clients sent: invalid UTF-8 is replaced, never a failed dump.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void ReplyControlError(httplib::Response& res, int status, const std::string& code,
                       const std::string& message) {
  ReplyJson(res, {{"error", {{"code", code}, {"message", message}}}}, status);
}

}  // namespace exo::mock
