// The request journal both mocks keep: a bounded ring of request/response pairs, secrets and
// tokens redacted, that tests, scenarios and users query through the control API.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"

namespace exo::mock {

struct JournalEntry {
  std::uint64_t seq = 0;
  SystemTime time;  // on the server's clock when the request arrived
  std::string method;
  std::string path;
  std::string query;  // raw, without '?'
  std::multimap<std::string, std::string> request_headers;
  std::string request_body;
  int status = 0;
  std::multimap<std::string, std::string> response_headers;
  std::string response_body;
  std::string remote;  // "127.0.0.1:54321"
  std::map<std::string, std::string> annotations;  // operation, tenant, client_id, fault, ...

  nlohmann::json ToJson() const;
};

struct JournalQuery {
  std::optional<std::uint64_t> since_seq;  // entries with seq > since_seq
  std::string path_contains;
  std::string method;
  std::optional<int> status;
  std::map<std::string, std::string> annotations;  // all must match exactly
  std::size_t limit = 1000;
};

// Thread-safe. Bodies longer than `max_body_bytes` are cut and marked.
class Journal {
 public:
  using Redactor = std::function<void(JournalEntry&)>;

  explicit Journal(std::size_t capacity = 2000, std::size_t max_body_bytes = 64 * 1024);

  // Adds a redaction step; they run in order on every entry before it is stored.
  void AddRedactor(Redactor r);
  // Redacts, assigns the sequence number and stores; the oldest entry goes when full.
  std::uint64_t Record(JournalEntry entry);
  std::vector<JournalEntry> Query(const JournalQuery& q) const;
  void Clear();
  std::size_t size() const;
  std::uint64_t last_seq() const;

 private:
  mutable std::mutex mu_;
  std::size_t capacity_;
  std::size_t max_body_bytes_;
  std::deque<JournalEntry> entries_;
  std::uint64_t next_seq_ = 1;
  std::vector<Redactor> redactors_;
};

// Redaction helpers. Replacements keep the field so a reader still sees it was sent.
inline constexpr const char* kRedacted = "<redacted>";
// Replaces the values of `fields` in an application/x-www-form-urlencoded body.
std::string RedactFormFields(const std::string& body, const std::vector<std::string>& fields);
// Replaces string values of `fields` (at any depth, names in any case) in a JSON body; non-JSON,
// or JSON without such a field, is returned unchanged.
std::string RedactJsonFields(const std::string& body, const std::vector<std::string>& fields);
// Authorization and Cookie headers keep only their scheme.
void RedactCredentialsHeaders(std::multimap<std::string, std::string>& headers);

// Annotations the handler serving the current request attaches to its journal entry
// (operation name, tenant, fault id...). Thread-local: call from the handler's thread.
void Annotate(const std::string& key, const std::string& value);
std::map<std::string, std::string> TakeAnnotations();

}  // namespace exo::mock
