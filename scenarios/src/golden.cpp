// Golden transcripts: a run compared with a committed one, the difference said so a reviewer sees
// the behaviour that changed (twice the token requests) before the lines that moved.
#include <algorithm>
#include <map>
#include <sstream>
#include <vector>

#include "exo/scenarios/runner.hpp"

namespace exo::scenarios {

namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// "+00:01:00 http aad token 200" -> "http aad token"; "+00:02:00 handed \"A\"" -> "handed".
std::string Kind(const std::string& line) {
  const auto space = line.find(' ');
  if (space == std::string::npos) return {};
  std::istringstream words(line.substr(space + 1));
  std::string first, server, what;
  words >> first;
  if (first == "http") {
    words >> server >> what;
    return "http " + server + " " + what;
  }
  if (first == "handed") return "handed";
  if (first == "step") return {};
  if (first == "client") {
    words >> server;
    return "client " + server;  // status changes by phase
  }
  return {};
}

std::map<std::string, int> Counts(const std::vector<std::string>& lines) {
  std::map<std::string, int> counts;
  for (const auto& l : lines) {
    if (const std::string k = Kind(l); !k.empty()) ++counts[k];
  }
  return counts;
}

}  // namespace

std::optional<std::string> CompareTranscripts(const std::string& golden, const std::string& actual) {
  if (golden == actual) return std::nullopt;
  const std::vector<std::string> a = Lines(golden), b = Lines(actual);
  std::ostringstream out;

  // What changed, counted: the regression a reviewer cares about, whatever moved where.
  const auto ca = Counts(a), cb = Counts(b);
  std::map<std::string, std::pair<int, int>> changed;
  for (const auto& [k, n] : ca) changed[k].first = n;
  for (const auto& [k, n] : cb) changed[k].second = n;
  bool any = false;
  for (const auto& [k, n] : changed) {
    if (n.first == n.second) continue;
    if (!any) out << "what changed (golden -> now):\n";
    any = true;
    out << "  " << k << ": " << n.first << " -> " << n.second << "\n";
  }

  // The lines, as a unified diff with two lines of context (LCS; transcripts are short).
  const std::size_t n = a.size(), m = b.size();
  if (n * m > 40'000'000) {
    std::size_t i = 0;
    while (i < n && i < m && a[i] == b[i]) ++i;
    out << "first difference at line " << i + 1 << ":\n-" << (i < n ? a[i] : "") << "\n+"
        << (i < m ? b[i] : "") << "\n";
    return out.str();
  }
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  struct Op {
    char tag;  // ' ', '-', '+'
    std::string text;
    std::size_t line;  // in the golden transcript
  };
  std::vector<Op> ops;
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back({' ', a[i], i + 1});
      ++i, ++j;
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push_back({'+', b[j], i + 1});
      ++j;
    } else {
      ops.push_back({'-', a[i], i + 1});
      ++i;
    }
  }
  constexpr std::size_t kContext = 2, kMaxLines = 60;
  std::vector<bool> shown(ops.size(), false);
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (ops[k].tag == ' ') continue;
    for (std::size_t c = k >= kContext ? k - kContext : 0; c <= std::min(ops.size() - 1, k + kContext); ++c) {
      shown[c] = true;
    }
  }
  out << "--- golden\n+++ this run\n";
  std::size_t printed = 0, left = 0;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (!shown[k]) continue;
    if (printed >= kMaxLines) {
      left += ops[k].tag == ' ' ? 0 : 1;
      continue;
    }
    if (k == 0 || !shown[k - 1]) out << "@@ line " << ops[k].line << " @@\n";
    out << ops[k].tag << ops[k].text << "\n";
    ++printed;
  }
  if (left > 0) out << "… and " << left << " more changed line(s)\n";
  return out.str();
}

}  // namespace exo::scenarios
