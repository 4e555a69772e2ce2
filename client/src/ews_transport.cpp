// MailboxTransport over EWS. Requests follow what Exchange Online expects from an app-only
// client: bearer token, ExchangeImpersonation plus X-AnchorMailbox, RequestServerVersion.
#include "exo/client/ews_transport.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cctype>
#include <thread>

#include "exo/common/base64.hpp"
#include "exo/common/log.hpp"
#include "exo/common/time_format.hpp"
#include "internal/ews_xml.hpp"
#include "internal/folder_path.hpp"

namespace exo::client {

namespace {

using ews::Child;
using ews::Children;
using ews::Escape;
using ews::Find;
using ews::LocalName;

constexpr const char* kDistinguished[] = {"inbox",         "sentitems", "deleteditems",
                                          "drafts",        "junkemail", "outbox",
                                          "msgfolderroot", "root",      "archiveinbox"};

// The message properties the monitor needs, besides MIME.
constexpr const char* kMessageProperties =
    "<t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/>"
    "<t:FieldURI FieldURI=\"item:DateTimeReceived\"/><t:FieldURI FieldURI=\"item:Size\"/>"
    "<t:FieldURI FieldURI=\"message:From\"/><t:FieldURI FieldURI=\"message:IsRead\"/>"
    "<t:FieldURI FieldURI=\"message:InternetMessageId\"/></t:AdditionalProperties>";

bool IsDistinguished(const std::string& name) {
  return std::find(std::begin(kDistinguished), std::end(kDistinguished), name) !=
         std::end(kDistinguished);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Where the first complete envelope in `buffer` ends ("</Envelope>" or "</prefix:Envelope>"), or
// npos. Not std::regex: libstdc++ matches recursively, one frame per character, and a streamed
// "</" followed by megabytes of name characters overflowed the watcher thread's stack.
std::size_t EnvelopeEnd(std::string_view buffer) {
  constexpr std::string_view kName = "Envelope>";
  const auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  for (std::size_t at = buffer.find(kName); at != std::string_view::npos;
       at = buffer.find(kName, at + 1)) {
    std::size_t start = at;
    if (start > 0 && buffer[start - 1] == ':') {
      std::size_t prefix = start - 1;
      while (prefix > 0 && is_name(buffer[prefix - 1])) --prefix;
      if (prefix == start - 1) continue;  // ":Envelope>" without a prefix
      start = prefix;
    }
    if (start >= 2 && buffer.substr(start - 2, 2) == "</") return at + kName.size();
  }
  return std::string_view::npos;
}

MailMessage ReadMessage(pugi::xml_node m) {
  MailMessage out;
  pugi::xml_node id = Child(m, "ItemId");
  out.id = id.attribute("Id").as_string();
  out.change_key = id.attribute("ChangeKey").as_string();
  out.subject = Child(m, "Subject").text().as_string();
  out.internet_message_id = Child(m, "InternetMessageId").text().as_string();
  out.from = Find(Child(m, "From"), "EmailAddress").text().as_string();
  out.is_read = std::string_view(Child(m, "IsRead").text().as_string()) == "true" ||
                std::string_view(Child(m, "IsRead").text().as_string()) == "1";
  out.size = static_cast<std::size_t>(Child(m, "Size").text().as_ullong(0));
  if (auto t = ParseIso8601(Child(m, "DateTimeReceived").text().as_string())) out.received = *t;
  if (pugi::xml_node mime = Child(m, "MimeContent")) {
    auto bytes = Base64Decode(mime.text().as_string());
    if (bytes) out.mime = std::move(*bytes);
  }
  return out;
}

class EwsTransport final : public MailboxTransport {
 public:
  EwsTransport(EwsOptions options, TokenProvider& tokens, HttpTransport& http, Clock& clock)
      : options_(std::move(options)), tokens_(tokens), http_(http), clock_(clock) {}
  ~EwsTransport() override { StopWatching(); }

  TransportInfo Info() const override {
    std::lock_guard lock(mu_);
    TransportInfo i;
    i.protocol = "EWS";
    i.endpoint = options_.url;
    i.server_version = server_version_;
    i.exchange_online = ews::IsExchangeOnlineScope(options_.scope);
    return i;
  }

  // The POST of one SOAP body: bearer token, impersonation header and X-AnchorMailbox (which
  // routes the request to the mailbox's server, as Exchange Online asks of app-only clients).
  HttpRequest SoapRequest(const AccessToken& token, const std::string& body) const {
    HttpRequest req;
    req.method = "POST";
    req.url = options_.url;
    req.headers.emplace("Content-Type", "text/xml; charset=utf-8");
    req.headers.emplace("Accept", "text/xml");
    req.headers.emplace("Authorization", "Bearer " + token.value.Reveal());
    req.headers.emplace("X-AnchorMailbox", options_.mailbox);
    req.body = ews::Envelope(options_.request_server_version, options_.mailbox, body);
    return req;
  }

  // One SOAP call: a token, the request, one token refresh on 401, and the answer parsed.
  Result<std::unique_ptr<ews::Answer>> Call(const std::string& body) {
    auto answer = CallOnce(body);
    // An on-premises server's refusals need other remedies than Exchange Online's. Only
    // Exchange Server speaks of the audience's hostname: an Exchange Online token sent there.
    if (!answer && (!ews::IsExchangeOnlineScope(options_.scope) ||
                    answer.error().message.find("hostname component of the audience") !=
                        std::string::npos)) {
      return std::unexpected(ews::ExplainOnPremises(answer.error(), options_.url, options_.scope));
    }
    if (!answer && answer.error().http_status == 403 && clock_.Now() >= options_.ews_retirement) {
      // Past the retirement every EWS request to Exchange Online is a bare 403, which otherwise
      // reads like a policy an administrator could change.
      Error e = answer.error();
      e.remedy = "Exchange Online turned EWS off for good on " +
                 FormatIso8601(options_.ews_retirement).substr(0, 10) +
                 " (its retirement: no exceptions, whatever EwsEnabled or EwsAllowedAppIDs say); "
                 "read this mailbox through Microsoft Graph instead. Before that day a 403 meant: " +
                 e.remedy;
      return std::unexpected(e);
    }
    return answer;
  }

  Result<std::unique_ptr<ews::Answer>> CallOnce(const std::string& body) {
    for (int attempt = 0;; ++attempt) {
      auto token = tokens_.Get(options_.scope);
      if (!token) return std::unexpected(token.error());
      auto res = http_.Send(SoapRequest(*token, body));
      if (!res) return std::unexpected(res.error());
      if (res->status == 401 && attempt == 0) {
        // The token may have been revoked or rotated early: one fresh token, then give up.
        tokens_.Invalidate(options_.scope, token->value.Reveal());
        continue;
      }
      auto answer = ews::ReadAnswer(*res, options_.mailbox);
      if (answer && !(*answer)->server_version.empty()) {
        std::lock_guard lock(mu_);
        server_version_ = (*answer)->server_version;
      }
      return answer;
    }
  }

  // The single response message of a one-id request, or its error.
  Result<std::unique_ptr<ews::Answer>> CallOne(const std::string& body) {
    auto answer = Call(body);
    if (!answer) return answer;
    if ((*answer)->messages.empty()) {
      return Fail(ErrorCategory::kProtocol, "InvalidSoap", "EWS answered with no response message");
    }
    if (auto e = ews::MessageError((*answer)->messages.front())) return std::unexpected(*e);
    return answer;
  }

  Result<std::string> FolderIdOf(const std::string& distinguished) {
    auto answer = CallOne(
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        "<m:FolderIds><t:DistinguishedFolderId Id=\"" +
        Escape(distinguished) + "\"/></m:FolderIds></m:GetFolder>");
    if (!answer) return std::unexpected(answer.error());
    const std::string id =
        Find((*answer)->messages.front(), "FolderId").attribute("Id").as_string();
    if (id.empty())
      return Fail(ErrorCategory::kProtocol, "InvalidSoap", "GetFolder gave no FolderId");
    return id;
  }

  Result<std::string> ResolveFolder(const std::string& name, bool create_if_missing) override {
    const std::string lower = Lower(name);
    if (IsDistinguished(lower)) return FolderIdOf(lower);
    // A path of display names under the top of the information store ("Processed/2026").
    auto parent = FolderIdOf("msgfolderroot");
    if (!parent) return parent;
    std::string current = *parent;
    for (const std::string& part : SplitFolderPath(name)) {
      auto found = CallOne(
          "<m:FindFolder Traversal=\"Shallow\"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>"
          "<t:AdditionalProperties><t:FieldURI FieldURI=\"folder:DisplayName\"/>"
          "</t:AdditionalProperties></m:FolderShape><m:ParentFolderIds><t:FolderId Id=\"" +
          Escape(current) + "\"/></m:ParentFolderIds></m:FindFolder>");
      if (!found) return std::unexpected(found.error());
      std::string next;
      pugi::xml_node folders = Find((*found)->messages.front(), "Folders");
      for (pugi::xml_node f = folders.first_child(); f && next.empty(); f = f.next_sibling()) {
        if (Lower(Child(f, "DisplayName").text().as_string()) == Lower(part)) {
          next = Child(f, "FolderId").attribute("Id").as_string();
        }
      }
      if (next.empty()) {
        if (!create_if_missing) {
          return Fail(ErrorCategory::kNotFound, "ErrorFolderNotFound",
                      "the mailbox " + options_.mailbox + " has no folder '" + name + "'",
                      "create it, or name an existing folder in EmailIntegrationFolder / "
                      "EmailIntegrationDisposition");
        }
        auto created =
            CallOne("<m:CreateFolder><m:ParentFolderId><t:FolderId Id=\"" + Escape(current) +
                    "\"/></m:ParentFolderId><m:Folders><t:Folder>" + "<t:DisplayName>" +
                    Escape(part) + "</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>");
        if (!created) return std::unexpected(created.error());
        next = Find((*created)->messages.front(), "FolderId").attribute("Id").as_string();
      }
      current = next;
    }
    return current;
  }

  Result<SyncPage> SyncFolder(const std::string& folder_id, const std::string& sync_state,
                              int max_changes) override {
    std::string body = "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>" +
                       std::string(kMessageProperties) +
                       "</m:ItemShape><m:SyncFolderId><t:FolderId Id=\"" + Escape(folder_id) +
                       "\"/></m:SyncFolderId>";
    if (!sync_state.empty()) body += "<m:SyncState>" + Escape(sync_state) + "</m:SyncState>";
    body += "<m:MaxChangesReturned>" + std::to_string(std::clamp(max_changes, 1, 512)) +
            "</m:MaxChangesReturned><m:SyncScope>NormalItems</m:SyncScope></m:SyncFolderItems>";
    auto answer = CallOne(body);
    if (!answer) return std::unexpected(answer.error());
    pugi::xml_node m = (*answer)->messages.front();
    SyncPage page;
    page.sync_state = Child(m, "SyncState").text().as_string();
    page.more = std::string_view(Child(m, "IncludesLastItemInRange").text().as_string()) != "true";
    for (pugi::xml_node c = Child(m, "Changes").first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      const std::string_view kind = LocalName(c.name());
      FolderChange change;
      if (kind == "Create" || kind == "Update") {
        change.kind =
            kind == "Create" ? FolderChange::Kind::kCreated : FolderChange::Kind::kUpdated;
        pugi::xml_node item = c.first_child();
        while (item && item.type() != pugi::node_element) item = item.next_sibling();
        // Only messages: meeting requests and reports are items too, but not mail to process.
        if (!item || LocalName(item.name()) != "Message") continue;
        change.message = ReadMessage(item);
      } else if (kind == "Delete") {
        change.kind = FolderChange::Kind::kDeleted;
        change.message.id = Child(c, "ItemId").attribute("Id").as_string();
      } else if (kind == "ReadFlagChange") {
        change.kind = FolderChange::Kind::kReadFlagChanged;
        change.message.id = Child(c, "ItemId").attribute("Id").as_string();
        change.message.is_read = std::string_view(Child(c, "IsRead").text().as_string()) == "true";
      } else {
        continue;
      }
      page.changes.push_back(std::move(change));
    }
    return page;
  }

  Result<std::vector<MailMessage>> FetchMessages(const std::vector<std::string>& ids) override {
    std::vector<MailMessage> out;
    const std::size_t batch = static_cast<std::size_t>(std::max(1, options_.fetch_batch));
    for (std::size_t i = 0; i < ids.size(); i += batch) {
      std::string body =
          "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
          "<t:IncludeMimeContent>true</t:IncludeMimeContent>" +
          std::string(kMessageProperties) + "</m:ItemShape><m:ItemIds>";
      for (std::size_t j = i; j < std::min(ids.size(), i + batch); ++j) {
        body += "<t:ItemId Id=\"" + Escape(ids[j]) + "\"/>";
      }
      body += "</m:ItemIds></m:GetItem>";
      auto answer = Call(body);
      if (!answer) return std::unexpected(answer.error());
      for (pugi::xml_node m : (*answer)->messages) {
        if (auto e = ews::MessageError(m)) {
          if (e->code == "ErrorItemNotFound") continue;  // deleted meanwhile
          return std::unexpected(*e);
        }
        if (pugi::xml_node item = Find(m, "Message")) out.push_back(ReadMessage(item));
      }
    }
    return out;
  }

  Result<void> MarkRead(const std::string& id) override {
    auto answer = CallOne(
        "<m:UpdateItem MessageDisposition=\"SaveOnly\" ConflictResolution=\"AlwaysOverwrite\" "
        "SuppressReadReceipts=\"true\"><m:ItemChanges><t:ItemChange><t:ItemId Id=\"" +
        Escape(id) +
        "\"/><t:Updates><t:SetItemField><t:FieldURI FieldURI=\"message:IsRead\"/><t:Message>"
        "<t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange>"
        "</m:ItemChanges></m:UpdateItem>");
    if (!answer) return std::unexpected(answer.error());
    return {};
  }

  Result<std::string> Move(const std::string& id, const std::string& folder_id) override {
    auto answer = CallOne("<m:MoveItem><m:ToFolderId><t:FolderId Id=\"" + Escape(folder_id) +
                          "\"/></m:ToFolderId><m:ItemIds><t:ItemId Id=\"" + Escape(id) +
                          "\"/></m:ItemIds></m:MoveItem>");
    if (!answer) return std::unexpected(answer.error());
    return std::string(Find((*answer)->messages.front(), "ItemId").attribute("Id").as_string());
  }

  Result<void> Delete(const std::string& id) override {
    auto answer =
        CallOne("<m:DeleteItem DeleteType=\"MoveToDeletedItems\"><m:ItemIds><t:ItemId Id=\"" +
                Escape(id) + "\"/></m:ItemIds></m:DeleteItem>");
    if (!answer) return std::unexpected(answer.error());
    return {};
  }

  Result<void> Reply(const std::string& id, const std::string& body_text) override {
    auto answer = CallOne(
        "<m:CreateItem MessageDisposition=\"SendAndSaveCopy\"><m:SavedItemFolderId>"
        "<t:DistinguishedFolderId Id=\"sentitems\"/></m:SavedItemFolderId><m:Items><t:ReplyToItem>"
        "<t:ReferenceItemId Id=\"" +
        Escape(id) + "\"/><t:NewBodyContent BodyType=\"Text\">" + Escape(body_text) +
        "</t:NewBodyContent></t:ReplyToItem></m:Items></m:CreateItem>");
    if (!answer) return std::unexpected(answer.error());
    return {};
  }

  // ---- Streaming notifications ----

  Result<bool> Watch(const std::string& folder_id, std::function<void()> on_change) override {
    StopWatching();
    stop_ = false;
    cancel_.Reset();
    watcher_ = std::thread(
        [this, folder_id, on_change = std::move(on_change)] { WatchLoop(folder_id, on_change); });
    return true;
  }

  void StopWatching() override {
    stop_ = true;
    cancel_.Cancel();
    clock_.Notify();
    if (watcher_.joinable()) watcher_.join();
    cancel_.Clear();
  }

 private:
  Result<std::string> Subscribe(const std::string& folder_id) {
    auto answer =
        CallOne("<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:FolderId Id=\"" +
                Escape(folder_id) +
                "\"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType>"
                "<t:EventType>CreatedEvent</t:EventType><t:EventType>ModifiedEvent</t:EventType>"
                "<t:EventType>MovedEvent</t:EventType><t:EventType>DeletedEvent</t:EventType>"
                "</t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>");
    if (!answer) return std::unexpected(answer.error());
    return std::string(Find((*answer)->messages.front(), "SubscriptionId").text().as_string());
  }

  // One GetStreamingEvents connection: calls on_change for each batch of events. Returns when the
  // server closes it (ConnectionTimeout), on error, or when stopped.
  Result<void> Stream(const std::string& subscription, const std::function<void()>& on_change) {
    auto token = tokens_.Get(options_.scope);
    if (!token) return std::unexpected(token.error());
    const HttpRequest req = SoapRequest(
        *token,
        "<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>" + Escape(subscription) +
            "</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>30</m:ConnectionTimeout>"
            "</m:GetStreamingEvents>");
    std::string buffer;
    std::optional<Error> failure;
    auto res = http_.SendStreaming(
        req,
        [&](std::string_view chunk) {
          if (stop_) return false;
          buffer.append(chunk);
          if (buffer.size() > 16 * 1024 * 1024) {
            failure = Error{ErrorCategory::kProtocol,
                            "InvalidSoap",
                            "a streaming notification exceeded 16 MiB",
                            "",
                            std::nullopt,
                            0};
            return false;
          }
          for (std::size_t end = EnvelopeEnd(buffer); end != std::string::npos;
               end = EnvelopeEnd(buffer)) {
            pugi::xml_document doc;
            if (doc.load_buffer(buffer.data(), end, pugi::parse_default & ~pugi::parse_doctype)) {
              pugi::xml_node msg = Find(doc, "GetStreamingEventsResponseMessage");
              if (auto e = ews::MessageError(msg)) {
                failure = *e;
                return false;
              }
              if (Find(msg, "Notification")) on_change();
              if (std::string_view(Find(msg, "ConnectionStatus").text().as_string()) == "Closed") {
                buffer.erase(0, end);
                return false;
              }
            }
            buffer.erase(0, end);
          }
          return true;
        },
        &cancel_);
    if (failure) return std::unexpected(*failure);
    if (!res) return std::unexpected(res.error());
    if (res->status != 200 && res->status != 0) {
      auto answer = ews::ReadAnswer(*res, options_.mailbox);
      if (!answer) return std::unexpected(answer.error());
    }
    return {};
  }

  void WatchLoop(const std::string& folder_id, const std::function<void()>& on_change) {
    std::string subscription;
    Duration backoff = std::chrono::seconds(1);
    while (!stop_) {
      if (subscription.empty()) {
        auto s = Subscribe(folder_id);
        if (s) {
          subscription = *s;
          // Events before the subscription existed are the monitor's sync's business: wake it once.
          on_change();
        } else {
          log::Get("client.ews")->warn("streaming subscription failed: {}", s.error().Describe());
        }
      }
      if (!subscription.empty()) {
        auto streamed = Stream(subscription, on_change);
        if (streamed) {
          backoff = std::chrono::seconds(1);
          continue;
        }
        log::Get("client.ews")->warn("streaming connection ended: {}", streamed.error().Describe());
        if (streamed.error().code == "ErrorSubscriptionNotFound" ||
            streamed.error().code == "ErrorInvalidSubscription" ||
            streamed.error().code == "ErrorExpiredSubscription") {
          subscription.clear();
        }
        on_change();  // events may have been missed: the monitor's sync catches up
      }
      const MonoTime until = clock_.Monotonic() + backoff;
      clock_.WaitUntil(until, [this] { return stop_.load(); });
      backoff = std::min<Duration>(backoff * 2, std::chrono::minutes(5));
    }
  }

  EwsOptions options_;
  TokenProvider& tokens_;
  HttpTransport& http_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::string server_version_;
  std::atomic<bool> stop_{false};
  StreamCancel cancel_;
  std::thread watcher_;
};

}  // namespace

std::unique_ptr<MailboxTransport> MakeEwsTransport(EwsOptions options, TokenProvider& tokens,
                                                   HttpTransport& http, Clock& clock) {
  return std::make_unique<EwsTransport>(std::move(options), tokens, http, clock);
}

}  // namespace exo::client
