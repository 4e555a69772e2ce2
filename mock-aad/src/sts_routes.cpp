// The security token service surface: token endpoints, discovery documents and keys.
#include <regex>

#include "exo/common/time_format.hpp"
#include "internal/routes.hpp"

namespace exo::aad {
namespace {

using json = nlohmann::ordered_json;

const char* kTenantSegment = "([^/]+)";

bool IsMultiTenant(const std::string& seg) {
  const std::string s = Lower(seg);
  return s == "common" || s == "organizations" || s == "consumers";
}

void DiscoveryHeaders(httplib::Response& res, const std::string& trace) {
  res.set_header("Cache-Control", "max-age=86400, private");
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_header("Access-Control-Allow-Methods", "GET, OPTIONS");
  res.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("x-ms-request-id", trace);
}

json OidcV2(const std::string& origin, const std::string& tid) {
  const std::string base = origin + "/" + tid;
  const std::string iss_tid = tid == "common" || tid == "organizations" ? "{tenantid}" : tid;
  return {{"token_endpoint", base + "/oauth2/v2.0/token"},
          {"token_endpoint_auth_methods_supported",
           {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
          {"jwks_uri", base + "/discovery/v2.0/keys"},
          {"response_modes_supported", {"query", "fragment", "form_post"}},
          {"subject_types_supported", {"pairwise"}},
          {"id_token_signing_alg_values_supported", {"RS256"}},
          {"response_types_supported", {"code", "id_token", "code id_token", "id_token token"}},
          {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
          {"issuer", "https://login.microsoftonline.com/" + iss_tid + "/v2.0"},
          {"request_uri_parameter_supported", false},
          {"userinfo_endpoint", "https://graph.microsoft.com/oidc/userinfo"},
          {"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
          {"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
          {"http_logout_supported", true},
          {"frontchannel_logout_supported", true},
          {"end_session_endpoint", base + "/oauth2/v2.0/logout"},
          {"claims_supported",
           {"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
            "name", "tid", "ver", "at_hash", "c_hash", "email"}},
          {"kerberos_endpoint", base + "/kerberos"},
          {"tenant_region_scope", iss_tid == "{tenantid}" ? json(nullptr) : json("EU")},
          {"cloud_instance_name", "microsoftonline.com"},
          {"cloud_graph_host_name", "graph.windows.net"},
          {"msgraph_host", "graph.microsoft.com"},
          {"rbac_url", "https://pas.windows.net"}};
}

json OidcV1(const std::string& origin, const std::string& tid) {
  const std::string base = origin + "/" + tid;
  const std::string iss_tid = tid == "common" || tid == "organizations" ? "{tenantid}" : tid;
  return {{"token_endpoint", base + "/oauth2/token"},
          {"token_endpoint_auth_methods_supported",
           {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
          {"jwks_uri", origin + "/common/discovery/keys"},
          {"response_modes_supported", {"query", "fragment", "form_post"}},
          {"subject_types_supported", {"pairwise"}},
          {"id_token_signing_alg_values_supported", {"RS256"}},
          {"response_types_supported", {"code", "id_token", "code id_token", "token id_token", "token"}},
          {"scopes_supported", {"openid"}},
          {"issuer", "https://sts.windows.net/" + iss_tid + "/"},
          {"microsoft_multi_refresh_token", true},
          {"authorization_endpoint", base + "/oauth2/authorize"},
          {"device_authorization_endpoint", base + "/oauth2/devicecode"},
          {"http_logout_supported", true},
          {"frontchannel_logout_supported", true},
          {"end_session_endpoint", base + "/oauth2/logout"},
          {"claims_supported",
           {"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email",
            "given_name", "family_name", "nickname"}},
          {"check_session_iframe", base + "/oauth2/checksession"},
          {"userinfo_endpoint", base + "/openid/userinfo"},
          {"kerberos_endpoint", base + "/kerberos"},
          {"tenant_region_scope", iss_tid == "{tenantid}" ? json(nullptr) : json("EU")},
          {"cloud_instance_name", "microsoftonline.com"},
          {"cloud_graph_host_name", "graph.windows.net"},
          {"msgraph_host", "graph.microsoft.com"},
          {"rbac_url", "https://pas.windows.net"}};
}

// The client's request id: msal-node puts it in the query, MSAL Python in a header.
std::string ClientRequestId(const httplib::Request& req) {
  std::string id = req.get_header_value("client-request-id");
  if (id.empty()) id = req.get_param_value("client-request-id");
  return id;
}

// A discovery error, its correlation id echoing the client's request id as the token endpoint's
// errors do.
void DiscoveryError(const AadError& e, const httplib::Request& req, TokenService& tokens,
                    httplib::Response& res) {
  const std::string trace = tokens.NewTraceId();
  const std::string corr = ClientRequestId(req);
  ApplyAnswer(tokens.ErrorAnswer(e, trace, corr.empty() ? trace : corr), res);
}

// Resolves a discovery path's tenant: the GUID to put in URLs, or an error answer.
std::optional<std::string> DiscoveryTenant(const httplib::Request& req, Directory& directory,
                                           TokenService& tokens, httplib::Response& res) {
  const std::string seg = req.matches[1];
  if (IsMultiTenant(seg)) return Lower(seg);
  auto t = directory.FindTenant(seg);
  if (t) return t->id;
  DiscoveryError(errors::TenantNotFound(seg, true), req, tokens, res);
  return std::nullopt;
}

}  // namespace

std::string OriginOf(const httplib::Request& req, const mock::HttpServer& server) {
  const std::string host = req.get_header_value("Host");
  if (host.empty()) return server.base_url();
  return std::string(server.tls() ? "https://" : "http://") + host;
}

void ApplyAnswer(const HttpAnswer& a, httplib::Response& res) {
  res.status = a.status;
  for (const auto& [k, v] : a.headers) res.set_header(k, v);
  res.set_content(a.body, a.content_type.c_str());
}

void RegisterStsRoutes(mock::HttpServer& server, Directory& directory, SigningKeySet& keys,
                       TokenService& tokens) {
  const std::string t = kTenantSegment;

  auto token_handler = [&server, &tokens](bool v2) {
    return [&server, &tokens, v2](const httplib::Request& req, httplib::Response& res) {
      TokenRequest tr;
      tr.v2 = v2;
      tr.tenant_segment = req.matches[1];
      tr.method = req.method;
      tr.content_type = req.get_header_value("Content-Type");
      tr.body = req.body;
      tr.authorization = req.get_header_value("Authorization");
      tr.client_request_id = ClientRequestId(req);
      tr.origin = OriginOf(req, server);
      mock::Annotate("operation", v2 ? "token.v2" : "token.v1");
      mock::Annotate("tenant", tr.tenant_segment);
      const HttpAnswer a = tokens.Handle(tr);
      if (a.status != 200) {
        auto j = nlohmann::json::parse(a.body, nullptr, false);
        if (j.is_object() && j.contains("error_codes")) {
          mock::Annotate("error", "AADSTS" + std::to_string(j["error_codes"][0].get<int>()));
        }
      }
      ApplyAnswer(a, res);
    };
  };
  for (bool v2 : {true, false}) {
    const std::string path = "/" + t + (v2 ? "/oauth2/v2\\.0/token" : "/oauth2/token");
    server.Post(path, token_handler(v2));
    server.Get(path, token_handler(v2));
    server.Put(path, token_handler(v2));
    server.Delete(path, token_handler(v2));
    server.Patch(path, token_handler(v2));
  }

  server.Get("/" + t + "/v2\\.0/\\.well-known/openid-configuration",
        [&](const httplib::Request& req, httplib::Response& res) {
          mock::Annotate("operation", "openid-configuration.v2");
          auto tid = DiscoveryTenant(req, directory, tokens, res);
          if (!tid) return;
          DiscoveryHeaders(res, tokens.NewTraceId());
          res.set_content(OidcV2(OriginOf(req, server), *tid).dump(), "application/json; charset=utf-8");
        });
  server.Get("/" + t + "/\\.well-known/openid-configuration",
        [&](const httplib::Request& req, httplib::Response& res) {
          mock::Annotate("operation", "openid-configuration.v1");
          auto tid = DiscoveryTenant(req, directory, tokens, res);
          if (!tid) return;
          DiscoveryHeaders(res, tokens.NewTraceId());
          res.set_content(OidcV1(OriginOf(req, server), *tid).dump(), "application/json; charset=utf-8");
        });

  auto jwks = [&](bool v2) {
    return [&, v2](const httplib::Request& req, httplib::Response& res) {
      mock::Annotate("operation", "jwks");
      std::string issuer = v2 ? "https://login.microsoftonline.com/{tenantid}/v2.0"
                              : "https://sts.windows.net/{tenantid}/";
      if (req.matches.size() > 1) {
        auto tid = DiscoveryTenant(req, directory, tokens, res);
        if (!tid) return;
        if (!IsMultiTenant(*tid)) {
          issuer = v2 ? "https://login.microsoftonline.com/" + *tid + "/v2.0"
                      : "https://sts.windows.net/" + *tid + "/";
        }
      }
      DiscoveryHeaders(res, tokens.NewTraceId());
      res.set_content(keys.Jwks(issuer).dump(), "application/json; charset=utf-8");
    };
  };
  server.Get("/discovery/keys", jwks(false));
  server.Get("/discovery/v2\\.0/keys", jwks(true));
  server.Get("/" + t + "/discovery/keys", jwks(false));
  server.Get("/" + t + "/discovery/v2\\.0/keys", jwks(true));

  // Instance discovery: our own host (with or without port: MSAL Python drops the port) is a
  // known instance alongside Microsoft's clouds; anything else is invalid_instance.
  server.Get("/" + t + "/discovery/instance", [&](const httplib::Request& req, httplib::Response& res) {
    mock::Annotate("operation", "instance-discovery");
    const std::string origin = OriginOf(req, server);
    const std::string host_port = origin.substr(origin.find("://") + 3);
    const std::string host_only = host_port.substr(0, host_port.rfind(':'));
    const std::string auth = req.get_param_value("authorization_endpoint");
    static const std::regex re(R"(^https://([^/]+)/([^/]+)/)", std::regex::icase);
    std::smatch m;
    std::string tenant = "common";
    if (!auth.empty()) {
      if (!std::regex_search(auth, m, re)) {
        return DiscoveryError(errors::UnknownInstance(), req, tokens, res);
      }
      const std::string h = Lower(m[1]);
      const bool known = h == Lower(host_port) || h == Lower(host_only) ||
                         h == "login.microsoftonline.com" || h == "login.windows.net" ||
                         h == "login.microsoft.com" || h == "sts.windows.net";
      if (!known) return DiscoveryError(errors::UnknownInstance(), req, tokens, res);
      tenant = m[2];
    }
    const std::string api = req.get_param_value("api-version");
    json body = {
        {"tenant_discovery_endpoint", origin + "/" + tenant + "/v2.0/.well-known/openid-configuration"},
        {"api-version", api.empty() ? "1.1" : api},
        {"metadata",
         {{{"preferred_network", host_port},
           {"preferred_cache", host_port},
           {"aliases", host_only == host_port ? json{host_port} : json{host_port, host_only}}},
          {{"preferred_network", "login.microsoftonline.com"},
           {"preferred_cache", "login.windows.net"},
           {"aliases",
            {"login.microsoftonline.com", "login.windows.net", "login.microsoft.com",
             "sts.windows.net"}}}}}};
    DiscoveryHeaders(res, tokens.NewTraceId());
    res.set_content(body.dump(), "application/json; charset=utf-8");
  });
}

}  // namespace exo::aad
