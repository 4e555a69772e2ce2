// The mock-ews service test fixture: mock-aad and mock-ews in-process on port 0 over HTTPS, on
// one SimulatedClock and one harness CA directory, with the tenant trusted in-process and a
// "monitor@contoso.com" mailbox. Tokens come from mock-aad's real token endpoint; SOAP bodies
// follow exchangelib 4.9's captured requests (shared/reference/captures).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <string>

#include "../common/temp_dir.hpp"
#include "../mock-aad/aad_fixture.hpp"
#include "exo/common/clock.hpp"
#include "exo/mock_aad/mock_aad.hpp"
#include "exo/mock_ews/mock_ews.hpp"

namespace exo::mock_ews::test {

using aad::test::HttpReply;
using aad::test::kTenantId;
using nlohmann::json;

inline constexpr const char* kMonitor = "monitor@contoso.com";
// Consented to Mail.Read on Exchange Online only (not full_access_as_app).
inline constexpr const char* kReaderAppId = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
inline constexpr const char* kReaderSecret = "Rdr8Q~readerSecretValue0123456789abcdef";

// An exchangelib-style envelope (Exchange2016, PrimarySmtpAddress impersonation, UTC) around
// `body`; `header` replaces the default header content when given.
inline std::string Envelope(const std::string& body,
                            const std::optional<std::string>& header = std::nullopt) {
  const std::string default_header =
      "<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>"
      "<t:ConnectingSID><t:PrimarySmtpAddress>" +
      std::string(kMonitor) +
      "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"
      "<t:TimeZoneContext><t:TimeZoneDefinition Id=\"UTC\"/></t:TimeZoneContext>";
  return "<?xml version='1.0' encoding='utf-8'?>\n"
         "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "
         "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\">"
         "<s:Header>" +
         header.value_or(default_header) + "</s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
}

// A parsed SOAP answer with XPath over local names.
struct Soap {
  pugi::xml_document doc;
  bool ok = false;

  explicit Soap(const std::string& body) { ok = static_cast<bool>(doc.load_string(body.c_str())); }
  // The first element with local name `name` (anywhere), empty if none.
  pugi::xml_node Find(const std::string& name) const {
    return doc.select_node(("//*[local-name()='" + name + "']").c_str()).node();
  }
  std::size_t Count(const std::string& name) const {
    return doc.select_nodes(("//*[local-name()='" + name + "']").c_str()).size();
  }
  std::string Text(const std::string& name) const { return Find(name).text().as_string(); }
};

class EwsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_dir_ = std::make_unique<exo::testing::TempDir>();
    json world = aad::test::TestWorld();
    world["tenants"][0]["applications"].push_back(
        {{"appId", kReaderAppId},
         {"displayName", "Contoso Mail Reader"},
         {"passwordCredentials", {{{"secretText", kReaderSecret}}}},
         {"appRoleAssignments",
          {{{"resource", aad::test::kExoResource}, {"appRole", "Mail.Read"}}}}});
    aad::MockAadOptions aad_options;
    aad_options.ca_dir = ca_dir_->path();
    aad_options.world = world;
    aad_options.threads = 4;
    auto aad = aad::MockAad::Start(aad_options, clock_, &clock_);
    ASSERT_TRUE(aad.has_value()) << aad.error().Describe();
    aad_ = std::move(*aad);

    MockEwsOptions options;
    options.ca_dir = ca_dir_->path();
    options.threads = 4;
    auto ews = MockEws::Start(options, clock_, &clock_);
    ASSERT_TRUE(ews.has_value()) << ews.error().Describe();
    ews_ = std::move(*ews);
    ASSERT_TRUE(ews_->TrustTenant({kTenantId, [this] { return aad_->Jwks(); }}).has_value());

    aad_client_ = MakeClient(aad_->port());
    ews_client_ = MakeClient(ews_->port());
    // Serve one request on each before the test runs (a listener stopped before its accept
    // loop starts hangs), and create the monitored mailbox through the control API.
    ASSERT_EQ(Send(*aad_client_, "GET", "/_exo/clock").status, 200);
    const HttpReply created =
        Control("/_exo/mailboxes",
                {{"organization", kTenantId}, {"smtp", kMonitor}, {"displayName", "Monitor"}});
    ASSERT_EQ(created.status, 201) << created.body;
    token_ = Token();
    ASSERT_FALSE(token_.empty());
  }

  // One SOAP call as the daemon app (full_access_as_app), impersonating the monitored mailbox.
  HttpReply Call(const std::string& body) { return Ews(Envelope(body), token_); }

  void TearDown() override {
    if (ews_client_) SaveResponseCorpus();
    ews_client_.reset();
    aad_client_.reset();
    ews_.reset();
    aad_.reset();
    ca_dir_.reset();
  }

  std::unique_ptr<httplib::SSLClient> MakeClient(int port) {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path(ews_ ? ews_->ca_file().string() : aad_->ca_file().string());
    c->enable_server_certificate_verification(true);
    // The one wait limit: a hung server fails the test instead of blocking it.
    c->set_connection_timeout(10);
    c->set_read_timeout(10);
    c->set_write_timeout(10);
    return c;
  }

  static HttpReply Send(httplib::SSLClient& client, const std::string& method,
                        const std::string& path, const std::string& body = {},
                        const std::string& content_type = {},
                        const httplib::Headers& headers = {}) {
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = headers;
    req.body = body;
    if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
    HttpReply reply;
    auto res = client.send(req);
    if (!res) {
      reply.transport_error = res.error();
      return reply;
    }
    reply.status = res->status;
    reply.body = res->body;
    reply.headers = res->headers;
    return reply;
  }

  HttpReply Control(const std::string& path, const json& body) {
    return Send(*ews_client_, "POST", path, body.dump(), "application/json");
  }

  // An access token from mock-aad's v2 endpoint (client_credentials, secret). Empty on failure.
  std::string Token(const std::string& client_id = aad::test::kDaemonAppId,
                    const std::string& secret = aad::test::kDaemonSecret,
                    const std::string& scope = aad::test::kExoScope) {
    const HttpReply r =
        Send(*aad_client_, "POST", std::string("/") + kTenantId + "/oauth2/v2.0/token",
             aad::test::EncodeParams(aad::test::SecretParams(client_id, secret, scope)),
             aad::test::kFormType);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("access_token", std::string());
  }

  HttpReply Ews(const std::string& envelope, const std::string& token,
                const std::string& path = "/EWS/Exchange.asmx") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Send(*ews_client_, "POST", path, envelope, "text/xml; charset=utf-8", headers);
  }

  // Delivers a generated message to the monitor's Inbox through the control API.
  void Deliver(const std::string& subject) {
    const HttpReply r = Control(std::string("/_exo/mailboxes/") + kMonitor + "/deliver",
                                {{"from", "sender@fabrikam.com"},
                                 {"to", kMonitor},
                                 {"subject", subject},
                                 {"body", "Hello"}});
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // Writes every successful EWS answer this test produced to $EXO_EWS_CORPUS_DIR (one file per
  // response), where the mock_ews.schema_corpus test validates them all against Microsoft's
  // schema: every response shape a test exercises is checked, not only the ones a test inspects.
  void SaveResponseCorpus() {
    const char* dir = std::getenv("EXO_EWS_CORPUS_DIR");
    if (dir == nullptr || *dir == '\0') return;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const HttpReply r = Send(*ews_client_, "GET", "/_exo/journal?status=200");
    if (r.status != 200) return;
    const json entries = r.Json().value("entries", json::array());
    std::filesystem::create_directories(dir);
    for (const json& e : entries) {
      std::string path = e.value("path", "");
      std::transform(path.begin(), path.end(), path.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (path != "/ews/exchange.asmx" || e.value("method", "") != "POST") continue;
      const std::string file = std::string(dir) + "/" + info->test_suite_name() + "." +
                               info->name() + "-" + std::to_string(e.value("seq", 0)) + ".xml";
      std::ofstream(file, std::ios::binary) << e.value("responseBody", "");
    }
  }

  std::unique_ptr<exo::testing::TempDir> ca_dir_;
  SimulatedClock clock_;
  std::string token_;  // the daemon app's token, fetched in SetUp
  std::unique_ptr<aad::MockAad> aad_;
  std::unique_ptr<MockEws> ews_;
  std::unique_ptr<httplib::SSLClient> aad_client_;
  std::unique_ptr<httplib::SSLClient> ews_client_;
};

}  // namespace exo::mock_ews::test
