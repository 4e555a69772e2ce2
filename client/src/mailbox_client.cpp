// MailboxClient: the configuration turned into live pieces. The monitor talks to RoutedTransport,
// which keeps folder ids, item ids and sync states meaningful while the endpoint behind it changes
// (autodiscover, a hybrid mailbox found on-premises, a reloaded configuration, EWS to Graph).
#include "exo/client/mailbox_client.hpp"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>

#include "exo/client/autodiscover.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/client/ews_transport.hpp"
#include "exo/client/graph_transport.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/file.hpp"
#include "exo/common/log.hpp"
#include "exo/common/text.hpp"
#include "internal/ews_xml.hpp"

namespace exo::client {

namespace {

constexpr const char* kExchangeOnlineEws = "https://outlook.office365.com/EWS/Exchange.asmx";

// "https://host[:port]" of an absolute URL.
std::string Origin(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

enum class Protocol { kEws, kGraph };

// Where the mailbox is served, over which protocol, and with which token.
struct Endpoint {
  Protocol protocol = Protocol::kEws;
  std::string url;  // EWS: the service URL; Graph: the base URL (EmailIntegrationGraphUrl)
  std::string scope;
  bool exchange_online = true;
  bool discovered = false;  // came from autodiscover (so ErrorNonExistentMailbox is final)
  std::string tag;          // stable per protocol and URL: marks the sync states it issued
  std::string reason;       // why this one (TransportInfo::reason, the doctor)
};

Endpoint MakeEndpoint(std::string url, std::string scope, bool discovered) {
  Endpoint e;
  e.exchange_online = ews::IsExchangeOnlineScope(scope);
  e.tag = HexEncode(crypto::Sha256(AsciiLower(url))).substr(0, 8);
  e.url = std::move(url);
  e.scope = std::move(scope);
  e.discovered = discovered;
  return e;
}

Endpoint MakeGraphEndpoint(const ClientConfig& c, std::string reason) {
  Endpoint e;
  e.protocol = Protocol::kGraph;
  e.url = c.graph_url;
  e.scope = GraphScopeFor(c.graph_url);
  e.exchange_online = true;  // Graph serves no on-premises mailbox
  // Never an EWS endpoint's tag, even on the same host: a sync state does not cross protocols.
  e.tag = HexEncode(crypto::Sha256("graph " + AsciiLower(c.graph_url))).substr(0, 8);
  e.reason = std::move(reason);
  return e;
}

// Graph's item ids go out as "graph:<id>"; EWS's go out as they are, as they always have (rows
// stored before Graph existed hold them, and base64 has no ':'). So an id reaching the other
// protocol after a switch is recognised without asking the server, which might otherwise answer
// ErrorItemNotFound (the monitor would take the message for gone and skip its disposition).
constexpr std::string_view kGraphIdPrefix = "graph:";

// The credential-dependent pieces, rebuilt together when the identity or endpoints change.
struct Wiring {
  std::shared_ptr<HttpTransport> http;
  std::shared_ptr<TokenProvider> tokens;
};

}  // namespace

struct MailboxClient::State {
  Clock& clock;
  Random& random;
  MailboxClientOptions options;

  mutable std::mutex mu;  // guards everything below
  ClientConfig config;
  Wiring wiring;
  std::string config_text;  // what the source held when `config` was read from it
  std::unique_ptr<MailboxTransport> transport;  // the RoutedTransport
  std::shared_ptr<CheckpointStore> store;
  std::weak_ptr<MailboxMonitor> monitor;

  std::thread watcher;
  std::atomic<bool> stopping{false};

  State(ClientConfig c, Clock& k, Random& r, MailboxClientOptions o)
      : clock(k), random(r), options(std::move(o)), config(std::move(c)) {}

  std::shared_ptr<spdlog::logger> Log() const { return log::Get("client"); }

  Result<SecretString> Decrypt(const ClientConfig& c) const {
    Result<SecretKey> key =
        c.key_file ? SecretKey::LoadFile(*c.key_file)
                   : SecretKey::FromEnvironment(options.key_environment_variable.c_str());
    if (!key) return std::unexpected(key.error());
    return UnprotectSecret(c.encrypted_secret, *key);
  }

  Wiring Wire(const ClientConfig& c) {
    Wiring w;
    if (options.http) {
      w.http = options.http;
    } else {
      HttpOptions h;
      h.ca_bundle = c.ca_bundle;
      w.http = MakeHttpTransport(h);
    }
    ClientCredential credential;
    credential.tenant = c.tenant_id;
    credential.client_id = c.app_id;
    if (c.certificate_file) {
      credential.certificate = c.certificate_file;
    } else {
      // Read at each token request, so a rotated secret in a reloaded config is used at once.
      credential.secret = [this]() -> Result<SecretString> {
        ClientConfig now;
        {
          std::lock_guard lock(mu);
          now = config;
        }
        return Decrypt(now);
      };
    }
    TokenProviderOptions t;
    t.authority_host = c.authority_host;
    w.tokens = std::make_shared<TokenProvider>(credential, t, *w.http, clock, random);
    return w;
  }

  void RememberText() {
    if (config.source.empty()) return;
    if (auto text = ReadFile(config.source)) config_text = std::move(*text);
  }
};

namespace {

// Folder ids handed to the monitor are names ("inbox", "Processed"), resolved per endpoint; sync
// states carry the tag of the endpoint that issued them, so a state from another server or
// protocol is answered with ErrorInvalidSyncStateData (a full resync, which hands nothing twice:
// the monitor keys messages by Message-ID, the same in EWS and Graph) instead of being sent where
// it means nothing. Item ids of the other protocol are ErrorInvalidIdMalformed (the monitor waits
// for the resync to give the message its id here) and are left out of FetchMessages (the full
// resync before every hand-over has re-identified each message still in the folder).
class RoutedTransport final : public MailboxTransport {
 public:
  explicit RoutedTransport(MailboxClient::State& client) : client_(client) {}
  ~RoutedTransport() override { StopWatching(); }

  TransportInfo Info() const override {
    std::lock_guard lock(mu_);
    TransportInfo i;
    if (inner_) i = inner_->transport->Info();
    if (endpoint_) {
      i.protocol = endpoint_->protocol == Protocol::kGraph ? "Graph" : "EWS";
      i.endpoint = endpoint_->url;
      i.exchange_online = endpoint_->exchange_online;
      i.reason = endpoint_->reason;
    } else {
      const bool graph = client_.config.transport == TransportKind::kGraph;
      i.protocol = graph ? "Graph" : "EWS";
      i.endpoint = graph ? client_.config.graph_url : client_.config.ews_url;
      i.exchange_online = true;
    }
    return i;
  }

  // Connects (discovering when needed) without asking the mailbox anything.
  Result<TransportInfo> Connect() {
    if (auto ok = Current(); !ok) return std::unexpected(ok.error());
    return Info();
  }

  Result<std::string> ResolveFolder(const std::string& name, bool create_if_missing) override {
    auto id = WithRediscovery<std::string>(
        [&](Inner& in) -> Result<std::string> { return FolderId(in, name, create_if_missing); });
    if (!id) return std::unexpected(id.error());
    return name;
  }

  Result<SyncPage> SyncFolder(const std::string& folder, const std::string& sync_state,
                              int max_changes) override {
    return WithRediscovery<SyncPage>([&](Inner& in) -> Result<SyncPage> {
      std::string inner_state;
      if (!sync_state.empty()) {
        const std::string prefix = "exo1:" + in.endpoint.tag + ":";
        if (!sync_state.starts_with(prefix)) {
          return Fail(ErrorCategory::kProtocol, "ErrorInvalidSyncStateData",
                      "the sync state was issued by another server than " + in.endpoint.url,
                      "none: the monitor resyncs the folder, handing nothing twice");
        }
        inner_state = sync_state.substr(prefix.size());
      }
      auto id = FolderId(in, folder, false);
      if (!id) return std::unexpected(id.error());
      auto page = in.transport->SyncFolder(*id, inner_state, max_changes);
      if (page) {
        page->sync_state = "exo1:" + in.endpoint.tag + ":" + page->sync_state;
        for (FolderChange& c : page->changes) c.message.id = OuterId(in, c.message.id);
      }
      return page;
    });
  }

  Result<std::vector<MailMessage>> FetchMessages(const std::vector<std::string>& ids) override {
    return WithRediscovery<std::vector<MailMessage>>(
        [&](Inner& in) -> Result<std::vector<MailMessage>> {
          std::vector<std::string> own;
          for (const std::string& id : ids) {
            if (auto inner = InnerId(in, id)) own.push_back(*inner);
          }
          if (own.empty()) return std::vector<MailMessage>();
          auto messages = in.transport->FetchMessages(own);
          if (messages) {
            for (MailMessage& m : *messages) m.id = OuterId(in, m.id);
          }
          return messages;
        });
  }
  Result<void> MarkRead(const std::string& id) override {
    return WithRediscovery<void>([&](Inner& in) -> Result<void> {
      auto inner = InnerId(in, id);
      if (!inner) return std::unexpected(ForeignId(in, id));
      return in.transport->MarkRead(*inner);
    });
  }
  Result<std::string> Move(const std::string& id, const std::string& folder) override {
    return WithRediscovery<std::string>([&](Inner& in) -> Result<std::string> {
      auto inner = InnerId(in, id);
      if (!inner) return std::unexpected(ForeignId(in, id));
      auto target = FolderId(in, folder, true);
      if (!target) return std::unexpected(target.error());
      auto moved = in.transport->Move(*inner, *target);
      if (!moved) return moved;
      return OuterId(in, *moved);
    });
  }
  Result<void> Delete(const std::string& id) override {
    return WithRediscovery<void>([&](Inner& in) -> Result<void> {
      auto inner = InnerId(in, id);
      if (!inner) return std::unexpected(ForeignId(in, id));
      return in.transport->Delete(*inner);
    });
  }
  Result<void> Reply(const std::string& id, const std::string& body_text) override {
    return WithRediscovery<void>([&](Inner& in) -> Result<void> {
      auto inner = InnerId(in, id);
      if (!inner) return std::unexpected(ForeignId(in, id));
      return in.transport->Reply(*inner, body_text);
    });
  }
  Result<bool> Watch(const std::string& folder, std::function<void()> on_change) override {
    auto in = Current();
    if (!in) return std::unexpected(in.error());
    auto id = FolderId(**in, folder, false);
    if (!id) return std::unexpected(id.error());
    auto watching = (*in)->transport->Watch(*id, on_change);
    if (watching) {
      // Kept even while this transport polls (Graph): the next endpoint may stream (EWS). The
      // monitor calls StopWatching for any answer that is not an error.
      std::lock_guard lock(mu_);
      watched_ = {folder, std::move(on_change)};
    }
    return watching;
  }
  void StopWatching() override {
    std::shared_ptr<Inner> in;
    {
      std::lock_guard lock(mu_);
      in = inner_;
      watched_.reset();
    }
    if (in) in->transport->StopWatching();
  }

  // A new configuration: the next call builds its inner transport from the new wiring, and
  // finds the endpoint again when its settings changed.
  void Rewire(bool endpoint_changed) {
    std::shared_ptr<Inner> old;
    {
      std::lock_guard lock(mu_);
      old = std::move(inner_);
      if (endpoint_changed) endpoint_.reset();
    }
    if (old) old->transport->StopWatching();
  }

 private:
  struct Inner {
    Endpoint endpoint;
    Wiring wiring;
    std::unique_ptr<MailboxTransport> transport;
    std::mutex folders_mu;
    std::map<std::string, std::string> folders;  // name -> this endpoint's id
  };

  static std::string OuterId(const Inner& in, std::string id) {
    return in.endpoint.protocol == Protocol::kGraph ? std::string(kGraphIdPrefix) + id : id;
  }
  // The id as the current endpoint's protocol knows it; nullopt for the other protocol's ids.
  static std::optional<std::string> InnerId(const Inner& in, const std::string& id) {
    const bool graph_id = id.starts_with(kGraphIdPrefix);
    if (in.endpoint.protocol == Protocol::kGraph) {
      if (!graph_id) return std::nullopt;
      return id.substr(kGraphIdPrefix.size());
    }
    if (graph_id) return std::nullopt;
    return id;
  }
  static Error ForeignId(const Inner& in, const std::string& id) {
    const bool graph = in.endpoint.protocol == Protocol::kGraph;
    Error e;
    e.category = ErrorCategory::kProtocol;
    e.code = "ErrorInvalidIdMalformed";
    e.message = "the item id " + id.substr(0, 40) + (id.size() > 40 ? "..." : "") +
                " was issued by " + (graph ? "EWS" : "Microsoft Graph") + ", and the mailbox is " +
                "now read over " + (graph ? "Microsoft Graph" : "EWS");
    e.remedy =
        "none: the next sync gives the message its id here (a change of transport "
        "starts a full resync, which hands nothing twice)";
    return e;
  }

  static Result<std::string> FolderId(Inner& in, const std::string& name, bool create) {
    {
      std::lock_guard lock(in.folders_mu);
      if (auto it = in.folders.find(name); it != in.folders.end()) return it->second;
    }
    auto id = in.transport->ResolveFolder(name, create);
    if (!id) return std::unexpected(id.error());
    std::lock_guard lock(in.folders_mu);
    in.folders[name] = *id;
    return *id;
  }

  Result<Endpoint> FindEndpoint(const ClientConfig& c, const Wiring& w) {
    if (c.transport == TransportKind::kGraph) {
      return MakeGraphEndpoint(c, "EmailIntegrationTransport=graph");
    }
    // Under auto a configured Exchange Online URL settles nothing (the mailbox may be a hybrid
    // one on-premises): autodiscover, starting there, does; an on-premises URL and scope do.
    if (!c.ews_url.empty() &&
        (c.transport == TransportKind::kEws || !ews::IsExchangeOnlineScope(c.scope))) {
      return Choose(c, MakeEndpoint(c.ews_url, c.scope, false),
                    "EmailIntegrationEwsUrl (scope " + c.scope + ")");
    }
    auto found = Discover(c, w, /*after_miss=*/false);
    if (!found) return found;
    const std::string source =
        found->discovered ? "autodiscover" : "autodiscover found nothing, so Exchange Online";
    return Choose(c, *found, source);
  }

  // The endpoint for a mailbox that EWS serves at `ews` (configured or discovered): that one, or
  // under EmailIntegrationTransport=auto, Graph when it is Exchange Online. `source` says how
  // `ews` was found, for the reason the doctor shows.
  static Endpoint Choose(const ClientConfig& c, Endpoint ews, const std::string& source) {
    const std::string where =
        ews.exchange_online ? "Exchange Online" : "Exchange Server on-premises (" + ews.url + ")";
    if (c.transport == TransportKind::kAuto) {
      if (ews.exchange_online) {
        return MakeGraphEndpoint(c, "EmailIntegrationTransport=auto: " + source + " says " + where +
                                        ", which Microsoft Graph serves");
      }
      ews.reason = "EmailIntegrationTransport=auto: " + source + " says " + where +
                   ", which Microsoft Graph does not serve";
      return ews;
    }
    ews.reason = "EmailIntegrationTransport=ews (the default): " + source + " says " + where;
    return ews;
  }

  // Autodiscover; without an answer, Exchange Online's well-known URL (where most mailboxes are).
  Result<Endpoint> Discover(const ClientConfig& c, const Wiring& w, bool after_miss) {
    AutodiscoverOptions o;
    if (!c.autodiscover_url.empty()) {
      o.base_url = Origin(c.autodiscover_url);
      if (c.autodiscover_url.find("/autodiscover.svc") != std::string::npos) {
        o.soap_url = c.autodiscover_url;
      }
    } else if (!c.ews_url.empty()) {
      o.base_url = Origin(c.ews_url);
    }
    // A configured server that speaks for Exchange Online (a national cloud, the harness) gets
    // the configured Exchange Online scope; an on-premises one is configured with its own scope.
    if (ews::IsExchangeOnlineScope(c.scope)) {
      const std::string origin = o.base_url;
      o.exchange_online_hosts.push_back(origin.substr(origin.find("://") + 3));
      o.exchange_online_scope = c.scope;
    }
    auto found = DiscoverEws(c.mailbox, o, *w.http, w.tokens.get());
    if (found) {
      const std::string scope = found->token_scope.empty() ? c.scope : found->token_scope;
      client_.Log()->info("autodiscover: {} is served at {} ({})", c.mailbox, found->url,
                          found->exchange_online ? "Exchange Online" : "on-premises");
      return MakeEndpoint(found->url, scope, true);
    }
    if (after_miss) return std::unexpected(found.error());
    client_.Log()->warn("autodiscover for {} failed ({}); using {}", c.mailbox,
                        found.error().Describe(), kExchangeOnlineEws);
    return MakeEndpoint(kExchangeOnlineEws, c.scope, false);
  }

  std::unique_ptr<MailboxTransport> MakeInnerTransport(const ClientConfig& c, const Endpoint& e,
                                                       const Wiring& w) {
    if (e.protocol == Protocol::kGraph) {
      GraphOptions g;
      g.base_url = e.url;
      g.mailbox = c.mailbox;
      g.scope = e.scope;
      return MakeGraphTransport(g, *w.tokens, *w.http);
    }
    EwsOptions o;
    o.url = e.url;
    o.mailbox = c.mailbox;
    o.scope = e.scope;
    return MakeEwsTransport(o, *w.tokens, *w.http, client_.clock);
  }

  Result<std::shared_ptr<Inner>> Current() {
    ClientConfig c;
    Wiring w;
    {
      std::lock_guard lock(mu_);
      if (inner_) return inner_;
      c = client_.config;
      w = client_.wiring;
    }
    std::optional<Endpoint> known;
    {
      std::lock_guard lock(mu_);
      known = endpoint_;
    }
    Endpoint e;
    if (known) {
      e = *known;
    } else {
      auto found = FindEndpoint(c, w);
      if (!found) return std::unexpected(found.error());
      e = *found;
    }
    return Install(c, w, e);
  }

  std::shared_ptr<Inner> Install(const ClientConfig& c, const Wiring& w, const Endpoint& e) {
    auto in = std::make_shared<Inner>();
    in->endpoint = e;
    in->wiring = w;
    in->transport = MakeInnerTransport(c, e, w);
    std::shared_ptr<Inner> old;
    std::optional<std::pair<std::string, std::function<void()>>> watched;
    {
      std::lock_guard lock(mu_);
      old = std::move(inner_);
      inner_ = in;
      endpoint_ = e;
      watched = watched_;
    }
    if (old) {
      old->transport->StopWatching();
      // Notifications follow the mailbox to its new home.
      if (watched) {
        if (auto id = FolderId(*in, watched->first, false)) {
          (void)in->transport->Watch(*id, watched->second);
        }
      }
    }
    return in;
  }

  // Runs `call` on the current endpoint. Exchange Online answers ErrorNonExistentMailbox over
  // EWS, and Graph MailboxNotEnabledForRESTAPI, for a mailbox it does not hold (a hybrid mail
  // user, a mailbox that moved): then autodiscover says where it lives, and the call runs once
  // more there (over EWS for an on-premises server; under auto, over Graph for Exchange Online).
  // With EmailIntegrationTransport=graph Graph's answer stands: its remedy names auto.
  template <typename T, typename F>
  Result<T> WithRediscovery(F call) {
    auto in = Current();
    if (!in) return std::unexpected(in.error());
    Result<T> r = call(**in);
    if (r) return r;
    ClientConfig c;
    {
      std::lock_guard lock(mu_);
      c = client_.config;
    }
    const bool ews_miss = r.error().code == "ErrorNonExistentMailbox";
    const bool graph_miss =
        c.transport == TransportKind::kAuto && r.error().code == "MailboxNotEnabledForRESTAPI";
    if (!ews_miss && !graph_miss) return r;
    auto found = Discover(c, (*in)->wiring, /*after_miss=*/true);
    if (!found) {
      Error e = r.error();
      e.remedy += " Autodiscover found no other server either: " + found.error().message;
      return std::unexpected(e);
    }
    const Endpoint next = Choose(c, *found, "autodiscover (after " + r.error().code + ")");
    if (next.protocol == (*in)->endpoint.protocol &&
        AsciiLower(next.url) == AsciiLower((*in)->endpoint.url)) {
      return r;
    }
    auto moved = Install(c, (*in)->wiring, next);
    return call(*moved);
  }

  MailboxClient::State& client_;
  mutable std::mutex mu_;
  std::shared_ptr<Inner> inner_;
  std::optional<Endpoint> endpoint_;
  std::optional<std::pair<std::string, std::function<void()>>> watched_;
};

std::string DefaultOwner(const ClientConfig& c) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string owner = std::string(host) + ":" + std::to_string(getpid());
  if (!c.source.empty()) owner += ":" + c.source.string();
  return owner;
}

}  // namespace

Result<std::unique_ptr<MailboxClient>> MailboxClient::Open(ClientConfig config, Clock& clock,
                                                           Random& random,
                                                           MailboxClientOptions options) {
  if (!config.certificate_file && !config.key_file &&
      std::getenv(options.key_environment_variable.c_str()) == nullptr) {
    return Fail(ErrorCategory::kConfiguration, "NoSecretKey",
                "nothing can decrypt EmailIntegrationClientSecret: the configuration names no "
                "EmailIntegrationKeyFile and " +
                    options.key_environment_variable + " is not set",
                "set EmailIntegrationKeyFile to the key file `exo-mailbox protect-secret` used, "
                "or export " +
                    options.key_environment_variable);
  }
  auto state = std::make_unique<State>(std::move(config), clock, random, std::move(options));
  state->wiring = state->Wire(state->config);
  state->RememberText();
  state->transport = std::make_unique<RoutedTransport>(*state);
  return std::unique_ptr<MailboxClient>(new MailboxClient(std::move(state)));
}

MailboxClient::MailboxClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

MailboxClient::~MailboxClient() {
  state_->stopping = true;
  state_->clock.Notify();
  if (state_->watcher.joinable()) state_->watcher.join();
  state_->transport.reset();
}

TokenProvider& MailboxClient::tokens() {
  std::lock_guard lock(state_->mu);
  return *state_->wiring.tokens;
}

MailboxTransport& MailboxClient::transport() { return *state_->transport; }

HttpTransport& MailboxClient::http() {
  std::lock_guard lock(state_->mu);
  return *state_->wiring.http;
}

Result<SecretString> MailboxClient::DecryptSecret() const {
  ClientConfig c = config();
  return state_->Decrypt(c);
}

Result<TransportInfo> MailboxClient::Endpoint() {
  return static_cast<RoutedTransport&>(*state_->transport).Connect();
}

ClientConfig MailboxClient::config() const {
  std::lock_guard lock(state_->mu);
  return state_->config;
}

Result<std::shared_ptr<MailboxMonitor>> MailboxClient::MakeMonitor(MessageHandler handler,
                                                                   MonitorOptions base) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (!s.monitor.expired()) {
    return Fail(ErrorCategory::kInternal, "MonitorExists", "this client already has a monitor");
  }
  if (!s.store && s.options.store) s.store = s.options.store;
  if (!s.store) {
    const std::filesystem::path file = !s.options.state_file.empty()
                                           ? s.options.state_file
                                           : s.config.state_dir / "exo-mailbox.db";
    auto store = OpenSqliteCheckpointStore(file);
    if (!store) return std::unexpected(store.error());
    s.store = std::move(*store);
  }
  base.key = FolderKey{AsciiLower(s.config.mailbox), s.config.folder};
  base.disposition = s.config.disposition;
  if (base.owner.empty()) {
    base.owner = s.options.owner.empty() ? DefaultOwner(s.config) : s.options.owner;
  }
  auto monitor = std::make_shared<MailboxMonitor>(std::move(base), *s.transport, *s.store,
                                                  std::move(handler), s.clock, s.random);
  s.monitor = monitor;
  return monitor;
}

Result<bool> MailboxClient::ReloadIfChanged() {
  State& s = *state_;
  std::filesystem::path source;
  {
    std::lock_guard lock(s.mu);
    source = s.config.source;
  }
  if (source.empty()) return false;
  // The contents, not the timestamp: an edit within the file system's timestamp granularity, or
  // one that keeps the size (a new ciphertext has the old one's length), is still seen.
  auto text = ReadFile(source);
  if (!text) return std::unexpected(text.error());
  {
    std::lock_guard lock(s.mu);
    if (*text == s.config_text) return false;
  }
  auto fresh = ParseClientConfig(*text, source);
  if (!fresh) {
    {
      std::lock_guard lock(s.mu);
      s.config_text = *text;  // reported once, not at every check
    }
    Error e = fresh.error();
    e.message = "the edited configuration is not used: " + e.message;
    return std::unexpected(e);
  }
  ClientConfig old = config();
  const bool same_identity = fresh->app_id == old.app_id && fresh->tenant_id == old.tenant_id &&
                             fresh->authority_host == old.authority_host &&
                             fresh->ca_bundle == old.ca_bundle &&
                             fresh->certificate_file == old.certificate_file;
  const bool same_endpoint = fresh->ews_url == old.ews_url &&
                             fresh->autodiscover_url == old.autodiscover_url &&
                             fresh->scope == old.scope && fresh->mailbox == old.mailbox &&
                             fresh->transport == old.transport && fresh->graph_url == old.graph_url;
  if (fresh->folder != old.folder || fresh->disposition.kind != old.disposition.kind ||
      fresh->disposition.folder != old.disposition.folder || fresh->state_dir != old.state_dir) {
    s.Log()->warn("{}: the folder, disposition and state directory take effect at the next start",
                  source.string());
  }
  Wiring wiring;
  if (!same_identity) wiring = s.Wire(*fresh);
  std::shared_ptr<TokenProvider> tokens;
  {
    std::lock_guard lock(s.mu);
    s.config = std::move(*fresh);
    s.config_text = std::move(*text);
    if (!same_identity) s.wiring = wiring;
    tokens = s.wiring.tokens;
  }
  if (!same_identity || !same_endpoint)
    static_cast<RoutedTransport&>(*s.transport).Rewire(!same_endpoint);
  // The new secret (or key) deserves an attempt now, not when the old one's back-off ends.
  tokens->ResetBackoff();
  if (auto monitor = s.monitor.lock()) monitor->Retry();
  s.Log()->info("{} reloaded", source.string());
  return true;
}

void MailboxClient::WatchConfig(Duration every,
                                std::function<void(const Result<bool>&)> checked) {
  State& s = *state_;
  if (s.watcher.joinable()) return;
  s.watcher = std::thread([&s, this, every, checked = std::move(checked)] {
    while (!s.stopping) {
      const Result<bool> r = ReloadIfChanged();
      if (!r) s.Log()->error("{}", r.error().Describe());
      if (checked) checked(r);
      s.clock.WaitUntil(s.clock.Monotonic() + every, [&s] { return s.stopping.load(); });
    }
  });
}

}  // namespace exo::client
