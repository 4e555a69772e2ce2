#include "exo/mock_kit/journal.hpp"

#include <httplib.h>
#include <strings.h>

#include <algorithm>

#include "exo/common/time_format.hpp"

namespace exo::mock {
namespace {
thread_local std::map<std::string, std::string> t_annotations;

bool IEquals(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

nlohmann::json HeadersJson(const std::multimap<std::string, std::string>& h) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : h) {
    if (out.contains(k))
      out[k] = out[k].get<std::string>() + ", " + v;
    else
      out[k] = v;
  }
  return out;
}

void Cut(std::string& body, std::size_t max) {
  if (body.size() <= max) return;
  const std::size_t total = body.size();
  body.resize(max);
  body += "...<" + std::to_string(total - max) + " more bytes>";
}

// Field names match in any case: PowerShell parameters and Graph properties are
// case-insensitive, so "password" and "Password" carry the same secret.
bool RedactJson(nlohmann::json& j, const std::vector<std::string>& fields) {
  bool redacted = false;
  if (j.is_object()) {
    for (auto& item : j.items()) {
      const std::string& key = item.key();
      nlohmann::json& v = item.value();
      const bool secret = std::any_of(fields.begin(), fields.end(), [&key](const std::string& f) {
        return IEquals(key, f.c_str());
      });
      if (v.is_string() && secret) {
        v = kRedacted;
        redacted = true;
      } else {
        redacted = RedactJson(v, fields) || redacted;
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) redacted = RedactJson(v, fields) || redacted;
  }
  return redacted;
}
}  // namespace

nlohmann::json JournalEntry::ToJson() const {
  return {{"seq", seq},
          {"time", FormatIso8601Ticks(time)},
          {"method", method},
          {"path", path},
          {"query", query},
          {"remote", remote},
          {"requestHeaders", HeadersJson(request_headers)},
          {"requestBody", request_body},
          {"status", status},
          {"responseHeaders", HeadersJson(response_headers)},
          {"responseBody", response_body},
          {"annotations", annotations}};
}

Journal::Journal(std::size_t capacity, std::size_t max_body_bytes)
    : capacity_(capacity == 0 ? 1 : capacity), max_body_bytes_(max_body_bytes) {}

void Journal::AddRedactor(Redactor r) {
  std::lock_guard lock(mu_);
  redactors_.push_back(std::move(r));
}

std::uint64_t Journal::Record(JournalEntry entry) {
  std::vector<Redactor> redactors;
  {
    std::lock_guard lock(mu_);
    redactors = redactors_;
  }
  RedactCredentialsHeaders(entry.request_headers);
  for (const auto& r : redactors) r(entry);
  // Cut after redaction so a secret straddling the cut cannot survive half-redacted.
  Cut(entry.request_body, max_body_bytes_);
  Cut(entry.response_body, max_body_bytes_);
  std::lock_guard lock(mu_);
  entry.seq = next_seq_++;
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
  return entries_.back().seq;
}

std::vector<JournalEntry> Journal::Query(const JournalQuery& q) const {
  std::lock_guard lock(mu_);
  std::vector<JournalEntry> out;
  for (const auto& e : entries_) {
    if (q.since_seq && e.seq <= *q.since_seq) continue;
    if (!q.path_contains.empty() && e.path.find(q.path_contains) == std::string::npos) continue;
    if (!q.method.empty() && e.method != q.method) continue;
    if (q.status && e.status != *q.status) continue;
    bool match = true;
    for (const auto& [k, v] : q.annotations) {
      auto it = e.annotations.find(k);
      if (it == e.annotations.end() || it->second != v) match = false;
    }
    if (!match) continue;
    out.push_back(e);
    if (out.size() >= q.limit) break;
  }
  return out;
}

void Journal::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

std::size_t Journal::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::uint64_t Journal::last_seq() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

std::string RedactFormFields(const std::string& body, const std::vector<std::string>& fields) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t amp = body.find('&', pos);
    if (amp == std::string::npos) amp = body.size();
    const std::string pair = body.substr(pos, amp - pos);
    const std::size_t eq = pair.find('=');
    const std::string key = httplib::detail::decode_url(
        pair.substr(0, eq == std::string::npos ? pair.size() : eq), true);
    if (!out.empty() || pos > 0) out += '&';
    if (eq != std::string::npos && std::find(fields.begin(), fields.end(), key) != fields.end()) {
      out += pair.substr(0, eq) + "=" + kRedacted;
    } else {
      out += pair;
    }
    pos = amp + 1;
  }
  return out;
}

std::string RedactJsonFields(const std::string& body, const std::vector<std::string>& fields) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  // A body with nothing to hide stays byte for byte as it was sent.
  if (j.is_discarded() || !RedactJson(j, fields)) return body;
  return j.dump();
}

void RedactCredentialsHeaders(std::multimap<std::string, std::string>& headers) {
  for (auto& [k, v] : headers) {
    if (IEquals(k, "Authorization") || IEquals(k, "Proxy-Authorization")) {
      const auto space = v.find(' ');
      v = (space == std::string::npos ? std::string() : v.substr(0, space + 1)) + kRedacted;
    } else if (IEquals(k, "Cookie") || IEquals(k, "Set-Cookie")) {
      v = kRedacted;
    }
  }
}

void Annotate(const std::string& key, const std::string& value) { t_annotations[key] = value; }

std::map<std::string, std::string> TakeAnnotations() {
  std::map<std::string, std::string> out;
  out.swap(t_annotations);
  return out;
}

}  // namespace exo::mock
