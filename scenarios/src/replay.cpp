// Replay of a cassette: a local HTTPS server that answers with the recorded responses in order, the
// real client library stepped against it on a SimulatedClock, and a verdict. Nothing here knows a
// mock's protocol code: the server is mock-kit's generic listener, and matching reads only what a
// cassette holds (method, path, the SOAP Body's first element, two form fields).
#include "exo/scenarios/replay.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exo/client/cassette.hpp"
#include "exo/client/config.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"
#include "exo/common/text.hpp"
#include "exo/common/time_format.hpp"
#include "exo/common/xml_text.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "exo/scenarios/scenario.hpp"
#include "internal/scratch_dir.hpp"

namespace exo::scenarios {

namespace {

using client::Cassette;
using client::CassetteExchange;

// Exchanges of the notification channel: the replay's monitor polls (a notification thread would
// wait on the clock by itself), so these are passed over and said so.
constexpr const char* kNotificationOperations[] = {"Subscribe", "GetStreamingEvents",
                                                   "Unsubscribe"};
// Rounds in a row without a request before the replay concludes the client stopped asking.
constexpr std::size_t kMaxIdleSteps = 100;
// Rounds at one instant before the replay concludes the monitor spins.
constexpr std::size_t kMaxSameInstant = 1000;
constexpr std::size_t kVerboseBody = 1200;

// "/path?query" of an absolute URL (raw, as sent).
std::string TargetOf(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "/";
  const auto hash = url.find('#', slash);
  return url.substr(slash, hash == std::string::npos ? hash : hash - slash);
}

// "/EWS/Exchange.asmx" of "https://host/EWS/Exchange.asmx?x=1".
std::string PathOf(const std::string& url) {
  const std::string target = TargetOf(url);
  return target.substr(0, target.find('?'));
}

std::string OriginOf(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto slash = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, slash);
}

std::string LocalName(std::string_view qname) {
  const auto colon = qname.find(':');
  return std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
}

// The name of the element starting at body[lt] ('<'), or empty for an end tag, comment or PI.
std::string_view TagName(std::string_view body, std::size_t lt) {
  if (lt + 1 >= body.size() || body[lt + 1] == '/' || body[lt + 1] == '!' || body[lt + 1] == '?') {
    return {};
  }
  const auto end = body.find_first_of(" \t\r\n/>", lt + 1);
  return body.substr(lt + 1, (end == std::string_view::npos ? body.size() : end) - lt - 1);
}

// The local name of the first element inside a SOAP Body: the EWS operation ("SyncFolderItems"),
// or empty when the body is no SOAP envelope.
std::string SoapOperation(std::string_view body) {
  bool in_body = false;
  for (auto lt = body.find('<'); lt != std::string_view::npos; lt = body.find('<', lt + 1)) {
    const std::string_view name = TagName(body, lt);
    if (name.empty()) continue;
    if (in_body) return LocalName(name);
    if (LocalName(name) == "Body") in_body = true;
  }
  return {};
}

bool IsTokenPath(const std::string& path) { return AsciiLower(path).ends_with("/token"); }

// What a request is, as far as matching goes.
struct Signature {
  std::string method;
  std::string path;
  std::string operation;  // the EWS operation, or a token request's "grant_type scope"

  std::string Describe() const {
    return method + " " + path + (operation.empty() ? "" : " " + operation);
  }
  bool Matches(const Signature& other) const {
    return method == other.method && AsciiIEquals(path, other.path) && operation == other.operation;
  }
};

Signature Sign(const std::string& method, const std::string& path, const std::string& body) {
  Signature s{method, path, {}};
  if (IsTokenPath(path)) {
    s.operation = client::FormField(body, "grant_type").value_or("?");
    auto scope = client::FormField(body, "scope");
    if (!scope) scope = client::FormField(body, "resource");
    if (scope) s.operation += " " + *scope;
  } else {
    s.operation = SoapOperation(body);
  }
  return s;
}

bool IsNotification(const Signature& s) {
  return std::find(std::begin(kNotificationOperations), std::end(kNotificationOperations),
                   s.operation) != std::end(kNotificationOperations);
}

std::string Shorten(const std::string& text) {
  if (text.size() <= kVerboseBody) return text;
  return text.substr(0, kVerboseBody) + "… (" + std::to_string(text.size()) + " bytes)";
}

const char* PhaseName(client::MonitorStatus::Phase p) {
  switch (p) {
    case client::MonitorStatus::Phase::kStarting:
      return "starting";
    case client::MonitorStatus::Phase::kHealthy:
      return "healthy";
    case client::MonitorStatus::Phase::kBackingOff:
      return "backing-off";
    case client::MonitorStatus::Phase::kStopped:
      return "stopped";
  }
  return "starting";
}

// The cassette's position, shared by the server's threads (which answer) and the client's
// transport (which moves the clock before each request). Thread-safe.
class ReplaySession {
 public:
  ReplaySession(const Cassette& cassette, SimulatedClock& clock, std::ostream& out, bool verbose)
      : c_(cassette), clock_(clock), out_(out), verbose_(verbose) {
    for (const CassetteExchange& e : c_.exchanges) {
      signatures_.push_back(Sign(e.request.method, PathOf(e.request.url), e.request.body));
    }
    start_ = clock_.Monotonic();
  }

  MonoTime start() const { return start_; }

  // Client side, before a request leaves: moves the clock to the next exchange's recorded time
  // when that is later. Time moves only here and in the stepping loop.
  void BeforeRequest() {
    std::optional<MonoTime> target;
    {
      std::lock_guard lock(mu_);
      PassNotificationsLocked();
      if (cursor_ < c_.exchanges.size() && !divergence_) target = start_ + c_.exchanges[cursor_].at;
    }
    if (target) clock_.AdvanceTo(*target);
  }

  // Server side: one request.
  void Serve(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    PassNotificationsLocked();
    const std::string path = PathOf("https://replay" + req.target);
    const Signature got = Sign(req.method, path, req.body);
    if (divergence_) return Refuse(res, "the replay stopped: " + *divergence_);
    if (cursor_ >= c_.exchanges.size()) {
      beyond_.push_back(got.Describe());
      Print("[end] " + Now() + " " + got.Describe() + " → nothing left in the cassette");
      return Refuse(res, "the cassette has no exchange " + std::to_string(cursor_ + 1));
    }
    const CassetteExchange& e = c_.exchanges[cursor_];
    const Signature& want = signatures_[cursor_];
    const std::string number = "[" + std::to_string(cursor_ + 1) + "/" +
                               std::to_string(c_.exchanges.size()) + "] " + Now() + " ";
    if (!got.Matches(want)) {
      const bool same_target = got.method == want.method && AsciiIEquals(got.path, want.path);
      divergence_ = "exchange " + std::to_string(cursor_ + 1) + ": the client sent " +
                    got.Describe() + ", the cassette has " +
                    (same_target && !want.operation.empty() ? want.operation : want.Describe());
      Print(number + got.Describe() + " → DIVERGED");
      if (verbose_) PrintRequest(req.body);
      return Refuse(res, *divergence_);
    }
    ++cursor_;
    ++served_;
    if (e.response) {
      Print(number + got.Describe() + " → " + std::to_string(e.response->status) + Late(e));
      std::string type = "application/octet-stream";
      for (const auto& [k, v] : e.response->headers) {
        const std::string name = AsciiLower(k);
        if (name == "content-type") {
          type = v;
        } else if (name != "content-length" && name != "transfer-encoding" &&
                   name != "connection" && name != "keep-alive" && name != "content-encoding") {
          res.set_header(k, v);
        }
      }
      res.status = e.response->status;
      res.set_content(e.response->body, type);
    } else {
      const Error err = e.error.value_or(Error{});
      Print(number + got.Describe() + " → connection closed (recorded: " + err.code +
            (err.message.empty() ? "" : ": " + err.message) + ")" + Late(e));
      // Content-Length announces a byte that never comes: httplib drops the connection when the
      // provider gives up, so the client gets no response, only a transport error.
      res.status = 502;
      res.set_content_provider(1, "text/plain",
                               [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
    }
    if (verbose_) {
      PrintRequest(req.body);
      if (e.response) {
        for (const auto& [k, v] : e.response->headers) Print("    < " + k + ": " + v);
        if (!e.response->body.empty()) Print("    < " + Shorten(e.response->body));
      }
    }
  }

  // Every exchange served or passed over.
  bool Finished() {
    std::lock_guard lock(mu_);
    PassNotificationsLocked();
    return cursor_ >= c_.exchanges.size();
  }
  bool Stopped() const {
    std::lock_guard lock(mu_);
    return divergence_.has_value() || !beyond_.empty();
  }
  std::optional<MonoTime> NextAt() const {
    std::lock_guard lock(mu_);
    if (cursor_ >= c_.exchanges.size()) return std::nullopt;
    return start_ + c_.exchanges[cursor_].at;
  }
  std::size_t served() const {
    std::lock_guard lock(mu_);
    return served_;
  }
  std::size_t passed_over() const {
    std::lock_guard lock(mu_);
    return passed_;
  }
  std::size_t cursor() const {
    std::lock_guard lock(mu_);
    return cursor_;
  }
  std::optional<std::string> divergence() const {
    std::lock_guard lock(mu_);
    return divergence_;
  }
  std::vector<std::string> beyond() const {
    std::lock_guard lock(mu_);
    return beyond_;
  }
  std::string Describe(std::size_t index) const { return signatures_[index].Describe(); }

  void Print(const std::string& line) {
    std::lock_guard lock(out_mu_);
    out_ << line << "\n";
    out_.flush();
  }

 private:
  std::string Now() const { return FormatOffset(clock_.Monotonic() - start_); }

  // " (recorded at +00:00:50)" when the client came later than the recording did by a second.
  std::string Late(const CassetteExchange& e) const {
    const Duration now = clock_.Monotonic() - start_;
    if (now - Duration(e.at) < std::chrono::seconds(1)) return "";
    return " (recorded at " + FormatOffset(e.at) + ")";
  }

  void PassNotificationsLocked() {
    while (!divergence_ && cursor_ < c_.exchanges.size() && IsNotification(signatures_[cursor_])) {
      const CassetteExchange& e = c_.exchanges[cursor_];
      const std::string outcome = !e.response               ? std::string("no response")
                                  : e.response->status == 0 ? std::string("ended by the client")
                                                            : std::to_string(e.response->status);
      Print("[" + std::to_string(cursor_ + 1) + "/" + std::to_string(c_.exchanges.size()) + "] " +
            FormatOffset(e.at) + " " + signatures_[cursor_].Describe() + " → " + outcome +
            " (passed over: notifications are not replayed; the client polls)");
      ++cursor_;
      ++passed_;
    }
  }

  void PrintRequest(const std::string& body) {
    if (!body.empty()) Print("    > " + Shorten(body));
  }

  void Refuse(httplib::Response& res, const std::string& why) {
    res.status = 500;
    res.set_content("exo-scenario replay: " + why, "text/plain");
  }

  const Cassette& c_;
  SimulatedClock& clock_;
  std::ostream& out_;
  const bool verbose_;
  std::vector<Signature> signatures_;
  MonoTime start_{};

  mutable std::mutex mu_;
  std::size_t cursor_ = 0;
  std::size_t served_ = 0;
  std::size_t passed_ = 0;
  std::optional<std::string> divergence_;
  std::vector<std::string> beyond_;
  std::mutex out_mu_;
};

// The client's HTTP: every host is the replay server (scheme, host and port replaced, path and
// query kept, so the client keeps the URLs it was configured with or discovered), and the clock is
// moved to the next exchange before the request leaves.
class ReplayTransport final : public client::HttpTransport {
 public:
  ReplayTransport(std::unique_ptr<client::HttpTransport> inner, ReplaySession& session,
                  std::string base)
      : inner_(std::move(inner)), session_(session), base_(std::move(base)) {}

  Result<client::HttpResponse> Send(const client::HttpRequest& request) override {
    session_.BeforeRequest();
    return Restore(request, inner_->Send(Rewrite(request)));
  }
  Result<client::HttpResponse> SendStreaming(const client::HttpRequest& request,
                                             const client::ChunkReceiver& receiver,
                                             client::StreamCancel* cancel) override {
    session_.BeforeRequest();
    return Restore(request, inner_->SendStreaming(Rewrite(request), receiver, cancel));
  }

 private:
  // A transport error names the URL the client asked for, as it did in the field.
  Result<client::HttpResponse> Restore(const client::HttpRequest& request,
                                       Result<client::HttpResponse> result) const {
    if (result) return result;
    Error e = result.error();
    const std::string origin = OriginOf(request.url);
    for (auto at = e.message.find(base_); at != std::string::npos;
         at = e.message.find(base_, at + origin.size())) {
      e.message.replace(at, base_.size(), origin);
    }
    return std::unexpected(e);
  }

  client::HttpRequest Rewrite(client::HttpRequest request) const {
    request.url = base_ + TargetOf(request.url);
    return request;
  }

  std::unique_ptr<client::HttpTransport> inner_;
  ReplaySession& session_;
  std::string base_;
};

// The .config keys of the client that made the cassette: what the recorder noted (the CLI notes
// the configuration's keys that are neither secret nor a local path), then what the requests show.
std::map<std::string, std::string> DerivedKeys(const Cassette& c, std::vector<std::string>& notes) {
  std::map<std::string, std::string> keys;
  for (const auto& [k, v] : c.context) {
    if (k.starts_with("EmailIntegration")) keys[k] = v;
  }
  const bool noted = c.context.contains("command");
  const CassetteExchange* token = nullptr;
  const CassetteExchange* first_ews = nullptr;
  const CassetteExchange* first_autodiscover = nullptr;
  std::string distinguished;
  std::set<std::string> operations;
  for (const CassetteExchange& e : c.exchanges) {
    const std::string path = PathOf(e.request.url);
    const std::string lower = AsciiLower(path);
    if (IsTokenPath(path)) {
      if (token == nullptr) token = &e;
    } else if (lower.find("/autodiscover") != std::string::npos) {
      if (first_autodiscover == nullptr && first_ews == nullptr) first_autodiscover = &e;
    } else if (lower.ends_with(".asmx")) {
      if (first_ews == nullptr) first_ews = &e;
      const std::string op = SoapOperation(e.request.body);
      operations.insert(op);
      if (op == "GetFolder" && distinguished.empty()) {
        const auto at = e.request.body.find("DistinguishedFolderId Id=\"");
        if (at != std::string::npos) {
          const auto from = at + 26;
          distinguished = e.request.body.substr(from, e.request.body.find('"', from) - from);
        }
      }
    }
  }
  if (token != nullptr) {
    if (auto id = client::FormField(token->request.body, "client_id")) {
      keys["EmailIntegrationIdApp"] = *id;
    }
    // https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
    const std::string path = PathOf(token->request.url);
    const auto second = path.find('/', 1);
    if (second != std::string::npos) keys["EmailIntegrationTenantId"] = path.substr(1, second - 1);
    if (auto scope = client::FormField(token->request.body, "scope");
        scope && !keys.contains("EmailIntegrationWebmailDefault")) {
      keys["EmailIntegrationWebmailDefault"] = *scope;
    }
    if (!keys.contains("EmailIntegrationAuthority")) {
      keys["EmailIntegrationAuthority"] = OriginOf(token->request.url);
    }
  }
  if (first_ews != nullptr) {
    std::string mailbox;
    for (const auto& [k, v] : first_ews->request.headers) {
      if (AsciiIEquals(k, "X-AnchorMailbox")) mailbox = v;
    }
    const std::string& body = first_ews->request.body;
    if (const auto at = body.find("PrimarySmtpAddress>");
        mailbox.empty() && at != std::string::npos) {
      const auto from = at + 19;
      mailbox = body.substr(from, body.find('<', from) - from);
    }
    if (!mailbox.empty()) keys["EmailIntegrationMailbox"] = mailbox;
  }
  if (!noted) {
    if (first_autodiscover != nullptr) {
      keys["EmailIntegrationAutodiscoverUrl"] = OriginOf(first_autodiscover->request.url);
    } else if (first_ews != nullptr) {
      keys["EmailIntegrationEwsUrl"] = first_ews->request.url;
    }
    if (!distinguished.empty()) keys["EmailIntegrationFolder"] = distinguished;
    if (operations.contains("DeleteItem")) {
      keys["EmailIntegrationDisposition"] = "delete";
    } else if (operations.contains("MoveItem")) {
      keys["EmailIntegrationDisposition"] = "move:Processed";
      notes.push_back(
          "the cassette moves messages but does not say where: assumed "
          "move:Processed (give --config for the real disposition)");
    } else if (operations.contains("UpdateItem")) {
      keys["EmailIntegrationDisposition"] = "markread";
    } else if (operations.contains("GetItem")) {
      keys["EmailIntegrationDisposition"] = "none";
    }
    notes.push_back(
        "the cassette does not note the client's settings: folder and disposition "
        "are guessed from its requests");
  }
  // A client the cassette shows nothing of still needs a valid configuration.
  if (!keys.contains("EmailIntegrationIdApp")) {
    keys["EmailIntegrationIdApp"] = "00000000-0000-0000-0000-000000000000";
    notes.push_back("no token request in the cassette: a placeholder app id");
  }
  if (!keys.contains("EmailIntegrationTenantId")) {
    keys["EmailIntegrationTenantId"] = "00000000-0000-0000-0000-000000000000";
  }
  if (!keys.contains("EmailIntegrationMailbox")) {
    keys["EmailIntegrationMailbox"] = "mailbox@example.com";
    notes.push_back("no EWS request in the cassette: a placeholder mailbox");
  }
  return keys;
}

Result<void> WriteConfig(const std::filesystem::path& file,
                         const std::map<std::string, std::string>& keys) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n";
  for (const auto& [k, v] : keys) {
    xml += "    <add key=\"" + XmlEscape(k) + "\" value=\"" + XmlEscape(v) + "\"/>\n";
  }
  xml += "  </appSettings>\n</configuration>\n";
  return WriteFileAtomically(file, xml, 0600);
}

// The client's .config in `dir`: the given one or one derived from the cassette, with a dummy
// secret under a fresh key, the replay's CA and a fresh state directory.
Result<client::ClientConfig> PrepareConfig(const ReplayOptions& options, const Cassette& cassette,
                                           const std::filesystem::path& dir,
                                           const std::filesystem::path& ca_file,
                                           std::vector<std::string>& notes) {
  const std::filesystem::path file = dir / "replay.config";
  const std::filesystem::path key_file = dir / "replay.key";
  auto key = client::SecretKey::Generate(key_file);
  if (!key) return std::unexpected(key.error());
  auto sealed = client::ProtectSecret("replay-dummy-secret-not-a-real-one", *key);
  if (!sealed) return std::unexpected(sealed.error());
  std::map<std::string, std::string> overrides = {{"EmailIntegrationClientSecret", *sealed},
                                                  {"EmailIntegrationKeyFile", key_file.string()},
                                                  {"EmailIntegrationCaBundle", ca_file.string()},
                                                  {"EmailIntegrationStateDir", dir.string()},
                                                  {"EmailIntegrationCertificate", ""}};
  if (options.config) {
    auto text = ReadFile(*options.config);
    if (!text) return std::unexpected(text.error());
    if (auto ok = WriteFileAtomically(file, *text, 0600); !ok) return std::unexpected(ok.error());
    for (const auto& [k, v] : overrides) {
      if (auto ok = client::SetConfigValue(file, k, v); !ok) return std::unexpected(ok.error());
    }
  } else {
    std::map<std::string, std::string> keys = DerivedKeys(cassette, notes);
    keys["EmailIntegrationConnectionType"] = "Exchange";
    for (const auto& [k, v] : overrides) {
      if (!v.empty()) keys[k] = v;
    }
    if (auto ok = WriteConfig(file, keys); !ok) return std::unexpected(ok.error());
  }
  auto config = client::LoadClientConfig(file);
  if (!config) {
    Error e = config.error();
    e.message = (options.config ? options.config->string() : std::string("the derived .config")) +
                ": " + e.message;
    return std::unexpected(e);
  }
  return config;
}

std::string DispositionText(const client::Disposition& d) {
  switch (d.kind) {
    case client::DispositionKind::kNone:
      return "none";
    case client::DispositionKind::kMarkRead:
      return "markread";
    case client::DispositionKind::kDelete:
      return "delete";
    case client::DispositionKind::kMove:
      return "move:" + d.folder;
  }
  return "?";
}

int BadInput(std::ostream& err, const std::string& what) {
  err << "exo-scenario: replay: " << what << "\n";
  return kReplayBadInput;
}

}  // namespace

int Replay(const ReplayOptions& options, std::ostream& out, std::ostream& err) {
  auto cassette = Cassette::Load(options.cassette);
  if (!cassette) return BadInput(err, cassette.error().message);
  if (cassette->exchanges.empty()) {
    return BadInput(err, options.cassette.string() + ": the cassette holds no exchange to replay");
  }
  internal::ScratchDir dir("exo-replay");
  if (dir.path().empty()) return BadInput(err, "cannot create a temporary directory");

  SimulatedClock clock(cassette->recorded_at);
  SeededRandom random(1);
  ReplaySession session(*cassette, clock, out, options.verbose);

  auto tls = mock::PrepareServerTls(dir.path() / "ca", {}, "127.0.0.1");
  if (!tls)
    return BadInput(err, "cannot make the replay server's certificate: " + tls.error().Describe());
  mock::ServerOptions server_options;
  server_options.name = "replay";
  server_options.tls = tls->identity;
  server_options.threads = 4;
  server_options.max_body_bytes = 64 * 1024 * 1024;
  mock::HttpServer server(server_options, clock, random);
  const auto serve = [&session](const httplib::Request& req, httplib::Response& res) {
    session.Serve(req, res);
  };
  server.Get(".*", serve);
  server.Post(".*", serve);
  server.Put(".*", serve);
  server.Patch(".*", serve);
  server.Delete(".*", serve);
  if (auto ok = server.Start(); !ok) return BadInput(err, ok.error().Describe());

  std::vector<std::string> notes;
  auto config = PrepareConfig(options, *cassette, dir.path(), tls->ca_file, notes);
  if (!config) {
    server.Stop();
    return BadInput(err, config.error().Describe());
  }
  const auto context = [&](const char* key, const std::string& fallback) {
    auto it = cassette->context.find(key);
    return it == cassette->context.end() ? fallback : it->second;
  };
  out << "replay " << options.cassette.string() << ": " << cassette->exchanges.size()
      << " exchange(s) recorded " << FormatIso8601(cassette->recorded_at) << " by "
      << (cassette->client.empty() ? "an unknown client" : cassette->client)
      << (cassette->context.contains("command") ? " (" + context("command", "") + ")" : "") << "\n";
  out << "client: app " << config->app_id << ", tenant " << config->tenant_id << ", mailbox "
      << config->mailbox << ", folder " << config->folder << ", disposition "
      << DispositionText(config->disposition) << " ("
      << (options.config ? "from " + options.config->string() : std::string("from the cassette"))
      << ")\n";
  for (const std::string& note : notes) out << "note: " << note << "\n";
  out.flush();

  std::size_t handed = 0;
  int exit_code = kReplayConsumed;
  {
    client::HttpOptions http;
    http.ca_bundle = tls->ca_file;
    client::MailboxClientOptions client_options;
    client_options.http = std::make_shared<ReplayTransport>(client::MakeHttpTransport(http),
                                                            session, server.base_url());
    client_options.owner = "exo-scenario-replay";
    auto opened = client::MailboxClient::Open(*config, clock, random, client_options);
    if (!opened) {
      server.Stop();
      return BadInput(err, opened.error().Describe());
    }
    std::unique_ptr<client::MailboxClient> mailbox = std::move(*opened);
    client::MonitorOptions base;
    base.use_notifications = false;  // a notification thread would wait on the clock by itself
    base.only_unread = context("onlyUnread", "true") != "false";
    if (const std::string poll = context("pollIntervalSeconds", "");
        !poll.empty() && poll.size() < 9 && std::all_of(poll.begin(), poll.end(), ::isdigit) &&
        poll != "0") {
      base.poll_interval = std::chrono::seconds(std::stoll(poll));
    }
    auto monitor = mailbox->MakeMonitor(
        [&](const client::HandledMessage& m) -> Result<void> {
          ++handed;
          session.Print("    handed \"" + m.message.subject + "\" " + m.idempotency_key);
          return {};
        },
        base);
    if (!monitor) {
      server.Stop();
      return BadInput(err, monitor.error().Describe());
    }

    // Steps the monitor when it is due, or earlier at the recorded time of the next request (what
    // a notification or a reloaded configuration did in the field), until the cassette is used up.
    std::string stopped_because;
    std::size_t steps = 0, idle = 0, same_instant = 0;
    MonoTime last_step{};
    client::MonitorStatus status;
    for (;;) {
      if (session.Stopped() || session.Finished()) break;
      if (steps >= options.max_steps) {
        stopped_because = "stopped after " + std::to_string(steps) + " monitor round(s) (--steps)";
        break;
      }
      if (idle >= kMaxIdleSteps) {
        stopped_because = "the client made no request in " + std::to_string(idle) + " rounds";
        break;
      }
      const MonoTime now = clock.Monotonic();
      MonoTime when = steps == 0 ? now : status.next_wakeup;
      if (steps > 0 && idle == 0) {
        if (auto recorded = session.NextAt(); recorded && *recorded < when) when = *recorded;
      }
      when = std::max(when, now);
      same_instant = steps > 0 && when == last_step ? same_instant + 1 : 0;
      if (same_instant > kMaxSameInstant) {
        stopped_because = "the monitor keeps asking to run again at the same instant";
        break;
      }
      last_step = when;
      clock.AdvanceTo(when);
      const std::size_t before = session.served();
      status = (*monitor)->Step();
      ++steps;
      idle = session.served() > before ? 0 : idle + 1;
    }

    const std::size_t total = cassette->exchanges.size();
    const std::size_t passed = session.passed_over();
    out << "replayed " << session.cursor() << "/" << total << " exchange(s)";
    if (passed > 0) out << " (" << passed << " passed over: notifications)";
    out << " in " << steps << " monitor round(s), "
        << FormatOffset(clock.Monotonic() - session.start()) << " simulated; " << handed
        << " message(s) handed\n";
    out << "client " << PhaseName(status.phase) << " handed=" << status.handed
        << " disposed=" << status.disposed << " pending=" << status.pending
        << " syncs=" << status.syncs << " resyncs=" << status.resyncs << "\n";
    if (status.last_error) {
      const Error& e = *status.last_error;
      out << "last error: " << (e.code.empty() ? "-" : e.code) << " (" << ToString(e.category)
          << "): " << e.message << "\n";
      if (!e.remedy.empty()) out << "  remedy: " << e.remedy << "\n";
    } else {
      out << "last error: none\n";
    }

    std::string verdict;
    if (auto d = session.divergence()) {
      verdict = *d;
    } else if (auto beyond = session.beyond(); !beyond.empty()) {
      verdict = "the cassette ended after exchange " + std::to_string(total) +
                "; the client went on with " + beyond.front();
      if (beyond.size() > 1) verdict += " (and " + std::to_string(beyond.size() - 1) + " more)";
    } else if (const std::size_t at = session.cursor(); at < total) {
      verdict = "exchange(s) " + std::to_string(at + 1) + "-" + std::to_string(total) +
                " never requested (the next is " + session.Describe(at) +
                "): " + (stopped_because.empty() ? "the client stopped" : stopped_because);
    }
    if (verdict.empty()) {
      out << "OK: the client consumed the whole cassette in order\n";
    } else {
      out << "FAILED: " << verdict << "\n";
      err << "exo-scenario: replay: " << verdict << "\n";
      exit_code = kReplayDiverged;
    }
    out.flush();
    // The monitor and the client go before the server: a stopping server waits for kept-alive
    // connections.
  }
  server.Stop();
  return exit_code;
}

}  // namespace exo::scenarios
