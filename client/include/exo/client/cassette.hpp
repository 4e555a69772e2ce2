// Record and replay of the client's real HTTP exchanges ("cassettes"): a transport decorator that
// writes each exchange, secrets scrubbed and times relative, to reproduce a problem offline.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::client {

// One recorded exchange: the request as the client sent it and the response it got (or the
// transport error it got instead), both already scrubbed.
struct CassetteExchange {
  std::chrono::milliseconds at{};        // when the request started, since the first exchange's
  std::chrono::milliseconds duration{};  // how long the exchange took
  HttpRequest request;
  std::optional<HttpResponse> response;  // absent: no response (refused, reset, timeout, TLS)
  bool streaming = false;                // SendStreaming: `response->body` is the chunks joined
  std::optional<Error> error;            // the transport error when there was no response
};

// A cassette file as a value. The file is JSON:
//   {"format": "exo-cassette", "version": 1, "recordedAt": "<UTC ISO 8601 of the first exchange>",
//    "client": "ExoHarness-client/…", "context": {…}, "exchanges": [{"at": ms, "durationMs": ms,
//    "request": {"method", "url", "headers": {…}, "body"},
//    "response": {"status", "headers": {…}, "body", "streaming"} | "error": {"code", "message",
//    "category"}}, …]}
// A body that is not valid UTF-8 is stored as "bodyBase64" instead of "body".
struct Cassette {
  static constexpr const char* kFormat = "exo-cassette";
  static constexpr int kVersion = 1;

  SystemTime recorded_at{};
  std::string client;
  // Settings the recorder chose to note, none of them secret (the CLI notes the configuration's
  // folder, disposition and endpoints), so a replay can configure a client as the original was.
  std::map<std::string, std::string> context;
  std::vector<CassetteExchange> exchanges;

  // Reads and validates a cassette. Error (kConfiguration, "InvalidCassette"): the file is
  // unreadable, not JSON (with the line and column), not an exo-cassette, of another version, or
  // a field is missing or of the wrong type (named: "exchanges[3].request.method").
  static Result<Cassette> Load(const std::filesystem::path& path);
  static Result<Cassette> Parse(std::string_view text, const std::string& source = "cassette");
  // The file's text (indented JSON).
  std::string Serialize() const;
};

// What RecordTo writes besides the exchanges.
struct RecordOptions {
  std::map<std::string, std::string> context;  // Cassette::context; never put a secret here
};

// The recording decorator. Forwards every exchange to `inner` unchanged and appends it, scrubbed,
// to the cassette, which is rewritten atomically (temporary file, fsync, rename; mode 0600: mail
// contents are kept) after every exchange, so a crash keeps everything recorded before it.
// Exchanges are kept in the order their requests started.
//
// Scrubbed, always: Authorization values (the scheme kept: "Bearer <scrubbed>"), Cookie and
// Set-Cookie; the form fields client_secret, client_assertion, password, refresh_token and code
// (request bodies and URL queries); the JSON fields access_token, refresh_token and id_token
// (replaced by an unsigned JWT-shaped placeholder keeping aud, roles and the other non-secret
// claims, with iat/exp from the recording clock and expires_in, so a client that reads its token's
// claims behaves as it did); and every other occurrence of any of those values anywhere in the
// cassette (an error echoing a token). Mail contents, addresses and ids are kept: they are what
// reproduces a problem.
//
// Thread-safe. A failed write does not fail the exchange: it is logged and kept in write_error().
class CassetteRecorder final : public HttpTransport {
 public:
  CassetteRecorder(std::shared_ptr<HttpTransport> inner, const Clock& clock,
                   std::filesystem::path cassette, RecordOptions options);
  ~CassetteRecorder() override;

  Result<HttpResponse> Send(const HttpRequest& request) override;
  Result<HttpResponse> SendStreaming(const HttpRequest& request, const ChunkReceiver& receiver,
                                     StreamCancel* cancel = nullptr) override;

  // Writes the cassette as it stands now.
  Result<void> Flush();
  std::size_t recorded() const;
  std::optional<Error> write_error() const;
  const std::filesystem::path& path() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Wraps `inner` in a CassetteRecorder writing to `cassette`, which is written at once (no exchange
// yet) so a path that cannot be written is an error here (kConfiguration), not a surprise later.
// `clock` gives the exchanges' relative times and recordedAt; it must outlive the recorder.
Result<std::shared_ptr<CassetteRecorder>> RecordTo(std::shared_ptr<HttpTransport> inner,
                                                   const Clock& clock,
                                                   std::filesystem::path cassette,
                                                   RecordOptions options = {});

// The first field `name` of an application/x-www-form-urlencoded text (a body or a URL's query),
// percent- and '+'-decoded; nullopt when absent. For readers of recorded requests.
std::optional<std::string> FormField(std::string_view form, std::string_view name);

}  // namespace exo::client
