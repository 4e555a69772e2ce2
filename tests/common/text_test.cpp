// ASCII helpers for protocol identifiers: case rules that do not depend on the locale, and the
// GUID shape Entra's tenant, app and object ids take.
#include "exo/common/text.hpp"

#include <gtest/gtest.h>

namespace exo {
namespace {

TEST(TextTest, AsciiLowerTouchesOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-Type: X\xC3\x84"), "content-type: x\xC3\x84");
}

TEST(TextTest, AsciiIEqualsIgnoresCaseOnly) {
  EXPECT_TRUE(AsciiIEquals("Authorization", "AUTHORIZATION"));
  EXPECT_FALSE(AsciiIEquals("Authorization", "Authorizatio"));
  EXPECT_FALSE(AsciiIEquals("a-b", "a_b"));
}

TEST(TextTest, IsGuidAcceptsTheCanonicalFormInEitherCase) {
  EXPECT_TRUE(IsGuid("3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01"));
  EXPECT_TRUE(IsGuid("3F6C2A8E-91B4-4D7A-8E15-2B9C7D4E6F01"));
  EXPECT_TRUE(IsGuid("00000000-0000-0000-0000-000000000000"));
}

TEST(TextTest, IsGuidRefusesEveryOtherShape) {
  EXPECT_FALSE(IsGuid(""));
  EXPECT_FALSE(IsGuid("{3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01}"));   // braces
  EXPECT_FALSE(IsGuid("3f6c2a8e91b44d7a8e152b9c7d4e6f01"));         // no dashes
  EXPECT_FALSE(IsGuid("3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f0"));      // one digit short
  EXPECT_FALSE(IsGuid("3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f011"));    // one too many
  EXPECT_FALSE(IsGuid("3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6g01"));     // not hexadecimal
  EXPECT_FALSE(IsGuid("3f6c2a8e-91b44-d7a-8e15-2b9c7d4e6f01"));     // dash misplaced
  EXPECT_FALSE(IsGuid("contoso.onmicrosoft.com"));
  EXPECT_FALSE(IsGuid(std::string_view("3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f0\0", 36)));
}

}  // namespace
}  // namespace exo
