// The runner's decorators: exchanges noted for transcripts and reports, and a store that dies.
#include "internal/observed.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

namespace exo::scenarios::internal {

namespace {

using json = nlohmann::json;

std::string PathOf(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "/";
  std::string path = url.substr(slash);
  if (const auto q = path.find('?'); q != std::string::npos) path.resize(q);
  return path;
}

bool IsNameChar(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-' || ch == '.';
}

// The local name of the first element inside the SOAP Body: the EWS operation.
std::string SoapOperation(const std::string& body) {
  std::size_t pos = 0;
  while ((pos = body.find("Body", pos)) != std::string::npos) {
    const bool opens = pos > 0 && (body[pos - 1] == '<' || body[pos - 1] == ':');
    const std::size_t end = pos + 4;
    pos = end;
    if (!opens || end >= body.size() || (body[end] != '>' && body[end] != ' ')) continue;
    const auto close = body.find('>', end);
    if (close == std::string::npos) return {};
    const auto lt = body.find('<', close);
    if (lt == std::string::npos) return {};
    std::size_t i = lt + 1;
    std::string name;
    while (i < body.size() && (IsNameChar(body[i]) || body[i] == ':')) name += body[i++];
    if (const auto colon = name.rfind(':'); colon != std::string::npos) name.erase(0, colon + 1);
    return name;
  }
  return {};
}

// The text of the first <…ResponseCode> or <…ErrorCode> element that is not NoError (an opening
// tag, prefixed or not, with or without attributes: a SOAP fault's <e:ResponseCode xmlns:e=…>).
std::string FirstErrorCode(std::string_view body) {
  for (std::string_view tag : {std::string_view("ResponseCode"), std::string_view("ErrorCode")}) {
    for (std::size_t pos = body.find(tag); pos != std::string_view::npos;
         pos = body.find(tag, pos + tag.size())) {
      const std::size_t after = pos + tag.size();
      if (pos == 0 || after >= body.size()) continue;
      const char before = body[pos - 1];
      if ((before != '<' && before != ':') || (body[after] != '>' && body[after] != ' ')) continue;
      const std::size_t lt = body.rfind('<', pos);
      if (lt == std::string_view::npos || body.substr(lt, 2) == "</") continue;
      const std::size_t from = body.find('>', after);
      if (from == std::string_view::npos) break;
      const std::size_t end = body.find('<', from + 1);
      if (end == std::string_view::npos) break;
      const std::string_view code = body.substr(from + 1, end - from - 1);
      if (!code.empty() && code != "NoError") return std::string(code);
    }
  }
  return {};
}

std::string AadstsCode(const std::string& body) {
  const auto pos = body.find("AADSTS");
  if (pos == std::string::npos) return {};
  std::size_t end = pos + 6;
  while (end < body.size() && std::isdigit(static_cast<unsigned char>(body[end])) != 0) ++end;
  return body.substr(pos, end - pos);
}

// A Graph request as a transcript reads it: the path below /v1.0/users/{mailbox}, with item and
// folder ids (long, or base64 with '=' or '-'/'_' runs) as {id}, so transcripts hold no ids.
std::string GraphOperation(const std::string& method, const std::string& path) {
  std::string rest = path;
  if (rest.starts_with("/v1.0")) rest.erase(0, 5);
  std::string out;
  std::size_t segment = 0;
  for (std::size_t from = 1; from <= rest.size();) {
    std::size_t to = rest.find('/', from);
    if (to == std::string::npos) to = rest.size();
    const std::string part = rest.substr(from, to - from);
    std::string shown = part;
    if (segment == 1 && (out == "/users" || out == "/Users")) {
      shown = "{mailbox}";
    } else if (const auto paren = part.find("('"); paren != std::string::npos) {
      shown = part.substr(0, paren) + "({id})";  // a deltaLink's mailFolders('{id}')
    } else if (part.size() > 24 || part.find('=') != std::string::npos) {
      shown = "{id}";
    }
    if (!part.empty()) out += "/" + shown;
    ++segment;
    from = to + 1;
  }
  return method + " " + (out.empty() ? "/" : out);
}

// Graph's error code: {"error": {"code": "ErrorAccessDenied", …}}; empty for anything else.
std::string GraphErrorCode(const std::string& body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return {};
  const json& code = j["error"]["code"];
  return code.is_string() ? code.get<std::string>() : std::string();
}

bool IsDenial(const std::string& code) {
  return code == "ErrorAccessDenied" || code == "ErrorImpersonateUserDenied" ||
         code == "ErrorImpersonationDenied" || code == "ErrorNotAllowedByPolicy";
}

}  // namespace

Exchange Classify(const std::string& server, const client::HttpRequest& request,
                  const Result<client::HttpResponse>& response) {
  Exchange x;
  x.server = server;
  const std::string path = PathOf(request.url);
  if (path.find("/oauth2/") != std::string::npos && path.ends_with("/token")) {
    x.what = "token";
  } else if (const std::string op = request.method == "POST" ? SoapOperation(request.body) : "";
             !op.empty()) {
    x.what = op;
  } else if (server == "graph") {
    x.what = GraphOperation(request.method, path);
  } else {
    x.what = request.method + " " + path;
  }
  if (!response) {
    x.outcome = "network";
    x.detail = response.error().code;
    return x;
  }
  x.status = response->status;
  const std::string& body = response->body;
  if (x.status == 503 || x.status == 429) {
    x.outcome = "throttled";
    x.detail = "HTTP " + std::to_string(x.status);
    if (const std::string after = response->Header("Retry-After"); !after.empty()) {
      x.detail += " Retry-After " + after;
    }
    return x;
  }
  if (server == "graph") {
    if (x.status / 100 == 2) {
      x.outcome = "ok";  // a delta page or MIME: nothing to read for the transcript
    } else {
      x.detail = GraphErrorCode(body);
      x.outcome = x.status == 401 || x.status == 403 ? "denied" : "error";
      if (x.detail.empty()) x.detail = "HTTP " + std::to_string(x.status);
    }
    return x;
  }
  if (server == "aad") {
    x.detail = AadstsCode(body);
    x.outcome = x.status / 100 == 2 ? "ok" : (x.status == 400 || x.status == 401) ? "denied" : "error";
    return x;
  }
  if (x.status == 401 || x.status == 403) {
    x.outcome = "denied";
    std::string diag = response->Header("x-ms-diagnostics");
    if (const auto semi = diag.find(';'); semi != std::string::npos) diag.resize(semi);
    x.detail = diag.empty() ? "HTTP " + std::to_string(x.status) : diag;
    return x;
  }
  x.detail = FirstErrorCode(body);
  if (x.detail == "ErrorServerBusy" || x.detail == "ErrorExceededConnectionCount" ||
      x.detail == "ErrorTooManyObjectsOpened") {
    x.outcome = "throttled";
  } else if (IsDenial(x.detail)) {
    x.outcome = "denied";
  } else if (x.status / 100 != 2 || !x.detail.empty()) {
    x.outcome = "error";
    if (x.detail.empty()) x.detail = "HTTP " + std::to_string(x.status);
  } else {
    x.outcome = "ok";
  }
  return x;
}

Result<client::HttpResponse> ObservedTransport::Send(const client::HttpRequest& request) {
  const std::string server = server_of_(request.url);
  const bool token = server == "aad" && request.method == "POST" &&
                     PathOf(request.url).ends_with("/token");
  if (token && reuse_first_token_ && first_token_) return *first_token_;
  Result<client::HttpResponse> response = inner_.Send(request);
  if (token && reuse_first_token_ && response && response->status == 200) first_token_ = *response;
  sink_(Classify(server, request, response));
  return response;
}

Result<client::HttpResponse> ObservedTransport::SendStreaming(const client::HttpRequest& request,
                                                              const client::ChunkReceiver& receiver,
                                                              client::StreamCancel* cancel) {
  Result<client::HttpResponse> response = inner_.SendStreaming(request, receiver, cancel);
  sink_(Classify(server_of_(request.url), request, response));
  return response;
}

// ---- CrashingStore ----

Result<void> CrashingStore::Dead() const {
  return exo::Fail(ErrorCategory::kInternal, "SimulatedCrash",
                   "the process died here (a crash the scenario injected); nothing more is written");
}

Result<void> CrashingStore::AcquireLease(const client::FolderKey& key, const std::string& owner,
                                         SystemTime now, Duration ttl) {
  if (crashed_) return Dead();
  return inner_->AcquireLease(key, owner, now, ttl);
}

Result<void> CrashingStore::ReleaseLease(const client::FolderKey& key, const std::string& owner) {
  if (crashed_) return Dead();
  return inner_->ReleaseLease(key, owner);
}

Result<std::string> CrashingStore::SyncState(const client::FolderKey& key) {
  if (crashed_) return std::unexpected(Dead().error());
  return inner_->SyncState(key);
}

Result<void> CrashingStore::CommitSyncBatch(const client::FolderKey& key,
                                            const std::string& sync_state,
                                            const std::vector<client::MessageRecord>& new_messages) {
  if (crashed_) return Dead();
  return inner_->CommitSyncBatch(key, sync_state, new_messages);
}

Result<void> CrashingStore::ResetSyncState(const client::FolderKey& key) {
  if (crashed_) return Dead();
  return inner_->ResetSyncState(key);
}

Result<std::vector<client::MessageRecord>> CrashingStore::Messages(const client::FolderKey& key,
                                                                   client::MessageState state,
                                                                   std::size_t limit) {
  if (crashed_) return std::unexpected(Dead().error());
  return inner_->Messages(key, state, limit);
}

Result<std::optional<client::MessageRecord>> CrashingStore::Find(
    const client::FolderKey& key, const std::string& idempotency_key) {
  if (crashed_) return std::unexpected(Dead().error());
  return inner_->Find(key, idempotency_key);
}

Result<void> CrashingStore::SetState(const client::FolderKey& key,
                                     const std::string& idempotency_key,
                                     client::MessageState state, const std::string& item_id) {
  if (crashed_) return Dead();
  if (state == client::MessageState::kHanded && crash_at_handed_ > 0 && --crash_at_handed_ == 0) {
    crashed_ = true;
    return Dead();
  }
  return inner_->SetState(key, idempotency_key, state, item_id);
}

Result<void> CrashingStore::RecordFailure(const client::FolderKey& key,
                                          const std::string& idempotency_key,
                                          const std::string& error) {
  if (crashed_) return Dead();
  return inner_->RecordFailure(key, idempotency_key, error);
}

}  // namespace exo::scenarios::internal
