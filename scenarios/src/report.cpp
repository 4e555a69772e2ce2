// The HTML report of a run: a suite summary, a table of scenarios and, per scenario, its failures,
// a timeline picture (inline SVG along simulated time) and the transcript. One self-contained
// file: inline CSS, no script, no external resource. The markup is also well-formed XML so tests
// parse it back, and it depends on nothing but its input, so one run always gives one file.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "exo/common/xml_text.hpp"
#include "exo/scenarios/runner.hpp"

namespace exo::scenarios {
namespace {

// The picture's geometry in SVG user units; the page scales it to its width.
constexpr double kWidth = 1200;
constexpr double kLeft = 100;  // lane labels
constexpr double kRight = 44;  // room for the last tick's label
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kBandTop = 4;  // span labels and failure marks
constexpr double kClientTop = 24, kClientHeight = 66;
constexpr double kAadTop = 94, kAadHeight = 38;
constexpr double kEwsTop = 136, kEwsHeight = 38;
constexpr double kAxisY = 180;
constexpr double kHeight = 206;
constexpr double kCharWidth = 6.3;  // of an 11 px sans-serif label, to decide what fits
constexpr int kStepLabelRows = 3;
constexpr std::size_t kStepLabelChars = 24;
// More marks than this in one picture are not drawn (the most telling ones are kept): a browser
// stays responsive and the file small even for a scenario that polls every second for days.
constexpr std::size_t kMaxMarks = 2000;

std::string H(std::string_view text) { return exo::XmlEscape(text); }

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// At most `max_chars` code points of `text`, the last one an ellipsis when cut.
std::string Shorten(const std::string& text, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // UTF-8 continuation
    if (++chars == max_chars && max_chars > 0) {
      std::size_t end = i + 1;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
      if (end == text.size()) return text;
      return text.substr(0, i) + "\xE2\x80\xA6";  // …
    }
  }
  return text;
}

std::size_t CodePoints(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char ch : text) n += (ch & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// "s-restrict-access-deny-then-grant": an id and fragment that needs no escaping.
std::string Anchor(const std::string& name, std::set<std::string>& used) {
  std::string slug = "s-";
  for (unsigned char ch : name) {
    slug +=
        (std::isalnum(ch) || ch == '-' || ch == '_') ? static_cast<char>(std::tolower(ch)) : '-';
  }
  std::string id = slug;
  for (int n = 2; !used.insert(id).second; ++n) id = slug + "-" + std::to_string(n);
  return id;
}

std::string Wall(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// The picture's time scale: the whole run, at least a minute so an empty run still has an axis.
Duration Extent(const ScenarioResult& r) {
  Duration end = r.simulated;
  for (const auto& e : r.exchanges) end = std::max(end, e.at);
  for (const auto& s : r.spans) end = std::max(end, s.to);
  for (const auto& m : r.markers) end = std::max(end, m.at);
  return end > Duration::zero() ? end : Duration(std::chrono::minutes(1));
}

// A round tick spacing giving at most about ten ticks.
Duration TickStep(Duration extent) {
  using namespace std::chrono_literals;
  static constexpr std::array<Duration, 21> kSteps = {1s,   2s,   5s,    10s,   15s,   30s,  1min,
                                                      2min, 5min, 10min, 15min, 30min, 1h,   2h,
                                                      3h,   6h,   12h,   24h,   48h,   168h, 336h};
  for (Duration step : kSteps) {
    if (extent / step <= 10) return step;
  }
  return 24h * (extent / 24h / 10 + 1);
}

struct Scale {
  Duration extent;
  double X(Duration at) const {
    return kLeft +
           kPlotWidth * (static_cast<double>(at.count()) / static_cast<double>(extent.count()));
  }
};

// "+01:05:00 ews SyncFolderItems 200 ok": what one exchange's mark says on hover.
std::string ExchangeTitle(const Exchange& e) {
  std::string t = FormatOffset(e.at) + " " + e.server + " " + e.what + " " +
                  (e.status == 0 ? std::string("no answer") : std::to_string(e.status)) + " " +
                  e.outcome;
  if (!e.detail.empty()) t += " " + e.detail;
  return t;
}

// One mark: the exchanges of one lane row, one outcome and one pixel column, drawn as one tick.
struct Mark {
  int row = 0;  // 0 client, 1 aad, 2 ews, 3 on-prem
  int column = 0;
  std::string outcome;
  const Exchange* first = nullptr;
  const Exchange* last = nullptr;
  std::size_t count = 0;
};

int RowOf(const std::string& server) {
  if (server == "aad") return 1;
  if (server == "ews" || server == "graph") return 2;  // Exchange Online, either protocol
  if (server == "onprem") return 3;
  return 0;  // control and anything else: under the client's steps
}

const char* OutcomeClass(const std::string& outcome) {
  if (outcome == "ok") return "x-ok";
  if (outcome == "denied") return "x-denied";
  if (outcome == "throttled") return "x-throttled";
  if (outcome == "network") return "x-network";
  return "x-error";
}

const char* SpanClass(const std::string& kind) {
  if (kind == "denied") return "span-denied";
  if (kind == "throttled") return "span-throttled";
  if (kind == "failing") return "span-failing";
  return nullptr;  // healthy (or unknown): unshaded
}

void DrawAxis(std::string& svg, const Scale& scale) {
  const Duration step = TickStep(scale.extent);
  for (Duration t{}; t <= scale.extent; t += step) {
    const std::string x = Num(scale.X(t));
    svg += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + Num(kClientTop) + "\" x2=\"" + x +
           "\" y2=\"" + Num(kAxisY + 4) + "\"/>";
    svg += "<text class=\"tick\" x=\"" + x + "\" y=\"" + Num(kAxisY + 17) +
           "\" text-anchor=\"middle\">" + H(FormatOffset(t)) + "</text>";
  }
  svg += "<line class=\"axis\" x1=\"" + Num(kLeft) + "\" y1=\"" + Num(kAxisY) + "\" x2=\"" +
         Num(kLeft + kPlotWidth) + "\" y2=\"" + Num(kAxisY) + "\"/>";
}

void DrawLanes(std::string& svg, bool onprem, const char* exchange) {
  struct Lane {
    const char* label;
    double top, height;
  };
  const Lane lanes[] = {{"client", kClientTop, kClientHeight},
                        {"Entra ID", kAadTop, kAadHeight},
                        {exchange, kEwsTop, kEwsHeight}};
  for (const auto& lane : lanes) {
    svg += "<rect class=\"lane\" x=\"" + Num(kLeft) + "\" y=\"" + Num(lane.top) + "\" width=\"" +
           Num(kPlotWidth) + "\" height=\"" + Num(lane.height) + "\"/>";
    const double label_y = onprem && lane.top == kEwsTop ? lane.top + lane.height / 4 + 4
                                                         : lane.top + lane.height / 2 + 4;
    svg += "<text class=\"lane-label\" x=\"" + Num(kLeft - 8) + "\" y=\"" + Num(label_y) +
           "\" text-anchor=\"end\">" + lane.label + "</text>";
  }
  if (onprem) {
    svg += "<text class=\"lane-label\" x=\"" + Num(kLeft - 8) + "\" y=\"" +
           Num(kEwsTop + kEwsHeight * 3 / 4 + 4) + "\" text-anchor=\"end\">on-prem</text>";
    svg += "<line class=\"lane-split\" x1=\"" + Num(kLeft) + "\" y1=\"" +
           Num(kEwsTop + kEwsHeight / 2) + "\" x2=\"" + Num(kLeft + kPlotWidth) + "\" y2=\"" +
           Num(kEwsTop + kEwsHeight / 2) + "\"/>";
  }
}

void DrawSpans(std::string& svg, const ScenarioResult& r, const Scale& scale) {
  for (const auto& s : r.spans) {
    const char* cls = SpanClass(s.kind);
    if (cls == nullptr || s.to < s.from) continue;
    const double x0 = scale.X(s.from);
    const double width = std::max(1.0, scale.X(s.to) - x0);
    std::string title = s.kind + " " + FormatOffset(s.from) + " to " + FormatOffset(s.to);
    if (!s.label.empty()) title += ": " + s.label;
    svg += "<rect class=\"" + std::string(cls) + "\" x=\"" + Num(x0) + "\" y=\"" + Num(kBandTop) +
           "\" width=\"" + Num(width) + "\" height=\"" + Num(kAxisY - kBandTop) + "\"><title>" +
           H(title) + "</title></rect>";
    const std::string label = s.label.empty() ? s.kind : s.label;
    const auto fits = static_cast<std::size_t>(std::max(0.0, (width - 8) / kCharWidth));
    if (fits >= 4) {
      svg += "<text class=\"span-label " + std::string(cls) + "-label\" x=\"" + Num(x0 + 4) +
             "\" y=\"" + Num(kBandTop + 13) + "\">" + H(Shorten(label, fits)) + "</text>";
    }
  }
}

// Exchanges as thin ticks, merged per pixel column so a burst stays one readable mark.
std::size_t DrawExchanges(std::string& svg, const ScenarioResult& r, const Scale& scale,
                          bool onprem) {
  std::map<std::tuple<int, int, std::string>, Mark> by_column;
  for (const auto& e : r.exchanges) {
    const int row = RowOf(e.server);
    const int column = static_cast<int>(scale.X(e.at));
    Mark& m = by_column[{row, column, e.outcome}];
    if (m.count++ == 0) {
      m.row = row;
      m.column = column;
      m.outcome = e.outcome;
      m.first = &e;
    }
    m.last = &e;
  }
  std::vector<Mark> marks;
  marks.reserve(by_column.size());
  for (auto& [key, m] : by_column) marks.push_back(std::move(m));
  // Over the cap, trouble is kept before success, earlier before later.
  auto ok_last = [](const Mark& a, const Mark& b) {
    const bool a_ok = a.outcome == "ok", b_ok = b.outcome == "ok";
    if (a_ok != b_ok) return b_ok;
    return std::tie(a.column, a.row) < std::tie(b.column, b.row);
  };
  std::stable_sort(marks.begin(), marks.end(), ok_last);
  const std::size_t dropped = marks.size() > kMaxMarks ? marks.size() - kMaxMarks : 0;
  marks.resize(marks.size() - dropped);
  // Drawn success first, so a failure at the same column stays on top.
  std::stable_sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) {
    const bool a_ok = a.outcome == "ok", b_ok = b.outcome == "ok";
    if (a_ok != b_ok) return a_ok;
    return std::tie(a.column, a.row) < std::tie(b.column, b.row);
  });
  for (const Mark& m : marks) {
    double top = 0, height = 0;
    switch (m.row) {
      case 0:
        top = kClientTop + 54, height = 10;
        break;
      case 1:
        top = kAadTop, height = kAadHeight;
        break;
      case 2:
        top = kEwsTop, height = onprem ? kEwsHeight / 2 : kEwsHeight;
        break;
      default:
        top = kEwsTop + kEwsHeight / 2, height = kEwsHeight / 2;
        break;
    }
    const double inset = m.row == 0 ? 0 : (m.outcome == "ok" ? height * 0.22 : height * 0.08);
    std::string title = ExchangeTitle(*m.first);
    if (m.count > 1) {
      title += " (and " + std::to_string(m.count - 1) + " more like it until " +
               FormatOffset(m.last->at) + ")";
    }
    const double x = scale.X(m.first->at);
    svg += "<rect class=\"mark " + std::string(OutcomeClass(m.outcome)) + "\" x=\"" + Num(x - 0.9) +
           "\" y=\"" + Num(top + inset) + "\" width=\"1.8\" height=\"" + Num(height - 2 * inset) +
           "\"><title>" + H(title) + "</title></rect>";
  }
  return dropped;
}

void DrawMarkers(std::string& svg, const ScenarioResult& r, const Scale& scale) {
  std::array<double, kStepLabelRows> row_end;
  row_end.fill(0);
  const double right = kLeft + kPlotWidth + kRight - 2;
  for (const auto& m : r.markers) {
    const double x = scale.X(m.at);
    const std::string title = FormatOffset(m.at) + " " + m.kind + " " + m.text;
    if (m.kind == "step") {
      svg += "<line class=\"step\" x1=\"" + Num(x) + "\" y1=\"" + Num(kClientTop) + "\" x2=\"" +
             Num(x) + "\" y2=\"" + Num(kAxisY) + "\"><title>" + H(title) + "</title></line>";
      // A label goes in the first of the client lane's rows it does not overlap; none: only
      // the line, whose tooltip still says it.
      const std::string label = Shorten(m.text, kStepLabelChars);
      const double width = static_cast<double>(CodePoints(label)) * kCharWidth;
      const bool to_the_left = x + 3 + width > right;
      const double start = to_the_left ? x - 3 - width : x + 3;
      for (int row = 0; row < kStepLabelRows; ++row) {
        if (start < row_end[row] + 4) continue;
        row_end[row] = start + width;
        svg += "<text class=\"step-label\" x=\"" + Num(to_the_left ? x - 3 : x + 3) + "\" y=\"" +
               Num(kClientTop + 12 + 13 * row) + "\"" +
               (to_the_left ? " text-anchor=\"end\"" : "") + ">" + H(label) + "<title>" + H(title) +
               "</title></text>";
        break;
      }
    } else if (m.kind == "handed") {
      svg += "<circle class=\"handed\" cx=\"" + Num(x) + "\" cy=\"" + Num(kClientTop + 48) +
             "\" r=\"3.5\"><title>" + H(title) + "</title></circle>";
    } else {  // fail
      svg += "<g class=\"fail\"><title>" + H(title) + "</title><line x1=\"" + Num(x) + "\" y1=\"" +
             Num(kBandTop) + "\" x2=\"" + Num(x) + "\" y2=\"" + Num(kAxisY) + "\"/><path d=\"M" +
             Num(x) + " " + Num(kBandTop) + " l6 7 l-6 7 l-6 -7 z\"/></g>";
    }
  }
}

std::string Timeline(const ScenarioResult& r) {
  const Scale scale{Extent(r)};
  const bool onprem = std::any_of(r.exchanges.begin(), r.exchanges.end(),
                                  [](const Exchange& e) { return e.server == "onprem"; });
  std::string svg = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    Num(kWidth) + " " + Num(kHeight) + "\" width=\"" + Num(kWidth) +
                    "\" height=\"" + Num(kHeight) + "\" role=\"img\" aria-label=\"" +
                    H("timeline of " + r.name) + "\">";
  auto uses = [&](const char* server) {
    return std::any_of(r.exchanges.begin(), r.exchanges.end(),
                       [&](const Exchange& e) { return e.server == server; });
  };
  const bool graph = uses("graph");
  DrawLanes(svg, onprem, graph ? (uses("ews") ? "EWS+Graph" : "Graph") : "EWS");
  DrawSpans(svg, r, scale);
  DrawAxis(svg, scale);
  DrawMarkers(svg, r, scale);
  const std::size_t dropped = DrawExchanges(svg, r, scale, onprem);
  svg += "</svg>\n";
  if (dropped > 0) {
    svg += "<p class=\"note\">" + std::to_string(dropped) + " more marks not drawn: a picture " +
           "holds at most " + std::to_string(kMaxMarks) + " (failures are kept first).</p>\n";
  }
  if (r.exchanges.empty() && r.spans.empty() && r.markers.empty()) {
    svg += "<p class=\"note\">No exchanges, states or steps were recorded for this run.</p>\n";
  }
  return svg;
}

std::string Tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) out += "<span class=\"tag\">" + H(t) + "</span> ";
  return out;
}

// "112 exchanges: 104 ok, 8 throttled", outcomes in a fixed order.
std::string ExchangeCounts(const ScenarioResult& r) {
  std::map<std::string, std::size_t> by_outcome;
  for (const auto& e : r.exchanges) ++by_outcome[e.outcome];
  std::string out =
      std::to_string(r.exchanges.size()) + (r.exchanges.size() == 1 ? " exchange" : " exchanges");
  std::string parts;
  for (const char* o : {"ok", "denied", "throttled", "error", "network"}) {
    if (auto it = by_outcome.find(o); it != by_outcome.end()) {
      parts += (parts.empty() ? "" : ", ") + std::to_string(it->second) + " " + o;
      by_outcome.erase(it);
    }
  }
  for (const auto& [o, n] : by_outcome) {
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + o;
  }
  return parts.empty() ? out : out + ": " + parts;
}

constexpr const char* kStyle = R"css(
body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;color:#1f2328;
  max-width:1240px;margin:24px auto;padding:0 20px;font-size:14px;line-height:1.45}
h1{font-size:24px;margin:0 0 12px}
h2{font-size:18px;margin:0 0 6px;display:flex;align-items:center;gap:10px}
.stats{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 18px}
.stat{border:1px solid #d8dee4;border-radius:8px;padding:8px 14px;min-width:110px}
.stat b{display:block;font-size:22px}
.stat span{color:#59636e;font-size:12px}
.stat.pass b{color:#1a7f37}.stat.fail b{color:#cf222e}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:bold;
  color:#fff;letter-spacing:.04em}
.badge.pass{background:#1a7f37}.badge.fail{background:#cf222e}
table.scenarios{border-collapse:collapse;width:100%;margin:0 0 18px}
table.scenarios th{text-align:left;font-size:12px;color:#59636e;border-bottom:2px solid #d8dee4;
  padding:4px 8px}
table.scenarios td{padding:5px 8px;border-bottom:1px solid #eaeef2}
table.scenarios .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.scenarios tr.fail td{background:#fff5f5}
a{color:#0969da;text-decoration:none}
.tag{display:inline-block;background:#ddf4ff;color:#0550ae;border-radius:10px;padding:0 7px;
  font-size:12px;margin:1px 0}
.legend{display:flex;gap:12px;flex-wrap:wrap;font-size:12px;color:#424a53;margin:0 0 18px;
  padding:8px 12px;border:1px solid #d8dee4;border-radius:8px;background:#f6f8fa}
.legend span{display:inline-flex;align-items:center;gap:5px}
.legend b{color:#24292f;margin-left:6px}.legend b:first-child{margin-left:0}
.legend .hint{margin-left:auto;color:#6e7781;font-style:italic}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px}
.sw.tick{width:3px;height:14px;border-radius:0}
.sw.dash{width:0;height:14px;border-left:2px dashed #57606a;border-radius:0}
.sw.dot{border-radius:50%;width:8px;height:8px}
.sw.diamond{width:8px;height:8px;transform:rotate(45deg);border-radius:0}
section.scenario{border:1px solid #d8dee4;border-radius:8px;padding:14px 18px;margin:0 0 20px}
section.scenario.fail{border-left:5px solid #cf222e}
section.scenario.pass{border-left:5px solid #1a7f37}
.desc{margin:0 0 4px}
.meta{color:#59636e;font-size:12px;margin:0 0 8px}
ul.failures{color:#cf222e;font-family:"DejaVu Sans Mono",monospace;font-size:12px;margin:0 0 10px;
  padding:8px 8px 8px 26px;background:#fff5f5;border-radius:6px}
svg.timeline{width:100%;height:auto;display:block;margin:4px 0}
svg.timeline text{font-size:11px;fill:#424a53}
svg.timeline .lane{fill:#f6f8fa;stroke:#eaeef2}
svg.timeline .lane-split{stroke:#d8dee4;stroke-dasharray:2 2}
svg.timeline .lane-label{font-weight:bold;fill:#24292f}
svg.timeline .grid{stroke:#d8dee4;stroke-width:1}
svg.timeline .axis{stroke:#57606a;stroke-width:1}
svg.timeline .tick{fill:#57606a;font-size:10.5px}
.span-denied,.sw.span-denied{fill:#ffd7d5;fill-opacity:.75;background:#ffd7d5}
.span-throttled,.sw.span-throttled{fill:#ffe2b8;fill-opacity:.75;background:#ffe2b8}
.span-failing,.sw.span-failing{fill:#d0d7de;fill-opacity:.6;background:#d0d7de}
svg.timeline .span-label{font-size:10.5px;font-weight:bold}
svg.timeline .span-denied-label{fill:#a40e26}
svg.timeline .span-throttled-label{fill:#953800}
svg.timeline .span-failing-label{fill:#424a53}
.x-ok{fill:#1a7f37;background:#1a7f37}
.x-denied{fill:#cf222e;background:#cf222e}
.x-throttled{fill:#e16f24;background:#e16f24}
.x-error{fill:#6e7781;background:#6e7781}
.x-network{fill:#8250df;background:#8250df}
svg.timeline .step{stroke:#57606a;stroke-width:1;stroke-dasharray:4 3}
svg.timeline .step-label{font-size:10.5px;fill:#24292f}
.handed,.sw.handed{fill:#0969da;stroke:#fff;stroke-width:1;background:#0969da}
svg.timeline .fail line{stroke:#cf222e;stroke-width:1.6}
svg.timeline .fail path,.sw.failmark{fill:#cf222e;background:#cf222e}
.note{color:#59636e;font-size:12px;font-style:italic;margin:2px 0}
details{margin:8px 0 0}
summary{cursor:pointer;color:#0969da;font-size:13px}
pre.transcript{font-family:"DejaVu Sans Mono",monospace;font-size:12px;background:#f6f8fa;
  border-radius:6px;padding:10px;overflow:auto;max-height:520px;margin:6px 0 0}
)css";

std::string Legend() {
  std::string out = "<div class=\"legend\">";
  auto group = [&out](const char* heading) { out += std::string("<b>") + heading + "</b>"; };
  auto item = [&out](const std::string& swatch_class, const std::string& text) {
    out += "<span><i class=\"sw " + swatch_class + "\"></i>" + text + "</span>";
  };
  group("exchanges");
  item("tick x-ok", "ok");
  item("tick x-denied", "denied");
  item("tick x-throttled", "throttled");
  item("tick x-error", "error");
  item("tick x-network", "no answer");
  group("client");
  item("span-denied", "denied");
  item("span-throttled", "throttled");
  item("span-failing", "failing");
  item("dash", "step");
  item("dot handed", "handed");
  item("diamond failmark", "failed check");
  out += "<span class=\"hint\">hover a mark for details</span></div>\n";
  return out;
}

}  // namespace

std::string HtmlReport(const std::vector<ScenarioResult>& results, const std::string& title) {
  std::size_t passed = 0;
  std::chrono::milliseconds wall{};
  Duration simulated{};
  std::set<std::uint64_t> seeds;
  for (const auto& r : results) {
    passed += r.passed ? 1 : 0;
    wall += r.wall;
    simulated += r.simulated;
    seeds.insert(r.seed);
  }
  std::string seed_list;
  for (auto s : seeds) seed_list += (seed_list.empty() ? "" : ", ") + std::to_string(s);

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  html += "<title>" + H(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>" + H(title) + "</h1>\n";
  html += "<div class=\"stats\">";
  html += "<div class=\"stat pass\"><b>" + std::to_string(passed) + "</b><span>passed</span></div>";
  html += "<div class=\"stat fail\"><b>" + std::to_string(results.size() - passed) +
          "</b><span>failed</span></div>";
  html +=
      "<div class=\"stat\"><b>" + Wall(wall) + "</b><span>wall time, all scenarios</span></div>";
  html += "<div class=\"stat\"><b>" + FormatOffset(simulated) +
          "</b><span>simulated time covered</span></div>";
  html += "<div class=\"stat\"><b>" + (seed_list.empty() ? std::string("none") : seed_list) +
          "</b><span>" + (seeds.size() == 1 ? "seed" : "seeds") + "</span></div>";
  html += "</div>\n";

  std::set<std::string> used;
  std::vector<std::string> anchors;
  for (const auto& r : results) anchors.push_back(Anchor(r.name, used));

  html +=
      "<table class=\"scenarios\">\n<thead><tr><th>status</th><th>scenario</th>"
      "<th class=\"num\">simulated</th><th class=\"num\">wall</th><th class=\"num\">seed</th>"
      "<th class=\"num\">exchanges</th><th>tags</th></tr>"
      "</thead>\n<tbody>\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const char* cls = r.passed ? "pass" : "fail";
    html += std::string("<tr class=\"") + cls + "\"><td><span class=\"badge " + cls + "\">" +
            (r.passed ? "PASS" : "FAIL") + "</span></td><td><a href=\"#" + anchors[i] + "\">" +
            H(r.name) + "</a></td><td class=\"num\">" + FormatOffset(r.simulated) +
            "</td><td class=\"num\">" + Wall(r.wall) + "</td><td class=\"num\">" +
            std::to_string(r.seed) + "</td><td class=\"num\">" +
            std::to_string(r.exchanges.size()) + "</td><td>" + Tags(r.tags) + "</td></tr>\n";
  }
  html += "</tbody>\n</table>\n";
  html += Legend();

  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const char* cls = r.passed ? "pass" : "fail";
    html += std::string("<section class=\"scenario ") + cls + "\" id=\"" + anchors[i] + "\">\n";
    html += std::string("<h2><span class=\"badge ") + cls + "\">" + (r.passed ? "PASS" : "FAIL") +
            "</span>" + H(r.name) + "</h2>\n";
    if (!r.description.empty()) html += "<p class=\"desc\">" + H(r.description) + "</p>\n";
    html += "<p class=\"meta\">" + H(r.file) + (r.file.empty() ? "" : " · ") + "seed " +
            std::to_string(r.seed) + " · " + FormatOffset(r.simulated) + " simulated · " +
            Wall(r.wall) + " wall · " + ExchangeCounts(r) + (r.tags.empty() ? "" : " · ") +
            Tags(r.tags) + "</p>\n";
    if (!r.failures.empty()) {
      html += "<ul class=\"failures\">\n";
      for (const auto& f : r.failures) html += "<li>" + H(f) + "</li>\n";
      html += "</ul>\n";
    }
    html += Timeline(r);
    const auto lines = std::count(r.transcript.begin(), r.transcript.end(), '\n');
    html += "<details><summary>transcript (" + std::to_string(lines) +
            (lines == 1 ? " line" : " lines") + ")</summary><pre class=\"transcript\">" +
            H(r.transcript) + "</pre></details>\n";
    html += "</section>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace exo::scenarios
