// The Microsoft Graph subset (graph_admin.cpp): the seed's portal steps 1-4 scripted as against
// real Graph, its authentication and permission checks, and Graph's error shape.
#include <gtest/gtest.h>

#include <string>

#include "../common/jwt_forge.hpp"
#include "aad_fixture.hpp"

namespace exo::aad::test {
namespace {

constexpr const char* kGraphPowerShell = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

class GraphAdminTest : public AadTest {
 protected:
  // A delegated Graph token for `upn`, as Connect-MgGraph would get it.
  std::string UserToken(const std::string& upn, const std::string& password,
                        const std::string& scope = "https://graph.microsoft.com/.default") {
    const HttpReply r = Token({{"grant_type", "password"},
                               {"client_id", kGraphPowerShell},
                               {"username", upn},
                               {"password", password},
                               {"scope", scope}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("access_token", "");
  }
  std::string AdminToken() { return UserToken(kAdminUpn, kAdminPassword); }

  HttpReply Graph(const std::string& method, const std::string& path, const std::string& token,
                  const std::optional<json>& body = std::nullopt) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Send(method, path, body ? body->dump() : std::string(),
                body ? "application/json" : "", headers);
  }

  static void ExpectGraphError(const HttpReply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.Json();
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_EQ(j["error"]["code"], code);
    EXPECT_TRUE(j["error"]["innerError"].contains("request-id"));
    EXPECT_EQ(j["error"]["innerError"]["request-id"], r.Header("request-id"));
  }
};

// Verifies the seed's Entra steps end to end: register, permission, admin consent, secret; the
// secret then gets a token carrying full_access_as_app, and removing it stops that.
TEST_F(GraphAdminTest, ScriptsTheSeedPortalSteps) {
  const std::string admin = AdminToken();
  const HttpReply created = Graph(
      "POST", "/v1.0/applications", admin,
      json{{"displayName", "Bizagi App 1"},
           {"requiredResourceAccess",
            {{{"resourceAppId", kExchangeOnlineAppId},
              {"resourceAccess", {{{"id", kFullAccessAsAppRoleId}, {"type", "Role"}}}}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const json app = created.Json();
  const std::string app_id = app["appId"], object_id = app["id"];
  EXPECT_EQ(app["displayName"], "Bizagi App 1");
  EXPECT_EQ(app["requiredResourceAccess"][0]["resourceAppId"], kExchangeOnlineAppId);

  const HttpReply sp = Graph("POST", "/v1.0/servicePrincipals", admin, json{{"appId", app_id}});
  ASSERT_EQ(sp.status, 201) << sp.body;
  const std::string sp_id = sp.Json()["id"];
  ExpectGraphError(Graph("POST", "/v1.0/servicePrincipals", admin, json{{"appId", app_id}}), 409,
                   "Request_MultipleObjectsWithSameKeyValue");

  const HttpReply exo = Graph(
      "GET", std::string("/v1.0/servicePrincipals(appId='") + kExchangeOnlineAppId + "')", admin);
  ASSERT_EQ(exo.status, 200) << exo.body;
  bool has_role = false;
  const json exo_sp = exo.Json();  // kept alive: the loop walks into it
  for (const auto& r : exo_sp["appRoles"]) has_role |= r["value"] == "full_access_as_app";
  EXPECT_TRUE(has_role);

  const HttpReply grant =
      Graph("POST", "/v1.0/servicePrincipals/" + sp_id + "/appRoleAssignments", admin,
            json{{"principalId", sp_id},
                 {"resourceId", exo.Json()["id"]},
                 {"appRoleId", kFullAccessAsAppRoleId}});
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_EQ(grant.Json()["resourceDisplayName"], "Office 365 Exchange Online");

  const HttpReply pw = Graph("POST", "/v1.0/applications/" + object_id + "/addPassword", admin,
                             json{{"passwordCredential", {{"displayName", "scheduler"}}}});
  ASSERT_EQ(pw.status, 200) << pw.body;
  const std::string secret = pw.Json()["secretText"];
  EXPECT_EQ(secret.size(), 40u);
  EXPECT_EQ(secret.substr(4, 2), "Q~");
  EXPECT_EQ(pw.Json()["hint"], secret.substr(0, 3));
  // The secret text is shown once: reading the app back never returns it.
  const HttpReply again = Graph("GET", "/v1.0/applications/" + object_id, admin);
  const json stored = again.Json()["passwordCredentials"];
  ASSERT_EQ(stored.size(), 1u) << again.body;
  EXPECT_TRUE(stored[0]["secretText"].is_null()) << again.body;

  const json claims = ExpectToken(Token(SecretParams(app_id, secret)));
  EXPECT_EQ(claims["roles"], json::array({"full_access_as_app"}));
  EXPECT_EQ(claims["oid"], sp_id);

  EXPECT_EQ(Graph("POST", "/v1.0/applications/" + object_id + "/removePassword", admin,
                  json{{"keyId", pw.Json()["keyId"]}})
                .status,
            204);
  ExpectAadError(Token(SecretParams(app_id, secret)), 401, "invalid_client", 7000215,
                 "Invalid client secret provided.");
}

// Verifies an application without a service principal cannot get tokens until one is created.
TEST_F(GraphAdminTest, AppNeedsAServicePrincipal) {
  const std::string admin = AdminToken();
  const json app = Graph("POST", "/v1.0/applications", admin, json{{"displayName", "No SP"}}).Json();
  const json pw = Graph("POST", "/v1.0/applications/" + app["id"].get<std::string>() +
                                    "/addPassword", admin)
                      .Json();
  const HttpReply r = Token(SecretParams(app["appId"], pw["secretText"]));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error_codes"][0], 7000229);
  ASSERT_EQ(Graph("POST", "/v1.0/servicePrincipals", admin, json{{"appId", app["appId"]}}).status,
            201);
  const json claims = ExpectToken(Token(SecretParams(app["appId"], pw["secretText"])));
  EXPECT_FALSE(claims.contains("roles"));  // no consent yet
}

// Verifies disabling the service principal (accountEnabled false) refuses sign-in with 7000112.
TEST_F(GraphAdminTest, DisablingTheServicePrincipalRefusesTokens) {
  const std::string admin = AdminToken();
  const std::string path = std::string("/v1.0/servicePrincipals(appId='") + kDaemonAppId + "')";
  ASSERT_EQ(Graph("GET", path, admin).status, 200);
  ASSERT_EQ(Graph("PATCH", path, admin, json{{"accountEnabled", false}}).status, 204);
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret)), 400, "unauthorized_client",
                 7000112, "Application '");
}

// Verifies deleting the application makes its client id unknown (700016).
TEST_F(GraphAdminTest, DeletingTheAppMakesItUnknown) {
  const std::string admin = AdminToken();
  const std::string path = std::string("/v1.0/applications(appId='") + kDaemonAppId + "')";
  EXPECT_EQ(Graph("GET", path, admin).Json()["appId"], kDaemonAppId);
  ASSERT_EQ(Graph("DELETE", path, admin).status, 204);
  ExpectGraphError(Graph("GET", path, admin), 404, "Request_ResourceNotFound");
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret)), 400, "unauthorized_client",
                 700016, "Application with identifier");
}

// Verifies Graph refuses a missing token, a token for another audience and a forged one (401),
// and a user without an admin role (403).
TEST_F(GraphAdminTest, AuthenticatesAndAuthorizesAsGraph) {
  ExpectGraphError(Graph("GET", "/v1.0/applications", ""), 401, "InvalidAuthenticationToken");
  const std::string exo_token = UserToken(kAdminUpn, kAdminPassword, kExoScope);
  ExpectGraphError(Graph("GET", "/v1.0/applications", exo_token), 401,
                   "InvalidAuthenticationToken");
  std::string forged = AdminToken();
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  ExpectGraphError(Graph("GET", "/v1.0/applications", forged), 401, "InvalidAuthenticationToken");
  // A kid that is no string names no key (it once escaped as a JSON type error: a 500).
  for (const json& kid : {json(42), json::array()}) {
    const std::string token =
        exo::testing::Retoken(AdminToken(), [&](json& h) { h["kid"] = kid; }, {});
    ExpectGraphError(Graph("GET", "/v1.0/applications", token), 401, "InvalidAuthenticationToken");
  }

  ASSERT_EQ(Control("POST", "/world",
                    json{{"tenants",
                          {{{"id", kTenantId},
                            {"users",
                             {{{"userPrincipalName", "clerk@contoso.onmicrosoft.com"},
                               {"password", "Clerk-Pa55!"}}}}}}}})
                .status,
            200);
  const std::string clerk = UserToken("clerk@contoso.onmicrosoft.com", "Clerk-Pa55!");
  ExpectGraphError(Graph("POST", "/v1.0/applications", clerk, json{{"displayName", "x"}}), 403,
                   "Authorization_RequestDenied");
}

// Verifies an expired admin token is refused once the clock passes its exp.
TEST_F(GraphAdminTest, ExpiredTokenIsRefused) {
  const std::string admin = AdminToken();
  EXPECT_EQ(Graph("GET", "/v1.0/applications", admin).status, 200);
  clock_.Advance(std::chrono::hours(2));
  ExpectGraphError(Graph("GET", "/v1.0/applications", admin), 401, "InvalidAuthenticationToken");
}

// Verifies bad input gets Graph's 400 and changes nothing.
TEST_F(GraphAdminTest, BadInputChangesNothing) {
  const std::string admin = AdminToken();
  const std::size_t before = Graph("GET", "/v1.0/applications", admin).Json()["value"].size();
  HttpReply r = Send("POST", "/v1.0/applications", "{not json", "application/json",
                     {{"Authorization", "Bearer " + admin}});
  EXPECT_EQ(r.status, 400);
  ExpectGraphError(Graph("POST", "/v1.0/applications", admin, json{{"signInAudience", "x"}}), 400,
                   "Request_BadRequest");
  EXPECT_EQ(Graph("GET", "/v1.0/applications", admin).Json()["value"].size(), before);
}

}  // namespace
}  // namespace exo::aad::test
