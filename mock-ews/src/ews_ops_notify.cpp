// Subscribe (pull and streaming), GetEvents, GetStreamingEvents, Unsubscribe (reference ews.md
// §2.9, §2.10): the store keeps the subscriptions and their cursors; this facade adds the EWS
// wire forms, the pull/streaming distinction and the hanging GetStreamingEvents connection.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "exo/common/base64.hpp"
#include "exo/common/time_format.hpp"
#include "internal/ews_ops.hpp"
#include "internal/ews_streams.hpp"

namespace exo::mock_ews {
namespace {

using namespace std::chrono_literals;

// How often an idle stream sends ConnectionStatus OK. Exchange's period is not documented (ews.md
// §7.5); ews-javascript-api declares a connection dead after 45 s without one and the EWS Managed
// API uses the same figure, so the mock stays well inside it.
constexpr Duration kHeartbeat = 30s;
// A streaming subscription no connection holds lives on this long, as a pull subscription lives
// for its Timeout; Exchange keeps streaming subscriptions for 30 minutes without a connection.
constexpr Duration kStreamingIdleLifetime = 30min;
constexpr std::size_t kMaxStreamingSubscriptions = 200;

// The kind is part of the id the facade hands out (a prefix byte before the store's id), so
// GetEvents and GetStreamingEvents can refuse each other's subscriptions without the facade
// keeping state. A "quiet" subscription asked only for event types the mock never raises
// (FreeBusyChangedEvent, StatusEvent): the store would read an empty type set as "all".
enum class SubscriptionKind { kPull, kStreaming };

struct SubscriptionRef {
  SubscriptionKind kind = SubscriptionKind::kPull;
  bool quiet = false;
  std::string store_id;
};

char KindByte(SubscriptionKind kind, bool quiet) {
  if (kind == SubscriptionKind::kPull) return quiet ? 'p' : 'P';
  return quiet ? 's' : 'S';
}

std::string EwsSubscriptionId(const SubscriptionRef& ref) {
  const std::optional<std::string> raw = Base64Decode(ref.store_id);
  return Base64Encode(std::string(1, KindByte(ref.kind, ref.quiet)) + raw.value_or(ref.store_id));
}

std::optional<SubscriptionRef> ParseSubscriptionId(std::string_view id) {
  const std::optional<std::string> raw = Base64Decode(id);
  if (!raw || raw->size() < 2) return std::nullopt;
  SubscriptionRef ref;
  switch ((*raw)[0]) {
    case 'P':
      break;
    case 'p':
      ref.quiet = true;
      break;
    case 'S':
      ref.kind = SubscriptionKind::kStreaming;
      break;
    case 's':
      ref.kind = SubscriptionKind::kStreaming;
      ref.quiet = true;
      break;
    default:
      return std::nullopt;
  }
  ref.store_id = Base64Encode(std::string_view(*raw).substr(1));
  return ref;
}

// The response-code texts of ews.md §3.5 and responsecode.md for the notification errors.
Error NotifyError(const Error& e) {
  if (e.code == codes::kInvalidSubscription) {
    return ProtocolError(e.code, "Subscription is invalid.");
  }
  if (e.code == codes::kSubscriptionNotFound) {
    return ProtocolError(e.code, "The specified subscription was not found.");
  }
  if (e.code == codes::kInvalidWatermark) return ProtocolError(e.code, "The watermark is invalid.");
  if (e.code == codes::kExpiredSubscription) {
    return ProtocolError(e.code, "The subscription has expired.");
  }
  return e;
}

Error InvalidSubscription() {
  return ProtocolError(codes::kInvalidSubscription, "Subscription is invalid.");
}

const char* EventTag(EventType type) {
  switch (type) {
    case EventType::kNewMail:
      return "NewMailEvent";
    case EventType::kCreated:
      return "CreatedEvent";
    case EventType::kDeleted:
      return "DeletedEvent";
    case EventType::kModified:
      return "ModifiedEvent";
    case EventType::kMoved:
      return "MovedEvent";
    case EventType::kCopied:
      return "CopiedEvent";
  }
  return "ModifiedEvent";
}

std::string FolderIdXml(const char* tag, std::string_view id) {
  return std::string("<t:") + tag + " Id=\"" + Esc(id) + "\" ChangeKey=\"AQAAAA==\"/>";
}

std::string ItemIdElement(const char* tag, std::string_view id) {
  return std::string("<t:") + tag + " Id=\"" + Esc(id) + "\" ChangeKey=\"CQAAAA==\"/>";
}

// One event in types.xsd order (Watermark, TimeStamp, Item/FolderId, ParentFolderId, then the old
// ids of a move or copy). Events are short: ChangeKeys take Exchange's short event form.
// Streaming events carry no Watermark (ews.md §2.10).
std::string EventXml(const MailboxEvent& e, bool with_watermark) {
  const char* tag = EventTag(e.type);
  std::string out = std::string("<t:") + tag + ">";
  if (with_watermark) out += "<t:Watermark>" + Esc(e.watermark) + "</t:Watermark>";
  out += "<t:TimeStamp>" + FormatIso8601(e.timestamp) + "</t:TimeStamp>";
  out += e.is_folder ? FolderIdXml("FolderId", e.id) : ItemIdElement("ItemId", e.id);
  out += FolderIdXml("ParentFolderId", e.parent_folder_id);
  if (e.type == EventType::kMoved || e.type == EventType::kCopied) {
    out +=
        e.is_folder ? FolderIdXml("OldFolderId", e.old_id) : ItemIdElement("OldItemId", e.old_id);
    out += FolderIdXml("OldParentFolderId", e.old_parent_folder_id);
  }
  return out + "</t:" + tag + ">";
}

// NotificationEventTypeType. FreeBusyChangedEvent is accepted and never fires (the mock has no
// calendars); StatusEvent is not in the enumeration but clients send it and it costs nothing.
std::optional<std::optional<EventType>> ParseEventType(std::string_view name) {
  if (name == "NewMailEvent") return EventType::kNewMail;
  if (name == "CreatedEvent") return EventType::kCreated;
  if (name == "DeletedEvent") return EventType::kDeleted;
  if (name == "ModifiedEvent") return EventType::kModified;
  if (name == "MovedEvent") return EventType::kMoved;
  if (name == "CopiedEvent") return EventType::kCopied;
  if (name == "FreeBusyChangedEvent" || name == "StatusEvent") {
    return std::optional<EventType>();
  }
  return std::nullopt;
}

SoapReply EnumerationFault(std::string_view element, std::string_view value,
                           std::string_view type) {
  return SchemaFault("The '" + std::string(element) + "' element is invalid - The value '" +
                     std::string(value) +
                     "' is invalid according to its datatype "
                     "'http://schemas.microsoft.com/exchange/services/2006/types:" +
                     std::string(type) + "' - The Enumeration constraint failed.");
}

// An xs:int restricted to [min, max]; nullopt for anything else.
std::optional<int> BoundedInt(const std::string& text, int min, int max) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || v < min || v > max) return std::nullopt;
  return static_cast<int>(v);
}

SoapReply RangeFault(std::string_view element, const std::string& value, std::string_view type,
                     int min, int max) {
  return SchemaFault("The '" + std::string(element) + "' element is invalid - The value '" + value +
                     "' is invalid according to its datatype "
                     "'http://schemas.microsoft.com/exchange/services/2006/types:" +
                     std::string(type) + "' - The value must be between " + std::to_string(min) +
                     " and " + std::to_string(max) + ".");
}

// ---- GetStreamingEvents ----

// The unprefixed envelope Exchange streams (ews.md §2.10): ews-javascript-api looks for the
// literal "<Envelope" and "</Envelope>", so an s:-prefixed one would never be seen.
std::string StreamEnvelope(const std::string& message) {
  return std::string("<Envelope xmlns=\"") + kSoapNs + "\"><soap11:Header xmlns:soap11=\"" +
         kSoapNs +
         "\"><ServerVersionInfo xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"" +
         kTypesNs +
         "\" MajorVersion=\"15\" MinorVersion=\"20\" MajorBuildNumber=\"8769\" "
         "MinorBuildNumber=\"35\" Version=\"V2018_01_08\"/></soap11:Header><soap11:Body "
         "xmlns:soap11=\"" +
         kSoapNs + "\"><m:GetStreamingEventsResponse xmlns:m=\"" + kMessagesNs + "\" xmlns:t=\"" +
         kTypesNs + "\"><m:ResponseMessages>" + message +
         "</m:ResponseMessages></m:GetStreamingEventsResponse></soap11:Body></Envelope>";
}

std::string StatusEnvelope(const char* status) {
  return StreamEnvelope(SuccessMessage("GetStreamingEvents", std::string("<m:ConnectionStatus>") +
                                                                 status + "</m:ConnectionStatus>"));
}

// The error form, in schema order: MessageText, ResponseCode, DescriptiveLinkKey,
// ErrorSubscriptionIds, ConnectionStatus (the doc sample has them out of order).
std::string StreamErrorEnvelope(const Error& e, const std::vector<std::string>& ids) {
  std::string payload;
  if (!ids.empty()) {
    payload += "<m:ErrorSubscriptionIds>";
    for (const auto& id : ids) payload += "<t:SubscriptionId>" + Esc(id) + "</t:SubscriptionId>";
    payload += "</m:ErrorSubscriptionIds>";
  }
  payload += "<m:ConnectionStatus>Closed</m:ConnectionStatus>";
  return StreamEnvelope(ErrorMessage("GetStreamingEvents", e, payload));
}

struct StreamSubscription {
  std::string ews_id;
  SubscriptionRef ref;
};

// One open connection. It outlives the request that created it (the server runs it after the
// handler returns), so it holds the store and clock, never the Request.
struct OpenStream {
  MailboxStore* store = nullptr;
  Clock* clock = nullptr;
  std::vector<StreamSubscription> subscriptions;
  MonoTime end{};
  MonoTime next_heartbeat{};
  std::atomic<bool> ending{false};

  ~OpenStream();
};

// Every open stream by store, for EndStreams. A stream unregisters itself when the server drops
// its answer; EndStreams holds the lock while it works, so no stream dies under it.
struct StreamRegistry {
  std::mutex mu;
  std::multimap<MailboxStore*, OpenStream*> streams;

  static StreamRegistry& Instance() {
    static StreamRegistry registry;
    return registry;
  }
};

OpenStream::~OpenStream() {
  StreamRegistry& r = StreamRegistry::Instance();
  std::lock_guard lock(r.mu);
  for (auto it = r.streams.begin(); it != r.streams.end(); ++it) {
    if (it->second == this) {
      r.streams.erase(it);
      break;
    }
  }
}

using Writer = std::function<bool(std::string_view)>;

// One step of a stream: waits (on the store clock) until events, a heartbeat or the end of the
// connection, writes one envelope and says whether the stream goes on.
bool StreamStep(OpenStream& s, const Writer& write) {
  for (;;) {
    if (s.ending.load()) return false;
    const MonoTime now = s.clock->Monotonic();
    std::string notifications;
    std::vector<std::string> failed;
    std::optional<Error> failure;
    for (const StreamSubscription& sub : s.subscriptions) {
      // A wait that ends now only looks: GetEvents (a store mutation that wakes every waiter)
      // runs only when there is something to read.
      auto pending = s.store->WaitForEvents(sub.ref.store_id, now);
      if (pending && !*pending) continue;
      auto batch = pending ? s.store->GetEvents(sub.ref.store_id)
                           : Result<EventBatch>(std::unexpected(pending.error()));
      if (!batch) {
        failed.push_back(sub.ews_id);
        if (!failure) failure = NotifyError(batch.error());
        continue;
      }
      if (sub.ref.quiet || batch->events.empty()) continue;
      notifications +=
          "<m:Notification><t:SubscriptionId>" + Esc(sub.ews_id) + "</t:SubscriptionId>";
      for (const MailboxEvent& e : batch->events) notifications += EventXml(e, false);
      notifications += "</m:Notification>";
    }
    if (s.ending.load()) return false;
    if (failure) {
      write(StreamErrorEnvelope(*failure, failed));
      return false;
    }
    if (!notifications.empty()) {
      s.next_heartbeat = now + kHeartbeat;
      return write(StreamEnvelope(SuccessMessage(
          "GetStreamingEvents", "<m:Notifications>" + notifications + "</m:Notifications>")));
    }
    if (now >= s.end) {
      write(StatusEnvelope("Closed"));
      return false;
    }
    if (now >= s.next_heartbeat) {
      s.next_heartbeat = now + kHeartbeat;
      return write(StatusEnvelope("OK"));
    }
    // The store wakes this wait for the first subscription's events; those of further
    // subscriptions are picked up when it wakes for any reason, at the latest at the heartbeat.
    // Errors show on the next pass.
    (void)s.store->WaitForEvents(s.subscriptions.front().ref.store_id,
                                 std::min(s.next_heartbeat, s.end));
  }
}

// A stream that writes one error envelope and ends.
SoapReply StreamError(const Error& e, std::vector<std::string> ids) {
  SoapReply reply;
  auto envelope = std::make_shared<std::string>(StreamErrorEnvelope(e, ids));
  reply.stream = [envelope](const Writer& write) {
    write(*envelope);
    return false;
  };
  return reply;
}

}  // namespace

void EndStreams(MailboxStore& store) {
  StreamRegistry& r = StreamRegistry::Instance();
  std::lock_guard lock(r.mu);
  auto [begin, end] = r.streams.equal_range(&store);
  for (auto it = begin; it != end; ++it) {
    OpenStream& s = *it->second;
    s.ending.store(true);
    // Removing a subscription is a store change: it wakes the stream's wait.
    for (const auto& sub : s.subscriptions) (void)store.Unsubscribe(sub.ref.store_id);
  }
}

SoapReply SubscribeOp(const Request& r, pugi::xml_node op) {
  const pugi::xml_node request = FirstElement(op);
  const std::string_view request_kind = Local(request.name());
  if (request_kind == "PushSubscriptionRequest") {
    // The mock cannot reach a client's listener, so it refuses push up front rather than accept
    // a subscription that would never deliver.
    return Response("Subscribe",
                    ErrorMessage("Subscribe",
                                 ProtocolError("ErrorInvalidRequest",
                                               "The request is invalid. Push subscriptions are "
                                               "not supported by this server; use a pull or "
                                               "streaming subscription."),
                                 ""));
  }
  const bool pull = request_kind == "PullSubscriptionRequest";
  if (!pull && request_kind != "StreamingSubscriptionRequest") {
    return SchemaFault("The element 'Subscribe' has invalid child element '" +
                       std::string(request_kind) + "'.");
  }

  SubscriptionSpec spec;
  spec.mailbox = r.mailbox.primary_smtp_address;
  const auto all = ParseBool(request.attribute("SubscribeToAllFolders").as_string());
  spec.all_folders = all.value_or(false);
  std::vector<Folder> folders;
  for (pugi::xml_node f = FirstElement(Child(request, "FolderIds")); f; f = f.next_sibling()) {
    if (f.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, f);
    if (!folder && folder.error().code == "ErrorSchemaValidation") {
      return SchemaFault(folder.error().message);
    }
    if (!folder) return Response("Subscribe", ErrorMessage("Subscribe", folder.error(), ""));
    folders.push_back(*folder);
    spec.folder_ids.push_back(folder->id);
  }
  // A subscription on another mailbox's folders (DistinguishedFolderId with Mailbox) is that
  // mailbox's; the store checks they all belong to one.
  if (!folders.empty()) spec.mailbox = folders.front().mailbox;

  bool quiet = true;
  for (pugi::xml_node t = FirstElement(Child(request, "EventTypes")); t; t = t.next_sibling()) {
    if (t.type() != pugi::node_element) continue;
    const std::string name = Text(t);
    const auto type = ParseEventType(name);
    if (!type) return EnumerationFault("EventType", name, "NotificationEventTypeType");
    if (*type) {
      spec.event_types.insert(**type);
      quiet = false;
    }
  }
  if (!Child(request, "EventTypes")) {
    return SchemaFault("The element '" + std::string(request_kind) +
                       "' has incomplete content. List of possible elements expected: "
                       "'EventTypes'.");
  }

  if (pull) {
    spec.watermark = Text(Child(request, "Watermark"));
    const std::string timeout = Text(Child(request, "Timeout"));
    const auto minutes = BoundedInt(timeout, 1, 1440);
    if (!minutes) return RangeFault("Timeout", timeout, "SubscriptionTimeoutType", 1, 1440);
    spec.idle_timeout = std::chrono::minutes(*minutes);
  } else {
    spec.idle_timeout = kStreamingIdleLifetime;
  }
  if (!spec.all_folders && spec.folder_ids.empty()) {
    return Response("Subscribe", ErrorMessage("Subscribe",
                                              ProtocolError("ErrorInvalidSubscriptionRequest",
                                                            "A subscription needs FolderIds or "
                                                            "SubscribeToAllFolders=\"true\"."),
                                              ""));
  }

  auto sub = r.store.Subscribe(spec);
  if (!sub) {
    Error e = NotifyError(sub.error());
    if (e.code == codes::kInvalidArgument) {
      e = ProtocolError("ErrorInvalidSubscriptionRequest",
                        "A subscription can only be established on a single public folder or on "
                        "folders from a single mailbox.");
    }
    return Response("Subscribe", ErrorMessage("Subscribe", e, ""));
  }
  SubscriptionRef ref{pull ? SubscriptionKind::kPull : SubscriptionKind::kStreaming, quiet,
                      sub->id};
  std::string payload = "<m:SubscriptionId>" + Esc(EwsSubscriptionId(ref)) + "</m:SubscriptionId>";
  // Exchange Online answers a streaming subscription without a Watermark (ews.md §1.6).
  if (pull) payload += "<m:Watermark>" + Esc(sub->watermark) + "</m:Watermark>";
  return Response("Subscribe", SuccessMessage("Subscribe", payload));
}

SoapReply GetEventsOp(const Request& r, pugi::xml_node op) {
  const std::string id = Text(Child(op, "SubscriptionId"));
  const std::string watermark = Text(Child(op, "Watermark"));
  const auto ref = ParseSubscriptionId(id);
  if (!ref) return Response("GetEvents", ErrorMessage("GetEvents", InvalidSubscription(), ""));
  if (ref->kind != SubscriptionKind::kPull) {
    return Response("GetEvents",
                    ErrorMessage("GetEvents",
                                 ProtocolError("ErrorInvalidPullSubscriptionId",
                                               "SubscriptionId is invalid. Subscription is not a "
                                               "pull subscription."),
                                 ""));
  }
  auto batch = r.store.GetEvents(ref->store_id, watermark);
  if (!batch) {
    return Response("GetEvents", ErrorMessage("GetEvents", NotifyError(batch.error()), ""));
  }
  std::string events;
  if (!ref->quiet) {
    for (const MailboxEvent& e : batch->events) events += EventXml(e, true);
  }
  // Nothing happened: one StatusEvent carries the watermark to resume from.
  if (events.empty()) {
    events =
        "<t:StatusEvent><t:Watermark>" + Esc(batch->watermark) + "</t:Watermark></t:StatusEvent>";
  }
  return Response(
      "GetEvents",
      SuccessMessage("GetEvents", "<m:Notification><t:SubscriptionId>" + Esc(id) +
                                      "</t:SubscriptionId><t:PreviousWatermark>" +
                                      Esc(batch->previous_watermark) +
                                      "</t:PreviousWatermark><t:MoreEvents>" +
                                      (batch->more_events ? "true" : "false") + "</t:MoreEvents>" +
                                      events + "</m:Notification>"));
}

SoapReply GetStreamingEventsOp(const Request& r, pugi::xml_node op) {
  const std::string timeout = Text(Child(op, "ConnectionTimeout"));
  const auto minutes = BoundedInt(timeout, 1, 30);
  if (!minutes) {
    return RangeFault("ConnectionTimeout", timeout, "StreamingSubscriptionConnectionTimeoutType", 1,
                      30);
  }
  auto stream = std::make_shared<OpenStream>();
  stream->store = &r.store;
  stream->clock = &r.clock;
  std::vector<std::string> invalid, missing;
  std::optional<Error> missing_error;
  for (pugi::xml_node n = FirstElement(Child(op, "SubscriptionIds")); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) continue;
    const std::string id = Text(n);
    const auto ref = ParseSubscriptionId(id);
    // A pull subscription cannot be streamed, as a streaming one cannot be pulled.
    if (!ref || ref->kind != SubscriptionKind::kStreaming) {
      invalid.push_back(id);
      continue;
    }
    stream->subscriptions.push_back({id, *ref});
  }
  if (stream->subscriptions.empty() && invalid.empty()) {
    return SchemaFault(
        "The element 'SubscriptionIds' has incomplete content. List of possible elements "
        "expected: 'SubscriptionId'.");
  }
  if (stream->subscriptions.size() + invalid.size() > kMaxStreamingSubscriptions) {
    return StreamError(ProtocolError("ErrorInvalidRequest",
                                     "The request is invalid. A streaming connection carries at "
                                     "most 200 subscriptions."),
                       {});
  }
  if (!invalid.empty()) return StreamError(InvalidSubscription(), std::move(invalid));
  const MonoTime now = r.clock.Monotonic();
  for (const StreamSubscription& sub : stream->subscriptions) {
    // A look that ends now: does the subscription exist (and has it not expired)?
    if (auto alive = r.store.WaitForEvents(sub.ref.store_id, now); !alive) {
      missing.push_back(sub.ews_id);
      if (!missing_error) missing_error = NotifyError(alive.error());
    }
  }
  if (missing_error) return StreamError(*missing_error, std::move(missing));

  stream->end = now + std::chrono::minutes(*minutes);
  stream->next_heartbeat = now + kHeartbeat;
  {
    StreamRegistry& registry = StreamRegistry::Instance();
    std::lock_guard lock(registry.mu);
    registry.streams.emplace(&r.store, stream.get());
  }
  SoapReply reply;
  reply.stream = [stream](const Writer& write) { return StreamStep(*stream, write); };
  return reply;
}

SoapReply UnsubscribeOp(const Request& r, pugi::xml_node op) {
  const auto ref = ParseSubscriptionId(Text(Child(op, "SubscriptionId")));
  if (!ref) return Response("Unsubscribe", ErrorMessage("Unsubscribe", InvalidSubscription(), ""));
  if (auto done = r.store.Unsubscribe(ref->store_id); !done) {
    return Response("Unsubscribe", ErrorMessage("Unsubscribe", NotifyError(done.error()), ""));
  }
  return Response("Unsubscribe", SuccessMessage("Unsubscribe", ""));
}

}  // namespace exo::mock_ews
