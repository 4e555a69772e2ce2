// The scheduler's .config as the client reads it: every key validated with a message that names
// it and the seed step that sets it.
#include "exo/client/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../common/temp_dir.hpp"

namespace exo::client {
namespace {

using ::testing::HasSubstr;

constexpr const char* kApp = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
constexpr const char* kTenant = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01";

std::string Config(const std::string& extra, const std::string& secret = "exo1:abcd:AAAA:BBBB") {
  return std::string("<?xml version=\"1.0\"?>\n<configuration><appSettings>") +
         "<add key=\"EmailIntegrationIdApp\" value=\"" + kApp + "\"/>" +
         "<add key=\"EmailIntegrationTenantId\" value=\"" + kTenant + "\"/>" +
         (secret.empty() ? ""
                         : "<add key=\"EmailIntegrationClientSecret\" value=\"" + secret + "\"/>") +
         "<add key=\"EmailIntegrationWebmailDefault\" "
         "value=\"https://outlook.office365.com/.default\"/>" +
         "<add key=\"EmailIntegrationMailbox\" value=\"monitor@contoso.com\"/>" + extra +
         "<add key=\"SomethingElse\" value=\"ignored\"/></appSettings></configuration>";
}

Error ParseError(const std::string& xml) {
  auto c = ParseClientConfig(xml);
  EXPECT_FALSE(c.has_value());
  return c ? Error{} : c.error();
}

// Verifies the seed's four keys plus the mailbox give a complete configuration with defaults.
TEST(ClientConfigTest, ReadsTheSeedKeys) {
  auto c = ParseClientConfig(Config(""));
  ASSERT_TRUE(c.has_value()) << c.error().Describe();
  EXPECT_EQ(c->app_id, kApp);
  EXPECT_EQ(c->tenant_id, kTenant);
  EXPECT_EQ(c->encrypted_secret, "exo1:abcd:AAAA:BBBB");
  EXPECT_EQ(c->scope, "https://outlook.office365.com/.default");
  EXPECT_EQ(c->mailbox, "monitor@contoso.com");
  EXPECT_EQ(c->folder, "inbox");
  EXPECT_EQ(c->disposition.kind, DispositionKind::kMarkRead);
  EXPECT_EQ(c->transport, TransportKind::kEws);
  EXPECT_EQ(c->authority_host, "https://login.microsoftonline.com");
  EXPECT_TRUE(c->warnings.empty());
}

// Verifies a missing application id names the key and the seed step that gives its value.
TEST(ClientConfigTest, MissingAppIdNamesKeyAndStep) {
  std::string xml = Config("");
  xml.replace(xml.find(kApp), std::string(kApp).size(), "");
  const Error e = ParseError(xml);
  EXPECT_EQ(e.category, ErrorCategory::kConfiguration);
  EXPECT_THAT(e.message, HasSubstr("EmailIntegrationIdApp"));
  EXPECT_THAT(e.remedy, HasSubstr("seed step 4"));
}

// Verifies ids must be GUIDs (the tenant may also be a verified domain).
TEST(ClientConfigTest, ChecksGuidForm) {
  std::string xml = Config("");
  xml.replace(xml.find(kApp), std::string(kApp).size(), "Bizagi App 1");
  EXPECT_THAT(ParseError(xml).message, HasSubstr("is not a GUID"));
  std::string domain = Config("");
  domain.replace(domain.find(kTenant), std::string(kTenant).size(), "contoso.onmicrosoft.com");
  EXPECT_TRUE(ParseClientConfig(domain).has_value());
  std::string bad = Config("");
  bad.replace(bad.find(kTenant), std::string(kTenant).size(), "not a tenant");
  EXPECT_THAT(ParseError(bad).message, HasSubstr("EmailIntegrationTenantId"));
}

// Verifies a plaintext secret in the .config is refused rather than used.
TEST(ClientConfigTest, RefusesPlaintextSecret) {
  const Error e = ParseError(Config("", "Abc8Q~plaintextSecretValue"));
  EXPECT_THAT(e.message, HasSubstr("EmailIntegrationClientSecret"));
  EXPECT_THAT(e.remedy, HasSubstr("protect-secret"));
}

// Verifies a missing secret points at seed step 3 (create the client secret).
TEST(ClientConfigTest, MissingSecretPointsAtStep3) {
  EXPECT_THAT(ParseError(Config("", "")).remedy, HasSubstr("seed step 3"));
}

// Verifies the scope must be a resource's .default scope, as app-only tokens need.
TEST(ClientConfigTest, ScopeMustBeDotDefault) {
  std::string xml = Config("");
  const std::string scope = "https://outlook.office365.com/.default";
  xml.replace(xml.find(scope), scope.size(), "https://outlook.office365.com/EWS.AccessAsUser.All");
  const Error e = ParseError(xml);
  EXPECT_THAT(e.message, HasSubstr("EmailIntegrationWebmailDefault"));
  EXPECT_THAT(e.remedy, HasSubstr(".default"));
}

// Verifies the seed's step 6: connection type Exchange and a blank password.
TEST(ClientConfigTest, PasswordMustBeBlank) {
  EXPECT_THAT(
      ParseError(Config("<add key=\"EmailIntegrationPassword\" value=\"hunter2\"/>")).remedy,
      HasSubstr("seed step 6"));
  EXPECT_THAT(
      ParseError(Config("<add key=\"EmailIntegrationConnectionType\" value=\"IMAP\"/>")).message,
      HasSubstr("EmailIntegrationConnectionType"));
  EXPECT_TRUE(ParseClientConfig(Config("<add key=\"EmailIntegrationPassword\" value=\"\"/>"
                                       "<add key=\"EmailIntegrationConnectionType\" "
                                       "value=\"Exchange\"/>"))
                  .has_value());
}

// Verifies endpoint overrides must be https (http only on loopback, for tests).
TEST(ClientConfigTest, EndpointOverridesAreChecked) {
  auto ok = ParseClientConfig(Config(
      "<add key=\"EmailIntegrationAuthority\" value=\"https://127.0.0.1:8443/\"/>"
      "<add key=\"EmailIntegrationEwsUrl\" value=\"http://127.0.0.1:8080/EWS/Exchange.asmx\"/>"));
  ASSERT_TRUE(ok.has_value()) << ok.error().Describe();
  EXPECT_EQ(ok->authority_host, "https://127.0.0.1:8443");
  EXPECT_THAT(ParseError(Config("<add key=\"EmailIntegrationEwsUrl\" "
                                "value=\"http://mail.contoso.com/EWS/Exchange.asmx\"/>"))
                  .message,
              HasSubstr("EmailIntegrationEwsUrl"));
}

// Verifies dispositions parse, and a wrong one is an error rather than a silent default.
TEST(ClientConfigTest, Dispositions) {
  auto move = ParseClientConfig(
      Config("<add key=\"EmailIntegrationDisposition\" value=\"move:Processed\"/>"));
  ASSERT_TRUE(move.has_value());
  EXPECT_EQ(move->disposition.kind, DispositionKind::kMove);
  EXPECT_EQ(move->disposition.folder, "Processed");
  EXPECT_THAT(
      ParseError(Config("<add key=\"EmailIntegrationDisposition\" value=\"archive\"/>")).message,
      HasSubstr("EmailIntegrationDisposition"));
}

// Verifies unknown EmailIntegration keys are reported as warnings, and duplicates are errors.
TEST(ClientConfigTest, UnknownKeysWarnDuplicatesFail) {
  auto c = ParseClientConfig(Config("<add key=\"EmailIntegrationPolingInterval\" value=\"5\"/>"));
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0], HasSubstr("EmailIntegrationPolingInterval"));
  EXPECT_THAT(
      ParseError(Config("<add key=\"EmailIntegrationMailbox\" value=\"b@contoso.com\"/>")).message,
      HasSubstr("more than once"));
}

// Verifies EmailIntegrationTransport chooses ews (the default), graph or auto in any case, and
// EmailIntegrationGraphUrl defaults to Microsoft Graph's public cloud, the version and trailing
// slash of a pasted URL dropped.
TEST(ClientConfigTest, TransportAndGraphUrl) {
  auto c = ParseClientConfig(Config(""));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->transport, TransportKind::kEws);
  EXPECT_EQ(c->graph_url, "https://graph.microsoft.com");
  for (const auto& [value, kind] :
       {std::pair<const char*, TransportKind>{"ews", TransportKind::kEws},
        {"Graph", TransportKind::kGraph},
        {"AUTO", TransportKind::kAuto}}) {
    auto t = ParseClientConfig(
        Config(std::string("<add key=\"EmailIntegrationTransport\" value=\"") + value + "\"/>"));
    ASSERT_TRUE(t.has_value()) << value;
    EXPECT_EQ(t->transport, kind) << value;
  }
  auto us = ParseClientConfig(
      Config("<add key=\"EmailIntegrationGraphUrl\" value=\"https://graph.microsoft.us/v1.0/\"/>"));
  ASSERT_TRUE(us.has_value()) << us.error().Describe();
  EXPECT_EQ(us->graph_url, "https://graph.microsoft.us");
  auto test = ParseClientConfig(
      Config("<add key=\"EmailIntegrationGraphUrl\" value=\"http://127.0.0.1:8443\"/>"));
  ASSERT_TRUE(test.has_value());
  EXPECT_EQ(test->graph_url, "http://127.0.0.1:8443");
}

// Verifies a wrong transport or Graph URL is refused naming the key and what it takes.
TEST(ClientConfigTest, BadTransportOrGraphUrlNamesTheKey) {
  const Error transport =
      ParseError(Config("<add key=\"EmailIntegrationTransport\" value=\"rest\"/>"));
  EXPECT_EQ(transport.category, ErrorCategory::kConfiguration);
  EXPECT_THAT(transport.message, HasSubstr("EmailIntegrationTransport"));
  EXPECT_THAT(transport.message, HasSubstr("'rest'"));
  EXPECT_THAT(transport.remedy, HasSubstr("auto"));
  EXPECT_THAT(ParseError(Config("<add key=\"EmailIntegrationGraphUrl\" "
                                "value=\"http://graph.microsoft.com\"/>"))
                  .message,
              HasSubstr("EmailIntegrationGraphUrl"));
  EXPECT_THAT(ParseError(Config("<add key=\"EmailIntegrationGraphUrl\" "
                                "value=\"https://graph.microsoft.com/v1.0?x=1\"/>"))
                  .message,
              HasSubstr("EmailIntegrationGraphUrl"));
}

// Verifies malformed XML and DOCTYPEs are refused with a clear message.
TEST(ClientConfigTest, RefusesBrokenXml) {
  EXPECT_THAT(ParseError("<configuration><appSettings>").message, HasSubstr("not well-formed"));
  EXPECT_THAT(ParseError("<!DOCTYPE x [<!ENTITY a \"b\">]><configuration><appSettings/>"
                         "</configuration>")
                  .message,
              HasSubstr("DOCTYPE"));
  EXPECT_THAT(ParseError("<configuration/>").message, HasSubstr("appSettings"));
}

// Verifies relative paths resolve against the .config's directory, as the scheduler's do.
TEST(ClientConfigTest, LoadsFileAndResolvesRelativePaths) {
  exo::testing::TempDir dir;
  const auto file = dir.path() / "Scheduler.config";
  std::ofstream(file) << Config("<add key=\"EmailIntegrationKeyFile\" value=\"secret.key\"/>");
  auto c = LoadClientConfig(file);
  ASSERT_TRUE(c.has_value()) << c.error().Describe();
  EXPECT_EQ(*c->key_file, dir.path() / "secret.key");
  EXPECT_EQ(c->source, file);
  auto missing = LoadClientConfig(dir.path() / "absent.config");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().category, ErrorCategory::kConfiguration);
}

}  // namespace
}  // namespace exo::client
