// A scheduler .config on disk for the in-process Exchange (ExchangeTest): the seed's keys pointing
// at mock-aad and mock-ews, the secret protected under a key file, as an operator would set it up.
#pragma once

#include <fstream>
#include <map>
#include <string>

#include "exchange_fixture.hpp"
#include "exo/client/config.hpp"
#include "exo/client/secret_box.hpp"

namespace exo::client::test {

class ConfiguredTest : public ExchangeTest {
 protected:
  void SetUp() override {
    ExchangeTest::SetUp();
    dir_ = std::make_unique<exo::testing::TempDir>();
    key_file_ = dir_->path() / "secret.key";
    auto key = SecretKey::Generate(key_file_);
    ASSERT_TRUE(key.has_value()) << key.error().Describe();
    config_file_ = dir_->path() / "scheduler.config";
  }

  void TearDown() override {
    ExchangeTest::TearDown();
    dir_.reset();
  }

  std::string Protect(const std::string& secret) {
    auto key = SecretKey::LoadFile(key_file_);
    EXPECT_TRUE(key.has_value());
    auto sealed = key ? ProtectSecret(secret, *key) : Result<std::string>("");
    EXPECT_TRUE(sealed.has_value());
    return sealed ? *sealed : std::string();
  }

  // The keys an operator sets (seed steps 4 and 6) plus the harness's endpoints; `overrides`
  // replaces or adds keys, an empty value removes one.
  std::map<std::string, std::string> Keys(const std::string& app, const std::string& secret) {
    return {{"EmailIntegrationIdApp", app},
            {"EmailIntegrationTenantId", aad::test::kTenantId},
            {"EmailIntegrationClientSecret", Protect(secret)},
            {"EmailIntegrationWebmailDefault", "https://outlook.office365.com/.default"},
            {"EmailIntegrationMailbox", kMailbox},
            {"EmailIntegrationConnectionType", "Exchange"},
            {"EmailIntegrationAuthority", aad_->base_url()},
            {"EmailIntegrationEwsUrl", ews_->ews_url()},
            {"EmailIntegrationCaBundle", aad_->ca_file().string()},
            {"EmailIntegrationKeyFile", key_file_.string()},
            {"EmailIntegrationStateDir", dir_->path().string()}};
  }

  void WriteConfig(const std::map<std::string, std::string>& keys) {
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n"
        "  <!-- the Bizagi Scheduler's settings -->\n  <appSettings>\n";
    for (const auto& [k, v] : keys) {
      if (!v.empty()) xml += "    <add key=\"" + k + "\" value=\"" + v + "\"/>\n";
    }
    xml += "  </appSettings>\n</configuration>\n";
    std::ofstream(config_file_, std::ios::trunc) << xml;
  }

  void WriteConfig(const std::string& app = aad::test::kDaemonAppId,
                   const std::string& secret = aad::test::kDaemonSecret,
                   const std::map<std::string, std::string>& overrides = {}) {
    auto keys = Keys(app, secret);
    for (const auto& [k, v] : overrides) keys[k] = v;
    WriteConfig(keys);
  }

  ClientConfig LoadConfig() {
    auto c = LoadClientConfig(config_file_);
    EXPECT_TRUE(c.has_value()) << c.error().Describe();
    return c ? *c : ClientConfig{};
  }

  std::unique_ptr<exo::testing::TempDir> dir_;
  std::filesystem::path key_file_;
  std::filesystem::path config_file_;
};

}  // namespace exo::client::test
