#include "exo/mock_aad/mock_aad.hpp"

#include <cstdlib>

#include "exo/common/base64.hpp"
#include "exo/common/log.hpp"
#include "exo/common/time_format.hpp"
#include "exo/common/tls.hpp"
#include "internal/routes.hpp"

namespace exo::aad {

using nlohmann::json;

struct MockAad::Impl {
  MockAadOptions options;
  Clock& clock;
  AdjustableClock* simulated;
  SeededRandom random;
  Directory directory;
  std::unique_ptr<SigningKeySet> keys;
  std::unique_ptr<TokenService> tokens;
  std::string ca_pem;
  std::filesystem::path ca_file;
  json initial_world;
  HarnessIdentity identity;
  std::unique_ptr<mock::HttpServer> server;
  std::shared_ptr<void> graph_admin;  // owns what the Graph routes use

  Impl(MockAadOptions o, Clock& c, AdjustableClock* s)
      : options(std::move(o)), clock(c), simulated(s), random(options.seed), directory(c, random) {}

  void RegisterControlRoutes();
};

namespace {

// A readable password from the seed, so a run's admin credentials are reproducible.
std::string AdminPassword(Random& r) {
  return "Exo-" + Base64UrlEncode(r.Bytes(12)) + "-1a";
}


std::optional<json> Body(const httplib::Request& req, httplib::Response& res) {
  if (req.body.empty()) return json::object();
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    mock::ReplyControlError(res, 400, "InvalidJson", "the request body is not JSON");
    return std::nullopt;
  }
  return j;
}

void ReplyResult(httplib::Response& res, const Error& e) {
  const int status = e.category == ErrorCategory::kNotFound ? 404 : 400;
  mock::ReplyControlError(res, status, e.code, e.message);
}

}  // namespace

void MockAad::Impl::RegisterControlRoutes() {
  auto& r = server->router();
  const std::string p = mock::kControlPrefix;
  const std::string app = p + "/tenants/([^/]+)/applications/([^/]+)";

  r.Get(p + "/state", [this](const httplib::Request&, httplib::Response& res) {
    json state = directory.Dump();
    state["signingKeys"] = keys->Kids();
    state["signer"] = keys->Signer().kid;
    mock::ReplyJson(res, state);
  });
  r.Post(p + "/reset", [this](const httplib::Request&, httplib::Response& res) {
    if (auto e = directory.Load(initial_world); !e) return ReplyResult(res, e.error());
    tokens->Reset();
    server->journal().Clear();
    server->faults().Clear();
    res.status = 204;
  });
  r.Post(p + "/world", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    if (auto e = directory.Merge(*body); !e) return ReplyResult(res, e.error());
    mock::ReplyJson(res, directory.Dump());
  });
  r.Get(p + "/settings", [this](const httplib::Request&, httplib::Response& res) {
    mock::ReplyJson(res, directory.settings().ToJson());
  });
  r.Patch(p + "/settings", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto s = Settings::FromJson(*body, directory.settings());
    if (!s) return ReplyResult(res, s.error());
    directory.set_settings(*s);
    mock::ReplyJson(res, s->ToJson());
  });
  r.Post(p + "/keys/rotate", [this](const httplib::Request&, httplib::Response& res) {
    auto kid = keys->Rotate();
    if (!kid) return ReplyResult(res, kid.error());
    mock::ReplyJson(res, {{"signer", *kid}, {"keys", keys->Kids()}});
  });
  r.Post(p + "/keys/([^/]+)/promote", [this](const httplib::Request& req, httplib::Response& res) {
    if (!keys->Promote(req.matches[1])) {
      return mock::ReplyControlError(res, 404, "NotFound", "no published key with that kid");
    }
    mock::ReplyJson(res, {{"signer", keys->Signer().kid}, {"keys", keys->Kids()}});
  });
  r.Delete(p + "/keys/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    if (!keys->Retire(req.matches[1])) {
      return mock::ReplyControlError(res, 409, "CannotRetire",
                                     "no such key, or it is the signer (rotate first)");
    }
    mock::ReplyJson(res, {{"signer", keys->Signer().kid}, {"keys", keys->Kids()}});
  });

  // Credentials and consent, as the portal would change them, with times under harness control.
  r.Post(app + "/passwords", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto s = directory.AddPassword(req.matches[1], req.matches[2], *body);
    if (!s) return ReplyResult(res, s.error());
    mock::ReplyJson(res, {{"keyId", s->key_id}, {"secretText", s->secret_text}, {"hint", s->hint},
                          {"startDateTime", FormatIso8601(s->start)},
                          {"endDateTime", FormatIso8601(s->end)}}, 201);
  });
  r.Delete(app + "/passwords/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    auto e = directory.RemovePassword(req.matches[1], req.matches[2], req.matches[3]);
    if (!e) return ReplyResult(res, e.error());
    res.status = 204;
  });
  r.Post(app + "/keys", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto k = directory.AddKey(req.matches[1], req.matches[2], *body);
    if (!k) return ReplyResult(res, k.error());
    mock::ReplyJson(res, {{"keyId", k->key_id},
                          {"customKeyIdentifier", Base64Encode(k->sha1_thumbprint)}}, 201);
  });
  r.Delete(app + "/keys/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    auto e = directory.RemoveKey(req.matches[1], req.matches[2], req.matches[3]);
    if (!e) return ReplyResult(res, e.error());
    res.status = 204;
  });
  for (bool enable : {true, false}) {
    r.Post(app + (enable ? "/enable" : "/disable"),
           [this, enable](const httplib::Request& req, httplib::Response& res) {
             auto e = directory.SetEnabled(req.matches[1], req.matches[2], enable);
             if (!e) return ReplyResult(res, e.error());
             res.status = 204;
           });
  }
  // {"resource": "https://outlook.office365.com", "appRole": "full_access_as_app"}
  r.Post(app + "/grants", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto g = directory.GrantAppRole(req.matches[1], req.matches[2], body->value("resource", ""),
                                    body->value("appRole", ""));
    if (!g) return ReplyResult(res, g.error());
    mock::ReplyJson(res, {{"id", g->id}, {"resourceId", g->resource_app_id},
                          {"appRoleId", g->app_role_id}}, 201);
  });
  r.Delete(app + "/grants", [this](const httplib::Request& req, httplib::Response& res) {
    auto e = directory.RevokeAppRole(req.matches[1], req.matches[2],
                                     req.get_param_value("resource"), req.get_param_value("appRole"));
    if (!e) return ReplyResult(res, e.error());
    res.status = 204;
  });
  r.Delete(app, [this](const httplib::Request& req, httplib::Response& res) {
    auto e = directory.DeleteApplication(req.matches[1], req.matches[2]);
    if (!e) return ReplyResult(res, e.error());
    res.status = 204;
  });
}

Result<std::unique_ptr<MockAad>> MockAad::Start(MockAadOptions options, Clock& clock,
                                                AdjustableClock* simulated) {
  auto impl = std::make_unique<Impl>(std::move(options), clock, simulated);
  Impl& m = *impl;

  if (m.options.world) {
    m.initial_world = *m.options.world;
  } else {
    m.identity.admin_password = AdminPassword(m.random);
    m.initial_world = Directory::DefaultWorld(m.identity.admin_password);
  }
  if (auto loaded = m.directory.Load(m.initial_world); !loaded) {
    return std::unexpected(loaded.error());
  }
  // The first tenant and its first Global Administrator are what the ready file advertises.
  const json dump = m.directory.Dump();
  if (!dump["tenants"].empty()) {
    const auto& t = dump["tenants"][0];
    m.identity.tenant_id = t["id"];
    m.identity.tenant_domain = t["domains"][0];
    for (const auto& u : t["users"]) {
      if (m.identity.admin_upn.empty()) m.identity.admin_upn = u["userPrincipalName"];
    }
    if (m.options.world) {
      for (const auto& tw : (*m.options.world)["tenants"]) {
        for (const auto& uw : tw.value("users", json::array())) {
          if (uw.value("userPrincipalName", "") == m.identity.admin_upn) {
            m.identity.admin_password = uw.value("password", "");
          }
        }
      }
    }
  }

  auto keys = SigningKeySet::Create(m.options.signing_keys, m.options.ca_dir);
  if (!keys) return std::unexpected(keys.error());
  m.keys = std::move(*keys);
  m.tokens = std::make_unique<TokenService>(m.directory, *m.keys, clock, m.random);

  mock::ServerOptions so;
  so.name = "mock-aad";
  so.host = m.options.host;
  so.port = m.options.port;
  so.threads = m.options.threads;
  so.journal_capacity = m.options.journal_capacity;
  if (m.options.tls) {
    auto tls = mock::PrepareServerTls(m.options.ca_dir, m.options.host_names, m.options.host);
    if (!tls) return std::unexpected(tls.error());
    m.ca_file = tls->ca_file;
    m.ca_pem = tls->ca_pem;
    so.tls = tls->identity;
  }
  m.server = std::make_unique<mock::HttpServer>(so, clock, m.random);
  m.server->journal().AddRedactor([](mock::JournalEntry& e) {
    // Clients should never put credentials in a URL, but a broken one will: hide them there too.
    const std::vector<std::string> form_secrets = {"client_secret", "client_assertion", "password",
                                                   "refresh_token"};
    e.query = mock::RedactFormFields(e.query, form_secrets);
    e.request_body = mock::RedactFormFields(e.request_body, form_secrets);
    e.request_body = mock::RedactJsonFields(e.request_body, {"secretText", "password"});
    e.response_body = mock::RedactJsonFields(
        e.response_body, {"access_token", "refresh_token", "id_token", "secretText"});
  });
  mock::RegisterCommonControlRoutes(*m.server, simulated);
  m.RegisterControlRoutes();
  RegisterStsRoutes(*m.server, m.directory, *m.keys, *m.tokens);
  m.graph_admin = RegisterGraphAdminRoutes(*m.server, m.directory, *m.keys, clock, m.random);
  m.server->router().set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      res.set_content("<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
                      "<body><h1>Not Found</h1></body></html>", "text/html; charset=utf-8");
    } else if (res.status == 413) {
      res.set_content("Request Entity Too Large", "text/plain");
    }
  });
  if (auto started = m.server->Start(); !started) return std::unexpected(started.error());
  return std::unique_ptr<MockAad>(new MockAad(std::move(impl)));
}

MockAad::MockAad(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockAad::~MockAad() { Stop(); }

std::string MockAad::base_url() const { return impl_->server->base_url(); }
int MockAad::port() const { return impl_->server->port(); }
std::string MockAad::ca_pem() const { return impl_->ca_pem; }
std::filesystem::path MockAad::ca_file() const { return impl_->ca_file; }
HarnessIdentity MockAad::identity() const { return impl_->identity; }
Directory& MockAad::directory() { return impl_->directory; }
json MockAad::Jwks() const { return impl_->keys->Jwks("https://sts.windows.net/{tenantid}/"); }
std::string MockAad::V1Issuer(const std::string& tenant_id) {
  return "https://sts.windows.net/" + Lower(tenant_id) + "/";
}
Result<std::string> MockAad::RotateSigningKey() { return impl_->keys->Rotate(); }
bool MockAad::RetireSigningKey(const std::string& kid) { return impl_->keys->Retire(kid); }

Result<void> MockAad::Reset() {
  if (auto e = impl_->directory.Load(impl_->initial_world); !e) return e;
  impl_->tokens->Reset();
  impl_->server->journal().Clear();
  impl_->server->faults().Clear();
  return {};
}

json MockAad::ReadyInfo() const {
  json j = {{"aad", base_url()},
            {"control", base_url() + mock::kControlPrefix},
            {"tenant", {{"id", impl_->identity.tenant_id}, {"domain", impl_->identity.tenant_domain}}},
            {"admin", nullptr}};
  if (!impl_->identity.admin_upn.empty()) {
    j["admin"] = {{"upn", impl_->identity.admin_upn}, {"password", impl_->identity.admin_password}};
  }
  j["ca"] = impl_->ca_file.empty() ? json(nullptr) : json(impl_->ca_file.string());
  return j;
}

void MockAad::Stop() {
  if (impl_ && impl_->server) impl_->server->Stop();
}

}  // namespace exo::aad
