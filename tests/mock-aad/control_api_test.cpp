// The harness control API under /_exo (mock_aad.cpp and mock-kit's common routes): the clock,
// fault injection, the journal, reset, state, settings and credential administration.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "aad_fixture.hpp"

namespace exo::aad::test {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class ControlApiTest : public AadTest {
 protected:
  std::string AppPath(const std::string& app_id) {
    return std::string("/tenants/") + kTenantId + "/applications/" + app_id;
  }

  json Journal(const std::string& query = "") {
    const HttpReply r = Control("GET", "/journal" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
};

// ---- Clock ----

// Verifies the clock reads as the shared SimulatedClock and advances by a duration or seconds,
// and tokens are stamped with the advanced time.
TEST_F(ControlApiTest, ReadsAndAdvancesTheClock) {
  const SystemTime start = clock_.Now();
  HttpReply r = Control("GET", "/clock");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["mode"], "simulated");
  EXPECT_EQ(r.Json()["now"], FormatIso8601Ticks(start));

  r = Control("POST", "/clock/advance", json{{"by", "65m"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(clock_.Now(), start + minutes(65));
  EXPECT_EQ(r.Json()["now"], FormatIso8601Ticks(start + minutes(65)));

  r = Control("POST", "/clock/advance", json{{"seconds", 30}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(clock_.Now(), start + minutes(65) + seconds(30));

  const json c = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(c["iat"], ToUnixSeconds(start + minutes(65) + seconds(30)) - 300);
}

// Verifies a bad duration is refused and leaves the clock alone.
TEST_F(ControlApiTest, RejectsInvalidClockAdvance) {
  const SystemTime start = clock_.Now();
  for (const json& body : {json{{"by", "soon"}}, json{{"seconds", -5}}, json::object()}) {
    SCOPED_TRACE(body.dump());
    const HttpReply r = Control("POST", "/clock/advance", body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.Json()["error"]["code"], "InvalidDuration");
  }
  EXPECT_EQ(clock_.Now(), start);
}

// Verifies /clock/set steps system time to the given instant.
TEST_F(ControlApiTest, SetsTheClock) {
  const HttpReply r = Control("POST", "/clock/set", json{{"now", "2027-04-01T00:00:00Z"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(clock_.Now(), *ParseIso8601("2027-04-01T00:00:00Z"));
}

// ---- Faults ----

// Verifies a status fault answers N times, counts its hits, then lets requests through.
TEST_F(ControlApiTest, StatusFaultFiresNTimesThenStops) {
  const HttpReply added = Control("POST", "/faults",
                                  json{{"path", "/oauth2/v2\\.0/token$"},
                                       {"status", 503},
                                       {"body", "upstream busy"},
                                       {"headers", {{"Retry-After", "7"}}},
                                       {"times", 2}});
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string id = added.Json().value("id", "");
  ASSERT_FALSE(id.empty());

  for (int i = 0; i < 2; ++i) {
    const HttpReply r = Token(SecretParams(kDaemonAppId, kDaemonSecret));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "upstream busy");
    EXPECT_EQ(r.Header("Retry-After"), "7");
  }
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));

  const json faults = Control("GET", "/faults").Json()["faults"];
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0]["id"], id);
  EXPECT_EQ(faults[0]["hits"], 2);
  const json faulted = Journal("?status=503")["entries"];
  ASSERT_EQ(faulted.size(), 2u);
  EXPECT_EQ(faulted[0]["annotations"]["fault"], id);

  EXPECT_EQ(Control("DELETE", "/faults/" + id).status, 204);
  EXPECT_TRUE(Control("GET", "/faults").Json()["faults"].empty());
  EXPECT_EQ(Control("DELETE", "/faults/" + id).status, 404);
}

// Verifies a fault only hits requests it matches (here: one client id in the body).
TEST_F(ControlApiTest, FaultMatchesBodyContents) {
  ASSERT_EQ(
      Control("POST", "/faults", json{{"bodyContains", kReporterAppId}, {"status", 500}}).status,
      201);
  EXPECT_EQ(Token(SecretParams(kReporterAppId, kReporterSecret)).status, 500);
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(Control("DELETE", "/faults").status, 204);
  ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
}

// Verifies a reset fault drops the connection: the client gets no HTTP answer at all.
TEST_F(ControlApiTest, ResetFaultDropsTheConnection) {
  ASSERT_EQ(
      Control("POST", "/faults", json{{"path", "token"}, {"reset", true}, {"times", 1}}).status,
      201);
  const HttpReply r = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  EXPECT_EQ(r.status, 0) << r.body;
  EXPECT_TRUE(r.transport_error.has_value());
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies truncateAfterBytes cuts the real answer short: the client sees a broken response.
TEST_F(ControlApiTest, TruncateFaultCutsTheResponse) {
  ASSERT_EQ(
      Control("POST", "/faults", json{{"path", "token"}, {"truncateAfterBytes", 20}, {"times", 1}})
          .status,
      201);
  const HttpReply r = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  EXPECT_TRUE(r.transport_error.has_value() || r.body.size() <= 20)
      << "status " << r.status << " body " << r.body;
  EXPECT_FALSE(r.Json().is_object());
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies malformed fault rules are refused with a reason (a typo must not be a silent no-op).
TEST_F(ControlApiTest, RejectsMalformedFaultRules) {
  for (const json& rule : {json{{"stauts", 500}}, json{{"status", 42}},
                           json{{"path", "("}, {"status", 500}}, json{{"times", "twice"}}}) {
    SCOPED_TRACE(rule.dump());
    const HttpReply r = Control("POST", "/faults", rule);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.Json()["error"]["code"], "InvalidFaultRule");
  }
  EXPECT_TRUE(Control("GET", "/faults").Json()["faults"].empty());
}

// ---- Journal ----

// Verifies the journal records token requests with the secret, the Authorization header, the
// assertion and the access token redacted in place, annotated with operation, tenant and AADSTS
// code, on the harness clock; control calls are not journaled.
TEST_F(ControlApiTest, JournalRedactsSecretsAndTokens) {
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  const std::string basic =
      "Basic " + Base64Encode(std::string(kReporterAppId) + ":" + kReporterSecret);
  ExpectToken(Token({{"scope", kExoScope}, {"grant_type", "client_credentials"}},
                    {{"Authorization", basic}}));
  ExpectAadError(Token(SecretParams(kDaemonAppId, "wrong-secret")), 401, "invalid_client", 7000215,
                 "Invalid client secret provided.");
  ExpectToken(Token(AssertionParams(DaemonAssertion(AssertionClaims()))));

  const json entries = Journal()["entries"];
  ASSERT_EQ(entries.size(), 4u) << "control calls must not be journaled";
  const json& first = entries[0];
  EXPECT_EQ(first["method"], "POST");
  EXPECT_EQ(first["path"], TokenPath());
  EXPECT_EQ(first["status"], 200);
  EXPECT_EQ(first["time"], FormatIso8601Ticks(clock_.Now()));
  const std::string body = first["requestBody"];
  EXPECT_NE(body.find("client_secret=<redacted>"), std::string::npos) << body;
  EXPECT_EQ(body.find(kDaemonSecret), std::string::npos) << body;
  EXPECT_NE(body.find("client_id=" + std::string(kDaemonAppId)), std::string::npos) << body;
  const json response = json::parse(first["responseBody"].get<std::string>());
  EXPECT_EQ(response["access_token"], "<redacted>");
  EXPECT_EQ(response["expires_in"], 3599);
  EXPECT_EQ(first["annotations"]["operation"], "token.v2");
  EXPECT_EQ(first["annotations"]["tenant"], kTenantId);

  EXPECT_EQ(entries[1]["requestHeaders"]["Authorization"], "Basic <redacted>");
  EXPECT_EQ(entries[2]["status"], 401);
  EXPECT_EQ(entries[2]["annotations"]["error"], "AADSTS7000215");
  EXPECT_NE(entries[2]["requestBody"].get<std::string>().find("client_secret=<redacted>"),
            std::string::npos);
  const std::string assertion_body = entries[3]["requestBody"];
  EXPECT_NE(assertion_body.find("client_assertion=<redacted>"), std::string::npos);
  EXPECT_EQ(assertion_body.find("eyJ"), std::string::npos) << assertion_body;

  // Filters.
  EXPECT_EQ(Journal("?status=401")["entries"].size(), 1u);
  EXPECT_EQ(Journal("?error=AADSTS7000215")["entries"].size(), 1u);
  EXPECT_EQ(Journal("?since=" + std::to_string(entries[1]["seq"].get<int>()))["entries"].size(),
            2u);
  EXPECT_EQ(Control("DELETE", "/journal").status, 204);
  EXPECT_TRUE(Journal()["entries"].empty());
}

// Verifies no secret, assertion or token text appears anywhere in the journal, whether the
// client sent it in the form body, in HTTP Basic or (carelessly) in the URL query.
TEST_F(ControlApiTest, JournalNeverHoldsSecretText) {
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  ExpectToken(Token(AssertionParams(DaemonAssertion(AssertionClaims()))));
  EXPECT_EQ(Send("POST", TokenPath() + "?client_secret=" + UrlEncode(kReporterSecret),
                 EncodeParams({{"grant_type", "client_credentials"}}), kFormType)
                .status,
            400);
  const HttpReply raw = Control("GET", "/journal");
  ASSERT_EQ(raw.status, 200);
  for (const char* secret : {kDaemonSecret, kReporterSecret}) {
    EXPECT_EQ(raw.body.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(raw.body.find("eyJ"), std::string::npos) << "a JWT is in the journal";
}

// ---- Reset, state and settings ----

// Verifies /_exo/reset restores the initial world and settings and clears journal, faults and
// the throttle.
TEST_F(ControlApiTest, ResetRestoresTheWorld) {
  ASSERT_EQ(Control("DELETE", AppPath(kDaemonAppId)).status, 204);
  ExpectAadError(Token(SecretParams(kDaemonAppId, kDaemonSecret)), 400, "unauthorized_client",
                 700016, "Application with identifier '" + std::string(kDaemonAppId) + "'");
  ASSERT_EQ(Control("PATCH", "/settings", json{{"throttleLimit", 1}, {"tokenLifetimeSeconds", 600}})
                .status,
            200);
  ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  EXPECT_EQ(Token(SecretParams(kReporterAppId, kReporterSecret)).status, 429);
  ASSERT_EQ(Control("POST", "/faults", json{{"path", "nowhere"}, {"status", 500}}).status, 201);

  const HttpReply reset = Control("POST", "/reset");
  EXPECT_EQ(reset.status, 204) << reset.body;

  const json c = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
  EXPECT_EQ(c["exp"], NowUnix() + 3600);
  ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  ExpectToken(Token(SecretParams(kReporterAppId, kReporterSecret)));
  const json settings = Control("GET", "/settings").Json();
  EXPECT_EQ(settings["throttleLimit"], 0);
  EXPECT_EQ(settings["tokenLifetimeSeconds"], 3600);
  EXPECT_TRUE(Control("GET", "/faults").Json()["faults"].empty());
  EXPECT_EQ(Journal()["entries"].size(), 3u);  // only what came after the reset
}

// Verifies the in-process Reset() does the same as the control route.
TEST_F(ControlApiTest, InProcessResetRestoresTheWorld) {
  ASSERT_TRUE(aad_->directory().DeleteApplication(kTenantId, kDaemonAppId).has_value());
  EXPECT_EQ(Token(SecretParams(kDaemonAppId, kDaemonSecret)).status, 400);
  ASSERT_TRUE(aad_->Reset().has_value());
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies the state dump describes the directory but never holds a secret's text or hash.
TEST_F(ControlApiTest, StateNeverContainsSecretText) {
  const HttpReply added =
      Control("POST", AppPath(kDaemonAppId) + "/passwords", json{{"displayName", "next"}});
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string new_secret = added.Json().value("secretText", "");
  ASSERT_FALSE(new_secret.empty());

  const HttpReply r = Control("GET", "/state");
  ASSERT_EQ(r.status, 200);
  for (const std::string& secret :
       {std::string(kDaemonSecret), std::string(kReporterSecret), std::string(kDisabledSecret),
        std::string(kExpiringSecret), new_secret, std::string(kAdminPassword)}) {
    EXPECT_EQ(r.body.find(secret), std::string::npos) << secret;
    EXPECT_EQ(r.body.find(Directory::HashSecret(secret)), std::string::npos) << secret;
  }
  const json state = r.Json();
  ASSERT_EQ(state["tenants"].size(), 1u);
  const json& daemon = state["tenants"][0]["applications"][0];
  EXPECT_EQ(daemon["appId"], kDaemonAppId);
  EXPECT_EQ(daemon["servicePrincipalId"], kDaemonSpId);
  ASSERT_EQ(daemon["passwordCredentials"].size(), 2u);
  EXPECT_EQ(daemon["passwordCredentials"][0]["hint"], "Xy7");
  EXPECT_EQ(daemon["passwordCredentials"][1]["hint"], new_secret.substr(0, 3));
  EXPECT_EQ(state["signingKeys"].size(), 2u);
  EXPECT_EQ(state["signer"], state["signingKeys"][0]);
}

// Verifies settings read back as set, and unknown or invalid settings are refused unchanged.
TEST_F(ControlApiTest, PatchesSettingsAndRejectsUnknownOnes) {
  HttpReply r = Control("PATCH", "/settings", json{{"tokenLifetimeSeconds", 7200}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["tokenLifetimeSeconds"], 7200);
  const HttpReply token = Token(SecretParams(kDaemonAppId, kDaemonSecret));
  EXPECT_EQ(token.Json()["expires_in"], 7199);

  for (const json& bad : {json{{"tokenLifetimeSecs", 60}}, json{{"tokenLifetimeSeconds", 10}},
                          json{{"throttleLimit", -1}}, json{{"throttlePlainBody", "yes"}}}) {
    SCOPED_TRACE(bad.dump());
    r = Control("PATCH", "/settings", bad);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.Json()["error"]["code"], "InvalidWorld");
  }
  r = Send("PATCH", "/_exo/settings", "{not json", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"]["code"], "InvalidJson");
  EXPECT_EQ(Control("GET", "/settings").Json()["tokenLifetimeSeconds"], 7200);
}

// ---- Credential and consent administration ----

// Verifies a certificate added through the control API authenticates at once and stops when
// removed.
TEST_F(ControlApiTest, AddsAndRemovesKeyCredentials) {
  const auto& stray = StrayCredential();
  auto assertion = [&] {
    return mock::SignJwt(AssertionHeader("RS256", "x5t", stray.X5t()), AssertionClaims(),
                         stray.key);
  };
  EXPECT_EQ(Token(AssertionParams(assertion())).Json()["error_codes"][0], 700027);

  const HttpReply added = Control("POST", AppPath(kDaemonAppId) + "/keys",
                                  json{{"certificatePem", stray.certificate.ToPem()}});
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.Json()["customKeyIdentifier"], Base64Encode(stray.certificate.Sha1Thumbprint()));
  ExpectToken(Token(AssertionParams(assertion())));

  const std::string key_id = added.Json().value("keyId", "");
  EXPECT_EQ(Control("DELETE", AppPath(kDaemonAppId) + "/keys/" + key_id).status, 204);
  EXPECT_EQ(Token(AssertionParams(assertion())).Json()["error_codes"][0], 700027);
}

// Verifies removing a secret makes it unknown (7000215) while other secrets keep working.
TEST_F(ControlApiTest, RemovesPasswordCredentials) {
  const HttpReply added = Control("POST", AppPath(kDaemonAppId) + "/passwords", json::object());
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string secret = added.Json().value("secretText", "");
  ExpectToken(Token(SecretParams(kDaemonAppId, secret)));
  EXPECT_EQ(
      Control("DELETE", AppPath(kDaemonAppId) + "/passwords/" + added.Json().value("keyId", ""))
          .status,
      204);
  ExpectAadError(Token(SecretParams(kDaemonAppId, secret)), 401, "invalid_client", 7000215,
                 "Invalid client secret provided.");
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies disable and enable switch AADSTS7000112 on and off.
TEST_F(ControlApiTest, DisablesAndEnablesApplications) {
  ASSERT_EQ(Control("POST", AppPath(kDaemonAppId) + "/disable").status, 204);
  ExpectAadError(
      Token(SecretParams(kDaemonAppId, kDaemonSecret)), 400, "unauthorized_client", 7000112,
      std::string("Application '") + kDaemonAppId + "'(" + kDaemonName + ") is disabled.");
  ASSERT_EQ(Control("POST", AppPath(kDaemonAppId) + "/enable").status, 204);
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

// Verifies revoking consent removes the role from new tokens (tokens already issued keep it).
TEST_F(ControlApiTest, RevokesConsent) {
  const json before = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_EQ(before["roles"], json::array({"full_access_as_app"}));
  const HttpReply revoked =
      Control("DELETE", AppPath(kDaemonAppId) + "/grants?resource=" + UrlEncode(kExoResource) +
                            "&appRole=full_access_as_app");
  ASSERT_EQ(revoked.status, 204) << revoked.body;
  const json after = ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  EXPECT_FALSE(after.contains("roles"));
}

// Verifies administration of an unknown tenant or app is a 404 NotFound, and a bad body a 400.
TEST_F(ControlApiTest, AdministrationErrors) {
  HttpReply r = Control("POST",
                        "/tenants/0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b/applications/" +
                            std::string(kDaemonAppId) + "/passwords",
                        json::object());
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.Json()["error"]["code"], "NotFound");
  r = Control("POST", AppPath("7f8e9d0c-1b2a-4394-8576-a6b5c4d3e2f1") + "/disable");
  EXPECT_EQ(r.status, 404) << r.body;
  r = Control("POST", AppPath(kDaemonAppId) + "/grants",
              json{{"resource", kExoResource}, {"appRole", "no_such_role"}});
  EXPECT_EQ(r.status, 404) << r.body;
  r = Control("POST", AppPath(kDaemonAppId) + "/keys", json{{"certificatePem", "not a cert"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json()["error"]["code"], "InvalidWorld");
  r = Send("POST", "/_exo" + AppPath(kDaemonAppId) + "/passwords", "{", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"]["code"], "InvalidJson");
}

// Verifies POST /_exo/world merges new tenants and apps that can authenticate at once.
TEST_F(ControlApiTest, MergesWorldAdditions) {
  const std::string tenant = "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
  const std::string app = "7f8e9d0c-1b2a-4394-8576-a6b5c4d3e2f1";
  const std::string secret = "Fab8Q~fabrikamSecretValue0123456789abcde";
  const json world = {{"tenants",
                       {{{"id", tenant},
                         {"displayName", "Fabrikam"},
                         {"domains", {"fabrikam.onmicrosoft.com"}},
                         {"applications",
                          {{{"appId", app},
                            {"displayName", "Fabrikam Daemon"},
                            {"passwordCredentials", {{{"secretText", secret}}}},
                            {"appRoleAssignments",
                             {{{"resource", "Office 365 Exchange Online"},
                               {"appRole", "full_access_as_app"}}}}}}}}}}};
  const HttpReply merged = Control("POST", "/world", world);
  ASSERT_EQ(merged.status, 200) << merged.body;
  const json c = ExpectToken(Token(SecretParams(app, secret), {}, "fabrikam.onmicrosoft.com"));
  EXPECT_EQ(c["tid"], tenant);
  EXPECT_EQ(c["roles"], json::array({"full_access_as_app"}));
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));  // Contoso untouched
  // The same app again is refused and changes nothing.
  const HttpReply again = Control("POST", "/world", world);
  EXPECT_EQ(again.status, 400) << again.body;
  ExpectToken(Token(SecretParams(app, secret), {}, tenant));
}

// ---- Lifecycle ----

// Verifies the ready info names this server's URLs, CA file, tenant and admin.
TEST_F(ControlApiTest, ReadyInfoDescribesTheServer) {
  const json info = aad_->ReadyInfo();
  EXPECT_EQ(info["aad"], aad_->base_url());
  EXPECT_EQ(info["control"], aad_->base_url() + "/_exo");
  EXPECT_EQ(info["ca"], aad_->ca_file().string());
  EXPECT_EQ(info["tenant"]["id"], kTenantId);
  EXPECT_EQ(info["tenant"]["domain"], "contoso.onmicrosoft.com");
  EXPECT_EQ(info["admin"]["upn"], kAdminUpn);
  EXPECT_EQ(info["admin"]["password"], kAdminPassword);
  EXPECT_TRUE(crypto::Certificate::FromPem(aad_->ca_pem()).has_value());
  EXPECT_TRUE(std::filesystem::exists(aad_->ca_file()));
  EXPECT_EQ(aad_->base_url(), "https://127.0.0.1:" + std::to_string(aad_->port()));
}

// Verifies two servers run side by side on their own ports and directories, and Stop() may be
// called before destruction.
TEST_F(ControlApiTest, RunsIndependentServersSideBySide) {
  exo::testing::TempDir dir;
  SimulatedClock other_clock;
  MockAadOptions options;
  options.ca_dir = dir.path();
  options.threads = 2;
  auto other = MockAad::Start(options, other_clock, &other_clock);
  ASSERT_TRUE(other.has_value()) << other.error().Describe();
  EXPECT_NE((*other)->port(), aad_->port());
  httplib::SSLClient client("127.0.0.1", (*other)->port());
  client.set_ca_cert_path((*other)->ca_file().string());
  client.enable_server_certificate_verification(true);
  client.set_read_timeout(10);
  // The default world there: the daemon app of this fixture is unknown.
  auto res =
      client.Post(TokenPath(), EncodeParams(SecretParams(kDaemonAppId, kDaemonSecret)), kFormType);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
  (*other)->Stop();
  other->reset();
}

// Verifies a server can be stopped right after Start() returns, before serving anything.
TEST(MockAadLifecycleTest, StopsRightAfterStart) {
  for (int i = 0; i < 20; ++i) {
    exo::testing::TempDir dir;
    SimulatedClock clock;
    MockAadOptions options;
    options.ca_dir = dir.path();
    options.threads = 1;
    auto aad = MockAad::Start(options, clock, &clock);
    ASSERT_TRUE(aad.has_value()) << aad.error().Describe();
  }
}

// ---- Robustness ----

// Verifies concurrent clients each get their own answer and distinct trace ids.
TEST_F(ControlApiTest, ServesConcurrentClients) {
  constexpr int kThreads = 6;
  constexpr int kRequests = 5;
  std::vector<std::vector<std::string>> traces(kThreads);
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> threads;
  const std::string body = EncodeParams(SecretParams(kDaemonAppId, kDaemonSecret));
  const std::string bad = EncodeParams(SecretParams(kDaemonAppId, "wrong"));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::SSLClient client("127.0.0.1", aad_->port());
      client.set_ca_cert_path(aad_->ca_file().string());
      client.enable_server_certificate_verification(true);
      client.set_read_timeout(10);
      for (int i = 0; i < kRequests; ++i) {
        const bool good = (t + i) % 2 == 0;
        auto res = client.Post(TokenPath(), good ? body : bad, kFormType);
        if (!res) continue;
        if (res->status == (good ? 200 : 401)) ++ok[static_cast<std::size_t>(t)];
        traces[static_cast<std::size_t>(t)].push_back(res->get_header_value("x-ms-request-id"));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(ok[static_cast<std::size_t>(t)], kRequests) << "thread " << t;
    unique.insert(traces[static_cast<std::size_t>(t)].begin(),
                  traces[static_cast<std::size_t>(t)].end());
  }
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kThreads * kRequests));
}

// Verifies unknown paths get a 404 and the server keeps serving.
TEST_F(ControlApiTest, AnswersUnknownPathsWith404) {
  const HttpReply r = Get("/no/such/path");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("Not Found"), std::string::npos);
  ExpectToken(Token(SecretParams(kDaemonAppId, kDaemonSecret)));
}

}  // namespace
}  // namespace exo::aad::test
