// The HTML report as a specification: well-formed (parsed back as XML), everything from a result
// escaped, one timeline picture per scenario whose marks, shading and steps say what happened
// when, and the same bytes for the same results.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "exo/scenarios/runner.hpp"

namespace exo::scenarios {
namespace {

using namespace std::chrono_literals;

ScenarioResult Result(std::string name, bool passed) {
  ScenarioResult r;
  r.name = std::move(name);
  r.file = "scenarios/library/" + r.name + ".jsonc";
  r.passed = passed;
  r.seed = 7;
  r.wall = 1168ms;
  r.simulated = 3h;
  r.description = "Mail over three hours";
  r.tags = {"policy", "propagation"};
  r.transcript = "+00:00:00 scenario " + r.name + "\n+00:01:00 step deliver\n";
  return r;
}

Exchange Ex(Duration at, std::string server, std::string what, int status, std::string outcome,
            std::string detail = "") {
  return Exchange{at,     std::move(server),  std::move(what),
                  status, std::move(outcome), std::move(detail)};
}

// Parses the report as XML; a failure to parse fails the test with the offset and the markup.
::testing::AssertionResult Parse(const std::string& html, pugi::xml_document& doc) {
  const pugi::xml_parse_result parsed = doc.load_string(html.c_str());
  if (parsed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << parsed.description() << " at " << parsed.offset << ": "
                                       << html.substr(static_cast<std::size_t>(parsed.offset), 200);
}

std::vector<std::string> Titles(const pugi::xml_document& doc, const char* xpath) {
  std::vector<std::string> out;
  for (const auto& n : doc.select_nodes(xpath)) out.push_back(n.node().child_value("title"));
  return out;
}

// Verifies the page is one well-formed document that starts as HTML5 and needs nothing else:
// no script, no stylesheet, image or font fetched from anywhere.
TEST(ReportTest, IsOneSelfContainedWellFormedPage) {
  const std::string html = HtmlReport({Result("happy-path", true)}, "exo-scenario");
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html"));
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_TRUE(doc.select_nodes("//script").empty());
  EXPECT_TRUE(doc.select_nodes("//link").empty());
  EXPECT_TRUE(doc.select_nodes("//img").empty());
  for (auto at = html.find("http"); at != std::string::npos; at = html.find("http", at + 1)) {
    EXPECT_EQ(html.compare(at, 26, "http://www.w3.org/2000/svg"), 0)
        << "the only URL is a namespace";
  }
  EXPECT_EQ(html.find("url("), std::string::npos);
}

// Verifies each scenario has its own section, reachable from the table, with one timeline picture.
TEST(ReportTest, HasOneSectionAndOneTimelinePerScenarioLinkedFromTheTable) {
  const std::string html =
      HtmlReport({Result("happy-path", true), Result("deny-access", false)}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_EQ(doc.select_nodes("//svg").size(), 2u);
  const auto sections = doc.select_nodes("//section");
  ASSERT_EQ(sections.size(), 2u);
  for (const auto& s : sections) {
    EXPECT_EQ(s.node().select_nodes(".//svg").size(), 1u);
    const std::string id = s.node().attribute("id").value();
    ASSERT_FALSE(id.empty());
    EXPECT_TRUE(doc.select_node(("//table//a[@href='#" + id + "']").c_str())) << id;
  }
}

// Verifies the summary counts passed and failed scenarios and lists the seeds.
TEST(ReportTest, SummarisesPassedFailedWallTimeAndSeeds) {
  ScenarioResult a = Result("a", true), b = Result("b", true), c = Result("c", false);
  c.seed = 42;
  const std::string html = HtmlReport({a, b, c}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_STREQ(doc.select_node("//div[@class='stat pass']/b").node().child_value(), "2");
  EXPECT_STREQ(doc.select_node("//div[@class='stat fail']/b").node().child_value(), "1");
  EXPECT_NE(html.find("3504 ms"), std::string::npos);
  EXPECT_NE(html.find("<b>7, 42</b>"), std::string::npos);
  EXPECT_EQ(doc.select_nodes("//table/tbody/tr").size(), 3u);
  EXPECT_EQ(doc.select_nodes("//table/tbody/tr[@class='fail']").size(), 1u);
}

// Verifies that markup in anything a result carries is shown as text, never interpreted.
TEST(ReportTest, EscapesScriptInNamesFailuresDescriptionsAndTranscripts) {
  ScenarioResult r = Result("<script>alert('name')</script>", false);
  r.description = "<script>alert(\"description\")</script> & more";
  r.failures = {"at +00:05:00 timeline[1].expect: <script>alert(1)</script>"};
  r.transcript = "+00:00:00 <script>alert(2)</script>\n";
  r.tags = {"<b>tag</b>"};
  r.markers = {{1min, "step", "<script>step</script>"}};
  r.exchanges = {Ex(2min, "ews", "<script>", 500, "error", "<img src=x>")};
  const std::string html = HtmlReport({r}, "<script>title</script>");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>tag"), std::string::npos);
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_EQ(std::string(doc.select_node("//ul[@class='failures']/li").node().child_value()),
            r.failures[0]);
  EXPECT_EQ(std::string(doc.select_node("//pre").node().child_value()), r.transcript);
  EXPECT_EQ(std::string(doc.select_node("//h1").node().child_value()), "<script>title</script>");
}

// Verifies a denied stretch is shaded across the whole picture and labelled with its cause, and
// that healthy stretches are left unshaded.
TEST(ReportTest, ShadesADeniedSpanAcrossThePictureWithItsLabel) {
  ScenarioResult r = Result("deny", false);
  r.spans = {{0min, 75min, "healthy", ""},
             {75min, 150min, "denied", "ErrorAccessDenied"},
             {150min, 3h, "healthy", ""}};
  const std::string html = HtmlReport({r}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  const auto denied = doc.select_nodes("//svg//rect[@class='span-denied']");
  ASSERT_EQ(denied.size(), 1u);
  const pugi::xml_node rect = denied.first().node();
  EXPECT_EQ(std::string(rect.child_value("title")),
            "denied +01:15:00 to +02:30:00: ErrorAccessDenied");
  // 75 to 150 of the 180 minutes along the plot (1056 wide after the lane labels), from the top
  // band down to the axis.
  EXPECT_NEAR(rect.attribute("x").as_double(), 100.0 + 1056.0 * 75 / 180, 0.1);
  EXPECT_NEAR(rect.attribute("width").as_double(), 1056.0 * 75 / 180, 0.1);
  EXPECT_GE(rect.attribute("height").as_double(), 170.0);
  EXPECT_TRUE(doc.select_node("//svg//text[contains(@class,'span-label')][.='ErrorAccessDenied']"));
  EXPECT_EQ(html.find("span-healthy"), std::string::npos);
}

// Verifies an exchange becomes a mark in its server's lane, coloured by its outcome, whose
// tooltip reads "+01:05:00 ews SyncFolderItems 200 ok".
TEST(ReportTest, DrawsAnExchangeAsAMarkTitledWithTimeServerOperationStatusOutcome) {
  ScenarioResult r = Result("happy", true);
  r.exchanges = {Ex(1min, "aad", "token", 200, "ok"),
                 Ex(65min, "ews", "SyncFolderItems", 200, "ok"),
                 Ex(90min, "ews", "SyncFolderItems", 500, "throttled", "ErrorServerBusy"),
                 Ex(100min, "aad", "token", 401, "denied", "AADSTS7000222"),
                 Ex(110min, "ews", "GetItem", 0, "network")};
  const std::string html = HtmlReport({r}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_EQ(Titles(doc, "//svg//rect[@class='mark x-ok']"),
            (std::vector<std::string>{"+00:01:00 aad token 200 ok",
                                      "+01:05:00 ews SyncFolderItems 200 ok"}));
  EXPECT_EQ(
      Titles(doc, "//svg//rect[@class='mark x-throttled']"),
      std::vector<std::string>{"+01:30:00 ews SyncFolderItems 500 throttled ErrorServerBusy"});
  EXPECT_EQ(Titles(doc, "//svg//rect[@class='mark x-denied']"),
            std::vector<std::string>{"+01:40:00 aad token 401 denied AADSTS7000222"});
  EXPECT_EQ(Titles(doc, "//svg//rect[@class='mark x-network']"),
            std::vector<std::string>{"+01:50:00 ews GetItem no answer network"});
  // Entra ID's lane is above EWS's.
  const double aad_y = doc.select_node("//rect[title='+00:01:00 aad token 200 ok']")
                           .node()
                           .attribute("y")
                           .as_double();
  const double ews_y = doc.select_node("//rect[title='+01:05:00 ews SyncFolderItems 200 ok']")
                           .node()
                           .attribute("y")
                           .as_double();
  EXPECT_LT(aad_y, ews_y);
}

// Verifies that a burst of exchanges at one instant stays one legible mark that counts them.
TEST(ReportTest, MergesExchangesThatFallOnOnePixelIntoOneCountedMark) {
  ScenarioResult r = Result("burst", true);
  for (int i = 0; i < 50; ++i)
    r.exchanges.push_back(Ex(60min + i * 10ms, "ews", "GetItem", 200, "ok"));
  const std::string html = HtmlReport({r}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_EQ(Titles(doc, "//svg//rect[@class='mark x-ok']"),
            std::vector<std::string>{
                "+01:00:00 ews GetItem 200 ok (and 49 more like it until +01:00:00.490)"});
}

// Verifies a picture holds at most 2000 marks, keeps the failures, and says what it left out.
TEST(ReportTest, CapsMarksPerPictureKeepingFailuresAndSaysSo) {
  ScenarioResult r = Result("long", true);
  r.simulated = 24h;
  const char* servers[] = {"aad", "ews", "onprem", "control"};
  for (int i = 0; i < 24 * 3600; i += 10) {
    r.exchanges.push_back(Ex(std::chrono::seconds(i), servers[i / 10 % 4], "x", 200, "ok"));
  }
  r.exchanges.push_back(Ex(23h, "ews", "SyncFolderItems", 503, "throttled", "ErrorServerBusy"));
  const std::string html = HtmlReport({r}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_EQ(doc.select_nodes("//svg//rect[contains(@class,'mark')]").size(), 2000u);
  EXPECT_EQ(doc.select_nodes("//svg//rect[@class='mark x-throttled']").size(), 1u);
  const pugi::xml_node note = doc.select_node("//p[@class='note']").node();
  EXPECT_NE(std::string(note.child_value()).find("more marks not drawn"), std::string::npos);
}

// Verifies the time axis is labelled in offsets at a round spacing chosen from the duration.
TEST(ReportTest, LabelsTheAxisWithOffsetsAtARoundSpacing) {
  ScenarioResult three_hours = Result("three-hours", true);
  ScenarioResult ten_minutes = Result("ten-minutes", true);
  ten_minutes.simulated = 10min;
  const std::string html = HtmlReport({three_hours, ten_minutes}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  auto ticks = [&doc](int section) {
    std::vector<std::string> out;
    const std::string xpath = "(//svg)[" + std::to_string(section) + "]//text[@class='tick']";
    for (const auto& n : doc.select_nodes(xpath.c_str())) out.push_back(n.node().child_value());
    return out;
  };
  EXPECT_EQ(ticks(1), (std::vector<std::string>{"+00:00:00", "+00:30:00", "+01:00:00", "+01:30:00",
                                                "+02:00:00", "+02:30:00", "+03:00:00"}));
  EXPECT_EQ(ticks(2), (std::vector<std::string>{"+00:00:00", "+00:01:00", "+00:02:00", "+00:03:00",
                                                "+00:04:00", "+00:05:00", "+00:06:00", "+00:07:00",
                                                "+00:08:00", "+00:09:00", "+00:10:00"}));
}

// Verifies steps are dashed lines with a short label, handed messages dots, failures red marks.
TEST(ReportTest, MarksStepsHandedMessagesAndFailuresOnTheTimeline) {
  ScenarioResult r = Result("marks", false);
  r.markers = {{5min, "step", "throttle"},
               {6min, "handed", "\"B\""},
               {3h, "fail", "timeline[1].expect: handed [\"A\"], want [\"B\"]"}};
  const std::string html = HtmlReport({r}, "exo-scenario");
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(html, doc));
  EXPECT_EQ(Titles(doc, "//svg//line[@class='step']"),
            std::vector<std::string>{"+00:05:00 step throttle"});
  EXPECT_TRUE(doc.select_node("//svg//text[@class='step-label'][starts-with(.,'throttle')]"));
  EXPECT_EQ(Titles(doc, "//svg//circle[@class='handed']"),
            std::vector<std::string>{"+00:06:00 handed \"B\""});
  EXPECT_EQ(
      Titles(doc, "//svg//g[@class='fail']"),
      std::vector<std::string>{"+03:00:00 fail timeline[1].expect: handed [\"A\"], want [\"B\"]"});
}

// Verifies the same results always give the same bytes (no generation time, no addresses).
TEST(ReportTest, IsDeterministic) {
  ScenarioResult r = Result("deny", false);
  r.failures = {"at +03:00:00: phase is backing-off, want healthy"};
  r.spans = {{75min, 150min, "denied", "ErrorAccessDenied"}};
  r.exchanges = {Ex(65min, "ews", "SyncFolderItems", 200, "ok")};
  r.markers = {{5min, "step", "deliver"}};
  EXPECT_EQ(HtmlReport({r, Result("b", true)}, "exo-scenario"),
            HtmlReport({r, Result("b", true)}, "exo-scenario"));
}

// Verifies a run that recorded nothing along time (or no run at all) still gives a valid page.
TEST(ReportTest, StaysValidForEmptyResultsAndEmptyTimelines) {
  ScenarioResult r = Result("empty", true);
  r.simulated = Duration::zero();
  pugi::xml_document doc;
  ASSERT_TRUE(Parse(HtmlReport({r}, "exo-scenario"), doc));
  EXPECT_EQ(doc.select_nodes("//svg").size(), 1u);
  ASSERT_TRUE(Parse(HtmlReport({}, "exo-scenario"), doc));
  EXPECT_TRUE(doc.select_nodes("//svg").empty());
}

}  // namespace
}  // namespace exo::scenarios
