// mock-ews's SOAP request handling: each input is one to four request bodies (separated by a line
// "%%") that go, in order, through HandleSoap — the function the EWS route calls once the bearer
// token passed — for an app-only caller with full_access_as_app, against a deterministic store:
// two mailboxes, three messages, a custom folder, a sync state and two subscriptions. Building it
// costs ten times a request, so one store serves 256 inputs before it is built anew: what earlier
// inputs left in it (items created, moved, deleted) is part of the state fuzzed, and a crash that
// needs it shows in libFuzzer's log but may not reproduce from its input alone.
// Ids cannot be guessed (they carry a MAC), so the seeds name them by placeholders that are
// replaced before the request is handled: @ITEM0@..@ITEM2@ and @CK0@..@CK2@ (inbox messages and
// their change keys), @INBOX@, @FOLDER@ (Processed), @OTHERITEM@ (a message of the other
// mailbox), @SYNCSTATE@, @SUBSCRIPTION@ and @WATERMARK@ (a pull subscription), @STREAMSUB@.
// A GetStreamingEvents answer's stream is not run: it waits on the clock for events.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "fuzz_support.hpp"
#include "internal/ews_service.hpp"

namespace {

using exo::mock_ews::EwsCaller;
using exo::mock_ews::SoapReply;

std::string Envelope(const std::string& body) {
  return std::string(
             "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
             "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "
             "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><s:Header>"
             "<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>"
             "<t:ConnectingSID><t:PrimarySmtpAddress>") +
         exo::fuzz::kMailbox +
         "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body>" +
         body + "</s:Body></s:Envelope>";
}

template <class T>
T Need(exo::Result<T> r) {
  if (!r) std::abort();  // the fixed world failed to build: a bug in this file
  return std::move(*r);
}

// The text of the first element named `local` (any prefix) in `xml`.
std::string Between(const std::string& xml, const std::string& local) {
  const std::size_t open = xml.find(":" + local + ">");
  if (open == std::string::npos) std::abort();
  const std::size_t start = open + local.size() + 2;
  return xml.substr(start, xml.find('<', start) - start);
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

struct World {
  exo::SimulatedClock clock;
  exo::SeededRandom random{7};
  exo::mock_ews::MailboxStore store{clock, random};
  EwsCaller caller;
  std::vector<std::pair<std::string, std::string>> placeholders;

  World() {
    caller.tenant_id = exo::fuzz::kTenant;
    caller.app_id = exo::fuzz::kAppId;
    caller.roles = {"full_access_as_app"};
    Need(store.CreateOrganization(exo::fuzz::kTenant, "Contoso"));
    for (const char* smtp : {exo::fuzz::kMailbox, exo::fuzz::kOtherMailbox}) {
      exo::mock_ews::MailboxSpec spec;
      spec.organization_id = exo::fuzz::kTenant;
      spec.primary_smtp_address = smtp;
      Need(store.CreateMailbox(spec));
    }
    const auto inbox = Need(
        store.GetDistinguishedFolder(exo::fuzz::kMailbox, exo::mock_ews::DistinguishedFolder::kInbox));
    placeholders.emplace_back("@INBOX@", inbox.id);
    placeholders.emplace_back("@FOLDER@", Need(store.CreateFolder(inbox.id, "Processed")).id);
    for (int i = 0; i < 3; ++i) {
      exo::mock_ews::MessageDraft draft;
      draft.from = {"Sender " + std::to_string(i), "sender" + std::to_string(i) + "@fabrikam.com"};
      draft.to = {{"Monitor", exo::fuzz::kMailbox}};
      draft.subject = "Order " + std::to_string(1000 + i);
      draft.body = "Order " + std::to_string(1000 + i) + " shipped.\r\n";
      const auto item = Need(store.DeliverToInbox(exo::fuzz::kMailbox, store.ComposeMime(draft)));
      placeholders.emplace_back("@ITEM" + std::to_string(i) + "@", item.id);
      placeholders.emplace_back("@CK" + std::to_string(i) + "@", item.change_key);
    }
    exo::mock_ews::MessageDraft other;
    other.from = {"Adele", exo::fuzz::kOtherMailbox};
    other.to = {{"Adele", exo::fuzz::kOtherMailbox}};
    other.subject = "Elsewhere";
    placeholders.emplace_back(
        "@OTHERITEM@",
        Need(store.DeliverToInbox(exo::fuzz::kOtherMailbox, store.ComposeMime(other))).id);
    const std::string sync = Handle(Envelope(
        "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
        "<m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>"
        "<m:MaxChangesReturned>2</m:MaxChangesReturned></m:SyncFolderItems>"));
    placeholders.emplace_back("@SYNCSTATE@", Between(sync, "SyncState"));
    const std::string pull = Handle(Envelope(
        "<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId "
        "Id=\"inbox\"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType>"
        "<t:EventType>ModifiedEvent</t:EventType></t:EventTypes><t:Timeout>10</t:Timeout>"
        "</m:PullSubscriptionRequest></m:Subscribe>"));
    placeholders.emplace_back("@SUBSCRIPTION@", Between(pull, "SubscriptionId"));
    placeholders.emplace_back("@WATERMARK@", Between(pull, "Watermark"));
    const std::string streaming = Handle(Envelope(
        "<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId "
        "Id=\"inbox\"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType>"
        "</t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>"));
    placeholders.emplace_back("@STREAMSUB@", Between(streaming, "SubscriptionId"));
  }

  std::string Handle(const std::string& body) {
    const exo::mock_ews::EwsContext context{store, clock};
    SoapReply reply = exo::mock_ews::HandleSoap(context, caller, body);
    return reply.body;
  }
};

}  // namespace

// libFuzzer suspects a leak in every input that leaves more allocated than it found, and checks
// with a full LeakSanitizer scan: here that is most inputs (the store keeps what they create),
// and the scans took five sixths of the time. LeakSanitizer still checks the whole run at exit.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static char no_leak_scans[] = "-detect_leaks=0";
  static std::vector<char*> args;
  args.push_back((*argv)[0]);
  args.push_back(no_leak_scans);  // first, so a -detect_leaks given on the command line wins
  for (int i = 1; i < *argc; ++i) args.push_back((*argv)[i]);
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size()) - 1;
  *argv = args.data();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::unique_ptr<World> shared;
  static unsigned served = 0;
  if (!shared || ++served % 256 == 0) shared = std::make_unique<World>();
  World& world = *shared;
  std::string_view text = exo::fuzz::AsText(data, size);
  constexpr std::string_view kSeparator = "\n%%\n";
  for (int n = 0; n < 4; ++n) {
    const std::size_t sep = text.find(kSeparator);
    std::string body(text.substr(0, sep));
    for (const auto& [name, value] : world.placeholders) ReplaceAll(body, name, value);
    exo::fuzz::Show(world.Handle(body));
    if (sep == std::string_view::npos) break;
    text.remove_prefix(sep + kSeparator.size());
  }
  return 0;
}
