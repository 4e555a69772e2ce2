// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters): one testsuite, a
// testcase per scenario, a failure element with a one-line message and the details as text.
#include <cstdio>

#include "exo/scenarios/runner.hpp"

namespace exo::scenarios {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': case '\t': out += static_cast<char>(ch); break;
      default:
        // XML 1.0 forbids other control characters even as references.
        if (ch >= 0x20) out += static_cast<char>(ch);
    }
  }
  return out;
}

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

}  // namespace

std::string JunitXml(const std::vector<ScenarioResult>& results, const std::string& suite_name) {
  std::size_t failures = 0;
  std::chrono::milliseconds total{};
  for (const auto& r : results) {
    failures += r.passed ? 0 : 1;
    total += r.wall;
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"" + Escape(suite_name) + "\" tests=\"" + std::to_string(results.size()) +
         "\" failures=\"" + std::to_string(failures) + "\" time=\"" + Seconds(total) + "\">\n";
  xml += "  <testsuite name=\"" + Escape(suite_name) + "\" tests=\"" +
         std::to_string(results.size()) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" skipped=\"0\" time=\"" + Seconds(total) + "\">\n";
  for (const auto& r : results) {
    xml += "    <testcase classname=\"scenarios\" name=\"" + Escape(r.name) + "\" file=\"" +
           Escape(r.file) + "\" time=\"" + Seconds(r.wall) + "\">\n";
    if (!r.passed) {
      std::string details;
      for (const auto& f : r.failures) details += f + "\n";
      xml += "      <failure message=\"" + Escape(r.failures.front()) + "\" type=\"ScenarioFailure\">" +
             Escape(details + "\nseed " + std::to_string(r.seed) + "\n" + r.transcript) +
             "</failure>\n";
    }
    xml += "      <system-out>seed " + std::to_string(r.seed) + "</system-out>\n";
    xml += "    </testcase>\n";
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace exo::scenarios
