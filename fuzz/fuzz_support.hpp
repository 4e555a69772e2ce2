// What the fuzz targets share: the fixed identity their seeds were made for (tenant, app, mailbox,
// and an RSA key with its certificate committed in fuzz/keys/, so signed seeds stay valid), and a
// scripted HttpTransport that answers the client's requests from the fuzz input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/crypto.hpp"

namespace exo::fuzz {

// The identity of fuzz/make-seeds.py: change both together.
inline constexpr const char* kTenant = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01";
inline constexpr const char* kAppId = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
inline constexpr const char* kAppSecret = "Xy78Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456-";
inline constexpr const char* kMailbox = "monitor@contoso.com";
inline constexpr const char* kOtherMailbox = "adelev@contoso.com";
// The kid mock-ews's fuzzed key set publishes the fuzz key under.
inline constexpr const char* kKid = "fuzz-key-1";

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// With EXO_FUZZ_VERBOSE set, prints what a target made of its input (the answer, the refusal) to
// standard error: how make-seeds.py's seeds are checked to reach what they aim at.
void Show(std::string_view what);

// fuzz/keys/fuzz-app.pem: the app's certificate for client assertions, and the key that signs
// mock-ews's access tokens. Aborts when missing: a target without it would fuzz nothing useful.
const crypto::PrivateKey& FuzzKey();
const crypto::Certificate& FuzzCertificate();
// {"keys":[{kty, use, kid=kKid, n, e}]} for FuzzKey.
const nlohmann::json& FuzzJwks();

// A fuzz input as a list of HTTP answers, separated by a line "%%". An answer starting with
// "HTTP <status>" has header lines up to an empty line, then its body; any other answer is a 200
// with `default_content_type` and the whole text as body. At most 64 answers.
std::deque<client::HttpResponse> ParseScript(std::string_view text,
                                             std::string_view default_content_type);

// Answers each request with the next scripted answer, then with a transport error once the
// script is spent. Token requests (a URL with "/oauth2/") get a fixed valid token instead when
// `answer_tokens` is set, so targets fuzz what comes after authentication. SendStreaming hands
// the body over in small chunks, as a network would. Thread-safe.
class ScriptedHttp final : public client::HttpTransport {
 public:
  ScriptedHttp(std::deque<client::HttpResponse> script, bool answer_tokens);

  Result<client::HttpResponse> Send(const client::HttpRequest& request) override;
  Result<client::HttpResponse> SendStreaming(const client::HttpRequest& request,
                                             const client::ChunkReceiver& receiver,
                                             client::StreamCancel* cancel) override;
  // Whether a request has found the script spent.
  bool spent();

 private:
  Result<client::HttpResponse> Next();

  std::mutex mu_;
  std::deque<client::HttpResponse> script_;
  bool spent_ = false;
  const bool answer_tokens_;
};

}  // namespace exo::fuzz
