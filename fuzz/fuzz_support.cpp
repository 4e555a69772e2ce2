#include "fuzz_support.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "exo/common/base64.hpp"
#include "exo/common/file.hpp"

namespace exo::fuzz {

namespace {

const std::string& KeyPem() {
  static const std::string pem = [] {
    auto text = ReadFile(std::string(EXO_FUZZ_DIR) + "/keys/fuzz-app.pem");
    if (!text) {
      std::fprintf(stderr, "fuzz: %s (run fuzz/make-seeds.py)\n", text.error().Describe().c_str());
      std::abort();
    }
    return *text;
  }();
  return pem;
}

template <class T>
T OrAbort(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "fuzz: %s: %s\n", what, r.error().Describe().c_str());
    std::abort();
  }
  return std::move(*r);
}

// What mock-aad would answer: a JWT-shaped token with the EWS role. The client reads its payload
// without verifying it.
std::string FixedTokenAnswer() {
  const nlohmann::json payload = {{"aud", "https://outlook.office365.com"},
                                  {"tid", kTenant},
                                  {"appid", kAppId},
                                  {"roles", {"full_access_as_app"}}};
  const std::string token = Base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") + "." +
                            Base64UrlEncode(payload.dump()) + ".c2ln";
  return nlohmann::json{{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", token}}
      .dump();
}

client::HttpResponse ParseAnswer(std::string_view chunk, std::string_view default_content_type) {
  client::HttpResponse r;
  if (!chunk.starts_with("HTTP ")) {
    r.status = 200;
    r.headers.emplace("Content-Type", std::string(default_content_type));
    r.body = std::string(chunk);
    return r;
  }
  std::size_t i = 5;
  while (i < chunk.size() && i < 8 && chunk[i] >= '0' && chunk[i] <= '9') {
    r.status = r.status * 10 + (chunk[i] - '0');
    ++i;
  }
  std::size_t line = chunk.find('\n', i);
  while (line != std::string_view::npos) {
    const std::size_t start = line + 1;
    const std::size_t end = chunk.find('\n', start);
    const std::string_view header =
        chunk.substr(start, end == std::string_view::npos ? end : end - start);
    if (header.empty()) {
      r.body = std::string(end == std::string_view::npos ? "" : chunk.substr(end + 1));
      break;
    }
    if (const auto colon = header.find(':'); colon != std::string_view::npos) {
      std::string_view value = header.substr(colon + 1);
      while (value.starts_with(' ')) value.remove_prefix(1);
      r.headers.emplace(std::string(header.substr(0, colon)), std::string(value));
    }
    line = end;
  }
  return r;
}

}  // namespace

void Show(std::string_view what) {
  static const bool verbose = std::getenv("EXO_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%.*s\n", static_cast<int>(std::min<std::size_t>(what.size(), 600)), what.data());
}

const crypto::PrivateKey& FuzzKey() {
  static const crypto::PrivateKey key = OrAbort(crypto::PrivateKey::FromPem(KeyPem()), "key");
  return key;
}

const crypto::Certificate& FuzzCertificate() {
  static const crypto::Certificate cert =
      OrAbort(crypto::Certificate::FromPem(KeyPem()), "certificate");
  return cert;
}

const nlohmann::json& FuzzJwks() {
  static const nlohmann::json jwks = [] {
    const crypto::PublicKey pub = FuzzKey().Public();
    return nlohmann::json{{"keys",
                           {{{"kty", "RSA"},
                             {"use", "sig"},
                             {"kid", kKid},
                             {"n", Base64UrlEncode(pub.RsaModulus())},
                             {"e", Base64UrlEncode(pub.RsaExponent())}}}}};
  }();
  return jwks;
}

std::deque<client::HttpResponse> ParseScript(std::string_view text,
                                             std::string_view default_content_type) {
  constexpr std::string_view kSeparator = "\n%%\n";
  std::deque<client::HttpResponse> out;
  while (out.size() < 64) {
    const std::size_t sep = text.find(kSeparator);
    out.push_back(ParseAnswer(text.substr(0, sep), default_content_type));
    if (sep == std::string_view::npos) break;
    text.remove_prefix(sep + kSeparator.size());
  }
  return out;
}

ScriptedHttp::ScriptedHttp(std::deque<client::HttpResponse> script, bool answer_tokens)
    : script_(std::move(script)), answer_tokens_(answer_tokens) {}

Result<client::HttpResponse> ScriptedHttp::Next() {
  std::lock_guard lock(mu_);
  if (script_.empty()) {
    spent_ = true;
    return Fail(ErrorCategory::kTransient, "HTTP transport", "the fuzz script is spent");
  }
  client::HttpResponse r = std::move(script_.front());
  script_.pop_front();
  return r;
}

Result<client::HttpResponse> ScriptedHttp::Send(const client::HttpRequest& request) {
  if (answer_tokens_ && request.url.find("/oauth2/") != std::string::npos) {
    static const std::string answer = FixedTokenAnswer();
    client::HttpResponse r;
    r.status = 200;
    r.headers.emplace("Content-Type", "application/json; charset=utf-8");
    r.body = answer;
    return r;
  }
  return Next();
}

Result<client::HttpResponse> ScriptedHttp::SendStreaming(const client::HttpRequest&,
                                                         const client::ChunkReceiver& receiver,
                                                         client::StreamCancel* cancel) {
  auto r = Next();
  if (!r) return r;
  // An odd size, so envelopes and tags straddle chunks.
  constexpr std::size_t kChunk = 61;
  const std::string body = std::move(r->body);
  r->body.clear();
  for (std::size_t at = 0; at < body.size(); at += kChunk) {
    if (cancel != nullptr && cancel->cancelled()) break;
    if (!receiver(std::string_view(body).substr(at, kChunk))) break;
  }
  return r;
}

bool ScriptedHttp::spent() {
  std::lock_guard lock(mu_);
  return spent_;
}

}  // namespace exo::fuzz
