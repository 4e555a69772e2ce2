// The client's one seam to the network: an HTTP exchange as a value, and an HTTPS implementation
// over cpp-httplib with verification on and keep-alive per host. Its connect and read timeouts are
// socket timeouts on the wall clock (cpp-httplib has no other), not on the injected clock.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "exo/common/result.hpp"

namespace exo::client {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: https://host[:port]/path?query
  std::multimap<std::string, std::string> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names as sent; look up case-insensitively
  std::string body;

  // The first header named `name` (case-insensitive), or empty.
  std::string Header(std::string_view name) const;
};

// Receives a streamed body chunk by chunk (GetStreamingEvents); returns false to stop reading.
using ChunkReceiver = std::function<bool(std::string_view chunk)>;

// Lets another thread end a streaming exchange at once (the connection is shut down), instead of
// waiting for the next chunk. Thread-safe; one per exchange.
class StreamCancel {
 public:
  void Cancel();
  bool cancelled() const;
  // Called by the transport: `abort` runs on Cancel (at once if already cancelled).
  void OnCancel(std::function<void()> abort);
  void Clear();
  // Ready for a new exchange: not cancelled, nothing to abort.
  void Reset();

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  std::function<void()> abort_;
};

// Sends requests. Transport failures (refused, reset, TLS, timeout) are kTransient errors with the
// code "HTTP transport" and the reason; an HTTP status is never an error here.
// Thread-safety: implementations are safe to call from several threads.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
  // Like Send, but hands the body to `receiver` as it arrives (the response's body stays empty).
  // `cancel` (may be null) ends the exchange from another thread; a cancelled or stopped
  // exchange returns the response so far, not an error.
  virtual Result<HttpResponse> SendStreaming(const HttpRequest& request,
                                             const ChunkReceiver& receiver,
                                             StreamCancel* cancel = nullptr) = 0;
};

struct HttpOptions {
  std::optional<std::filesystem::path> ca_bundle;  // extra trusted CAs; the system store otherwise
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds read_timeout{100};  // EWS's own limit is 100 s
  std::string user_agent = "ExoHarness-client/0.1";
  // Off only by an explicit choice (exo-mailbox --insecure-skip-tls-verify), never by a config
  // key that could be left behind: every connection opened without verification logs a warning,
  // since anyone on the path could then take the tenant's tokens.
  bool skip_tls_verification = false;
};

// HTTPS (and http:// for loopback only) over cpp-httplib, one kept-alive connection per host and
// thread. Server certificates are verified unless options.skip_tls_verification says otherwise.
std::unique_ptr<HttpTransport> MakeHttpTransport(const HttpOptions& options);

}  // namespace exo::client
