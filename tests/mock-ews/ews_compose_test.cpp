// mock-ews's CreateItem and SendItem end to end: replies, reply-alls and forwards built from a
// reference item, messages saved as drafts or sent, delivery to the store's mailboxes, outbound
// mail noted in the journal, and the error codes Exchange answers with (ews.md §2.8, §3.5;
// messages.xsd). Requests follow the captured exchangelib 4.9 and ews-javascript-api 0.15.3
// reply calls.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ews_fixture.hpp"
#include "exo/common/base64.hpp"

namespace exo::mock_ews::test {
namespace {

constexpr const char* kAlice = "alice@contoso.com";
constexpr const char* kBob = "bob@contoso.com";
constexpr const char* kOriginalId = "<original-1@contoso.com>";

// A response message's ResponseClass and ResponseCode.
using ClassAndCode = std::pair<std::string, std::string>;

class EwsComposeTest : public EwsTest {
 protected:
  void SetUp() override {
    EwsTest::SetUp();
    if (HasFatalFailure()) return;
    for (const auto& [smtp, name] : {std::pair{kAlice, "Alice"}, std::pair{kBob, "Bob"}}) {
      const HttpReply created = Control(
          "/_exo/mailboxes", {{"organization", kTenantId}, {"smtp", smtp}, {"displayName", name}});
      ASSERT_EQ(created.status, 201) << created.body;
    }
  }

  // Delivers Alice's message (Message-ID kOriginalId) to the monitor's Inbox; returns its id.
  std::string MailFromAlice(const std::string& subject = "Hello",
                            const std::string& extra_headers = "",
                            const std::string& to = "Monitor <monitor@contoso.com>") {
    const std::string mime = "From: Alice <alice@contoso.com>\r\nTo: " + to + "\r\n" +
                             extra_headers + "Subject: " + subject +
                             "\r\nMessage-ID: " + kOriginalId +
                             "\r\nDate: Mon, 2 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n\r\nOriginal text\r\n";
    const HttpReply r =
        Control(std::string("/_exo/mailboxes/") + kMonitor + "/deliver", {{"mime", mime}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", std::string());
  }

  std::vector<Item> Items(const std::string& mailbox, DistinguishedFolder which) {
    auto folder = ews_->store().GetDistinguishedFolder(mailbox, which);
    EXPECT_TRUE(folder.has_value());
    if (!folder) return {};
    auto page = ews_->store().FindItems(folder->id, {});
    EXPECT_TRUE(page.has_value());
    return page ? page->items : std::vector<Item>();
  }

  static std::string TextBody(const Item& item) {
    auto bodies = ExtractBodies(*item.mime);
    return bodies && bodies->text ? *bodies->text : std::string();
  }

  static std::string HtmlBody(const Item& item) {
    auto bodies = ExtractBodies(*item.mime);
    return bodies && bodies->html ? *bodies->html : std::string();
  }

  // The one response message of `op`: its ResponseClass and ResponseCode.
  static ClassAndCode Outcome(const HttpReply& r, const std::string& op) {
    Soap soap(r.body);
    return {soap.Find(op + "ResponseMessage").attribute("ResponseClass").value(),
            soap.Text("ResponseCode")};
  }

  static std::string Recipients(const std::string& element, const std::string& address) {
    return "<t:" + element + "><t:Mailbox><t:EmailAddress>" + address +
           "</t:EmailAddress></t:Mailbox></t:" + element + ">";
  }

  // A CreateItem of one t:Message to `to` with the given disposition.
  HttpReply CreateMessage(const std::string& disposition, const std::string& recipients,
                          const std::string& extra = "") {
    return Call("<m:CreateItem MessageDisposition=\"" + disposition +
                "\"><m:Items><t:Message><t:Subject>Status</t:Subject><t:Body BodyType=\"Text\">"
                "All good</t:Body>" +
                recipients + extra + "</t:Message></m:Items></m:CreateItem>");
  }

  // CreateItem SaveOnly of a message to Alice; returns the draft's id.
  std::string SaveDraft(const std::string& recipients = Recipients("ToRecipients", kAlice)) {
    const HttpReply r = CreateMessage("SaveOnly", recipients);
    EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
    return Soap(r.body).Find("ItemId").attribute("Id").value();
  }

  HttpReply SendItem(const std::string& id, const std::string& save,
                     const std::string& saved_folder = "") {
    return Call("<m:SendItem SaveItemToFolder=\"" + save + "\"><m:ItemIds><t:ItemId Id=\"" + id +
                "\"/></m:ItemIds>" + saved_folder + "</m:SendItem>");
  }
};

// Verifies exchangelib's create_reply().send() (captured request: SendAndSaveCopy to sentitems
// with the sender as ToRecipients) reaches the sender's Inbox, threaded and with the new text above
// the quoted original, and answers with an empty m:Items.
TEST_F(EwsComposeTest, ExchangelibReplyArrivesThreadedInSendersInbox) {
  const std::string original = MailFromAlice();
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendAndSaveCopy\" SendMeetingInvitations=\"SendToNone\">"
      "<m:SavedItemFolderId><t:DistinguishedFolderId Id=\"sentitems\"><t:Mailbox><t:EmailAddress>"
      "monitor@contoso.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>"
      "Mailbox</t:MailboxType></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId>"
      "<m:Items><t:ReplyToItem><t:Subject>Re: Hello</t:Subject><t:ToRecipients><t:Mailbox>"
      "<t:Name>Alice</t:Name><t:EmailAddress>alice@contoso.com</t:EmailAddress><t:RoutingType>"
      "SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:ToRecipients>"
      "<t:ReferenceItemId Id=\"" +
      original +
      "\" ChangeKey=\"CQAAAA==\"/><t:NewBodyContent BodyType=\"Text\">thanks</t:NewBodyContent>"
      "</t:ReplyToItem></m:Items></m:CreateItem>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Outcome(r, "CreateItem"), ClassAndCode("Success", "NoError"));
  EXPECT_EQ(Soap(r.body).Count("Message"), 0u) << r.body;

  const std::vector<Item> inbox = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  const Item& reply = inbox[0];
  EXPECT_EQ(reply.fields.subject, "Re: Hello");  // the client's own subject wins
  EXPECT_EQ(reply.fields.in_reply_to, kOriginalId);
  EXPECT_EQ(reply.fields.references, std::vector<std::string>{kOriginalId});
  ASSERT_TRUE(reply.fields.from.has_value());
  EXPECT_EQ(reply.fields.from->address, kMonitor);
  EXPECT_EQ(reply.fields.from->name, "Monitor");
  ASSERT_EQ(reply.fields.to.size(), 1u);  // the explicit recipient is the default one: no duplicate
  EXPECT_EQ(reply.fields.to[0].address, kAlice);
  EXPECT_FALSE(reply.is_read);
  const std::string body = TextBody(reply);
  EXPECT_TRUE(body.starts_with("thanks")) << body;
  EXPECT_NE(body.find("From: Alice <alice@contoso.com>"), std::string::npos) << body;
  EXPECT_NE(body.find("Sent: Monday, November 2, 2026 9:00:00 AM"), std::string::npos) << body;
  EXPECT_NE(body.find("Subject: Hello"), std::string::npos) << body;
  EXPECT_NE(body.find("Original text"), std::string::npos) << body;
}

// Verifies ews-javascript-api's CreateReply(false).SendAndSaveCopy() (no subject, no recipients)
// gets Exchange's defaults: "RE: " + the subject, To = the original sender, an HTML body.
TEST_F(EwsComposeTest, ReplyDefaultsToSenderAndReSubject) {
  const std::string original = MailFromAlice("RE: Hello");
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendAndSaveCopy\"><m:Items><t:ReplyToItem>"
      "<t:ReferenceItemId Id=\"" +
      original +
      "\"/><t:NewBodyContent BodyType=\"HTML\">thanks</t:NewBodyContent></t:ReplyToItem>"
      "</m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::vector<Item> inbox = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].fields.subject, "RE: Hello");  // one prefix, not "RE: RE: Hello"
  EXPECT_EQ(inbox[0].fields.in_reply_to, kOriginalId);
  const std::string html = HtmlBody(inbox[0]);
  EXPECT_TRUE(html.starts_with("thanks")) << html;
  EXPECT_NE(html.find("<B>From:</B> Alice &lt;alice@contoso.com&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("Original text"), std::string::npos) << html;
}

// Verifies a reply to a message with Reply-To goes to the Reply-To address, not From.
TEST_F(EwsComposeTest, ReplyGoesToReplyToWhenPresent) {
  const std::string original = MailFromAlice("Hello", "Reply-To: Bob <bob@contoso.com>\r\n");
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:ReplyToItem><t:ReferenceItemId "
      "Id=\"" +
      original +
      "\"/><t:NewBodyContent BodyType=\"Text\">ok</t:NewBodyContent></t:ReplyToItem>"
      "</m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  EXPECT_EQ(Items(kBob, DistinguishedFolder::kInbox).size(), 1u);
  EXPECT_TRUE(Items(kAlice, DistinguishedFolder::kInbox).empty());
}

// Verifies SendAndSaveCopy keeps a read, non-draft copy in Sent Items (no SavedItemFolderId).
TEST_F(EwsComposeTest, SendAndSaveCopyLeavesReadCopyInSentItems) {
  const HttpReply r = CreateMessage("SendAndSaveCopy", Recipients("ToRecipients", kAlice));
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::vector<Item> sent = Items(kMonitor, DistinguishedFolder::kSentItems);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].is_read);
  EXPECT_FALSE(sent[0].is_draft);
  EXPECT_EQ(sent[0].fields.subject, "Status");
  const std::vector<Item> inbox = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].fields.internet_message_id, sent[0].fields.internet_message_id);
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kDrafts).empty());
}

// Verifies SendOnly delivers and keeps no copy anywhere in the sender's mailbox.
TEST_F(EwsComposeTest, SendOnlyKeepsNoCopy) {
  const HttpReply r = CreateMessage("SendOnly", Recipients("ToRecipients", kAlice));
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  EXPECT_EQ(Items(kAlice, DistinguishedFolder::kInbox).size(), 1u);
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kSentItems).empty());
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kDrafts).empty());
}

// Verifies SaveOnly returns the draft's ItemId, saves it in Drafts and sends nothing.
TEST_F(EwsComposeTest, SaveOnlyReturnsDraftInDrafts) {
  const HttpReply r = CreateMessage("SaveOnly", Recipients("ToRecipients", kAlice));
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  Soap soap(r.body);
  ASSERT_EQ(soap.Count("Message"), 1u) << r.body;
  const std::vector<Item> drafts = Items(kMonitor, DistinguishedFolder::kDrafts);
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(soap.Find("ItemId").attribute("Id").value(), drafts[0].id);
  EXPECT_EQ(soap.Find("ItemId").attribute("ChangeKey").value(), drafts[0].change_key);
  EXPECT_TRUE(drafts[0].is_draft);
  EXPECT_TRUE(Items(kAlice, DistinguishedFolder::kInbox).empty());
}

// Verifies a reply saved with SaveOnly is a draft in Drafts (its ItemId returned), sent later by
// SendItem to the original sender.
TEST_F(EwsComposeTest, SavedReplyIsDraftUntilSendItem) {
  const std::string original = MailFromAlice();
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SaveOnly\"><m:Items><t:ReplyToItem><t:ReferenceItemId "
      "Id=\"" +
      original +
      "\"/><t:NewBodyContent BodyType=\"Text\">draft</t:NewBodyContent>"
      "</t:ReplyToItem></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::string id = Soap(r.body).Find("ItemId").attribute("Id").value();
  const std::vector<Item> drafts = Items(kMonitor, DistinguishedFolder::kDrafts);
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(drafts[0].id, id);
  EXPECT_EQ(drafts[0].fields.subject, "RE: Hello");
  EXPECT_TRUE(Items(kAlice, DistinguishedFolder::kInbox).empty());
  EXPECT_EQ(Outcome(SendItem(id, "true"), "SendItem").second, "NoError");
  const std::vector<Item> inbox = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].fields.in_reply_to, kOriginalId);
}

// Verifies SaveOnly with SavedItemFolderId saves the draft in that folder.
TEST_F(EwsComposeTest, SaveOnlyUsesSavedItemFolderId) {
  auto inbox = ews_->store().GetDistinguishedFolder(kMonitor, DistinguishedFolder::kInbox);
  ASSERT_TRUE(inbox.has_value());
  auto folder = ews_->store().CreateFolder(inbox->id, "Outgoing");
  ASSERT_TRUE(folder.has_value());
  const HttpReply r =
      Call("<m:CreateItem MessageDisposition=\"SaveOnly\"><m:SavedItemFolderId><t:FolderId Id=\"" +
           folder->id +
           "\"/></m:SavedItemFolderId><m:Items><t:Message><t:Subject>Later</t:Subject></t:Message>"
           "</m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  auto page = ews_->store().FindItems(folder->id, {});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->total_count, 1u);
}

// Verifies SendItem of a saved draft delivers it, moves it from Drafts to Sent Items (read, no
// longer a draft) and answers NoError.
TEST_F(EwsComposeTest, SendItemSendsDraftAndSavesToSentItems) {
  const std::string draft = SaveDraft();
  clock_.Advance(std::chrono::hours(1));
  const HttpReply r = SendItem(draft, "true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Outcome(r, "SendItem"), ClassAndCode("Success", "NoError"));
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kDrafts).empty());
  const std::vector<Item> sent = Items(kMonitor, DistinguishedFolder::kSentItems);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].is_draft);
  EXPECT_TRUE(sent[0].is_read);
  const std::vector<Item> inbox = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].fields.subject, "Status");
  ASSERT_TRUE(inbox[0].fields.date.has_value());
  EXPECT_EQ(*inbox[0].fields.date, std::chrono::floor<std::chrono::seconds>(clock_.Now()));
}

// Verifies SendItem with SaveItemToFolder false sends the draft and keeps no copy.
TEST_F(EwsComposeTest, SendItemWithoutSavingRemovesDraft) {
  const std::string draft = SaveDraft();
  const HttpReply r = SendItem(draft, "false");
  EXPECT_EQ(Outcome(r, "SendItem").second, "NoError") << r.body;
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kDrafts).empty());
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kSentItems).empty());
  EXPECT_EQ(Items(kAlice, DistinguishedFolder::kInbox).size(), 1u);
}

// Verifies a forward goes to the named recipients only, with "FW: " and the original quoted.
TEST_F(EwsComposeTest, ForwardGoesToNamedRecipientsWithFwSubject) {
  const std::string original = MailFromAlice();
  const HttpReply r =
      Call("<m:CreateItem MessageDisposition=\"SendAndSaveCopy\"><m:Items><t:ForwardItem>" +
           Recipients("ToRecipients", kBob) + "<t:ReferenceItemId Id=\"" + original +
           "\"/><t:NewBodyContent BodyType=\"Text\">FYI</t:NewBodyContent></t:ForwardItem>"
           "</m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  EXPECT_TRUE(Items(kAlice, DistinguishedFolder::kInbox).empty());
  const std::vector<Item> inbox = Items(kBob, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].fields.subject, "FW: Hello");
  EXPECT_TRUE(inbox[0].fields.in_reply_to.empty());
  const std::string body = TextBody(inbox[0]);
  EXPECT_TRUE(body.starts_with("FYI")) << body;
  EXPECT_NE(body.find("Original text"), std::string::npos) << body;
}

// Verifies reply-all answers the sender and the other recipients, never the replying mailbox, and
// keeps Cc recipients in Cc.
TEST_F(EwsComposeTest, ReplyAllAddsOtherRecipientsButNotSelf) {
  const std::string original = MailFromAlice("Plan", "Cc: Carol <carol@fabrikam.com>\r\n",
                                             "monitor@contoso.com, Bob <bob@contoso.com>");
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:ReplyAllToItem>"
      "<t:ReferenceItemId Id=\"" +
      original +
      "\"/><t:NewBodyContent BodyType=\"Text\">ok</t:NewBodyContent>"
      "</t:ReplyAllToItem></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::vector<Item> alice = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(alice.size(), 1u);
  std::vector<std::string> to, cc;
  for (const auto& a : alice[0].fields.to) to.push_back(a.address);
  for (const auto& a : alice[0].fields.cc) cc.push_back(a.address);
  EXPECT_EQ(to, (std::vector<std::string>{kAlice, kBob}));
  EXPECT_EQ(cc, std::vector<std::string>{"carol@fabrikam.com"});
  EXPECT_EQ(Items(kBob, DistinguishedFolder::kInbox).size(), 1u);
  EXPECT_EQ(Items(kMonitor, DistinguishedFolder::kInbox).size(), 1u);  // only the original
}

// Verifies recipients outside the store are dropped without error but named in the request's
// journal entry ("outbound" annotation), while store mailboxes still receive the message.
TEST_F(EwsComposeTest, ExternalRecipientsAreDroppedButAnnotated) {
  const HttpReply r =
      CreateMessage("SendOnly",
                    "<t:ToRecipients><t:Mailbox><t:EmailAddress>ext@fabrikam.com</t:EmailAddress>"
                    "</t:Mailbox><t:Mailbox><t:EmailAddress>alice@contoso.com</t:EmailAddress>"
                    "</t:Mailbox></t:ToRecipients>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  EXPECT_EQ(Items(kAlice, DistinguishedFolder::kInbox).size(), 1u);
  const HttpReply journal =
      Send(*ews_client_, "GET", "/_exo/journal?outbound=ext@fabrikam.com&operation=ews.CreateItem");
  ASSERT_EQ(journal.status, 200) << journal.body;
  EXPECT_EQ(journal.Json()["entries"].size(), 1u) << journal.body;
}

// Verifies a Bcc recipient receives the message without the Bcc field, which only the sender's
// saved copy keeps.
TEST_F(EwsComposeTest, BccIsDeliveredButHiddenFromRecipients) {
  const HttpReply r = CreateMessage(
      "SendAndSaveCopy", Recipients("ToRecipients", kAlice) + Recipients("BccRecipients", kBob));
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::vector<Item> bob = Items(kBob, DistinguishedFolder::kInbox);
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_TRUE(bob[0].fields.bcc.empty());
  const std::vector<Item> alice = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_TRUE(alice[0].fields.bcc.empty());
  const std::vector<Item> sent = Items(kMonitor, DistinguishedFolder::kSentItems);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].fields.bcc.size(), 1u);
  EXPECT_EQ(sent[0].fields.bcc[0].address, kBob);
}

// Verifies a t:Message given as MimeContent is saved verbatim (SaveOnly).
TEST_F(EwsComposeTest, MimeContentIsSavedAsGiven) {
  const std::string mime =
      "From: monitor@contoso.com\r\nTo: alice@contoso.com\r\nSubject: Raw\r\n\r\nBody\r\n";
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SaveOnly\"><m:Items><t:Message><t:MimeContent "
      "CharacterSet=\"UTF-8\">" +
      Base64Encode(mime) +
      "</t:MimeContent><t:IsRead>false</t:IsRead></t:Message></m:Items>"
      "</m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::vector<Item> drafts = Items(kMonitor, DistinguishedFolder::kDrafts);
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(*drafts[0].mime, mime);
  EXPECT_FALSE(drafts[0].is_read);
}

// Verifies MimeContent without From is sent from the impersonated mailbox.
TEST_F(EwsComposeTest, MimeContentWithoutFromIsSentFromMailbox) {
  const HttpReply r =
      Call("<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:Message><t:MimeContent>" +
           Base64Encode("To: alice@contoso.com\r\nSubject: Raw\r\n\r\nBody\r\n") +
           "</t:MimeContent></t:Message></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  const std::vector<Item> inbox = Items(kAlice, DistinguishedFolder::kInbox);
  ASSERT_EQ(inbox.size(), 1u);
  ASSERT_TRUE(inbox[0].fields.from.has_value());
  EXPECT_EQ(inbox[0].fields.from->address, kMonitor);
}

// Verifies CreateItem without MessageDisposition fails the message with
// ErrorMessageDispositionRequired and creates nothing.
TEST_F(EwsComposeTest, MissingMessageDispositionIsRequired) {
  const HttpReply r =
      Call("<m:CreateItem><m:Items><t:Message><t:Subject>x</t:Subject>" +
           Recipients("ToRecipients", kAlice) + "</t:Message></m:Items></m:CreateItem>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Outcome(r, "CreateItem"), ClassAndCode("Error", "ErrorMessageDispositionRequired"));
  EXPECT_EQ(Soap(r.body).Text("MessageText"), "MessageDisposition attribute is required.");
  EXPECT_TRUE(Items(kAlice, DistinguishedFolder::kInbox).empty());
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kDrafts).empty());
}

// Verifies an invalid MessageDisposition value fails schema validation (SOAP fault, HTTP 500).
TEST_F(EwsComposeTest, UnknownMessageDispositionIsSchemaFault) {
  const HttpReply r = CreateMessage("SendLater", Recipients("ToRecipients", kAlice));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorSchemaValidation");
}

// Verifies sending a message without recipients is ErrorInvalidRecipients with Exchange's text.
TEST_F(EwsComposeTest, SendingWithoutRecipientsIsInvalidRecipients) {
  const HttpReply r = CreateMessage("SendAndSaveCopy", "");
  EXPECT_EQ(Outcome(r, "CreateItem"), ClassAndCode("Error", "ErrorInvalidRecipients"));
  EXPECT_EQ(Soap(r.body).Text("MessageText"),
            "At least one recipient isn't valid., A message can't be sent because it contains no "
            "recipients.");
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kSentItems).empty());
}

// Verifies a recipient without a usable address is refused as unresolved.
TEST_F(EwsComposeTest, UnresolvedRecipientIsInvalidRecipients) {
  const HttpReply r = CreateMessage("SendOnly", Recipients("ToRecipients", "alice"));
  EXPECT_EQ(Outcome(r, "CreateItem").second, "ErrorInvalidRecipients") << r.body;
}

// Verifies sending with another mailbox as From is ErrorSendAsDenied.
TEST_F(EwsComposeTest, SendingAsAnotherMailboxIsSendAsDenied) {
  const HttpReply r =
      CreateMessage("SendOnly", Recipients("ToRecipients", kBob),
                    "<t:From><t:Mailbox><t:EmailAddress>alice@contoso.com</t:EmailAddress>"
                    "</t:Mailbox></t:From>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "ErrorSendAsDenied") << r.body;
  EXPECT_TRUE(Items(kBob, DistinguishedFolder::kInbox).empty());
}

// Verifies a reply without ReferenceItemId is ErrorMissingInformationReferenceItemId.
TEST_F(EwsComposeTest, ReplyWithoutReferenceItemIdIsMissingInformation) {
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:ReplyToItem><t:NewBodyContent "
      "BodyType=\"Text\">x</t:NewBodyContent></t:ReplyToItem></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "ErrorMissingInformationReferenceItemId") << r.body;
}

// Verifies a reply to a message of another tenant's mailbox is ErrorInvalidIdMalformed.
TEST_F(EwsComposeTest, ReplyToAnotherTenantsItemIsMalformed) {
  const HttpReply created = Control(
      "/_exo/mailboxes",
      {{"organization", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}, {"smtp", "eve@fabrikam.com"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const HttpReply delivered = Control("/_exo/mailboxes/eve@fabrikam.com/deliver",
                                      {{"from", "x@fabrikam.com"}, {"subject", "Secret"}});
  ASSERT_EQ(delivered.status, 201) << delivered.body;
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:ReplyToItem><t:ReferenceItemId "
      "Id=\"" +
      delivered.Json().value("id", std::string()) +
      "\"/></t:ReplyToItem></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "ErrorInvalidIdMalformed") << r.body;
  EXPECT_EQ(Soap(r.body).Text("MessageText"), "Id is malformed.");
}

// Verifies a reply to a deleted item is ErrorItemNotFound.
TEST_F(EwsComposeTest, ReplyToDeletedItemIsItemNotFound) {
  const std::string original = MailFromAlice();
  ASSERT_TRUE(ews_->store().DeleteItem(original, DeleteMode::kHardDelete).has_value());
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:ReplyToItem><t:ReferenceItemId "
      "Id=\"" +
      original + "\"/></t:ReplyToItem></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "ErrorItemNotFound") << r.body;
}

// Verifies a SavedItemFolderId that no longer exists is ErrorSavedItemFolderNotFound.
TEST_F(EwsComposeTest, MissingSavedItemFolderIsSavedItemFolderNotFound) {
  auto inbox = ews_->store().GetDistinguishedFolder(kMonitor, DistinguishedFolder::kInbox);
  ASSERT_TRUE(inbox.has_value());
  auto folder = ews_->store().CreateFolder(inbox->id, "Gone");
  ASSERT_TRUE(folder.has_value());
  ASSERT_TRUE(ews_->store().DeleteFolder(folder->id).has_value());
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendAndSaveCopy\"><m:SavedItemFolderId>"
      "<t:FolderId Id=\"" +
      folder->id + "\"/></m:SavedItemFolderId><m:Items><t:Message>" +
      Recipients("ToRecipients", kBob) + "</t:Message></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "ErrorSavedItemFolderNotFound") << r.body;
  EXPECT_TRUE(Items(kBob, DistinguishedFolder::kInbox).empty());
}

// Verifies SendItem of an item that is not a draft is ErrorInvalidItemForOperationSendItem.
TEST_F(EwsComposeTest, SendItemOfNonDraftIsInvalidItemForOperation) {
  const std::string received = MailFromAlice();
  const HttpReply r = SendItem(received, "true");
  EXPECT_EQ(Outcome(r, "SendItem"), ClassAndCode("Error", "ErrorInvalidItemForOperationSendItem"));
  EXPECT_EQ(Items(kMonitor, DistinguishedFolder::kInbox).size(), 1u);
  EXPECT_TRUE(Items(kMonitor, DistinguishedFolder::kSentItems).empty());
}

// Verifies SendItem of a draft without recipients is ErrorMissingRecipients and keeps the draft.
TEST_F(EwsComposeTest, SendItemWithoutRecipientsIsMissingRecipients) {
  const std::string draft = SaveDraft("");
  const HttpReply r = SendItem(draft, "true");
  EXPECT_EQ(Outcome(r, "SendItem").second, "ErrorMissingRecipients") << r.body;
  EXPECT_EQ(Items(kMonitor, DistinguishedFolder::kDrafts).size(), 1u);
}

// Verifies SendItem with SavedItemFolderId but SaveItemToFolder false is
// ErrorInvalidSendItemSaveSettings.
TEST_F(EwsComposeTest, SendItemFolderWithoutSavingIsInvalidSaveSettings) {
  const std::string draft = SaveDraft();
  const HttpReply r = SendItem(draft, "false",
                               "<m:SavedItemFolderId><t:DistinguishedFolderId Id=\"sentitems\"/>"
                               "</m:SavedItemFolderId>");
  EXPECT_EQ(Outcome(r, "SendItem").second, "ErrorInvalidSendItemSaveSettings") << r.body;
  EXPECT_TRUE(Items(kAlice, DistinguishedFolder::kInbox).empty());
}

// Verifies SendItem without SaveItemToFolder fails schema validation (the attribute is required).
TEST_F(EwsComposeTest, SendItemWithoutSaveItemToFolderIsSchemaFault) {
  const std::string draft = SaveDraft();
  const HttpReply r =
      Call("<m:SendItem><m:ItemIds><t:ItemId Id=\"" + draft + "\"/></m:ItemIds></m:SendItem>");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorSchemaValidation");
}

// Verifies a delivered reply raises NewMail for a subscriber of the recipient's Inbox.
TEST_F(EwsComposeTest, DeliveredReplyRaisesNewMailForRecipient) {
  auto inbox = ews_->store().GetDistinguishedFolder(kAlice, DistinguishedFolder::kInbox);
  ASSERT_TRUE(inbox.has_value());
  SubscriptionSpec spec;
  spec.mailbox = kAlice;
  spec.folder_ids = {inbox->id};
  auto sub = ews_->store().Subscribe(spec);
  ASSERT_TRUE(sub.has_value());
  const std::string original = MailFromAlice();
  const HttpReply r = Call(
      "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:ReplyToItem><t:ReferenceItemId "
      "Id=\"" +
      original + "\"/></t:ReplyToItem></m:Items></m:CreateItem>");
  EXPECT_EQ(Outcome(r, "CreateItem").second, "NoError") << r.body;
  auto events = ews_->store().GetEvents(sub->id);
  ASSERT_TRUE(events.has_value());
  bool new_mail = false;
  for (const auto& e : events->events) new_mail = new_mail || e.type == EventType::kNewMail;
  EXPECT_TRUE(new_mail);
}

}  // namespace
}  // namespace exo::mock_ews::test
