// HttpTransport over cpp-httplib: a small pool of kept-alive clients per scheme://host:port, so
// concurrent callers never share one socket and a sequential caller reuses its connection.
#include <httplib.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <regex>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/log.hpp"

namespace exo::client {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

void StreamCancel::Cancel() {
  std::function<void()> abort;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    abort = abort_;
  }
  if (abort) abort();
}

bool StreamCancel::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void StreamCancel::OnCancel(std::function<void()> abort) {
  bool now = false;
  {
    std::lock_guard lock(mu_);
    abort_ = abort;
    now = cancelled_;
  }
  if (now && abort) abort();
}

void StreamCancel::Clear() {
  std::lock_guard lock(mu_);
  abort_ = nullptr;
}

void StreamCancel::Reset() {
  std::lock_guard lock(mu_);
  abort_ = nullptr;
  cancelled_ = false;
}

namespace {

struct ParsedUrl {
  std::string origin;  // scheme://host[:port]
  std::string target;  // /path?query
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  static const std::regex re("^(https?)://([^/?#\\s]+)([^#\\s]*)$", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, re)) {
    return Fail(ErrorCategory::kConfiguration, "InvalidUrl", "'" + url + "' is not an http(s) URL");
  }
  std::string scheme = m[1].str();
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string host = m[2].str();
  if (scheme == "http") {
    static const std::regex loopback("^(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?$");
    if (!std::regex_match(host, loopback)) {
      return Fail(ErrorCategory::kConfiguration, "InsecureUrl",
                  "refusing plain http to " + host + ": tokens would travel unencrypted",
                  "use https (http is allowed only for a loopback test server)");
    }
  }
  std::string target = m[3].str();
  if (target.empty()) target = "/";
  return ParsedUrl{scheme + "://" + host, target};
}

Error TransportError(const std::string& url, httplib::Error e) {
  Error err;
  err.category = ErrorCategory::kTransient;
  err.code = "HTTP transport";
  err.message = url + ": " + httplib::to_string(e);
  if (e == httplib::Error::SSLServerVerification) {
    err.category = ErrorCategory::kConfiguration;
    err.remedy =
        "the server's certificate is not trusted: for a test server set EmailIntegrationCaBundle "
        "to its CA file";
  } else if (e == httplib::Error::Connection) {
    err.message = url + ": could not connect (refused, unreachable or timed out)";
    err.remedy = "check the URL, DNS and that outbound HTTPS is allowed";
  } else if (e == httplib::Error::Read) {
    // A cut connection and a silent one look alike here: both end the read early.
    err.message = url + ": the connection closed, or stayed silent past the read timeout, before " +
                  "the whole answer arrived";
    err.remedy = "retried with back-off; if it persists, a proxy, load balancer or the server is "
                 "cutting answers: check the network path";
  }
  return err;
}

// A write to a connection the server has reset raises SIGPIPE, whose default action ends the
// process: over TLS OpenSSL writes without MSG_NOSIGNAL. A library must not kill the application
// that embeds it, nor change its signal dispositions: SIGPIPE is blocked for this thread during an
// exchange (it is thread-directed), and one raised meanwhile is taken before the mask is restored.
// The write then fails with EPIPE, a transport error like any other.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &previous_);
    was_blocked_ = sigismember(&previous_, SIGPIPE) == 1;
  }
  ~SigpipeBlocked() {
    if (was_blocked_) return;  // the application blocks it itself: its pending signal, its call
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec none{0, 0};
      (void)sigtimedwait(&pipe, nullptr, &none);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t previous_;
  bool was_blocked_ = false;
};

class HttplibTransport final : public HttpTransport {
 public:
  explicit HttplibTransport(HttpOptions options)
      : options_(std::move(options)),
        bundle_error_(options_.ca_bundle && !Readable(*options_.ca_bundle)) {}
  // Closing kept-alive TLS connections writes close_notify, to a peer that may be gone.
  ~HttplibTransport() override {
    const SigpipeBlocked guard;
    idle_.clear();
  }

  // Whether OpenSSL can load CA certificates from `bundle`; checked once, reported on every send.
  static bool Readable(const std::filesystem::path& bundle) {
    X509_STORE* store = X509_STORE_new();
    const bool ok = store != nullptr && X509_STORE_load_file(store, bundle.c_str()) == 1;
    X509_STORE_free(store);
    return ok;
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    const SigpipeBlocked guard;
    return Exchange(request, nullptr, nullptr);
  }
  Result<HttpResponse> SendStreaming(const HttpRequest& request, const ChunkReceiver& receiver,
                                     StreamCancel* cancel) override {
    const SigpipeBlocked guard;
    return Exchange(request, &receiver, cancel);
  }

 private:
  // A kept-alive connection when one is idle (`reused` says so), else a new one.
  std::unique_ptr<httplib::Client> Take(const std::string& origin, bool& reused) {
    {
      std::lock_guard lock(mu_);
      auto& idle = idle_[origin];
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        reused = true;
        return c;
      }
    }
    reused = false;
    return Make(origin);
  }

  std::unique_ptr<httplib::Client> Make(const std::string& origin) {
    auto c = std::make_unique<httplib::Client>(origin);
    c->set_keep_alive(true);
    // Without it Nagle's algorithm holds each small request back until the previous segment is
    // acknowledged: on a kept-alive connection that is ~40 ms of delayed ACK per EWS call.
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(options_.connect_timeout);
    c->set_read_timeout(options_.read_timeout);
    c->set_write_timeout(options_.read_timeout);
    c->set_follow_location(false);  // redirects are protocol decisions (autodiscover), not ours
    c->enable_server_certificate_verification(!options_.skip_tls_verification);
    if (options_.skip_tls_verification && origin.starts_with("https://")) {
      log::Get("client")->warn(
          "TLS certificate verification is OFF for {} (--insecure-skip-tls-verify): anyone on "
          "the path can read this client's tokens and mail; trust the server's CA with "
          "EmailIntegrationCaBundle instead",
          origin);
    }
    if (options_.ca_bundle && !bundle_error_) {
      // The system's CAs plus the bundle: httplib adds the default paths to this store.
      X509_STORE* store = X509_STORE_new();
      if (store != nullptr && X509_STORE_load_file(store, options_.ca_bundle->c_str()) == 1) {
        c->set_ca_cert_store(store);  // the SSL context takes ownership
      } else {
        X509_STORE_free(store);
      }
    }
    return c;
  }

  void Give(const std::string& origin, std::unique_ptr<httplib::Client> c) {
    std::lock_guard lock(mu_);
    auto& idle = idle_[origin];
    if (idle.size() < 8) idle.push_back(std::move(c));
  }

  Result<HttpResponse> Exchange(const HttpRequest& request, const ChunkReceiver* receiver,
                                StreamCancel* cancel) {
    auto url = ParseUrl(request.url);
    if (!url) return std::unexpected(url.error());
    if (bundle_error_) {
      return Fail(ErrorCategory::kConfiguration, "InvalidCaBundle",
                  "cannot read the CA bundle " + options_.ca_bundle->string(),
                  "point EmailIntegrationCaBundle at a PEM file of CA certificates");
    }
    bool reused = false;
    auto client = Take(url->origin, reused);
    httplib::Request req;
    req.method = request.method;
    req.path = url->target;
    for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
    if (!req.has_header("User-Agent")) req.headers.emplace("User-Agent", options_.user_agent);
    req.body = request.body;
    if (receiver != nullptr) {
      req.content_receiver = [receiver](const char* data, size_t n, uint64_t, uint64_t) {
        return (*receiver)(std::string_view(data, n));
      };
    }
    httplib::Client* raw = client.get();
    // Client::stop() only reaches a socket that exists: a cancel that comes while the connection
    // is being made would be lost, and the exchange would wait for its read timeout. So a new
    // socket is shut at once when the exchange is already cancelled, and nothing starts at all
    // when it was cancelled before.
    client->set_socket_options([cancel](socket_t sock) {
      if (cancel != nullptr && cancel->cancelled()) ::shutdown(sock, SHUT_RDWR);
    });
    if (cancel != nullptr) {
      cancel->OnCancel([raw] { raw->stop(); });
      if (cancel->cancelled()) {
        cancel->Clear();
        Give(url->origin, std::move(client));
        HttpResponse stopped;
        return stopped;
      }
    }
    httplib::Result res = client->send(req);
    if (!res && reused && res.error() == httplib::Error::Write &&
        !(cancel != nullptr && cancel->cancelled())) {
      // A kept-alive connection the server (or a load balancer) closed while it sat idle: over
      // TLS it still looks alive until the write fails. Nothing reached the server, so the
      // request goes once more on a new connection.
      if (cancel != nullptr) cancel->Clear();
      client = Make(url->origin);
      raw = client.get();
      client->set_socket_options([cancel](socket_t sock) {
        if (cancel != nullptr && cancel->cancelled()) ::shutdown(sock, SHUT_RDWR);
      });
      if (cancel != nullptr) cancel->OnCancel([raw] { raw->stop(); });
      res = client->send(req);
    }
    if (cancel != nullptr) cancel->Clear();
    if (!res) {
      const httplib::Error e = res.error();
      // A receiver that stopped reading, or a cancel, is the caller's choice, not a failure.
      if (receiver != nullptr &&
          (e == httplib::Error::Canceled || (cancel != nullptr && cancel->cancelled()))) {
        return HttpResponse{};
      }
      return std::unexpected(TransportError(request.url, e));
    }
    HttpResponse out;
    out.status = res->status;
    for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
    out.body = std::move(res->body);
    Give(url->origin, std::move(client));
    return out;
  }

  HttpOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;
  const bool bundle_error_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeHttpTransport(const HttpOptions& options) {
  return std::make_unique<HttplibTransport>(options);
}

}  // namespace exo::client
