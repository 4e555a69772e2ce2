// Protecting the client secret: AES-256-GCM under a key file of mode 0600 or an environment key.
#include "exo/client/secret_box.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "../common/temp_dir.hpp"

namespace exo::client {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kSecret = "Abc8Q~SuperSecretClientSecretValue0123456";

class SecretBoxTest : public ::testing::Test {
 protected:
  SecretKey NewKey(const std::string& name = "secret.key") {
    auto key = SecretKey::Generate(dir_.path() / name);
    EXPECT_TRUE(key.has_value()) << key.error().Describe();
    return std::move(*key);
  }
  exo::testing::TempDir dir_;
};

// Verifies a protected secret round-trips and does not contain the plaintext.
TEST_F(SecretBoxTest, RoundTrips) {
  SecretKey key = NewKey();
  auto sealed = ProtectSecret(kSecret, key);
  ASSERT_TRUE(sealed.has_value());
  EXPECT_THAT(*sealed, StartsWith("exo1:" + key.id() + ":"));
  EXPECT_EQ(sealed->find("SuperSecret"), std::string::npos);
  auto plain = UnprotectSecret(*sealed, key);
  ASSERT_TRUE(plain.has_value()) << plain.error().Describe();
  EXPECT_EQ(plain->Reveal(), kSecret);
}

// Verifies two protections of one secret differ (fresh nonce each time).
TEST_F(SecretBoxTest, NonceIsFresh) {
  SecretKey key = NewKey();
  EXPECT_NE(*ProtectSecret(kSecret, key), *ProtectSecret(kSecret, key));
}

// Verifies the generated key file has mode 0600 and is reloadable.
TEST_F(SecretBoxTest, GeneratedKeyFileIsPrivate) {
  SecretKey key = NewKey();
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() / "secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = SecretKey::LoadFile(dir_.path() / "secret.key");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->id(), key.id());
  EXPECT_FALSE(SecretKey::Generate(dir_.path() / "secret.key").has_value()) << "no overwrite";
}

// Verifies a key file readable by others is refused with the chmod that fixes it.
TEST_F(SecretBoxTest, OpenKeyFileIsRefused) {
  NewKey();
  const auto file = dir_.path() / "secret.key";
  std::filesystem::permissions(file, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto loaded = SecretKey::LoadFile(file);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().category, ErrorCategory::kConfiguration);
  EXPECT_THAT(loaded.error().remedy, HasSubstr("chmod 600"));
}

// Verifies a secret protected under another key names both key ids.
TEST_F(SecretBoxTest, WrongKeyNamesBothIds) {
  SecretKey a = NewKey("a.key");
  SecretKey b = NewKey("b.key");
  auto r = UnprotectSecret(*ProtectSecret(kSecret, a), b);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr(a.id()));
  EXPECT_THAT(r.error().message, HasSubstr(b.id()));
}

// Verifies tampering and truncation are detected, never decrypted into garbage.
TEST_F(SecretBoxTest, TamperingIsDetected) {
  SecretKey key = NewKey();
  std::string sealed = *ProtectSecret(kSecret, key);
  std::string flipped = sealed;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_THAT(UnprotectSecret(flipped, key).error().message, HasSubstr("does not decrypt"));
  EXPECT_THAT(UnprotectSecret(sealed.substr(0, 12), key).error().message, HasSubstr("malformed"));
  EXPECT_THAT(UnprotectSecret("plain", key).error().message, HasSubstr("exo1:"));
}

// Verifies a key from the environment, and key rotation by rewrapping.
TEST_F(SecretBoxTest, EnvironmentKeyAndRotation) {
  SecretKey old_key = NewKey();
  ::setenv("EXO_TEST_SECRET_KEY", std::string(64, 'a').c_str(), 1);
  auto env_key = SecretKey::FromEnvironment("EXO_TEST_SECRET_KEY");
  ::unsetenv("EXO_TEST_SECRET_KEY");
  ASSERT_TRUE(env_key.has_value());
  auto rewrapped = RewrapSecret(*ProtectSecret(kSecret, old_key), old_key, *env_key);
  ASSERT_TRUE(rewrapped.has_value());
  EXPECT_EQ(UnprotectSecret(*rewrapped, *env_key)->Reveal(), kSecret);
  EXPECT_FALSE(UnprotectSecret(*rewrapped, old_key).has_value());
  EXPECT_FALSE(SecretKey::FromEnvironment("EXO_TEST_UNSET_KEY").has_value());
}

}  // namespace
}  // namespace exo::client
