// mock-ews's item operations end to end: FindItem restrictions, sort orders and paged views,
// UpdateItem's property changes and conflict resolution, MoveItem/CopyItem/DeleteItem, and
// ResolveNames over the tenant's mailboxes (ews.md §2.3, §2.6, §2.7; messages.xsd).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "ews_fixture.hpp"
#include "exo/common/time_format.hpp"

namespace exo::mock_ews::test {
namespace {

class EwsItemsTest : public EwsTest {
 protected:
  // Delivers a message from `from` ("Name <address>" or an address) to the Inbox, then moves the
  // clock on a minute so DateTimeReceived orders deliveries; returns the item id.
  std::string Mail(const std::string& subject, const std::string& from = "sender@fabrikam.com",
                   const std::string& body = "Hello") {
    const std::string mime = "From: " + from +
                             "\r\nTo: monitor@contoso.com\r\nSubject: " + subject +
                             "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; " +
                             "charset=utf-8\r\n\r\n" + body + "\r\n";
    const HttpReply r =
        Control(std::string("/_exo/mailboxes/") + kMonitor + "/deliver", {{"mime", mime}});
    EXPECT_EQ(r.status, 201) << r.body;
    clock_.Advance(std::chrono::minutes(1));
    return r.Json().value("id", std::string());
  }

  // FindItem in the Inbox, Default shape, with the given view, restriction and sort order.
  HttpReply Find(const std::string& restriction, const std::string& sort = {},
                 const std::string& view = {}) {
    return Call(
        "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>Default"
        "</t:BaseShape></m:ItemShape>" +
        view + (restriction.empty() ? "" : "<m:Restriction>" + restriction + "</m:Restriction>") +
        (sort.empty() ? "" : "<m:SortOrder>" + sort + "</m:SortOrder>") +
        "<m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds>"
        "</m:FindItem>");
  }

  // The subjects FindItem returns, in order.
  std::vector<std::string> Subjects(const std::string& restriction, const std::string& sort = {},
                                    const std::string& view = {}) {
    const HttpReply r = Find(restriction, sort, view);
    EXPECT_EQ(r.status, 200) << r.body;
    Soap soap(r.body);
    EXPECT_STREQ(soap.Find("FindItemResponseMessage").attribute("ResponseClass").value(), "Success")
        << r.body;
    std::vector<std::string> out;
    for (const auto& n : soap.doc.select_nodes("//*[local-name()='Subject']")) {
      out.push_back(n.node().text().as_string());
    }
    return out;
  }

  static std::string Contains(const std::string& field, const std::string& value,
                              const std::string& attributes) {
    return "<t:Contains " + attributes + "><t:FieldURI FieldURI=\"" + field +
           "\"/><t:Constant Value=\"" + value + "\"/></t:Contains>";
  }

  static std::string Compare(const std::string& op, const std::string& field,
                             const std::string& value) {
    return "<t:" + op + "><t:FieldURI FieldURI=\"" + field +
           "\"/><t:FieldURIOrConstant><t:Constant Value=\"" + value +
           "\"/></t:FieldURIOrConstant></t:" + op + ">";
  }

  static std::string Order(const std::string& direction, const std::string& field) {
    return "<t:FieldOrder Order=\"" + direction + "\"><t:FieldURI FieldURI=\"" + field +
           "\"/></t:FieldOrder>";
  }

  HttpReply GetItem(const std::string& id, const std::string& fields) {
    return Call(
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>" +
        fields + "</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id=\"" + id +
        "\"/></m:ItemIds></m:GetItem>");
  }

  std::string ChangeKey(const std::string& id) {
    return Soap(GetItem(id, "<t:FieldURI FieldURI=\"item:Subject\"/>").body)
        .Find("ItemId")
        .attribute("ChangeKey")
        .value();
  }

  HttpReply Update(const std::string& id, const std::string& change_key, const std::string& updates,
                   const std::string& attributes =
                       "ConflictResolution=\"AutoResolve\" "
                       "MessageDisposition=\"SaveOnly\"") {
    return Call("<m:UpdateItem " + attributes + "><m:ItemChanges><t:ItemChange><t:ItemId Id=\"" +
                id + "\"" + (change_key.empty() ? "" : " ChangeKey=\"" + change_key + "\"") +
                "/><t:Updates>" + updates +
                "</t:Updates></t:ItemChange></m:ItemChanges>"
                "</m:UpdateItem>");
  }

  static std::string SetField(const std::string& field, const std::string& property_xml) {
    return "<t:SetItemField><t:FieldURI FieldURI=\"" + field + "\"/><t:Message>" + property_xml +
           "</t:Message></t:SetItemField>";
  }

  static std::string ResponseClass(const Soap& soap, const std::string& op) {
    return soap.Find(op + "ResponseMessage").attribute("ResponseClass").value();
  }

  static std::vector<std::string> Texts(const Soap& soap, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& n : soap.doc.select_nodes(("//*[local-name()='" + name + "']").c_str())) {
      out.push_back(n.node().text().as_string());
    }
    return out;
  }

  HttpReply MoveOrCopy(const std::string& op, const std::string& id, const std::string& target,
                       const std::string& extra = {}) {
    return Call("<m:" + op + "><m:ToFolderId>" + target +
                "</m:ToFolderId><m:ItemIds><t:ItemId Id=\"" + id + "\"/></m:ItemIds>" + extra +
                "</m:" + op + ">");
  }

  HttpReply Resolve(const std::string& entry, bool full = false,
                    const std::string& scope = "ActiveDirectory") {
    return Call(std::string("<m:ResolveNames ReturnFullContactData=\"") +
                (full ? "true" : "false") + "\" SearchScope=\"" + scope + "\"><m:UnresolvedEntry>" +
                entry + "</m:UnresolvedEntry></m:ResolveNames>");
  }

  void AddMailbox(const std::string& smtp, const std::string& name,
                  const std::string& organization = kTenantId) {
    const HttpReply r = Control(
        "/_exo/mailboxes", {{"organization", organization}, {"smtp", smtp}, {"displayName", name}});
    ASSERT_EQ(r.status, 201) << r.body;
  }
};

using Strings = std::vector<std::string>;

// ---- FindItem restrictions ----

// Verifies IsNotEqualTo on message:IsRead keeps the items whose flag differs.
TEST_F(EwsItemsTest, FindItemIsReadNotEqualTo) {
  const std::string read = Mail("read");
  Mail("unread");
  ASSERT_EQ(
      ResponseClass(
          Soap(Update(read, "", SetField("message:IsRead", "<t:IsRead>true</t:IsRead>")).body),
          "UpdateItem"),
      "Success");
  EXPECT_EQ(Subjects(Compare("IsNotEqualTo", "message:IsRead", "true")), Strings{"unread"});
}

// Verifies DateTimeReceived comparisons read xs:dateTime constants in any offset.
TEST_F(EwsItemsTest, FindItemDateTimeReceivedComparesAcrossOffsets) {
  Mail("first");
  const SystemTime second = clock_.Now();
  Mail("second");
  Mail("third");
  // The same instant as `second`, written two hours east of UTC.
  std::string east = FormatIso8601(second + std::chrono::hours(2));
  east.replace(east.size() - 1, 1, "+02:00");
  EXPECT_EQ(Subjects(Compare("IsGreaterThanOrEqualTo", "item:DateTimeReceived", east)),
            (Strings{"third", "second"}));
  EXPECT_EQ(Subjects(Compare("IsGreaterThan", "item:DateTimeReceived", east)), Strings{"third"});
  EXPECT_EQ(Subjects(Compare("IsLessThan", "item:DateTimeReceived", east)), Strings{"first"});
  EXPECT_EQ(Subjects(Compare("IsLessThanOrEqualTo", "item:DateTimeReceived", east)),
            (Strings{"second", "first"}));
  EXPECT_EQ(Subjects(Compare("IsEqualTo", "item:DateTimeReceived", FormatIso8601(second))),
            Strings{"second"});
}

// Verifies a constant that is not a dateTime is ErrorInvalidValueForProperty.
TEST_F(EwsItemsTest, FindItemMalformedDateIsInvalidValue) {
  const HttpReply r = Find(Compare("IsGreaterThan", "item:DateTimeReceived", "yesterday"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "FindItem"), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidValueForProperty");
}

// Verifies Contains Substring with IgnoreCase matches anywhere in the subject, in any case.
TEST_F(EwsItemsTest, FindItemContainsSubstringIgnoreCase) {
  Mail("Quarterly INVOICE due");
  Mail("Lunch");
  EXPECT_EQ(
      Subjects(Contains("item:Subject", "invoice",
                        "ContainmentMode=\"Substring\" ContainmentComparison=\"IgnoreCase\"")),
      Strings{"Quarterly INVOICE due"});
}

// Verifies Contains Prefixed with Exact comparison is case-sensitive.
TEST_F(EwsItemsTest, FindItemContainsPrefixedExactIsCaseSensitive) {
  Mail("Invoice 1");
  Mail("invoice 2");
  EXPECT_EQ(Subjects(Contains("item:Subject", "Invoice",
                              "ContainmentMode=\"Prefixed\" ContainmentComparison=\"Exact\"")),
            Strings{"Invoice 1"});
}

// Verifies Contains without attributes compares the whole string exactly.
TEST_F(EwsItemsTest, FindItemContainsDefaultsToFullStringExact) {
  Mail("Report");
  Mail("Report 2");
  Mail("report");
  EXPECT_EQ(Subjects(Contains("item:Subject", "Report", "")), Strings{"Report"});
}

// Verifies PrefixOnWords matches the start of any word and ExactPhrase whole words only.
TEST_F(EwsItemsTest, FindItemContainsPrefixOnWordsAndExactPhrase) {
  Mail("Weekly status report");
  Mail("Unstated things");
  EXPECT_EQ(Subjects(Contains("item:Subject", "stat",
                              "ContainmentMode=\"PrefixOnWords\" "
                              "ContainmentComparison=\"IgnoreCase\"")),
            Strings{"Weekly status report"});
  EXPECT_EQ(
      Subjects(Contains("item:Subject", "status report",
                        "ContainmentMode=\"ExactPhrase\" ContainmentComparison=\"IgnoreCase\"")),
      Strings{"Weekly status report"});
  EXPECT_TRUE(Subjects(Contains("item:Subject", "status rep",
                                "ContainmentMode=\"ExactPhrase\" "
                                "ContainmentComparison=\"IgnoreCase\""))
                  .empty());
}

// Verifies Contains on message:From and message:Sender matches the address or the name.
TEST_F(EwsItemsTest, FindItemContainsFromMatchesAddressOrName) {
  Mail("from alice", "Alice Smith <alice@fabrikam.com>");
  Mail("from bob", "bob@northwind.com");
  const std::string mode = "ContainmentMode=\"Substring\" ContainmentComparison=\"IgnoreCase\"";
  EXPECT_EQ(Subjects(Contains("message:From", "smith", mode)), Strings{"from alice"});
  EXPECT_EQ(Subjects(Contains("message:From", "northwind.com", mode)), Strings{"from bob"});
  EXPECT_EQ(Subjects(Contains("message:Sender", "fabrikam", mode)), Strings{"from alice"});
}

// Verifies IsEqualTo on message:From matches the sender's address or display name.
TEST_F(EwsItemsTest, FindItemFromEqualsAddressOrName) {
  Mail("from alice", "Alice Smith <alice@fabrikam.com>");
  Mail("from bob", "bob@northwind.com");
  EXPECT_EQ(Subjects(Compare("IsEqualTo", "message:From", "ALICE@fabrikam.com")),
            Strings{"from alice"});
  EXPECT_EQ(Subjects(Compare("IsEqualTo", "message:From", "Alice Smith")), Strings{"from alice"});
  EXPECT_EQ(Subjects(Compare("IsNotEqualTo", "message:Sender", "alice@fabrikam.com")),
            Strings{"from bob"});
}

// Verifies And, Or and Not nest.
TEST_F(EwsItemsTest, FindItemAndOrNotNest) {
  Mail("alpha one");
  Mail("alpha two");
  Mail("beta one");
  Mail("gamma");
  const std::string mode = "ContainmentMode=\"Substring\" ContainmentComparison=\"Exact\"";
  const std::string restriction = "<t:And><t:Or>" + Contains("item:Subject", "alpha", mode) +
                                  Contains("item:Subject", "beta", mode) + "</t:Or><t:Not>" +
                                  Contains("item:Subject", "two", mode) + "</t:Not></t:And>";
  EXPECT_EQ(Subjects(restriction), (Strings{"beta one", "alpha one"}));
}

// Verifies Exists keeps the items that have the property.
TEST_F(EwsItemsTest, FindItemExistsKeepsItemsWithProperty) {
  const std::string tagged = Mail("tagged");
  Mail("plain");
  ASSERT_EQ(ResponseClass(Soap(Update(tagged, "",
                                      SetField("item:Categories",
                                               "<t:Categories><t:String>Red"
                                               "</t:String></t:Categories>"))
                                   .body),
                          "UpdateItem"),
            "Success");
  EXPECT_EQ(Subjects("<t:Exists><t:FieldURI FieldURI=\"item:Categories\"/></t:Exists>"),
            Strings{"tagged"});
}

// Verifies a restriction the mock cannot evaluate is ErrorUnsupportedQueryFilter.
TEST_F(EwsItemsTest, FindItemUnsupportedRestrictionIsError) {
  Mail("x");
  const HttpReply r = Find(
      "<t:IsEqualTo><t:ExtendedFieldURI PropertyTag=\"0x0E07\" PropertyType=\"Integer\"/>"
      "<t:FieldURIOrConstant><t:Constant Value=\"1\"/></t:FieldURIOrConstant></t:IsEqualTo>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "FindItem"), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorUnsupportedQueryFilter");
}

// Verifies a ContainmentMode outside the enumeration is a schema fault.
TEST_F(EwsItemsTest, FindItemInvalidContainmentModeIsSchemaFault) {
  const HttpReply r = Find(Contains("item:Subject", "x", "ContainmentMode=\"Anywhere\""));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("faultcode"), "a:ErrorSchemaValidation");
}

// ---- FindItem sort orders and views ----

// Verifies an ascending DateTimeReceived order lists the oldest first.
TEST_F(EwsItemsTest, FindItemSortsReceivedAscending) {
  Mail("one");
  Mail("two");
  Mail("three");
  EXPECT_EQ(Subjects("", Order("Ascending", "item:DateTimeReceived")),
            (Strings{"one", "two", "three"}));
}

// Verifies sorting by Subject, case-insensitively, and by Size descending.
TEST_F(EwsItemsTest, FindItemSortsBySubjectAndSize) {
  Mail("banana", "a@fabrikam.com", "12345678901234567890");
  Mail("Apple", "a@fabrikam.com", "1");
  Mail("cherry", "a@fabrikam.com", "1234567890");
  EXPECT_EQ(Subjects("", Order("Ascending", "item:Subject")),
            (Strings{"Apple", "banana", "cherry"}));
  EXPECT_EQ(Subjects("", Order("Descending", "item:Size")), (Strings{"banana", "cherry", "Apple"}));
}

// Verifies sorting by From uses the display name, then the next key breaks ties.
TEST_F(EwsItemsTest, FindItemSortsByFromThenReceived) {
  Mail("z1", "Zed <z@fabrikam.com>");
  Mail("a1", "Ann <ann@fabrikam.com>");
  Mail("z2", "Zed <z@fabrikam.com>");
  EXPECT_EQ(Subjects("", Order("Ascending", "message:From") +
                             Order("Ascending", "item:DateTimeReceived")),
            (Strings{"a1", "z1", "z2"}));
}

// Verifies a sort on a property the mock does not sort by is ErrorUnsupportedQueryFilter.
TEST_F(EwsItemsTest, FindItemUnsupportedSortIsError) {
  const HttpReply r = Find("", Order("Ascending", "message:ConversationTopic"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorUnsupportedQueryFilter");
}

// Verifies FractionalPageItemView starts Numerator/Denominator into the view and answers
// NumeratorOffset and AbsoluteDenominator.
TEST_F(EwsItemsTest, FindItemFractionalPageView) {
  for (const char* s : {"m0", "m1", "m2", "m3"}) Mail(s);
  const HttpReply r = Find("", Order("Ascending", "item:DateTimeReceived"),
                           "<m:FractionalPageItemView MaxEntriesReturned=\"1\" Numerator=\"1\" "
                           "Denominator=\"2\"/>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const pugi::xml_node root = soap.Find("RootFolder");
  EXPECT_STREQ(root.attribute("NumeratorOffset").value(), "3");
  EXPECT_STREQ(root.attribute("AbsoluteDenominator").value(), "4");
  EXPECT_STREQ(root.attribute("TotalItemsInView").value(), "4");
  EXPECT_STREQ(root.attribute("IncludesLastItemInRange").value(), "false");
  EXPECT_EQ(Texts(soap, "Subject"), Strings{"m2"});
}

// Verifies a fractional view sorted in the facade pages the same way.
TEST_F(EwsItemsTest, FindItemFractionalPageViewOverFacadeSort) {
  for (const char* s : {"d", "b", "a", "c"}) Mail(s);
  const HttpReply r = Find("", Order("Descending", "item:Subject"),
                           "<m:FractionalPageItemView Numerator=\"1\" Denominator=\"2\"/>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("RootFolder").attribute("IncludesLastItemInRange").value(), "true");
  EXPECT_EQ(Texts(soap, "Subject"), (Strings{"b", "a"}));
}

// Verifies a Denominator of zero is ErrorInvalidFractionalPagingParameters.
TEST_F(EwsItemsTest, FindItemZeroDenominatorIsError) {
  const HttpReply r = Find("", "", "<m:FractionalPageItemView Numerator=\"0\" Denominator=\"0\"/>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorInvalidFractionalPagingParameters");
}

// Verifies BasePoint End counts the offset back from the end of the view.
TEST_F(EwsItemsTest, FindItemIndexedViewFromEnd) {
  for (const char* s : {"m0", "m1", "m2", "m3"}) Mail(s);
  EXPECT_EQ(Subjects("", Order("Ascending", "item:DateTimeReceived"),
                     "<m:IndexedPageItemView MaxEntriesReturned=\"2\" Offset=\"1\" "
                     "BasePoint=\"End\"/>"),
            (Strings{"m1", "m2"}));
}

// ---- UpdateItem ----

// Verifies SetItemField sets Categories and Importance, which GetItem then shows.
TEST_F(EwsItemsTest, UpdateItemSetsCategoriesAndImportance) {
  const std::string id = Mail("tag me");
  const HttpReply r =
      Update(id, "",
             SetField("item:Categories",
                      "<t:Categories><t:String>Red</t:String><t:String>Blue</t:String>"
                      "</t:Categories>") +
                 SetField("item:Importance", "<t:Importance>High</t:Importance>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "UpdateItem"), "Success");
  EXPECT_EQ(soap.Text("Count"), "0");
  Soap got(GetItem(id,
                   "<t:FieldURI FieldURI=\"item:Categories\"/>"
                   "<t:FieldURI FieldURI=\"item:Importance\"/>")
               .body);
  EXPECT_EQ(Texts(got, "String"), (Strings{"Red", "Blue"}));
  EXPECT_EQ(got.Text("Importance"), "High");
}

// Verifies AppendToItemField adds categories after the existing ones.
TEST_F(EwsItemsTest, UpdateItemAppendsCategories) {
  const std::string id = Mail("tag me");
  Update(id, "",
         SetField("item:Categories", "<t:Categories><t:String>Red</t:String></t:Categories>"));
  const HttpReply r = Update(id, "",
                             "<t:AppendToItemField><t:FieldURI FieldURI=\"item:Categories\"/>"
                             "<t:Message><t:Categories><t:String>Green</t:String></t:Categories>"
                             "</t:Message></t:AppendToItemField>");
  ASSERT_EQ(ResponseClass(Soap(r.body), "UpdateItem"), "Success") << r.body;
  EXPECT_EQ(Texts(Soap(GetItem(id, "<t:FieldURI FieldURI=\"item:Categories\"/>").body), "String"),
            (Strings{"Red", "Green"}));
}

// Verifies DeleteItemField clears Categories and puts Importance back to Normal.
TEST_F(EwsItemsTest, UpdateItemDeletesCategoriesAndImportance) {
  const std::string id = Mail("tag me");
  Update(id, "",
         SetField("item:Categories", "<t:Categories><t:String>Red</t:String></t:Categories>") +
             SetField("item:Importance", "<t:Importance>Low</t:Importance>"));
  const HttpReply r = Update(id, "",
                             "<t:DeleteItemField><t:FieldURI FieldURI=\"item:Categories\"/>"
                             "</t:DeleteItemField><t:DeleteItemField><t:FieldURI "
                             "FieldURI=\"item:Importance\"/></t:DeleteItemField>");
  ASSERT_EQ(ResponseClass(Soap(r.body), "UpdateItem"), "Success") << r.body;
  Soap got(GetItem(id,
                   "<t:FieldURI FieldURI=\"item:Categories\"/>"
                   "<t:FieldURI FieldURI=\"item:Importance\"/>")
               .body);
  EXPECT_FALSE(got.Find("Categories"));
  EXPECT_EQ(got.Text("Importance"), "Normal");
}

// Verifies NeverOverwrite with a stale change key is ErrorIrresolvableConflict and changes
// nothing.
TEST_F(EwsItemsTest, UpdateItemNeverOverwriteStaleKeyIsIrresolvableConflict) {
  const std::string id = Mail("contested");
  const std::string stale = ChangeKey(id);
  Update(id, "", SetField("item:Importance", "<t:Importance>High</t:Importance>"));
  const HttpReply r =
      Update(id, stale, SetField("message:IsRead", "<t:IsRead>true</t:IsRead>"),
             "ConflictResolution=\"NeverOverwrite\" MessageDisposition=\"SaveOnly\"");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "UpdateItem"), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorIrresolvableConflict");
  EXPECT_EQ(Soap(GetItem(id, "<t:FieldURI FieldURI=\"message:IsRead\"/>").body).Text("IsRead"),
            "false");
}

// Verifies AutoResolve and AlwaysOverwrite apply an update made with a stale change key.
TEST_F(EwsItemsTest, UpdateItemAutoResolveStaleKeyApplies) {
  const std::string id = Mail("contested");
  const std::string stale = ChangeKey(id);
  Update(id, "", SetField("item:Importance", "<t:Importance>High</t:Importance>"));
  for (const char* resolution : {"AutoResolve", "AlwaysOverwrite"}) {
    const HttpReply r = Update(
        id, stale, SetField("message:IsRead", "<t:IsRead>1</t:IsRead>"),
        std::string("ConflictResolution=\"") + resolution + "\" SuppressReadReceipts=\"true\"");
    EXPECT_EQ(ResponseClass(Soap(r.body), "UpdateItem"), "Success") << resolution << r.body;
  }
  EXPECT_EQ(Soap(GetItem(id, "<t:FieldURI FieldURI=\"message:IsRead\"/>").body).Text("IsRead"),
            "true");
}

// Verifies a ChangeKey that is not a change key is ErrorInvalidChangeKey under AutoResolve too.
TEST_F(EwsItemsTest, UpdateItemMalformedChangeKeyIsInvalidChangeKey) {
  const std::string id = Mail("x");
  const HttpReply r = Update(id, "garbage", SetField("message:IsRead", "<t:IsRead>1</t:IsRead>"));
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorInvalidChangeKey") << r.body;
}

// Verifies the update answers a new change key and keeps the id.
TEST_F(EwsItemsTest, UpdateItemNewChangeKeySameId) {
  const std::string id = Mail("x");
  const std::string before = ChangeKey(id);
  Soap soap(Update(id, before, SetField("message:IsRead", "<t:IsRead>true</t:IsRead>"),
                   "ConflictResolution=\"NeverOverwrite\"")
                .body);
  const pugi::xml_node item_id = soap.Find("ItemId");
  EXPECT_EQ(std::string(item_id.attribute("Id").value()), id);
  EXPECT_NE(std::string(item_id.attribute("ChangeKey").value()), before);
}

// Verifies MessageDisposition SendAndSaveCopy is ErrorInvalidOperation: UpdateItem only saves.
TEST_F(EwsItemsTest, UpdateItemSendAndSaveCopyIsInvalidOperation) {
  const std::string id = Mail("x");
  const HttpReply r = Update(id, "", SetField("message:IsRead", "<t:IsRead>true</t:IsRead>"),
                             "ConflictResolution=\"AutoResolve\" "
                             "MessageDisposition=\"SendAndSaveCopy\"");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "UpdateItem"), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidOperation");
}

// Verifies a property UpdateItem cannot change is ErrorInvalidPropertyRequest naming it in
// MessageXml.
TEST_F(EwsItemsTest, UpdateItemUnknownPropertyIsInvalidPropertyRequest) {
  const std::string id = Mail("x");
  const HttpReply r = Update(id, "", SetField("item:Subject", "<t:Subject>new</t:Subject>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidPropertyRequest");
  EXPECT_EQ(soap.Text("MessageText"), "Property is not valid for this object type.");
  EXPECT_STREQ(soap.Find("MessageXml").first_child().attribute("FieldURI").value(), "item:Subject");
  EXPECT_TRUE(soap.Find("Items"));
}

// Verifies appending to IsRead is ErrorInvalidPropertyAppend and deleting it
// ErrorInvalidPropertyDelete.
TEST_F(EwsItemsTest, UpdateItemIsReadRefusesAppendAndDelete) {
  const std::string id = Mail("x");
  EXPECT_EQ(Soap(Update(id, "",
                        "<t:AppendToItemField><t:FieldURI FieldURI=\"message:IsRead\"/><t:Message>"
                        "<t:IsRead>true</t:IsRead></t:Message></t:AppendToItemField>")
                     .body)
                .Text("ResponseCode"),
            "ErrorInvalidPropertyAppend");
  EXPECT_EQ(Soap(Update(id, "",
                        "<t:DeleteItemField><t:FieldURI FieldURI=\"message:IsRead\"/>"
                        "</t:DeleteItemField>")
                     .body)
                .Text("ResponseCode"),
            "ErrorInvalidPropertyDelete");
}

// Verifies a ConflictResolution outside the enumeration is a schema fault.
TEST_F(EwsItemsTest, UpdateItemInvalidConflictResolutionIsSchemaFault) {
  const std::string id = Mail("x");
  const HttpReply r = Update(id, "", SetField("message:IsRead", "<t:IsRead>1</t:IsRead>"),
                             "ConflictResolution=\"Sometimes\"");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("faultcode"), "a:ErrorSchemaValidation");
}

// ---- MoveItem, CopyItem, DeleteItem ----

// Verifies MoveItem answers the item's new id; the old one no longer resolves.
TEST_F(EwsItemsTest, MoveItemReturnsNewId) {
  const std::string id = Mail("move me");
  const HttpReply r = MoveOrCopy("MoveItem", id, "<t:DistinguishedFolderId Id=\"junkemail\"/>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "MoveItem"), "Success");
  const std::string moved = soap.Find("ItemId").attribute("Id").value();
  EXPECT_FALSE(moved.empty());
  EXPECT_NE(moved, id);
  EXPECT_EQ(Soap(GetItem(id, "").body).Text("ResponseCode"), "ErrorItemNotFound");
  EXPECT_EQ(ResponseClass(Soap(GetItem(moved, "").body), "GetItem"), "Success");
}

// Verifies CopyItem answers a new id and leaves the original in place.
TEST_F(EwsItemsTest, CopyItemReturnsNewIdAndKeepsOriginal) {
  const std::string id = Mail("copy me");
  const HttpReply r = MoveOrCopy("CopyItem", id, "<t:DistinguishedFolderId Id=\"drafts\"/>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "CopyItem"), "Success");
  const std::string copy = soap.Find("ItemId").attribute("Id").value();
  EXPECT_NE(copy, id);
  EXPECT_EQ(ResponseClass(Soap(GetItem(id, "").body), "GetItem"), "Success");
  Soap got(GetItem(copy, "<t:FieldURI FieldURI=\"item:Subject\"/>").body);
  EXPECT_EQ(got.Text("Subject"), "copy me");
}

// Verifies ReturnNewItemIds false answers Success with an empty Items element.
TEST_F(EwsItemsTest, CopyItemReturnNewItemIdsFalseOmitsIds) {
  const std::string id = Mail("copy me");
  const HttpReply r = MoveOrCopy("CopyItem", id, "<t:DistinguishedFolderId Id=\"drafts\"/>",
                                 "<m:ReturnNewItemIds>false</m:ReturnNewItemIds>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "CopyItem"), "Success");
  EXPECT_TRUE(soap.Find("Items"));
  EXPECT_FALSE(soap.Find("ItemId"));
}

// Verifies a target folder that does not exist is ErrorToFolderNotFound.
TEST_F(EwsItemsTest, CopyItemMissingTargetIsToFolderNotFound) {
  const std::string id = Mail("copy me");
  const HttpReply r = MoveOrCopy("CopyItem", id, "<t:DistinguishedFolderId Id=\"calendar\"/>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorToFolderNotFound");
}

// Verifies deleting an item twice answers ErrorItemNotFound the second time.
TEST_F(EwsItemsTest, DeleteItemTwiceIsItemNotFound) {
  const std::string id = Mail("delete me");
  const std::string request = "<m:DeleteItem DeleteType=\"HardDelete\"><m:ItemIds><t:ItemId Id=\"" +
                              id + "\"/></m:ItemIds></m:DeleteItem>";
  EXPECT_EQ(ResponseClass(Soap(Call(request).body), "DeleteItem"), "Success");
  Soap soap(Call(request).body);
  EXPECT_EQ(ResponseClass(soap, "DeleteItem"), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorItemNotFound");
  EXPECT_EQ(soap.Text("MessageText"), "The specified object was not found in the store.");
}

// ---- ResolveNames ----

// Verifies an SMTP address resolves to its one mailbox, without contact data unless asked.
TEST_F(EwsItemsTest, ResolveNamesBySmtpAddress) {
  const HttpReply r = Resolve("MONITOR@contoso.com");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "ResolveNames"), "Success");
  const pugi::xml_node set = soap.Find("ResolutionSet");
  EXPECT_STREQ(set.attribute("TotalItemsInView").value(), "1");
  EXPECT_STREQ(set.attribute("IncludesLastItemInRange").value(), "true");
  EXPECT_EQ(soap.Text("Name"), "Monitor");
  EXPECT_EQ(soap.Text("EmailAddress"), kMonitor);
  EXPECT_EQ(soap.Text("RoutingType"), "SMTP");
  EXPECT_EQ(soap.Text("MailboxType"), "Mailbox");
  EXPECT_FALSE(soap.Find("Contact"));
}

// Verifies ReturnFullContactData adds the directory contact with its proxy addresses.
TEST_F(EwsItemsTest, ResolveNamesFullContactData) {
  Soap soap(Resolve("monitor@contoso.com", true).body);
  EXPECT_EQ(soap.Text("DisplayName"), "Monitor");
  const pugi::xml_node entry = soap.Find("Entry");
  EXPECT_STREQ(entry.attribute("Key").value(), "EmailAddress1");
  EXPECT_EQ(std::string(entry.text().as_string()), std::string("SMTP:") + kMonitor);
  EXPECT_EQ(soap.Text("ContactSource"), "ActiveDirectory");
}

// Verifies an ambiguous display-name prefix is a Warning carrying every candidate, sorted by
// display name.
TEST_F(EwsItemsTest, ResolveNamesAmbiguousPrefixIsWarning) {
  AddMailbox("mia@contoso.com", "Mia Jones");
  AddMailbox("michael@contoso.com", "Michael Brown");
  const HttpReply r = Resolve("mi");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "ResolveNames"), "Warning");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorNameResolutionMultipleResults");
  EXPECT_EQ(soap.Text("MessageText"), "Multiple results were found.");
  EXPECT_STREQ(soap.Find("ResolutionSet").attribute("TotalItemsInView").value(), "2");
  EXPECT_EQ(Texts(soap, "Name"), (Strings{"Mia Jones", "Michael Brown"}));
}

// Verifies a prefix of a later word of the display name resolves too.
TEST_F(EwsItemsTest, ResolveNamesMatchesWordPrefix) {
  AddMailbox("mia@contoso.com", "Mia Jones");
  Soap soap(Resolve("jon").body);
  EXPECT_EQ(ResponseClass(soap, "ResolveNames"), "Success");
  EXPECT_EQ(soap.Text("EmailAddress"), "mia@contoso.com");
}

// Verifies a name nobody has is ErrorNameResolutionNoResults.
TEST_F(EwsItemsTest, ResolveNamesNoMatchIsNoResults) {
  const HttpReply r = Resolve("nobody");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(ResponseClass(soap, "ResolveNames"), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorNameResolutionNoResults");
  EXPECT_EQ(soap.Text("MessageText"), "No results were found.");
  EXPECT_FALSE(soap.Find("ResolutionSet"));
}

// Verifies mailboxes of another tenant never resolve.
TEST_F(EwsItemsTest, ResolveNamesIgnoresOtherTenants) {
  AddMailbox("outsider@fabrikam.com", "Outsider", "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
  EXPECT_EQ(Soap(Resolve("outsider@fabrikam.com").body).Text("ResponseCode"),
            "ErrorNameResolutionNoResults");
}

// Verifies a Contacts-only search finds nothing: the mock keeps no personal contacts.
TEST_F(EwsItemsTest, ResolveNamesContactsScopeFindsNothing) {
  EXPECT_EQ(Soap(Resolve("monitor@contoso.com", false, "Contacts").body).Text("ResponseCode"),
            "ErrorNameResolutionNoResults");
}

// Verifies an empty UnresolvedEntry is a schema fault.
TEST_F(EwsItemsTest, ResolveNamesEmptyEntryIsSchemaFault) {
  const HttpReply r = Resolve("");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("faultcode"), "a:ErrorSchemaValidation");
}

}  // namespace
}  // namespace exo::mock_ews::test
