// Cassettes: the recording decorator, its scrubbing, and the file format. Scrubbing happens before
// anything is kept in memory or written, so the plaintext of a secret never reaches the file, not
// even between two writes.
#include "exo/client/cassette.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "exo/common/base64.hpp"
#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"

namespace exo::client {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr const char* kScrubbed = "<scrubbed>";
constexpr const char* kScrubbedForm = "%3Cscrubbed%3E";  // kScrubbed, percent-encoded
// Shorter values are not hunted for elsewhere in the cassette: "1" or "abc" would scrub text
// that is no secret at all. Real secrets and tokens are far longer.
constexpr std::size_t kMinEchoLength = 8;

// Form fields (request bodies and URL queries) whose values are secrets.
const std::set<std::string, std::less<>> kFormSecrets = {
    "client_secret", "client_assertion", "password", "refresh_token",
    "code",          "access_token",     "id_token"};
// JSON fields holding tokens: replaced by a JWT-shaped placeholder.
const std::set<std::string, std::less<>> kJsonTokens = {"access_token", "refresh_token",
                                                        "id_token"};
// JSON fields holding other secrets (a request body in JSON): replaced by kScrubbed.
const std::set<std::string, std::less<>> kJsonSecrets = {"client_secret", "client_assertion",
                                                         "password"};
// Claims a placeholder keeps from the token it replaces: what a client may read, none secret.
const std::set<std::string, std::less<>> kKeptClaims = {"aud",   "iss", "tid", "appid", "azp",
                                                        "roles", "scp", "ver", "idtyp"};
// Framing and hop-by-hop headers describe one connection, not the exchange; a replay sets its own.
const std::set<std::string, std::less<>> kDroppedResponseHeaders = {
    "content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: %XX and '+' for a space.
std::string FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (and JSON refuses them).
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string ContentType(const std::multimap<std::string, std::string>& headers) {
  for (const auto& [k, v] : headers) {
    if (AsciiIEquals(k, "Content-Type")) return AsciiLower(v);
  }
  return {};
}

bool LooksLikeJson(std::string_view body) {
  const auto first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (body[first] == '{' || body[first] == '[');
}

// The secrets one recorder has seen, to scrub wherever they appear again.
class SecretSet {
 public:
  // Returns true when `value` is new.
  bool Learn(const std::string& value) {
    if (value.size() < kMinEchoLength || value == kScrubbed) return false;
    bool added = values_.insert(value).second;
    const std::string encoded = PercentEncode(value);
    if (encoded != value) added = values_.insert(encoded).second || added;
    if (added) {
      ordered_.assign(values_.begin(), values_.end());
      // Longest first: a secret that contains another is replaced whole.
      std::sort(ordered_.begin(), ordered_.end(),
                [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    }
    return added;
  }

  std::size_t size() const { return values_.size(); }

  void ScrubIn(std::string& text) const {
    for (const std::string& secret : ordered_) {
      for (auto at = text.find(secret); at != std::string::npos;
           at = text.find(secret, at + std::char_traits<char>::length(kScrubbed))) {
        text.replace(at, secret.size(), kScrubbed);
      }
    }
  }

 private:
  std::set<std::string> values_;
  std::vector<std::string> ordered_;
};

// Scrubs the secret fields of a form, learning their values; other fields stay byte for byte.
std::string ScrubForm(std::string_view form, SecretSet& secrets) {
  std::string out;
  std::size_t start = 0;
  while (start <= form.size()) {
    const auto end = std::min(form.find('&', start), form.size());
    const std::string_view part = form.substr(start, end - start);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && kFormSecrets.contains(FormDecode(part.substr(0, eq)))) {
      const std::string_view raw = part.substr(eq + 1);
      secrets.Learn(FormDecode(raw));
      secrets.Learn(std::string(raw));
      out.append(part.substr(0, eq + 1));
      out += kScrubbedForm;
    } else {
      out.append(part);
    }
    if (end == form.size()) break;
    out += '&';
    start = end + 1;
  }
  return out;
}

std::string ScrubUrl(const std::string& url, SecretSet& secrets) {
  const auto q = url.find('?');
  if (q == std::string::npos) return url;
  const auto hash = url.find('#', q);
  const std::string query = url.substr(q + 1, hash == std::string::npos ? hash : hash - q - 1);
  return url.substr(0, q + 1) + ScrubForm(query, secrets) +
         (hash == std::string::npos ? "" : url.substr(hash));
}

// The payload of a JWT-shaped text, or an empty object.
json Claims(const std::string& token) {
  const auto a = token.find('.');
  const auto b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos) return json::object();
  auto bytes = Base64Decode(token.substr(a + 1, b - a - 1));
  if (!bytes) return json::object();
  auto j = json::parse(*bytes, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::optional<long long> Seconds(const json& j) {
  if (j.is_number_integer()) return j.get<long long>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (!s.empty() && s.size() < 12 && std::all_of(s.begin(), s.end(), ::isdigit)) {
      return std::stoll(s);
    }
  }
  return std::nullopt;
}

// An unsigned JWT-shaped stand-in for `token`: the claims a client may read, fresh times.
std::string PlaceholderToken(const std::string& token, std::optional<long long> expires_in,
                             SystemTime now, std::size_t serial) {
  const json original = Claims(token);
  ordered_json claims;
  for (const auto& [k, v] : original.items()) {
    if (kKeptClaims.contains(k)) claims[k] = v;
  }
  const long long iat = ToUnixSeconds(now);
  claims["iat"] = iat;
  claims["nbf"] = iat;
  if (expires_in) {
    claims["exp"] = iat + *expires_in;
  } else if (original.contains("exp")) {
    claims["exp"] = original["exp"];
  }
  claims["jti"] = "scrubbed-" + std::to_string(serial);
  const ordered_json header = {{"alg", "none"}, {"typ", "JWT"}};
  return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump()) + ".scrubbed";
}

// Replaces token and secret fields anywhere in `j`; true when something changed.
bool ScrubJson(json& j, SecretSet& secrets, SystemTime now, std::size_t& tokens) {
  bool changed = false;
  if (j.is_object()) {
    std::optional<long long> expires_in;
    if (j.contains("expires_in")) expires_in = Seconds(j["expires_in"]);
    for (auto& [k, v] : j.items()) {
      if (v.is_string() && kJsonTokens.contains(k)) {
        const std::string token = v.get<std::string>();
        secrets.Learn(token);
        v = PlaceholderToken(token, expires_in, now, ++tokens);
        changed = true;
      } else if (v.is_string() && kJsonSecrets.contains(k)) {
        secrets.Learn(v.get<std::string>());
        v = kScrubbed;
        changed = true;
      } else {
        changed = ScrubJson(v, secrets, now, tokens) || changed;
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) changed = ScrubJson(v, secrets, now, tokens) || changed;
  }
  return changed;
}

void ScrubBody(std::string& body, const std::multimap<std::string, std::string>& headers,
               SecretSet& secrets, SystemTime now, std::size_t& tokens) {
  const std::string type = ContentType(headers);
  if (type.find("application/x-www-form-urlencoded") != std::string::npos) {
    body = ScrubForm(body, secrets);
  } else if (type.find("json") != std::string::npos || LooksLikeJson(body)) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && ScrubJson(j, secrets, now, tokens)) {
      body = j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
}

// The values of "a=1; b=2" (Cookie) or the first pair of a Set-Cookie line.
void LearnCookies(const std::string& value, bool set_cookie, SecretSet& secrets) {
  std::size_t start = 0;
  while (start < value.size()) {
    const auto end = std::min(value.find(';', start), value.size());
    const std::string pair = value.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string::npos) secrets.Learn(pair.substr(eq + 1));
    if (set_cookie) break;
    start = end + 1;
  }
}

void ScrubHeaders(std::multimap<std::string, std::string>& headers, SecretSet& secrets) {
  for (auto& [k, v] : headers) {
    if (AsciiIEquals(k, "Authorization") || AsciiIEquals(k, "Proxy-Authorization")) {
      const auto space = v.find(' ');
      if (space == std::string::npos) {
        secrets.Learn(v);
        v = kScrubbed;
      } else {
        secrets.Learn(v.substr(space + 1));
        v = v.substr(0, space) + " " + kScrubbed;
      }
    } else if (AsciiIEquals(k, "Cookie") || AsciiIEquals(k, "Set-Cookie")) {
      LearnCookies(v, AsciiIEquals(k, "Set-Cookie"), secrets);
      v = kScrubbed;
    }
  }
}

// Every text of an exchange, for the scrubbing of echoed secrets.
template <class F>
void ForEachText(CassetteExchange& e, F&& f) {
  f(e.request.url);
  for (auto& [k, v] : e.request.headers) f(v);
  f(e.request.body);
  if (e.response) {
    for (auto& [k, v] : e.response->headers) f(v);
    f(e.response->body);
  }
  if (e.error) f(e.error->message);
}

// ---- The file format ----

Error Invalid(const std::string& source, const std::string& what) {
  return Error{ErrorCategory::kConfiguration,
               "InvalidCassette",
               source + ": " + what,
               "give a cassette written by `exo-mailbox ... --record FILE` (docs/client.md)",
               std::nullopt,
               0};
}

std::optional<ErrorCategory> CategoryFrom(const std::string& name) {
  for (ErrorCategory c :
       {ErrorCategory::kConfiguration, ErrorCategory::kAuthentication,
        ErrorCategory::kAuthorization, ErrorCategory::kThrottled, ErrorCategory::kTransient,
        ErrorCategory::kProtocol, ErrorCategory::kNotFound, ErrorCategory::kInternal}) {
    if (name == ToString(c)) return c;
  }
  return std::nullopt;
}

ordered_json HeadersToJson(const std::multimap<std::string, std::string>& headers) {
  ordered_json out = ordered_json::object();
  for (const auto& [k, v] : headers) {
    // Repeated headers are joined, as HTTP allows (Set-Cookie, the exception, is scrubbed).
    if (out.contains(k)) {
      out[k] = out[k].get<std::string>() + ", " + v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

void PutBody(ordered_json& j, const std::string& body) {
  if (IsUtf8(body)) {
    j["body"] = body;
  } else {
    j["bodyBase64"] = Base64Encode(body);
  }
}

// Reads the fields of one JSON object, naming the path of the first problem.
class FieldReader {
 public:
  FieldReader(const json& object, std::string where, const std::string& source)
      : j_(object), where_(std::move(where)), source_(source) {}

  Result<std::string> String(const char* key, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) {
      if (required) return std::unexpected(Invalid(source_, Path(key) + " is missing"));
      return std::string();
    }
    if (!v->is_string()) return std::unexpected(Invalid(source_, Path(key) + " must be a string"));
    return v->get<std::string>();
  }
  Result<long long> Integer(const char* key, bool required = true) const {
    const json* v = Find(key);
    if (v == nullptr) {
      if (required) return std::unexpected(Invalid(source_, Path(key) + " is missing"));
      return 0;
    }
    if (!v->is_number_integer() || v->get<long long>() < 0) {
      return std::unexpected(Invalid(source_, Path(key) + " must be a whole number, not negative"));
    }
    return v->get<long long>();
  }
  Result<bool> Boolean(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return false;
    if (!v->is_boolean())
      return std::unexpected(Invalid(source_, Path(key) + " must be true or false"));
    return v->get<bool>();
  }
  Result<std::multimap<std::string, std::string>> Headers(const char* key) const {
    std::multimap<std::string, std::string> out;
    const json* v = Find(key);
    if (v == nullptr) return out;
    if (!v->is_object()) return std::unexpected(Invalid(source_, Path(key) + " must be an object"));
    for (const auto& [name, value] : v->items()) {
      if (value.is_string()) {
        out.emplace(name, value.get<std::string>());
      } else if (value.is_array() && std::all_of(value.begin(), value.end(),
                                                 [](const json& x) { return x.is_string(); })) {
        for (const auto& x : value) out.emplace(name, x.get<std::string>());
      } else {
        return std::unexpected(
            Invalid(source_, Path(key) + "." + name + " must be a string or an array of strings"));
      }
    }
    return out;
  }
  Result<std::string> Body() const {
    if (const json* b64 = Find("bodyBase64"); b64 != nullptr) {
      auto bytes = b64->is_string() ? Base64Decode(b64->get<std::string>()) : std::nullopt;
      if (!bytes) return std::unexpected(Invalid(source_, Path("bodyBase64") + " is not base64"));
      return *bytes;
    }
    return String("body", false);
  }
  const json* Find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  std::string Path(const std::string& key) const {
    return where_.empty() ? key : where_ + "." + key;
  }

 private:
  const json& j_;
  std::string where_;
  const std::string& source_;
};

Result<CassetteExchange> ParseExchange(const json& j, const std::string& where,
                                       const std::string& source) {
  if (!j.is_object()) return std::unexpected(Invalid(source, where + " must be an object"));
  FieldReader e(j, where, source);
  CassetteExchange out;
  auto at = e.Integer("at");
  if (!at) return std::unexpected(at.error());
  out.at = std::chrono::milliseconds(*at);
  auto duration = e.Integer("durationMs", false);
  if (!duration) return std::unexpected(duration.error());
  out.duration = std::chrono::milliseconds(*duration);

  const json* req = e.Find("request");
  if (req == nullptr) return std::unexpected(Invalid(source, where + ".request is missing"));
  if (!req->is_object())
    return std::unexpected(Invalid(source, where + ".request must be an object"));
  FieldReader r(*req, where + ".request", source);
  auto method = r.String("method");
  if (!method) return std::unexpected(method.error());
  if (method->empty()) return std::unexpected(Invalid(source, where + ".request.method is empty"));
  auto url = r.String("url");
  if (!url) return std::unexpected(url.error());
  if (url->find("://") == std::string::npos) {
    return std::unexpected(Invalid(source, where + ".request.url '" + *url + "' is not absolute"));
  }
  auto req_headers = r.Headers("headers");
  if (!req_headers) return std::unexpected(req_headers.error());
  auto req_body = r.Body();
  if (!req_body) return std::unexpected(req_body.error());
  out.request = HttpRequest{*method, *url, *req_headers, *req_body};

  const json* res = e.Find("response");
  const json* err = e.Find("error");
  if ((res == nullptr) == (err == nullptr)) {
    return std::unexpected(Invalid(source, where + " must have either a response or an error"));
  }
  if (res != nullptr) {
    if (!res->is_object()) {
      return std::unexpected(Invalid(source, where + ".response must be an object"));
    }
    FieldReader p(*res, where + ".response", source);
    auto status = p.Integer("status");
    if (!status) return std::unexpected(status.error());
    auto streaming = p.Boolean("streaming");
    if (!streaming) return std::unexpected(streaming.error());
    // 0: a streamed exchange the client ended before any response came.
    if ((*status < 100 && !(*status == 0 && *streaming)) || *status > 999) {
      return std::unexpected(Invalid(source, where + ".response.status " + std::to_string(*status) +
                                                 " is not an HTTP status"));
    }
    auto headers = p.Headers("headers");
    if (!headers) return std::unexpected(headers.error());
    auto body = p.Body();
    if (!body) return std::unexpected(body.error());
    out.response = HttpResponse{static_cast<int>(*status), *headers, *body};
    out.streaming = *streaming;
  } else {
    if (!err->is_object())
      return std::unexpected(Invalid(source, where + ".error must be an object"));
    FieldReader p(*err, where + ".error", source);
    auto code = p.String("code");
    if (!code) return std::unexpected(code.error());
    auto message = p.String("message", false);
    if (!message) return std::unexpected(message.error());
    auto category = p.String("category", false);
    if (!category) return std::unexpected(category.error());
    Error error;
    error.category = ErrorCategory::kTransient;
    if (!category->empty()) {
      auto c = CategoryFrom(*category);
      if (!c) {
        return std::unexpected(
            Invalid(source, where + ".error.category '" + *category + "' is not a category"));
      }
      error.category = *c;
    }
    error.code = *code;
    error.message = *message;
    out.error = error;
  }
  return out;
}

}  // namespace

std::optional<std::string> FormField(std::string_view form, std::string_view name) {
  std::size_t start = 0;
  while (start <= form.size()) {
    const auto end = std::min(form.find('&', start), form.size());
    const std::string_view part = form.substr(start, end - start);
    const auto eq = part.find('=');
    const std::string key = FormDecode(part.substr(0, eq));
    if (key == name) {
      return eq == std::string_view::npos ? std::string() : FormDecode(part.substr(eq + 1));
    }
    if (end == form.size()) break;
    start = end + 1;
  }
  return std::nullopt;
}

// ---- Cassette ----

std::string Cassette::Serialize() const {
  ordered_json root;
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["recordedAt"] = FormatIso8601Ticks(recorded_at);
  root["client"] = client;
  if (!context.empty()) {
    ordered_json c = ordered_json::object();
    for (const auto& [k, v] : context) c[k] = v;
    root["context"] = c;
  }
  ordered_json list = ordered_json::array();
  for (const CassetteExchange& e : exchanges) {
    ordered_json x;
    x["at"] = e.at.count();
    x["durationMs"] = e.duration.count();
    ordered_json req;
    req["method"] = e.request.method;
    req["url"] = e.request.url;
    req["headers"] = HeadersToJson(e.request.headers);
    PutBody(req, e.request.body);
    x["request"] = req;
    if (e.response) {
      ordered_json res;
      res["status"] = e.response->status;
      res["headers"] = HeadersToJson(e.response->headers);
      PutBody(res, e.response->body);
      if (e.streaming) res["streaming"] = true;
      x["response"] = res;
    } else {
      const Error err = e.error.value_or(Error{});
      x["error"] = {
          {"code", err.code}, {"message", err.message}, {"category", ToString(err.category)}};
    }
    list.push_back(std::move(x));
  }
  root["exchanges"] = std::move(list);
  return root.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

Result<Cassette> Cassette::Parse(std::string_view text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 1: ..." without the tag.
    std::string what = e.what();
    if (const auto tag = what.find("] "); tag != std::string::npos) what = what.substr(tag + 2);
    return std::unexpected(Invalid(source, "not JSON: " + what));
  }
  if (!root.is_object()) return std::unexpected(Invalid(source, "not a JSON object"));
  FieldReader top(root, "", source);
  auto format = top.String("format");
  if (!format) {
    return std::unexpected(
        Invalid(source, "not an exo-cassette (no \"format\": \"exo-cassette\")"));
  }
  if (*format != kFormat) {
    return std::unexpected(
        Invalid(source, "format is '" + *format + "', not '" + std::string(kFormat) + "'"));
  }
  auto version = top.Integer("version");
  if (!version) return std::unexpected(version.error());
  if (*version != kVersion) {
    return std::unexpected(Invalid(source, "version " + std::to_string(*version) +
                                               " is not supported (this build reads version " +
                                               std::to_string(kVersion) + ")"));
  }
  Cassette c;
  auto recorded = top.String("recordedAt");
  if (!recorded) return std::unexpected(recorded.error());
  auto at = ParseIso8601(*recorded);
  if (!at) {
    return std::unexpected(Invalid(source, "recordedAt '" + *recorded + "' is not ISO 8601"));
  }
  c.recorded_at = *at;
  auto client = top.String("client", false);
  if (!client) return std::unexpected(client.error());
  c.client = *client;
  if (const json* ctx = top.Find("context"); ctx != nullptr) {
    if (!ctx->is_object()) return std::unexpected(Invalid(source, "context must be an object"));
    for (const auto& [k, v] : ctx->items()) {
      if (!v.is_string())
        return std::unexpected(Invalid(source, "context." + k + " must be a string"));
      c.context[k] = v.get<std::string>();
    }
  }
  const json* list = top.Find("exchanges");
  if (list == nullptr) return std::unexpected(Invalid(source, "exchanges is missing"));
  if (!list->is_array()) return std::unexpected(Invalid(source, "exchanges must be an array"));
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto e = ParseExchange((*list)[i], "exchanges[" + std::to_string(i) + "]", source);
    if (!e) return std::unexpected(e.error());
    c.exchanges.push_back(std::move(*e));
  }
  return c;
}

Result<Cassette> Cassette::Load(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text) {
    Error e = Invalid(path.string(), "");
    e.message = text.error().message;  // "cannot read FILE: reason"
    return std::unexpected(e);
  }
  return Parse(*text, path.string());
}

// ---- The recorder ----

struct CassetteRecorder::State {
  std::shared_ptr<HttpTransport> inner;
  const Clock& clock;
  std::filesystem::path path;
  RecordOptions options;

  mutable std::mutex mu;  // everything below
  bool started = false;
  MonoTime origin{};
  SystemTime recorded_at{};
  std::uint64_t next_serial = 0;
  std::map<std::uint64_t, CassetteExchange> done;  // by the order requests started in
  SecretSet secrets;
  std::size_t tokens = 0;
  std::optional<Error> write_error;

  State(std::shared_ptr<HttpTransport> i, const Clock& c, std::filesystem::path p, RecordOptions o)
      : inner(std::move(i)), clock(c), path(std::move(p)), options(std::move(o)) {
    recorded_at = clock.Now();
  }

  struct Ticket {
    std::uint64_t serial;
    MonoTime start;
  };

  Ticket Begin() {
    std::lock_guard lock(mu);
    const MonoTime now = clock.Monotonic();
    if (!started) {
      started = true;
      origin = now;
      recorded_at = clock.Now();
    }
    return Ticket{next_serial++, now};
  }

  void Finish(const Ticket& t, const HttpRequest& request, const Result<HttpResponse>& result,
              bool streaming, const std::string* streamed_body) {
    const MonoTime end = clock.Monotonic();
    const SystemTime now = clock.Now();
    CassetteExchange e;
    e.request = request;
    e.streaming = streaming;
    if (result) {
      e.response = *result;
      if (streamed_body != nullptr) e.response->body = *streamed_body;
      for (auto it = e.response->headers.begin(); it != e.response->headers.end();) {
        it = kDroppedResponseHeaders.contains(AsciiLower(it->first)) ? e.response->headers.erase(it)
                                                                     : std::next(it);
      }
    } else {
      e.error = result.error();
    }
    std::lock_guard lock(mu);
    e.at = std::chrono::duration_cast<std::chrono::milliseconds>(t.start - origin);
    e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(end - t.start);
    const std::size_t before = Known();
    ScrubHeaders(e.request.headers, secrets);
    e.request.url = ScrubUrl(e.request.url, secrets);
    ScrubBody(e.request.body, e.request.headers, secrets, now, tokens);
    if (e.response) {
      ScrubHeaders(e.response->headers, secrets);
      ScrubBody(e.response->body, e.response->headers, secrets, now, tokens);
    }
    ForEachText(e, [&](std::string& s) { secrets.ScrubIn(s); });
    if (Known() != before) {
      // A secret first seen now may have been echoed earlier (rare): scrub those too.
      for (auto& [serial, old] : done)
        ForEachText(old, [&](std::string& s) { secrets.ScrubIn(s); });
    }
    done.emplace(t.serial, std::move(e));
    WriteLocked();
  }

  std::size_t Known() const { return secrets.size(); }

  Cassette Snapshot() const {
    Cassette c;
    c.recorded_at = recorded_at;
    c.client = HttpOptions().user_agent;
    c.context = options.context;
    for (const auto& [serial, e] : done) c.exchanges.push_back(e);
    return c;
  }

  Result<void> WriteLocked() {
    auto ok = WriteFileAtomically(path, Snapshot().Serialize(), 0600);
    if (!ok) {
      // Before the first exchange the caller gets the error itself (RecordTo): no log then.
      if (started && (!write_error || write_error->message != ok.error().message)) {
        log::Get("client.cassette")->warn("cannot write the cassette: {}", ok.error().Describe());
      }
      write_error = ok.error();
    }
    return ok;
  }
};

CassetteRecorder::CassetteRecorder(std::shared_ptr<HttpTransport> inner, const Clock& clock,
                                   std::filesystem::path cassette, RecordOptions options)
    : state_(std::make_unique<State>(std::move(inner), clock, std::move(cassette),
                                     std::move(options))) {}

CassetteRecorder::~CassetteRecorder() = default;

Result<HttpResponse> CassetteRecorder::Send(const HttpRequest& request) {
  const State::Ticket t = state_->Begin();
  Result<HttpResponse> result = state_->inner->Send(request);
  state_->Finish(t, request, result, false, nullptr);
  return result;
}

Result<HttpResponse> CassetteRecorder::SendStreaming(const HttpRequest& request,
                                                     const ChunkReceiver& receiver,
                                                     StreamCancel* cancel) {
  const State::Ticket t = state_->Begin();
  std::string chunks;
  const ChunkReceiver tee = [&](std::string_view chunk) {
    chunks.append(chunk);
    return receiver ? receiver(chunk) : true;
  };
  Result<HttpResponse> result = state_->inner->SendStreaming(request, tee, cancel);
  state_->Finish(t, request, result, true, &chunks);
  return result;
}

Result<void> CassetteRecorder::Flush() {
  std::lock_guard lock(state_->mu);
  return state_->WriteLocked();
}

std::size_t CassetteRecorder::recorded() const {
  std::lock_guard lock(state_->mu);
  return state_->done.size();
}

std::optional<Error> CassetteRecorder::write_error() const {
  std::lock_guard lock(state_->mu);
  return state_->write_error;
}

const std::filesystem::path& CassetteRecorder::path() const { return state_->path; }

Result<std::shared_ptr<CassetteRecorder>> RecordTo(std::shared_ptr<HttpTransport> inner,
                                                   const Clock& clock,
                                                   std::filesystem::path cassette,
                                                   RecordOptions options) {
  auto recorder = std::make_shared<CassetteRecorder>(std::move(inner), clock, std::move(cassette),
                                                     std::move(options));
  if (auto ok = recorder->Flush(); !ok) {
    Error e = ok.error();
    e.category = ErrorCategory::kConfiguration;
    e.code = "CassetteUnwritable";
    e.remedy = "record into a directory this user may write";
    return std::unexpected(e);
  }
  return recorder;
}

}  // namespace exo::client
