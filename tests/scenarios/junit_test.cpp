// The JUnit XML: well-formed (parsed back with pugixml), counts, one testcase per scenario, a
// failure with its message, and characters XML cannot hold escaped or dropped.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "exo/scenarios/runner.hpp"

namespace exo::scenarios {
namespace {

// Verifies the report parses as XML and has the structure CI readers expect.
TEST(JunitTest, ValidXmlWithFailures) {
  ScenarioResult ok;
  ok.name = "happy";
  ok.passed = true;
  ok.seed = 1;
  ScenarioResult bad;
  bad.name = "quote\" <and> & amp";
  bad.failures = {"at +00:05:00 timeline[1].expect: phase is \"healthy\"\x01, want backing-off"};
  bad.transcript = "+00:00:00 scenario x\n";
  const std::string xml = JunitXml({ok, bad}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
  const pugi::xml_node suite = doc.child("testsuites").child("testsuite");
  ASSERT_TRUE(suite);
  EXPECT_STREQ(suite.attribute("tests").value(), "2");
  EXPECT_STREQ(suite.attribute("failures").value(), "1");
  int cases = 0;
  for (pugi::xml_node c : suite.children("testcase")) {
    ++cases;
    if (std::string(c.attribute("name").value()) == "happy") {
      EXPECT_FALSE(c.child("failure"));
    } else {
      EXPECT_STREQ(c.attribute("name").value(), "quote\" <and> & amp");
      ASSERT_TRUE(c.child("failure"));
      EXPECT_EQ(std::string(c.child("failure").attribute("message").value()),
                "at +00:05:00 timeline[1].expect: phase is \"healthy\", want backing-off");
    }
  }
  EXPECT_EQ(cases, 2);
}

}  // namespace
}  // namespace exo::scenarios
