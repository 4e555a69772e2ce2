#include "exo/mock_ews/mock_ews.hpp"

#include <cctype>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <vector>

#include "exo/common/random.hpp"
#include "exo/common/text.hpp"
#include "exo/common/tls.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "exo/mock_kit/journal.hpp"
#include "internal/admin_api.hpp"
#include "internal/admin_control.hpp"
#include "internal/autodiscover.hpp"
#include "internal/ews_admission.hpp"
#include "internal/ews_auth.hpp"
#include "internal/ews_service.hpp"
#include "internal/ews_streams.hpp"
#include "internal/graph_mail.hpp"
#include "internal/mailbox_move.hpp"
#include "internal/throttling.hpp"

namespace exo::mock_ews {

using nlohmann::json;

struct MockEws::Impl {
  MockEwsOptions options;
  Clock& clock;
  AdjustableClock* adjustable;
  SeededRandom random;
  MailboxStore store;
  TokenValidator tokens;
  ThrottlingPolicy throttling;
  GraphThrottling graph_throttling;
  std::filesystem::path ca_file;
  std::unique_ptr<mock::HttpServer> server;
  std::shared_ptr<AutodiscoverRedirects> autodiscover;
  std::shared_ptr<void> graph;  // the Graph mail facade (Exchange Online only)
  // Its own seeded randomness, so admin changes do not shift the store's ids.
  SeededRandom admin_random{options.seed ^ 0x61646d696eULL};
  ExchangeAdmin admin{clock, admin_random, store};
  // Primary SMTP addresses (lower-case) between BeginMailboxMove and CompleteMailboxMove.
  std::mutex moves_mu;
  std::set<std::string> moving;

  Impl(MockEwsOptions o, Clock& c, AdjustableClock* a)
      : options(std::move(o)),
        clock(c),
        adjustable(a),
        random(options.seed),
        store(c, random),
        tokens(c, Policy(options)),
        throttling(c),
        graph_throttling(c) {}

  static AudiencePolicy Policy(const MockEwsOptions& o) {
    AudiencePolicy p;
    p.on_premises = o.deployment == Deployment::kExchangeServer;
    p.audience = o.on_premises.public_url;
    p.app_only_oauth = o.on_premises.app_only_oauth;
    return p;
  }
  bool on_premises() const { return options.deployment == Deployment::kExchangeServer; }
  bool IsMoving(const std::string& smtp) {
    std::lock_guard lock(moves_mu);
    return moving.contains(AsciiLower(smtp));
  }

  void RegisterControlRoutes();
  void HandleEws(const httplib::Request& req, httplib::Response& res);
  // What an authenticated request meets before SOAP: GET, the Content-Type, a forced 503. False
  // when it has answered.
  bool ScreenEwsRequest(const httplib::Request& req, httplib::Response& res,
                        const EwsCaller& caller);
};

namespace {

std::optional<json> JsonBody(const httplib::Request& req, httplib::Response& res) {
  if (req.body.empty()) return json::object();
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    mock::ReplyControlError(res, 400, "InvalidJson", "the request body is not a JSON object");
    return std::nullopt;
  }
  return j;
}

void ReplyError(httplib::Response& res, const Error& e) {
  mock::ReplyControlError(res, e.category == ErrorCategory::kNotFound ? 404 : 400, e.code,
                          e.message);
}

json MailboxJson(const Mailbox& m) {
  return {{"organization", m.organization_id},
          {"smtp", m.primary_smtp_address},
          {"upn", m.user_principal_name},
          {"displayName", m.display_name},
          {"guid", m.object_guid},
          {"sid", m.sid}};
}

}  // namespace

void MockEws::Impl::RegisterControlRoutes() {
  auto& r = server->router();
  const std::string p = mock::kControlPrefix;
  RegisterAdminControlRoutes(*server, admin);
  // Throttling: the limits, a forced answer, the per app and mailbox state (ThrottlingPolicy).
  r.Get(p + "/throttling", [this](const httplib::Request&, httplib::Response& res) {
    mock::ReplyJson(res, throttling.ToJson());
  });
  r.Put(p + "/throttling", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    if (auto updated = throttling.Update(*body); !updated) return ReplyError(res, updated.error());
    mock::ReplyJson(res, throttling.ToJson());
  });
  r.Post(p + "/throttling/reset", [this](const httplib::Request&, httplib::Response& res) {
    throttling.ResetState();
    mock::ReplyJson(res, throttling.ToJson());
  });
  // State: every organization and mailbox with its folders and their counts.
  r.Get(p + "/state", [this](const httplib::Request&, httplib::Response& res) {
    json orgs = json::array();
    for (const Organization& o : store.ListOrganizations()) {
      json mailboxes = json::array();
      for (const Mailbox& m : store.ListMailboxes(o.id)) {
        json mj = MailboxJson(m);
        json folders = json::array();
        if (auto root = store.GetDistinguishedFolder(m.primary_smtp_address,
                                                     DistinguishedFolder::kMsgFolderRoot)) {
          if (auto tree = store.ListChildFolders(root->id, true)) {
            for (const Folder& f : *tree) {
              folders.push_back(
                  {{"id", f.id},
                   {"displayName", f.display_name},
                   {"distinguished", f.distinguished ? ToString(*f.distinguished) : ""},
                   {"totalCount", f.total_count},
                   {"unreadCount", f.unread_count}});
            }
          }
        }
        mj["folders"] = folders;
        mailboxes.push_back(mj);
      }
      orgs.push_back({{"id", o.id}, {"name", o.name}, {"mailboxes", mailboxes}});
    }
    mock::ReplyJson(res, {{"organizations", orgs},
                          {"throttling", throttling.ToJson()},
                          {"journalEntries", server->journal().size()}});
  });
  // Reset: every mailbox emptied (recreated with the same addresses and GUID, so items, custom
  // folders and subscriptions are gone), throttling state, fault rules and the journal cleared.
  // Organizations, mailboxes, trusted tenants, autodiscover redirects and the clock stay.
  r.Post(p + "/reset", [this](const httplib::Request&, httplib::Response& res) {
    EndStreams(store);
    std::size_t count = 0;
    for (const Mailbox& m : store.ListMailboxes()) {
      MailboxSpec spec;
      spec.organization_id = m.organization_id;
      spec.primary_smtp_address = m.primary_smtp_address;
      spec.user_principal_name = m.user_principal_name;
      spec.display_name = m.display_name;
      spec.kind = m.kind;
      spec.object_guid = m.object_guid;
      spec.directory_object_id = m.directory_object_id;
      for (const std::string& proxy : m.proxy_addresses) {
        if (proxy.starts_with("smtp:")) spec.secondary_smtp_addresses.push_back(proxy.substr(5));
      }
      if (auto removed = store.RemoveMailbox(m.primary_smtp_address); !removed) {
        return ReplyError(res, removed.error());
      }
      if (auto created = store.CreateMailbox(spec); !created) {
        return ReplyError(res, created.error());
      }
      ++count;
    }
    throttling.ResetState();
    throttling.ClearForce();
    graph_throttling.ResetState();
    server->faults().Clear();
    server->journal().Clear();
    mock::ReplyJson(res, {{"reset", true}, {"mailboxes", count}});
  });
  r.Post(p + "/mailboxes", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    MailboxSpec spec;
    spec.organization_id = body->value("organization", "");
    spec.primary_smtp_address = body->value("smtp", "");
    spec.user_principal_name = body->value("upn", "");
    spec.display_name = body->value("displayName", "");
    bool known = false;
    for (const auto& o : store.ListOrganizations()) {
      if (o.id.size() == spec.organization_id.size() &&
          std::equal(o.id.begin(), o.id.end(), spec.organization_id.begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
          })) {
        known = true;
      }
    }
    if (!known) {
      auto org = store.CreateOrganization(spec.organization_id, spec.organization_id);
      if (!org) return ReplyError(res, org.error());
    }
    auto mailbox = store.CreateMailbox(spec);
    if (!mailbox) return ReplyError(res, mailbox.error());
    mock::ReplyJson(res, MailboxJson(*mailbox), 201);
  });
  r.Post(p + "/mailboxes/([^/]+)/deliver",
         [this](const httplib::Request& req, httplib::Response& res) {
           auto body = JsonBody(req, res);
           if (!body) return;
           std::string mime = body->value("mime", "");
           if (mime.empty()) {
             MessageDraft draft;
             draft.from.address = body->value("from", "");
             if (body->contains("to")) {
               const json& to = (*body)["to"];
               if (to.is_string()) draft.to.push_back({"", to.get<std::string>()});
               if (to.is_array()) {
                 for (const auto& a : to) {
                   if (a.is_string()) draft.to.push_back({"", a.get<std::string>()});
                 }
               }
             } else {
               draft.to.push_back({"", req.matches[1]});
             }
             draft.subject = body->value("subject", "");
             draft.body = body->value("body", "");
             mime = store.ComposeMime(draft);
           }
           auto item = store.DeliverToInbox(std::string(req.matches[1]), std::move(mime));
           if (!item) return ReplyError(res, item.error());
           mock::ReplyJson(res,
                           {{"id", item->id},
                            {"changeKey", item->change_key},
                            {"subject", item->fields.subject},
                            {"size", item->size}},
                           201);
         });
}

bool MockEws::Impl::ScreenEwsRequest(const httplib::Request& req, httplib::Response& res,
                                     const EwsCaller& caller) {
  if (req.method == "GET") {
    res.set_content(ServicePage(server->base_url()), "text/html; charset=UTF-8");
    return false;
  }
  const std::string type = req.get_header_value("Content-Type");
  if (!IsSoapContentType(type)) {
    // WCF refuses before reading the message: 415, its reason in the status line (which httplib
    // cannot set, so it goes to the journal), no body.
    mock::Annotate("rejected", ContentTypeRefusal(type));
    res.status = 415;
    return false;
  }
  const ThrottlingPolicy::Decision arrival = throttling.ArriveHttp(caller.app_id);
  AnnotateEarly(arrival);
  if (arrival.admitted()) return true;
  mock::Annotate("throttle", "503");
  res.status = 503;
  res.set_header("Retry-After", std::to_string(arrival.retry_after_seconds));
  res.set_header("X-BackEndHttpStatus", "503");
  res.set_content(UnavailableBody(), "text/html; charset=us-ascii");
  return false;
}

void MockEws::Impl::HandleEws(const httplib::Request& req, httplib::Response& res) {
  mock::Annotate("operation", "ews");
  EwsCaller caller;
  const TokenValidator::RbacGrantLookup rbac = [this](const std::string& tid,
                                                      const std::string& app) {
    return HoldsEwsRbacGrant(admin, tid, app);
  };
  if (auto refused = tokens.Check(req.get_header_value("Authorization"), caller,
                                  on_premises() ? nullptr : &rbac)) {
    // Exchange answers auth failures before any SOAP processing, with an empty body.
    res.status = refused->status;
    if (!refused->www_authenticate.empty()) {
      res.set_header("WWW-Authenticate", refused->www_authenticate);
    }
    if (!refused->diagnostics.empty()) res.set_header("x-ms-diagnostics", refused->diagnostics);
    return;  // no body, no Content-Type: Content-Length 0, as Exchange sends
  }
  mock::Annotate("tenant", caller.tenant_id);
  mock::Annotate("client_id", caller.app_id);
  if (!ScreenEwsRequest(req, res, caller)) return;
  SoapReply reply =
      HandleSoap(EwsContext{store, clock, &throttling, on_premises() ? nullptr : &admin,
                            [this](const std::string& smtp) { return IsMoving(smtp); }},
                 caller, req.body);
  res.status = reply.status;
  if (reply.body.empty() && !reply.stream) return;  // a bare refusal: no body, no Content-Type
  if (!reply.stream) {
    res.set_content(reply.body, "text/xml; charset=utf-8");
    return;
  }
  // GetStreamingEvents: httplib would gzip a text/xml chunked answer for a client that accepts
  // it, and zlib holds small writes back, so notifications would sit in the compressor. The
  // request object is httplib's own (non-const) one.
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
  // The journal records what was streamed (the logger runs after the stream ends), capped so a
  // long connection cannot grow it without bound.
  static constexpr std::size_t kJournalCap = 1 << 20;
  res.set_chunked_content_provider(
      "text/xml; charset=utf-8",
      [stream = std::move(reply.stream), &res](std::size_t, httplib::DataSink& sink) {
        const bool more = stream([&](std::string_view chunk) {
          if (chunk.empty()) return true;  // an empty write would end the chunked body
          if (!sink.write(chunk.data(), chunk.size())) return false;
          res.body.append(chunk.substr(0, kJournalCap - std::min(kJournalCap, res.body.size())));
          return true;
        });
        // The stream ends with its last envelope, or because the client went away (a failed
        // write): false then makes httplib drop the connection instead of finishing the body.
        if (!more && sink.is_writable()) {
          sink.done();
          return true;
        }
        return more;
      });
}

namespace {

// An on-premises server needs the origin clients and Entra know it by; returns its host name.
Result<std::string> CheckPublicUrl(std::string& url) {
  static const std::regex re("^https?://([^/:?#\\s]+)(:[0-9]+)?/*$", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, re)) {
    return Fail(ErrorCategory::kConfiguration, "InvalidPublicUrl",
                "'" + url + "' is not the origin of an on-premises Exchange server",
                "give its public URL without a path, e.g. https://mail.contoso.com");
  }
  const std::string host = m[1].str();
  while (url.back() == '/') url.pop_back();
  return host;
}

}  // namespace

Result<std::unique_ptr<MockEws>> MockEws::Start(MockEwsOptions options, Clock& clock,
                                                AdjustableClock* adjustable) {
  std::vector<std::string> tls_names = {"outlook.office365.com"};
  if (options.deployment == Deployment::kExchangeServer) {
    auto host = CheckPublicUrl(options.on_premises.public_url);
    if (!host) return std::unexpected(host.error());
    tls_names = {*host};
  }
  auto impl = std::make_unique<Impl>(std::move(options), clock, adjustable);
  Impl& m = *impl;
  mock::ServerOptions so;
  so.name = "mock-ews";
  so.host = m.options.host;
  so.port = m.options.port;
  so.threads = m.options.threads;
  so.journal_capacity = m.options.journal_capacity;
  so.max_body_bytes = m.options.max_body_bytes;
  if (m.options.tls) {
    auto tls = mock::PrepareServerTls(m.options.ca_dir, tls_names, m.options.host);
    if (!tls) return std::unexpected(tls.error());
    m.ca_file = tls->ca_file;
    so.tls = tls->identity;
  }
  m.server = std::make_unique<mock::HttpServer>(so, clock, m.random);
  m.server->journal().AddRedactor([](mock::JournalEntry& e) {
    mock::RedactCredentialsHeaders(e.request_headers);
    // The admin API's SecureString parameters (New-Mailbox -Password) arrive as plain strings:
    // the module's RSA encryption of them is not modelled, so the journal hides them.
    e.request_body = mock::RedactJsonFields(e.request_body, {"Password"});
  });
  mock::RegisterCommonControlRoutes(*m.server, adjustable);
  m.RegisterControlRoutes();
  AutodiscoverIdentity identity;
  identity.exchange_online = !m.on_premises();
  if (m.on_premises()) identity.public_url = m.options.on_premises.public_url;
  m.autodiscover = RegisterAutodiscover(*m.server, m.store, m.tokens, clock, identity);
  m.server->Post(
      mock::AnyCasePath("/EWS/Exchange.asmx"),
      [&m](const httplib::Request& req, httplib::Response& res) { m.HandleEws(req, res); });
  m.server->Get(
      mock::AnyCasePath("/EWS/Exchange.asmx"),
      [&m](const httplib::Request& req, httplib::Response& res) { m.HandleEws(req, res); });
  // Exchange Online PowerShell's REST transport; an on-premises server has none.
  if (!m.on_premises()) {
    RegisterAdminApi(*m.server, m.tokens, m.admin, m.store, clock, m.options.seed);
    // Microsoft Graph is a cloud service: an on-premises server has no Graph endpoint.
    m.graph = RegisterGraphMail(
        *m.server,
        GraphMailDeps{m.store, m.admin, m.tokens, m.graph_throttling, clock, m.options.seed});
  }
  if (auto started = m.server->Start(); !started) return std::unexpected(started.error());
  return std::unique_ptr<MockEws>(new MockEws(std::move(impl)));
}

MockEws::MockEws(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockEws::~MockEws() { Stop(); }

Result<void> MockEws::TrustTenant(TrustedTenant tenant) {
  if (tenant.tenant_id.empty() || (!tenant.jwks && !tenant.jwks_for_kid)) {
    return Fail(ErrorCategory::kConfiguration, "InvalidTrustedTenant",
                "a trusted tenant needs an id and a JWKS source");
  }
  if (tenant.jwks_for_kid) {
    impl_->tokens.Trust(tenant.tenant_id, std::move(tenant.jwks_for_kid));
  } else {
    impl_->tokens.Trust(tenant.tenant_id,
                        [jwks = std::move(tenant.jwks)](const std::string&) { return jwks(); });
  }
  return {};
}

MailboxStore& MockEws::store() { return impl_->store; }

Result<void> MockEws::SetAutodiscoverRedirect(const std::string& smtp,
                                              AutodiscoverRedirect target) {
  return impl_->autodiscover->Set(smtp, std::move(target));
}

bool MockEws::ClearAutodiscoverRedirect(const std::string& smtp) {
  return impl_->autodiscover->Clear(smtp);
}

std::string MockEws::public_ews_url() const {
  return impl_->on_premises() ? impl_->options.on_premises.public_url + "/EWS/Exchange.asmx"
                              : ews_url();
}

Result<void> MockEws::BeginMailboxMove(const std::string& smtp) {
  auto mailbox = impl_->store.ResolveMailbox(smtp);
  if (!mailbox) return std::unexpected(mailbox.error());
  std::lock_guard lock(impl_->moves_mu);
  impl_->moving.insert(AsciiLower(mailbox->primary_smtp_address));
  return {};
}

Result<void> MockEws::CompleteMailboxMove(const std::string& smtp, MockEws& target) {
  if (&target == this) {
    return Fail(ErrorCategory::kConfiguration, "MoveTargetIsSource",
                "a mailbox cannot move to the server it is on");
  }
  auto mailbox = impl_->store.ResolveMailbox(smtp);
  if (!mailbox) return std::unexpected(mailbox.error());
  const std::string key = AsciiLower(mailbox->primary_smtp_address);
  if (!impl_->IsMoving(key)) {
    return Fail(ErrorCategory::kConfiguration, "NoMoveInProgress",
                "no move of " + smtp + " was begun (BeginMailboxMove)");
  }
  // The target's mail user for the address gives way to the mailbox moving in.
  if (!target.impl_->on_premises()) {
    (void)target.admin().RemoveRecipient(mailbox->organization_id, key);
  }
  if (auto moved = MoveMailboxContents(impl_->store, *mailbox, target.store()); !moved) {
    return moved;
  }
  (void)impl_->store.RemoveMailbox(key);
  {
    std::lock_guard lock(impl_->moves_mu);
    impl_->moving.erase(key);
  }
  // Exchange Online keeps the moved-away user as a mail user pointing on-premises; one moving in
  // replaces its mail user.
  if (!impl_->on_premises()) {
    NewMailUserParams user;
    user.name = mailbox->alias;
    user.display_name = mailbox->display_name;
    user.primary_smtp_address = mailbox->primary_smtp_address;
    user.external_email_address = "SMTP:" + mailbox->primary_smtp_address;
    (void)impl_->admin.NewMailUser(mailbox->organization_id, user);
  }
  AutodiscoverRedirect home;
  home.ews_url = target.public_ews_url();
  (void)SetAutodiscoverRedirect(key, home);
  target.ClearAutodiscoverRedirect(key);
  return {};
}
ThrottlingPolicy& MockEws::throttling() { return impl_->throttling; }
ExchangeAdmin& MockEws::admin() { return impl_->admin; }
GraphThrottling& MockEws::graph_throttling() { return impl_->graph_throttling; }
std::string MockEws::graph_url() const { return base_url() + "/v1.0"; }
std::string MockEws::base_url() const { return impl_->server->base_url(); }
std::string MockEws::ews_url() const { return base_url() + "/EWS/Exchange.asmx"; }
std::string MockEws::public_url() const {
  return impl_->on_premises() ? impl_->options.on_premises.public_url : base_url();
}
int MockEws::port() const { return impl_->server->port(); }
std::filesystem::path MockEws::ca_file() const { return impl_->ca_file; }

void MockEws::Stop() {
  if (!impl_ || !impl_->server) return;
  // Streams wait on the store's clock; ending them first lets the listener join its threads.
  EndStreams(impl_->store);
  impl_->server->Stop();
}

}  // namespace exo::mock_ews
