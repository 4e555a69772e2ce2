// A small Microsoft Graph mailbox for client tests, written from Graph's documentation (not from
// mock-ews): one user's mail folders and messages; mailFolders by well-known name and childFolders;
// message delta with Prefer: odata.maxpagesize paging, @odata.nextLink/@odata.deltaLink and
// @removed entries; a message's properties and its MIME ($value); PATCH isRead, move and reply.
// GraphRouter answers the requests under its base URL from it and passes every other request on
// (to mock-aad and mock-ews), so a MailboxClient can be switched between EWS and Graph while the
// two hold the same mail (the test mirrors each delivery by Message-ID).
#pragma once

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/text.hpp"

namespace exo::client::test {

class FakeGraph {
 public:
  using json = nlohmann::json;

  struct Message {
    std::string id;
    std::string folder;  // folder id
    std::string internet_message_id;
    std::string subject;
    std::string from = "alice@contoso.com";
    std::string received = "2026-11-02T09:00:00Z";
    bool is_read = false;
    std::string mime;
    long seq = 0;  // the change that last touched it, for delta
  };

  FakeGraph(std::string base, std::string mailbox)
      : base_(std::move(base)), mailbox_(AsciiLower(mailbox)) {
    for (const char* wk : {"msgfolderroot", "inbox", "deleteditems", "sentitems", "drafts"}) {
      folders_[std::string("fld-") + wk] = {
          wk, wk == std::string("msgfolderroot") ? "" : "fld-msgfolderroot"};
    }
  }

  const std::string& base() const { return base_; }

  // A message delivered to the Inbox (or `folder`, a well-known name); returns its Graph id.
  std::string Add(const std::string& internet_message_id, const std::string& subject,
                  bool is_read = false, const std::string& folder = "inbox") {
    std::lock_guard lock(mu_);
    Message m;
    m.id = NewId();
    m.folder = "fld-" + folder;
    m.internet_message_id = internet_message_id;
    m.subject = subject;
    m.is_read = is_read;
    m.mime = "Message-ID: " + internet_message_id + "\r\nSubject: " + subject + "\r\n\r\nBody\r\n";
    m.seq = ++seq_;
    messages_[m.id] = m;
    return m.id;
  }
  // The message with this Message-ID (wherever it is), for assertions.
  std::optional<Message> ByMessageId(const std::string& internet_message_id) const {
    std::lock_guard lock(mu_);
    for (const auto& [id, m] : messages_) {
      if (m.internet_message_id == internet_message_id) return m;
    }
    return std::nullopt;
  }
  void SetRead(const std::string& internet_message_id, bool read = true) {
    std::lock_guard lock(mu_);
    for (auto& [id, m] : messages_) {
      if (m.internet_message_id == internet_message_id) {
        m.is_read = read;
        m.seq = ++seq_;
      }
    }
  }
  // Users the mailbox store does not hold are answered 404 MailboxNotEnabledForRESTAPI, as Graph
  // answers for an on-premises mailbox.
  void KnowOnly(const std::string& mailbox) {
    std::lock_guard lock(mu_);
    mailbox_ = AsciiLower(mailbox);
  }
  // Every delta token issued so far stops working (the server's token cache dropped them).
  void ExpireDeltaTokens() {
    std::lock_guard lock(mu_);
    expired_before_ = ++seq_;
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t replies() const {
    std::lock_guard lock(mu_);
    return replies_;
  }

  Result<HttpResponse> Handle(const HttpRequest& r) {
    std::lock_guard lock(mu_);
    requests_.push_back(r);
    if (r.headers.count("Authorization") == 0) {
      return Fault(401, "InvalidAuthenticationToken", "Access token is empty.");
    }
    std::string path = r.url.substr(base_.size());
    std::string query;
    if (auto q = path.find('?'); q != std::string::npos) {
      query = path.substr(q + 1);
      path.resize(q);
    }
    if (!path.starts_with("/v1.0/users/")) return Fault(404, "BadRequest", "no such path");
    std::vector<std::string> seg;
    for (std::size_t at = 6; at < path.size();) {
      const std::size_t next = path.find('/', at + 1);
      seg.push_back(Decode(
          path.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1)));
      at = next == std::string::npos ? path.size() : next;
    }
    // seg: users, {upn}, ...
    if (seg.size() < 3) return Fault(400, "BadRequest", "no such path");
    if (AsciiLower(seg[1]) != mailbox_) {
      return Fault(404, "MailboxNotEnabledForRESTAPI",
                   "The mailbox is either inactive, soft-deleted, or is hosted on-premise.");
    }
    if (seg[2] == "mailFolders" && seg.size() >= 4) return Folders(r, seg, query);
    if (seg[2] == "messages" && seg.size() >= 4) return Messages(r, seg);
    return Fault(400, "BadRequest", "no such path");
  }

 private:
  struct Folder {
    std::string name;
    std::string parent;
  };

  static Result<HttpResponse> Json(int status, const json& body) {
    return HttpResponse{status, {{"Content-Type", "application/json"}}, body.dump()};
  }
  static Result<HttpResponse> Fault(int status, const std::string& code,
                                    const std::string& message) {
    return Json(status, {{"error",
                          {{"code", code},
                           {"message", message},
                           {"innerError", {{"request-id", "fake-request"}}}}}});
  }
  static std::string Decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static std::string Param(const std::string& query, const std::string& name) {
    for (std::size_t at = 0; at < query.size();) {
      const std::size_t amp = query.find('&', at);
      const std::string kv =
          query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
      if (kv.starts_with(name + "=")) return kv.substr(name.size() + 1);
      at = amp == std::string::npos ? query.size() : amp + 1;
    }
    return {};
  }

  // Ids with '=' and '-' as Graph's REST ids have, so escaping is exercised.
  std::string NewId() { return "AAMkAD" + std::to_string(++next_id_) + "-x=="; }

  std::string FolderId(const std::string& name_or_id) const {
    if (folders_.contains(name_or_id)) return name_or_id;
    if (folders_.contains("fld-" + AsciiLower(name_or_id))) return "fld-" + AsciiLower(name_or_id);
    return {};
  }

  json Full(const Message& m) const {
    return {{"@odata.type", "#microsoft.graph.message"},
            {"@odata.etag", "W/\"" + std::to_string(m.seq) + "\""},
            {"id", m.id},
            {"changeKey", std::to_string(m.seq)},
            {"internetMessageId", m.internet_message_id},
            {"subject", m.subject},
            {"from", {{"emailAddress", {{"name", "Alice"}, {"address", m.from}}}}},
            {"receivedDateTime", m.received},
            {"isRead", m.is_read}};
  }

  Result<HttpResponse> Folders(const HttpRequest& r, const std::vector<std::string>& seg,
                               const std::string& query) {
    const std::string folder = FolderId(seg[3]);
    if (folder.empty()) return Fault(404, "ErrorInvalidIdMalformed", "Id is malformed.");
    if (seg.size() == 4 && r.method == "GET") {
      return Json(200, {{"id", folder}, {"displayName", folders_[folder].name}});
    }
    if (seg.size() == 5 && seg[4] == "childFolders") {
      if (r.method == "POST") {
        const json body = json::parse(r.body, nullptr, false);
        const std::string id = "fld-" + std::to_string(++next_id_);
        folders_[id] = {body.value("displayName", ""), folder};
        return Json(201, {{"id", id}, {"displayName", folders_[id].name}});
      }
      json value = json::array();
      for (const auto& [id, f] : folders_) {
        if (f.parent == folder) value.push_back({{"id", id}, {"displayName", f.name}});
      }
      return Json(200, {{"value", value}});
    }
    if (seg.size() == 6 && seg[4] == "messages" && seg[5] == "delta") {
      return Delta(r, folder, query);
    }
    return Fault(400, "BadRequest", "no such path");
  }

  // Changes since `since` up to the round's snapshot `upto`, paged; an initial round (no token)
  // lists the folder's messages as they are, a later round what changed, removals included.
  Result<HttpResponse> Delta(const HttpRequest& r, const std::string& folder,
                             const std::string& query) {
    long since = 0, offset = 0, upto = seq_;
    if (std::string t = Param(query, "$deltatoken"); !t.empty()) {
      since = std::stol(t);
      // delta-query-overview.md, "Synchronization reset" and "Token duration".
      if (since < expired_before_) {
        return Fault(410, "SyncStateNotFound", "The sync state generation is not found.");
      }
    } else if (std::string s = Param(query, "$skiptoken"); !s.empty()) {
      std::sscanf(s.c_str(), "%ld.%ld.%ld", &since, &offset, &upto);
    }
    std::vector<std::pair<long, json>> changes;
    for (const auto& [id, m] : messages_) {
      if (m.folder == folder && m.seq > since && m.seq <= upto) changes.push_back({m.seq, Full(m)});
    }
    for (const auto& [id, removed] : removed_) {
      if (removed.first == folder && removed.second > since && removed.second <= upto) {
        changes.push_back({removed.second, {{"id", id}, {"@removed", {{"reason", "deleted"}}}}});
      }
    }
    std::sort(changes.begin(), changes.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::size_t page = 10;
    for (auto it = r.headers.find("Prefer"); it != r.headers.end() && it->first == "Prefer"; ++it) {
      if (it->second.starts_with("odata.maxpagesize=")) page = std::stoul(it->second.substr(18));
    }
    json value = json::array();
    for (std::size_t i = static_cast<std::size_t>(offset);
         i < changes.size() && value.size() < page; ++i) {
      value.push_back(changes[i].second);
    }
    const std::string link =
        base_ + "/v1.0/users/" + mailbox_ + "/mailFolders/" + folder + "/messages/delta?";
    json body = {{"value", value}};
    const long end = offset + static_cast<long>(value.size());
    if (static_cast<std::size_t>(end) < changes.size()) {
      body["@odata.nextLink"] = link + "$skiptoken=" + std::to_string(since) + "." +
                                std::to_string(end) + "." + std::to_string(upto);
    } else {
      body["@odata.deltaLink"] = link + "$deltatoken=" + std::to_string(upto);
    }
    return Json(200, body);
  }

  Result<HttpResponse> Messages(const HttpRequest& r, const std::vector<std::string>& seg) {
    auto it = messages_.find(seg[3]);
    if (it == messages_.end()) {
      return Fault(404, "ErrorItemNotFound", "The specified object was not found in the store.");
    }
    Message& m = it->second;
    if (seg.size() == 4 && r.method == "GET") return Json(200, Full(m));
    if (seg.size() == 4 && r.method == "PATCH") {
      const json body = json::parse(r.body, nullptr, false);
      if (body.contains("isRead")) m.is_read = body["isRead"].get<bool>();
      m.seq = ++seq_;
      return Json(200, Full(m));
    }
    if (seg.size() == 5 && seg[4] == "$value") {
      return HttpResponse{200, {{"Content-Type", "text/plain"}}, m.mime};
    }
    if (seg.size() == 5 && seg[4] == "move" && r.method == "POST") {
      const json body = json::parse(r.body, nullptr, false);
      const std::string target = FolderId(body.value("destinationId", ""));
      if (target.empty()) return Fault(404, "ErrorInvalidIdMalformed", "Id is malformed.");
      Message moved = m;
      removed_[m.id] = {m.folder, ++seq_};
      messages_.erase(it);
      moved.id = NewId();  // a move gives the message a new id
      moved.folder = target;
      moved.seq = ++seq_;
      messages_[moved.id] = moved;
      return Json(201, Full(moved));
    }
    if (seg.size() == 5 && seg[4] == "reply" && r.method == "POST") {
      ++replies_;
      return HttpResponse{202, {}, ""};
    }
    return Fault(400, "BadRequest", "no such path");
  }

  mutable std::mutex mu_;
  std::string base_;
  std::string mailbox_;
  std::map<std::string, Folder> folders_;
  std::map<std::string, Message> messages_;
  std::map<std::string, std::pair<std::string, long>> removed_;  // id -> (folder, seq)
  std::vector<HttpRequest> requests_;
  long seq_ = 0;
  long expired_before_ = 0;
  long next_id_ = 0;
  std::size_t replies_ = 0;
};

// Sends requests under the fake's base URL to it, the rest to `rest` (mock-aad, mock-ews).
class GraphRouter final : public HttpTransport {
 public:
  GraphRouter(FakeGraph& graph, HttpTransport& rest) : graph_(graph), rest_(rest) {}
  Result<HttpResponse> Send(const HttpRequest& r) override {
    if (r.url.starts_with(graph_.base() + "/")) return graph_.Handle(r);
    return rest_.Send(r);
  }
  Result<HttpResponse> SendStreaming(const HttpRequest& r, const ChunkReceiver& receiver,
                                     StreamCancel* cancel = nullptr) override {
    if (r.url.starts_with(graph_.base() + "/")) {
      auto answer = graph_.Handle(r);
      if (answer && receiver) receiver(answer->body);
      return answer;
    }
    return rest_.SendStreaming(r, receiver, cancel);
  }

 private:
  FakeGraph& graph_;
  HttpTransport& rest_;
};

}  // namespace exo::client::test
