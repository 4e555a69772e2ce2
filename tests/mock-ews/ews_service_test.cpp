// mock-ews's EWS endpoint end to end: tokens from mock-aad over HTTPS, SOAP requests shaped as
// exchangelib 4.9 sends them, and the wire answers of shared/reference/ews.md §1-§3.
#include <gtest/gtest.h>

#include "ews_fixture.hpp"
#include "exo/common/base64.hpp"
#include "exo/mock_kit/jwt.hpp"

namespace exo::mock_ews::test {
namespace {

constexpr const char* kChallenge =
    "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", "
    "trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", "
    "token_types=\"app_asserted_user_v1 service_asserted_app_v1\", "
    "authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"";
constexpr const char* kInvalidToken = ", error=\"invalid_token\"";

const std::string kGetInbox =
    "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
    "<t:FieldURI FieldURI=\"folder:ChildFolderCount\"/><t:FieldURI "
    "FieldURI=\"folder:DisplayName\"/>"
    "<t:FieldURI FieldURI=\"folder:EffectiveRights\"/><t:FieldURI FieldURI=\"folder:FolderClass\"/>"
    "<t:FieldURI FieldURI=\"folder:FolderId\"/><t:FieldURI FieldURI=\"folder:ParentFolderId\"/>"
    "<t:FieldURI FieldURI=\"folder:PermissionSet\"/><t:FieldURI FieldURI=\"folder:TotalCount\"/>"
    "<t:FieldURI FieldURI=\"folder:UnreadCount\"/></t:AdditionalProperties></m:FolderShape>"
    "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"><t:Mailbox>"
    "<t:EmailAddress>monitor@contoso.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
    "<t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:DistinguishedFolderId></m:FolderIds>"
    "</m:GetFolder>";

// exchangelib's unread-first page request (capture #5) with a given window.
std::string FindUnread(int offset, int max) {
  return "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
         "</m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"" +
         std::to_string(max) + "\" Offset=\"" + std::to_string(offset) +
         "\" BasePoint=\"Beginning\"/><m:Restriction>"
         "<t:IsEqualTo><t:FieldURI FieldURI=\"message:IsRead\"/><t:FieldURIOrConstant>"
         "<t:Constant Value=\"0\"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>"
         "<m:SortOrder><t:FieldOrder Order=\"Descending\"><t:FieldURI "
         "FieldURI=\"item:DateTimeReceived\"/></t:FieldOrder></m:SortOrder><m:ParentFolderIds>"
         "<t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>";
}

// Checks an empty-bodied auth refusal header by header.
void ExpectRefused(const HttpReply& r, int status, const std::string& diagnostics,
                   bool challenge = true) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("Content-Length"), "0");
  EXPECT_EQ(r.Header("x-ms-diagnostics"), diagnostics);
  EXPECT_EQ(r.Header("WWW-Authenticate"),
            challenge ? std::string(kChallenge) + kInvalidToken : std::string());
}

// Checks a SOAP fault: HTTP 500, no header, faultcode and detail ResponseCode.
void ExpectFault(const HttpReply& r, const std::string& code, const std::string& message) {
  EXPECT_EQ(r.status, 500);
  Soap soap(r.body);
  ASSERT_TRUE(soap.ok) << r.body;
  EXPECT_FALSE(soap.Find("Header")) << r.body;
  EXPECT_EQ(soap.Text("faultcode"), "a:" + code);
  EXPECT_EQ(soap.Text("ResponseCode"), code);
  if (!message.empty()) {
    EXPECT_EQ(soap.Text("Message"), message);
  }
}

// Verifies a request without Authorization gets 401, the bare challenge and an empty body.
TEST_F(EwsTest, MissingBearerIsBareChallenge) {
  const HttpReply r = Ews(Envelope(kGetInbox), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("WWW-Authenticate"), kChallenge);
}

// Verifies a token that is not a JWT is 2000001 invalid_token.
TEST_F(EwsTest, MalformedTokenIsInvalidToken) {
  ExpectRefused(Ews(Envelope(kGetInbox), "not-a-jwt"), 401,
                "2000001;reason=\"The token is malformed.\";error_category=\"invalid_token\"");
}

// Verifies alg none, HS256, a tampered payload and an unknown kid all fail the signature check.
TEST_F(EwsTest, ForgedTokensAreInvalidSignature) {
  const std::string real = Token();
  ASSERT_FALSE(real.empty());
  auto jwt = mock::ParseJwt(real);
  ASSERT_TRUE(jwt.has_value());
  const std::string payload = Base64UrlEncode(jwt->payload.dump());
  const std::string diag =
      "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"";
  json none_header = jwt->header;
  none_header["alg"] = "none";
  ExpectRefused(Ews(Envelope(kGetInbox), Base64UrlEncode(none_header.dump()) + "." + payload + "."),
                401, diag);
  json hs_header = jwt->header;
  hs_header["alg"] = "HS256";
  ExpectRefused(Ews(Envelope(kGetInbox), Base64UrlEncode(hs_header.dump()) + "." + payload + "." +
                                             Base64UrlEncode("mac")),
                401, diag);
  json claims = jwt->payload;
  claims["roles"] = json::array({"full_access_as_app", "Mail.Send"});
  const std::string tampered = real.substr(0, real.find('.')) + "." +
                               Base64UrlEncode(claims.dump()) + real.substr(real.rfind('.'));
  ExpectRefused(Ews(Envelope(kGetInbox), tampered), 401, diag);
  const auto& stray = aad::test::StrayCredential();
  nlohmann::ordered_json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", "unknown-kid"}};
  ExpectRefused(Ews(Envelope(kGetInbox),
                    mock::SignJwt(header, nlohmann::ordered_json(jwt->payload), stray.key)),
                401, diag);
}

// Verifies a token past exp plus five minutes of skew is 2000002 token_expired.
TEST_F(EwsTest, ExpiredTokenIsTokenExpired) {
  const std::string token = Token();
  auto jwt = mock::ParseJwt(token);
  ASSERT_TRUE(jwt.has_value());
  const auto exp = FromUnixSeconds(jwt->payload["exp"].get<std::int64_t>());
  clock_.Advance(exp - clock_.Now() + std::chrono::minutes(4));
  EXPECT_EQ(Ews(Envelope(kGetInbox), token).status, 200);  // within the skew
  clock_.Advance(std::chrono::minutes(2));
  ExpectRefused(Ews(Envelope(kGetInbox), token), 401,
                "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"");
}

// Verifies a Microsoft Graph token is refused as 2000003 invalid_resource naming its audience.
TEST_F(EwsTest, GraphTokenIsInvalidResource) {
  const std::string token = Token(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
                                  "https://graph.microsoft.com/.default");
  ASSERT_FALSE(token.empty());
  const std::string aud = mock::ParseJwt(token)->payload.value("aud", "");
  ExpectRefused(Ews(Envelope(kGetInbox), token), 401,
                "2000003;reason=\"The audience claim value is invalid '" + aud +
                    "'.\";error_category=\"invalid_resource\"");
}

// Verifies a token of a tenant the server does not trust is 2000004 invalid_tenant.
TEST_F(EwsTest, UntrustedTenantIsInvalidTenant) {
  MockEwsOptions options;
  options.ca_dir = ca_dir_->path();
  options.threads = 2;
  auto other = MockEws::Start(options, clock_, &clock_);
  ASSERT_TRUE(other.has_value());
  // The same keys, but under another tenant id: the signature verifies, the issuer does not.
  ASSERT_TRUE(
      (*other)
          ->TrustTenant({"11111111-2222-4333-8444-555555555555", [this] { return aad_->Jwks(); }})
          .has_value());
  auto client = MakeClient((*other)->port());
  httplib::Headers headers = {{"Authorization", "Bearer " + Token()}};
  const HttpReply r = Send(*client, "POST", "/EWS/Exchange.asmx", Envelope(kGetInbox),
                           "text/xml; charset=utf-8", headers);
  ExpectRefused(r, 401,
                std::string("2000004;reason=\"The tenant for realm '") + kTenantId +
                    "' does not exist.\";error_category=\"invalid_tenant\"");
}

// Verifies an app without any consented role gets 401 2000008 (no permissions).
TEST_F(EwsTest, TokenWithoutRolesIs401InvalidGrant) {
  ExpectRefused(
      Ews(Envelope(kGetInbox), Token(aad::test::kReporterAppId, aad::test::kReporterSecret)), 401,
      "2000008;reason=\"The token contains no permissions, or permissions can not be "
      "understood.\";error_category=\"invalid_grant\"");
}

// Verifies roles without full_access_as_app are 403 with an empty body and no challenge.
TEST_F(EwsTest, MailReadRoleIs403) {
  ExpectRefused(Ews(Envelope(kGetInbox), Token(kReaderAppId, kReaderSecret)), 403,
                "2000008;reason=\"The token contains not enough scope to make this call.\";"
                "error_category=\"invalid_grant\"",
                /*challenge=*/false);
}

// Verifies an app-only call without ExchangeImpersonation is the documented SOAP fault.
TEST_F(EwsTest, MissingImpersonationIsFault) {
  ExpectFault(
      Ews(Envelope(kGetInbox, "<t:RequestServerVersion Version=\"Exchange2016\"/>"), Token()),
      "ErrorInvalidExchangeImpersonationHeaderData",
      "ExchangeImpersonation SOAP header must be present for this type of OAuth token.");
}

// Verifies impersonating an address without a mailbox is ErrorNonExistentMailbox with the value.
TEST_F(EwsTest, UnknownMailboxIsNonExistentMailbox) {
  const HttpReply r = Ews(Envelope(kGetInbox,
                                   "<t:RequestServerVersion Version=\"Exchange2013_SP1\"/>"
                                   "<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>"
                                   "ghost@contoso.com</t:SmtpAddress></t:ConnectingSID>"
                                   "</t:ExchangeImpersonation>"),
                          Token());
  ExpectFault(r, "ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it.");
  EXPECT_EQ(Soap(r.body).Text("Value"), "ghost@contoso.com");
}

// Verifies Exchange2019 is ErrorInvalidRequest (exchangelib then retries with Exchange2016).
TEST_F(EwsTest, UnknownServerVersionIsInvalidRequest) {
  ExpectFault(
      Ews(Envelope(kGetInbox, "<t:RequestServerVersion Version=\"Exchange2019\"/>"), Token()),
      "ErrorInvalidRequest", "The request is invalid.");
}

// Verifies a DOCTYPE (entity bomb) and a non-XML body are ErrorSchemaValidation faults.
TEST_F(EwsTest, DoctypeAndGarbageAreSchemaFaults) {
  const std::string token = Token();
  ExpectFault(Ews("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]>" +
                      Envelope(kGetInbox).substr(39),
                  token),
              "ErrorSchemaValidation", "The request failed schema validation.");
  ExpectFault(Ews("this is not xml", token), "ErrorSchemaValidation",
              "The request failed schema validation.");
}

// Verifies GetFolder(inbox) after three deliveries: ServerVersionInfo as Exchange Online sends
// it, and the counts; also through the lower-case path ews-javascript-api users write.
TEST_F(EwsTest, GetFolderInboxCountsDeliveries) {
  for (const char* s : {"one", "two", "three"}) Deliver(s);
  const HttpReply r = Ews(Envelope(kGetInbox), Token(), "/ews/exchange.asmx");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "text/xml; charset=utf-8");
  Soap soap(r.body);
  ASSERT_TRUE(soap.ok) << r.body;
  const pugi::xml_node info = soap.Find("ServerVersionInfo");
  EXPECT_STREQ(info.name(), "h:ServerVersionInfo");
  EXPECT_STREQ(info.attribute("MajorVersion").value(), "15");
  EXPECT_STREQ(info.attribute("MinorVersion").value(), "20");
  EXPECT_STREQ(info.attribute("Version").value(), "V2018_01_08");
  EXPECT_STREQ(info.attribute("xmlns:h").value(),
               "http://schemas.microsoft.com/exchange/services/2006/types");
  EXPECT_STREQ(soap.Find("GetFolderResponseMessage").attribute("ResponseClass").value(), "Success");
  EXPECT_EQ(soap.Text("DisplayName"), "Inbox");
  EXPECT_EQ(soap.Text("FolderClass"), "IPF.Note");
  EXPECT_EQ(soap.Text("TotalCount"), "3");
  EXPECT_EQ(soap.Text("UnreadCount"), "3");
  EXPECT_EQ(soap.Text("ChildFolderCount"), "0");
}

// Verifies GetFolder by a malformed FolderId is an error message, not a fault.
TEST_F(EwsTest, GetFolderMalformedIdIsErrorMessage) {
  const HttpReply r =
      Ews(Envelope("<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
                   "<m:FolderIds><t:FolderId Id=\"AAMkAGarbage\"/></m:FolderIds></m:GetFolder>"),
          Token());
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("GetFolderResponseMessage").attribute("ResponseClass").value(), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidIdMalformed");
  EXPECT_EQ(soap.Text("MessageText"), "Id is malformed.");
}

// Verifies FindItem pages through unread mail newest first with the RootFolder paging attributes.
TEST_F(EwsTest, FindItemPagesUnreadMail) {
  for (int i = 0; i < 5; ++i) {
    Deliver("message " + std::to_string(i));
    clock_.Advance(std::chrono::seconds(1));
  }
  const std::string token = Token();
  HttpReply r = Ews(Envelope(FindUnread(0, 2)), token);
  ASSERT_EQ(r.status, 200) << r.body;
  {
    Soap soap(r.body);
    const pugi::xml_node root = soap.Find("RootFolder");
    EXPECT_STREQ(root.attribute("IndexedPagingOffset").value(), "2");
    EXPECT_STREQ(root.attribute("TotalItemsInView").value(), "5");
    EXPECT_STREQ(root.attribute("IncludesLastItemInRange").value(), "false");
    EXPECT_EQ(soap.Count("Message"), 2u);
    EXPECT_EQ(soap.Count("ItemId"), 2u);
    EXPECT_FALSE(soap.Find("Subject")) << "IdOnly returns ids only";
  }
  const std::string default_shape = FindUnread(4, 2);
  r = Ews(Envelope(std::string(default_shape).replace(default_shape.find("IdOnly"), 6, "Default")),
          token);
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const pugi::xml_node root = soap.Find("RootFolder");
  EXPECT_STREQ(root.attribute("IndexedPagingOffset").value(), "5");
  EXPECT_STREQ(root.attribute("IncludesLastItemInRange").value(), "true");
  EXPECT_EQ(soap.Count("Message"), 1u);
  EXPECT_EQ(soap.Text("Subject"), "message 0");  // oldest last
  EXPECT_EQ(soap.Text("IsRead"), "false");
}

// Verifies GetItem with IncludeMimeContent returns the delivered bytes, base64, as UTF-8.
TEST_F(EwsTest, GetItemRoundTripsMime) {
  const std::string mime =
      "From: Alice <alice@fabrikam.com>\r\nTo: monitor@contoso.com\r\nSubject: Invoice 42\r\n"
      "Message-ID: <inv42@fabrikam.com>\r\nDate: Mon, 02 Nov 2026 08:00:00 +0000\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease pay.\r\n";
  ASSERT_EQ(
      Control(std::string("/_exo/mailboxes/") + kMonitor + "/deliver", {{"mime", mime}}).status,
      201);
  const std::string token = Token();
  const HttpReply found = Ews(Envelope(FindUnread(0, 10)), token);
  const std::string id = Soap(found.body).Find("ItemId").attribute("Id").value();
  ASSERT_FALSE(id.empty()) << found.body;
  const HttpReply r = Ews(
      Envelope("<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
               "<t:IncludeMimeContent>true</t:IncludeMimeContent><t:AdditionalProperties>"
               "<t:FieldURI FieldURI=\"item:Subject\"/><t:FieldURI FieldURI=\"message:From\"/>"
               "<t:FieldURI FieldURI=\"message:InternetMessageId\"/>"
               "<t:FieldURI FieldURI=\"calendar:Start\"/></t:AdditionalProperties></m:ItemShape>"
               "<m:ItemIds><t:ItemId Id=\"" +
               id +
               "\"/><t:ItemId Id=\"bogus\"/></m:ItemIds>"
               "</m:GetItem>"),
      token);
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  ASSERT_EQ(soap.Count("GetItemResponseMessage"), 2u);
  const pugi::xml_node content = soap.Find("MimeContent");
  EXPECT_STREQ(content.attribute("CharacterSet").value(), "UTF-8");
  EXPECT_EQ(Base64Decode(content.text().as_string()).value_or(""), mime);
  EXPECT_EQ(soap.Text("Subject"), "Invoice 42");
  EXPECT_EQ(soap.Text("InternetMessageId"), "<inv42@fabrikam.com>");
  EXPECT_EQ(
      soap.Find("From").select_node(".//*[local-name()='EmailAddress']").node().text().as_string(),
      std::string("alice@fabrikam.com"));
  const auto second = soap.doc.select_nodes("//*[local-name()='GetItemResponseMessage']")[1].node();
  EXPECT_STREQ(second.attribute("ResponseClass").value(), "Error");
  EXPECT_STREQ(second.select_node(".//*[local-name()='ResponseCode']").node().text().as_string(),
               "ErrorInvalidIdMalformed");
}

std::string SyncInbox(const std::string& state) {
  return "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
         "<t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/>"
         "<t:FieldURI FieldURI=\"message:IsRead\"/></t:AdditionalProperties></m:ItemShape>"
         "<m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/></m:SyncFolderId>" +
         (state.empty() ? std::string() : "<m:SyncState>" + state + "</m:SyncState>") +
         "<m:MaxChangesReturned>50</m:MaxChangesReturned></m:SyncFolderItems>";
}

// Verifies the monitor's cycle: sync creates, mark read (exchangelib's "1"), sync sees the read
// flag, move to Deleted Items gives a new id and syncs as a delete, then hard delete.
TEST_F(EwsTest, SyncUpdateMoveDeleteCycle) {
  Deliver("first");
  Deliver("second");
  const std::string token = Token();
  HttpReply r = Ews(Envelope(SyncInbox("")), token);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string state, id, change_key;
  {
    Soap soap(r.body);
    EXPECT_EQ(soap.Count("Create"), 2u) << r.body;
    EXPECT_EQ(soap.Text("IncludesLastItemInRange"), "true");
    state = soap.Text("SyncState");
    id = soap.Find("ItemId").attribute("Id").value();
    change_key = soap.Find("ItemId").attribute("ChangeKey").value();
  }
  ASSERT_FALSE(state.empty());

  r = Ews(
      Envelope("<m:UpdateItem ConflictResolution=\"AutoResolve\" MessageDisposition=\"SaveOnly\" "
               "SendMeetingInvitationsOrCancellations=\"SendToNone\" SuppressReadReceipts=\"true\">"
               "<m:ItemChanges><t:ItemChange><t:ItemId Id=\"" +
               id + "\" ChangeKey=\"" + change_key +
               "\"/><t:Updates><t:SetItemField><t:FieldURI "
               "FieldURI=\"message:IsRead\"/><t:Message><t:IsRead>1</t:IsRead></t:Message>"
               "</t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"),
      token);
  ASSERT_EQ(r.status, 200) << r.body;
  {
    Soap soap(r.body);
    EXPECT_EQ(soap.Text("ResponseCode"), "NoError") << r.body;
    EXPECT_EQ(soap.Find("ItemId").attribute("Id").value(), id);
    EXPECT_NE(soap.Find("ItemId").attribute("ChangeKey").value(), change_key);
  }
  r = Ews(Envelope(SyncInbox(state)), token);
  {
    Soap soap(r.body);
    EXPECT_EQ(soap.Count("ReadFlagChange"), 1u) << r.body;
    EXPECT_EQ(soap.Find("ReadFlagChange")
                  .select_node(".//*[local-name()='IsRead']")
                  .node()
                  .text()
                  .as_string(),
              std::string("true"));
    state = soap.Text("SyncState");
  }

  r = Ews(Envelope("<m:MoveItem><m:ToFolderId><t:DistinguishedFolderId Id=\"deleteditems\"/>"
                   "</m:ToFolderId><m:ItemIds><t:ItemId Id=\"" +
                   id +
                   "\"/></m:ItemIds>"
                   "</m:MoveItem>"),
          token);
  std::string moved;
  {
    Soap soap(r.body);
    EXPECT_EQ(soap.Text("ResponseCode"), "NoError") << r.body;
    moved = soap.Find("ItemId").attribute("Id").value();
    EXPECT_NE(moved, id);
  }
  r = Ews(Envelope(SyncInbox(state)), token);
  {
    Soap soap(r.body);
    EXPECT_EQ(soap.Count("Delete"), 1u) << r.body;
    EXPECT_EQ(soap.Find("Delete").first_child().attribute("Id").value(), id);
  }

  const std::string del = "<m:DeleteItem DeleteType=\"HardDelete\"><m:ItemIds><t:ItemId Id=\"" +
                          moved + "\"/></m:ItemIds></m:DeleteItem>";
  r = Ews(Envelope(del), token);
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "NoError") << r.body;
  r = Ews(Envelope(del), token);
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorItemNotFound") << r.body;
  EXPECT_EQ(soap.Text("MessageText"), "The specified object was not found in the store.");
}

// Verifies a corrupt sync state is an error message that still carries SyncState and
// IncludesLastItemInRange (exchangelib reads them first).
TEST_F(EwsTest, BadSyncStateKeepsSyncElements) {
  const HttpReply r = Ews(Envelope(SyncInbox("H4sIAAA==")), Token());
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidSyncStateData");
  EXPECT_EQ(soap.Text("MessageText"),
            "Synchronization state data is corrupt or otherwise invalid.");
  EXPECT_TRUE(soap.Find("SyncState"));
  EXPECT_EQ(soap.Text("IncludesLastItemInRange"), "true");
}

// Verifies exchangelib's ConvertId version probe gets an error message with the version header
// (a fault would make Account() fail), and a body over the limit is refused with 413.
TEST_F(EwsTest, ConvertIdProbeCarriesServerVersion) {
  const std::string token = Token();
  const HttpReply r =
      Ews(Envelope("<m:ConvertId DestinationFormat=\"EntryId\"><m:SourceIds>"
                   "<t:AlternateId Id=\"DUMMY\" Format=\"EwsId\" Mailbox=\"DUMMY\"/>"
                   "</m:SourceIds></m:ConvertId>"),
          token);
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("ServerVersionInfo").attribute("MajorBuildNumber").value(), "8769");
  EXPECT_STREQ(soap.Find("ConvertIdResponseMessage").attribute("ResponseClass").value(), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidIdMalformed");
  EXPECT_EQ(Ews(std::string(5 << 20, ' '), token).status, 413);
}

// Verifies all four ConnectingSID forms resolve the same mailbox (ews.md §0 item 4).
TEST_F(EwsTest, ConnectingSidAcceptsAllFourForms) {
  auto mailbox = ews_->store().ResolveMailbox(kMonitor);
  ASSERT_TRUE(mailbox.has_value());
  const std::string token = Token();
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"PrimarySmtpAddress", "MONITOR@contoso.com"},
      {"SmtpAddress", kMonitor},
      {"PrincipalName", mailbox->user_principal_name},
      {"SID", mailbox->sid}};
  for (const auto& [element, value] : forms) {
    const HttpReply r =
        Ews(Envelope("<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape>"
                     "</m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
                     "</m:FolderIds></m:GetFolder>",
                     "<t:RequestServerVersion Version=\"Exchange2013_SP1\"/>"
                     "<t:ExchangeImpersonation><t:ConnectingSID><t:" +
                         element + ">" + value + "</t:" + element +
                         "></t:ConnectingSID></t:ExchangeImpersonation>"),
            token);
    EXPECT_EQ(r.status, 200) << element << ": " << r.body;
    EXPECT_EQ(Soap(r.body).Text("DisplayName"), "Inbox") << element;
  }
}

// Verifies the control API's errors: delivering to an unknown mailbox, creating a duplicate.
TEST_F(EwsTest, ControlApiReportsStoreErrors) {
  HttpReply r = Control("/_exo/mailboxes/ghost@contoso.com/deliver", {{"subject", "x"}});
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.Json()["error"].value("code", ""), "ErrorNonExistentMailbox");
  r = Control("/_exo/mailboxes", {{"organization", kTenantId}, {"smtp", kMonitor}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.Json()["error"].value("code", ""), "ErrorProxyAddressExists");
}

// Verifies GetItem AllProperties (ews-javascript-api's shape) carries the message properties,
// and Default the first-class ones without ItemClass.
TEST_F(EwsTest, GetItemAllPropertiesAndDefault) {
  Deliver("shapes");
  const std::string token = Token();
  const HttpReply found = Ews(Envelope(FindUnread(0, 1)), token);
  const std::string id = Soap(found.body).Find("ItemId").attribute("Id").value();
  ASSERT_FALSE(id.empty()) << found.body;
  auto get = [&](const std::string& shape) {
    return Ews(Envelope("<m:GetItem><m:ItemShape><t:BaseShape>" + shape +
                        "</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id=\"" + id +
                        "\"/></m:ItemIds></m:GetItem>"),
               token);
  };
  HttpReply r = get("AllProperties");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    Soap soap(r.body);
    EXPECT_EQ(soap.Text("ItemClass"), "IPM.Note");
    EXPECT_EQ(soap.Text("Subject"), "shapes");
    EXPECT_TRUE(soap.Find("ParentFolderId"));
    EXPECT_TRUE(soap.Find("Sender"));
    EXPECT_TRUE(soap.Find("InternetMessageId"));
    EXPECT_EQ(soap.Text("IsDraft"), "false");
    EXPECT_FALSE(soap.Find("MimeContent"));
  }
  r = get("Default");
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("Subject"), "shapes");
  EXPECT_FALSE(soap.Find("ItemClass"));
  EXPECT_EQ(soap.Find("ToRecipients")
                .select_node(".//*[local-name()='EmailAddress']")
                .node()
                .text()
                .as_string(),
            std::string(kMonitor));
}

// Verifies the journal records EWS calls with their operation but never the bearer token.
TEST_F(EwsTest, JournalRedactsBearerToken) {
  const std::string token = Token();
  ASSERT_EQ(Ews(Envelope(kGetInbox), token).status, 200);
  const HttpReply journal = Send(*ews_client_, "GET", "/_exo/journal");
  ASSERT_EQ(journal.status, 200) << journal.body;
  EXPECT_EQ(journal.body.find(token), std::string::npos);
  EXPECT_NE(journal.body.find("ews.GetFolder"), std::string::npos) << journal.body;
}

// Verifies a gzip-compressed answer (exchangelib and ews-javascript-api accept gzip) is journaled
// as the XML the handler wrote, so the journal stays readable JSON.
TEST_F(EwsTest, JournalKeepsBodiesBeforeCompression) {
  httplib::Headers headers = {{"Authorization", "Bearer " + Token()},
                              {"Accept-Encoding", "gzip, deflate"}};
  const HttpReply r = Send(*ews_client_, "POST", "/EWS/Exchange.asmx", Envelope(kGetInbox),
                           "text/xml; charset=utf-8", headers);
  ASSERT_EQ(r.status, 200);
  const HttpReply journal = Send(*ews_client_, "GET", "/_exo/journal");
  ASSERT_EQ(journal.status, 200) << journal.body;
  const json entries = journal.Json()["entries"];
  ASSERT_FALSE(entries.empty());
  EXPECT_NE(entries.back()["responseBody"].get<std::string>().find("GetFolderResponse"),
            std::string::npos)
      << entries.back().dump();
}

// Verifies ConvertId turns an item id into a HexEntryId and back, and still answers the version
// probe's dummy id with ErrorInvalidIdMalformed.
TEST_F(EwsTest, ConvertIdRoundTrips) {
  Deliver("Convert me");
  const std::string id =
      ews_->store()
          .FindItems(
              ews_->store().GetDistinguishedFolder(kMonitor, DistinguishedFolder::kInbox)->id,
              ItemView{})
          ->items.at(0)
          .id;
  auto convert = [&](const std::string& from, const std::string& format, const std::string& to) {
    return Call("<m:ConvertId DestinationFormat=\"" + to +
                "\"><m:SourceIds><t:AlternateId Format=\"" + format + "\" Id=\"" + from +
                "\" Mailbox=\"" + kMonitor + "\"/></m:SourceIds></m:ConvertId>");
  };
  const HttpReply hex = convert(id, "EwsId", "HexEntryId");
  ASSERT_EQ(hex.status, 200) << hex.body;
  const std::string hex_id = Soap(hex.body).Find("AlternateId").attribute("Id").as_string();
  ASSERT_FALSE(hex_id.empty()) << hex.body;
  const HttpReply back = convert(hex_id, "HexEntryId", "EwsId");
  EXPECT_EQ(std::string(Soap(back.body).Find("AlternateId").attribute("Id").as_string()), id);
  const HttpReply dummy = convert("DUMMY", "EwsId", "EntryId");
  EXPECT_EQ(Soap(dummy.body).Text("ResponseCode"), "ErrorInvalidIdMalformed");
}

// Verifies the state dump shows mailboxes with folder counts, and reset empties every mailbox
// while keeping it (same address), and clears the journal.
TEST_F(EwsTest, StateAndReset) {
  Deliver("Kept until reset");
  const HttpReply state = Send(*ews_client_, "GET", "/_exo/state");
  ASSERT_EQ(state.status, 200) << state.body;
  const json box = state.Json()["organizations"][0]["mailboxes"][0];
  EXPECT_EQ(box["smtp"], kMonitor);
  bool inbox_counted = false;
  for (const json& f : box["folders"]) {
    if (f["distinguished"] == "inbox") inbox_counted = f["totalCount"] == 1;
  }
  EXPECT_TRUE(inbox_counted) << box.dump();
  const HttpReply reset = Control("/_exo/reset", json::object());
  ASSERT_EQ(reset.status, 200) << reset.body;
  const HttpReply r = Call(kGetInbox);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Soap(r.body).Text("TotalCount"), "0");
  const HttpReply journal = Send(*ews_client_, "GET", "/_exo/journal");
  EXPECT_EQ(journal.Json()["entries"].size(), 1u) << "only the GetFolder after the reset";
}

}  // namespace
}  // namespace exo::mock_ews::test
