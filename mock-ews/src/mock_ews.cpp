#include "exo/mock_ews/mock_ews.hpp"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "exo/common/random.hpp"
#include "exo/common/tls.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "exo/mock_kit/journal.hpp"
#include "internal/ews_auth.hpp"
#include "internal/ews_service.hpp"

namespace exo::mock_ews {

using nlohmann::json;

struct MockEws::Impl {
  MockEwsOptions options;
  Clock& clock;
  AdjustableClock* adjustable;
  SeededRandom random;
  MailboxStore store;
  TokenValidator tokens;
  std::filesystem::path ca_file;
  std::unique_ptr<mock::HttpServer> server;

  Impl(MockEwsOptions o, Clock& c, AdjustableClock* a)
      : options(std::move(o)),
        clock(c),
        adjustable(a),
        random(options.seed),
        store(c, random),
        tokens(c) {}

  void RegisterControlRoutes();
  void HandleEws(const httplib::Request& req, httplib::Response& res);
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

// "/EWS/Exchange.asmx" matched case-insensitively (ews-javascript-api users write lower case).
std::string CaseInsensitivePattern(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      out += '[';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out += ']';
    } else if (c == '.') {
      out += "\\.";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void MockEws::Impl::RegisterControlRoutes() {
  auto& r = server->router();
  const std::string p = mock::kControlPrefix;
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

void MockEws::Impl::HandleEws(const httplib::Request& req, httplib::Response& res) {
  mock::Annotate("operation", "ews");
  EwsCaller caller;
  if (auto refused = tokens.Check(req.get_header_value("Authorization"), caller)) {
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
  SoapReply reply = HandleSoap(EwsContext{store, clock}, caller, req.body);
  res.status = reply.status;
  res.set_content(reply.body, "text/xml; charset=utf-8");
}

Result<std::unique_ptr<MockEws>> MockEws::Start(MockEwsOptions options, Clock& clock,
                                                AdjustableClock* adjustable) {
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
    auto tls = mock::PrepareServerTls(m.options.ca_dir, {"outlook.office365.com"}, m.options.host);
    if (!tls) return std::unexpected(tls.error());
    m.ca_file = tls->ca_file;
    so.tls = tls->identity;
  }
  m.server = std::make_unique<mock::HttpServer>(so, clock, m.random);
  m.server->journal().AddRedactor(
      [](mock::JournalEntry& e) { mock::RedactCredentialsHeaders(e.request_headers); });
  mock::RegisterCommonControlRoutes(*m.server, adjustable);
  m.RegisterControlRoutes();
  m.server->Post(
      CaseInsensitivePattern("/EWS/Exchange.asmx"),
      [&m](const httplib::Request& req, httplib::Response& res) { m.HandleEws(req, res); });
  if (auto started = m.server->Start(); !started) return std::unexpected(started.error());
  return std::unique_ptr<MockEws>(new MockEws(std::move(impl)));
}

MockEws::MockEws(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockEws::~MockEws() { Stop(); }

Result<void> MockEws::TrustTenant(TrustedTenant tenant) {
  if (tenant.tenant_id.empty() || !tenant.jwks) {
    return Fail(ErrorCategory::kConfiguration, "InvalidTrustedTenant",
                "a trusted tenant needs an id and a JWKS source");
  }
  impl_->tokens.Trust(tenant.tenant_id, std::move(tenant.jwks));
  return {};
}

MailboxStore& MockEws::store() { return impl_->store; }
std::string MockEws::base_url() const { return impl_->server->base_url(); }
std::string MockEws::ews_url() const { return base_url() + "/EWS/Exchange.asmx"; }
int MockEws::port() const { return impl_->server->port(); }
std::filesystem::path MockEws::ca_file() const { return impl_->ca_file; }

void MockEws::Stop() {
  if (impl_ && impl_->server) impl_->server->Stop();
}

}  // namespace exo::mock_ews
