// mock-ews's folder operations end to end: GetFolder for every distinguished folder, FindFolder
// (traversals, paged views, one message per parent) and CreateFolder, as ews.md §2.1-§2.2 and
// messages.xsd describe them.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ews_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

class EwsFoldersTest : public EwsTest {
 protected:
  static std::string FindFolder(const std::string& traversal, const std::string& view,
                                const std::string& parents) {
    return "<m:FindFolder Traversal=\"" + traversal +
           "\"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>" + view +
           "<m:ParentFolderIds>" + parents + "</m:ParentFolderIds></m:FindFolder>";
  }

  static std::string CreateFolder(const std::string& parent, const std::string& folders) {
    return "<m:CreateFolder><m:ParentFolderId>" + parent + "</m:ParentFolderId><m:Folders>" +
           folders + "</m:Folders></m:CreateFolder>";
  }

  // Creates a folder under the Inbox and returns its id.
  std::string CreateUnderInbox(const std::string& name) {
    const HttpReply r =
        Call(CreateFolder("<t:DistinguishedFolderId Id=\"inbox\"/>",
                          "<t:Folder><t:DisplayName>" + name + "</t:DisplayName></t:Folder>"));
    const std::string id = Soap(r.body).Find("FolderId").attribute("Id").value();
    EXPECT_FALSE(id.empty()) << r.body;
    return id;
  }

  static std::vector<std::string> Texts(const Soap& soap, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& n : soap.doc.select_nodes(("//*[local-name()='" + name + "']").c_str())) {
      out.push_back(n.node().text().as_string());
    }
    return out;
  }
};

const std::vector<std::string> kDistinguished = {
    "root", "msgfolderroot", "inbox", "sentitems", "deleteditems", "drafts", "junkemail", "outbox"};

// Verifies GetFolder AllProperties answers one Success message per distinguished folder a client
// uses, in request order, each with its id, name and counts.
TEST_F(EwsFoldersTest, GetFolderAllPropertiesForEveryDistinguishedFolder) {
  std::string ids;
  for (const auto& name : kDistinguished) ids += "<t:DistinguishedFolderId Id=\"" + name + "\"/>";
  const HttpReply r = Call(
      "<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape>"
      "<m:FolderIds>" +
      ids + "</m:FolderIds></m:GetFolder>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  ASSERT_EQ(soap.Count("GetFolderResponseMessage"), kDistinguished.size()) << r.body;
  for (const auto& m : soap.doc.select_nodes("//*[local-name()='GetFolderResponseMessage']")) {
    EXPECT_STREQ(m.node().attribute("ResponseClass").value(), "Success");
  }
  EXPECT_EQ(soap.Count("FolderId"), kDistinguished.size());
  EXPECT_EQ(soap.Count("ParentFolderId"), kDistinguished.size() - 1) << "root has no parent";
  EXPECT_EQ(soap.Count("EffectiveRights"), kDistinguished.size());
  EXPECT_EQ(soap.Count("UnreadCount"), kDistinguished.size());
  const std::vector<std::string> names = Texts(soap, "DisplayName");
  ASSERT_EQ(names.size(), kDistinguished.size());
  EXPECT_EQ(names[2], "Inbox");
  EXPECT_EQ(names[3], "Sent Items");
}

// Verifies GetFolder's common AdditionalProperties on an IdOnly shape return just those
// properties, for the root as for the Inbox.
TEST_F(EwsFoldersTest, GetFolderAdditionalPropertiesOnIdOnly) {
  const HttpReply r = Call(
      "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
      "<t:FieldURI FieldURI=\"folder:DisplayName\"/><t:FieldURI FieldURI=\"folder:FolderClass\"/>"
      "<t:FieldURI FieldURI=\"folder:TotalCount\"/></t:AdditionalProperties></m:FolderShape>"
      "<m:FolderIds><t:DistinguishedFolderId Id=\"root\"/><t:DistinguishedFolderId Id=\"inbox\"/>"
      "</m:FolderIds></m:GetFolder>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_EQ(soap.Count("DisplayName"), 2u);
  EXPECT_EQ(soap.Count("TotalCount"), 2u);
  EXPECT_EQ(soap.Count("FolderClass"), 1u) << "the root has no folder class";
  EXPECT_EQ(soap.Count("UnreadCount"), 0u);
  EXPECT_EQ(soap.Count("ChildFolderCount"), 0u);
}

// Verifies a schema-valid distinguished name of a folder the mailbox lacks is an
// ErrorFolderNotFound message beside the other ids' answers, not a fault.
TEST_F(EwsFoldersTest, GetFolderMissingDistinguishedFolderIsFolderNotFound) {
  const HttpReply r = Call(
      "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
      "<m:FolderIds><t:DistinguishedFolderId Id=\"archivemsgfolderroot\"/>"
      "<t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>");
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const auto messages = soap.doc.select_nodes("//*[local-name()='GetFolderResponseMessage']");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_STREQ(messages[0].node().attribute("ResponseClass").value(), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorFolderNotFound");
  EXPECT_EQ(soap.Text("MessageText"), "The specified folder could not be found in the store.");
  EXPECT_STREQ(messages[1].node().attribute("ResponseClass").value(), "Success");
}

// Verifies a distinguished name outside the schema's enumeration fails the request as a
// schema fault.
TEST_F(EwsFoldersTest, GetFolderUnknownDistinguishedNameIsSchemaFault) {
  const HttpReply r = Call(
      "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
      "<m:FolderIds><t:DistinguishedFolderId Id=\"nosuchfolder\"/></m:FolderIds>"
      "</m:GetFolder>");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("faultcode"), "a:ErrorSchemaValidation");
}

// Verifies a Shallow FindFolder lists the direct children with the paging attributes every
// client reads.
TEST_F(EwsFoldersTest, FindFolderShallowListsChildren) {
  const HttpReply r =
      Call(FindFolder("Shallow", "", "<t:DistinguishedFolderId Id=\"msgfolderroot\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("FindFolderResponseMessage").attribute("ResponseClass").value(),
               "Success");
  const pugi::xml_node root = soap.Find("RootFolder");
  EXPECT_STREQ(root.attribute("TotalItemsInView").value(), "6");
  EXPECT_STREQ(root.attribute("IncludesLastItemInRange").value(), "true");
  EXPECT_STREQ(root.attribute("IndexedPagingOffset").value(), "6");
  const std::vector<std::string> names = Texts(soap, "DisplayName");
  EXPECT_EQ(names.size(), 6u);
  EXPECT_NE(std::find(names.begin(), names.end(), "Inbox"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "Top of Information Store"), names.end());
}

// Verifies a Deep FindFolder walks the whole subtree, custom folders included.
TEST_F(EwsFoldersTest, FindFolderDeepWalksSubtree) {
  CreateUnderInbox("Invoices");
  const HttpReply r = Call(FindFolder("Deep", "", "<t:DistinguishedFolderId Id=\"root\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("RootFolder").attribute("TotalItemsInView").value(), "8");
  const std::vector<std::string> names = Texts(soap, "DisplayName");
  EXPECT_NE(std::find(names.begin(), names.end(), "Invoices"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "Top of Information Store"), names.end());
}

// Verifies IndexedPageFolderView returns the asked window and where the next page starts.
TEST_F(EwsFoldersTest, FindFolderIndexedPageView) {
  const HttpReply r = Call(FindFolder(
      "Shallow",
      "<m:IndexedPageFolderView MaxEntriesReturned=\"2\" Offset=\"1\" BasePoint=\"Beginning\"/>",
      "<t:DistinguishedFolderId Id=\"msgfolderroot\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const pugi::xml_node root = soap.Find("RootFolder");
  EXPECT_STREQ(root.attribute("IndexedPagingOffset").value(), "3");
  EXPECT_STREQ(root.attribute("TotalItemsInView").value(), "6");
  EXPECT_STREQ(root.attribute("IncludesLastItemInRange").value(), "false");
  EXPECT_EQ(soap.Count("Folder"), 2u);
}

// Verifies FractionalPageFolderView starts Numerator/Denominator into the result and answers
// NumeratorOffset over AbsoluteDenominator.
TEST_F(EwsFoldersTest, FindFolderFractionalPageView) {
  const HttpReply r = Call(FindFolder(
      "Shallow",
      "<m:FractionalPageFolderView MaxEntriesReturned=\"2\" Numerator=\"1\" Denominator=\"2\"/>",
      "<t:DistinguishedFolderId Id=\"msgfolderroot\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const pugi::xml_node root = soap.Find("RootFolder");
  EXPECT_STREQ(root.attribute("NumeratorOffset").value(), "5");
  EXPECT_STREQ(root.attribute("AbsoluteDenominator").value(), "6");
  EXPECT_STREQ(root.attribute("TotalItemsInView").value(), "6");
  EXPECT_STREQ(root.attribute("IncludesLastItemInRange").value(), "false");
  EXPECT_FALSE(root.attribute("IndexedPagingOffset"));
  EXPECT_EQ(soap.Count("Folder"), 2u);
}

// Verifies a fractional view with Numerator above Denominator is an error message.
TEST_F(EwsFoldersTest, FindFolderInvalidFractionIsError) {
  const HttpReply r =
      Call(FindFolder("Shallow", "<m:FractionalPageFolderView Numerator=\"3\" Denominator=\"2\"/>",
                      "<t:DistinguishedFolderId Id=\"inbox\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("FindFolderResponseMessage").attribute("ResponseClass").value(), "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidFractionalPagingParameters");
}

// Verifies each parent folder id gets its own message: a malformed one fails alone.
TEST_F(EwsFoldersTest, FindFolderAnswersPerParent) {
  const HttpReply r = Call(FindFolder(
      "Shallow", "", "<t:DistinguishedFolderId Id=\"inbox\"/><t:FolderId Id=\"AAMkAGarbage\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const auto messages = soap.doc.select_nodes("//*[local-name()='FindFolderResponseMessage']");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_STREQ(messages[0].node().attribute("ResponseClass").value(), "Success");
  EXPECT_STREQ(messages[1].node().attribute("ResponseClass").value(), "Error");
  EXPECT_STREQ(messages[1].node().select_node("*[local-name()='ResponseCode']").node().text().get(),
               "ErrorInvalidIdMalformed");
}

// Verifies the SoftDeleted traversal finds nothing: the store keeps no soft-deleted folders.
TEST_F(EwsFoldersTest, FindFolderSoftDeletedFindsNone) {
  const HttpReply r =
      Call(FindFolder("SoftDeleted", "", "<t:DistinguishedFolderId Id=\"inbox\"/>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("RootFolder").attribute("TotalItemsInView").value(), "0");
  EXPECT_EQ(soap.Count("Folder"), 0u);
}

// Verifies a folder restriction is ErrorUnsupportedQueryFilter (the mock evaluates none).
TEST_F(EwsFoldersTest, FindFolderRestrictionIsUnsupported) {
  const HttpReply r = Call(
      "<m:FindFolder Traversal=\"Shallow\"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>"
      "</m:FolderShape><m:Restriction><t:IsEqualTo><t:FieldURI FieldURI=\"folder:DisplayName\"/>"
      "<t:FieldURIOrConstant><t:Constant Value=\"Inbox\"/></t:FieldURIOrConstant></t:IsEqualTo>"
      "</m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id=\"msgfolderroot\"/>"
      "</m:ParentFolderIds></m:FindFolder>");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Soap(r.body).Text("ResponseCode"), "ErrorUnsupportedQueryFilter");
}

// Verifies a Traversal outside the enumeration is a schema fault.
TEST_F(EwsFoldersTest, FindFolderInvalidTraversalIsSchemaFault) {
  const HttpReply r = Call(FindFolder("Sideways", "", "<t:DistinguishedFolderId Id=\"inbox\"/>"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Soap(r.body).Text("faultcode"), "a:ErrorSchemaValidation");
}

// Verifies CreateFolder answers the new folder's id, and GetFolder then shows its name and class.
TEST_F(EwsFoldersTest, CreateFolderReturnsFolderId) {
  const HttpReply r = Call(CreateFolder(
      "<t:DistinguishedFolderId Id=\"msgfolderroot\"/>",
      "<t:Folder><t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>Projects</t:DisplayName>"
      "</t:Folder>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("CreateFolderResponseMessage").attribute("ResponseClass").value(),
               "Success");
  const pugi::xml_node id = soap.Find("FolderId");
  ASSERT_TRUE(id) << r.body;
  EXPECT_STREQ(id.parent().name(), "t:Folder");
  EXPECT_FALSE(std::string(id.attribute("ChangeKey").value()).empty());
  const HttpReply got = Call(
      "<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape>"
      "<m:FolderIds><t:FolderId Id=\"" +
      std::string(id.attribute("Id").value()) + "\"/></m:FolderIds></m:GetFolder>");
  Soap folder(got.body);
  EXPECT_EQ(folder.Text("DisplayName"), "Projects");
  EXPECT_EQ(folder.Text("FolderClass"), "IPF.Note");
  EXPECT_EQ(folder.Text("TotalCount"), "0");
}

// Verifies a t:Folder without FolderClass gets none.
TEST_F(EwsFoldersTest, CreateFolderWithoutClassHasNone) {
  const std::string id = CreateUnderInbox("Plain");
  const HttpReply got = Call(
      "<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape>"
      "<m:FolderIds><t:FolderId Id=\"" +
      id + "\"/></m:FolderIds></m:GetFolder>");
  Soap folder(got.body);
  EXPECT_EQ(folder.Text("DisplayName"), "Plain");
  EXPECT_FALSE(folder.Find("FolderClass"));
}

// Verifies a name the parent already has (in any case) is ErrorFolderExists.
TEST_F(EwsFoldersTest, CreateFolderExistingNameIsFolderExists) {
  CreateUnderInbox("Receipts");
  const HttpReply r =
      Call(CreateFolder("<t:DistinguishedFolderId Id=\"inbox\"/>",
                        "<t:Folder><t:DisplayName>RECEIPTS</t:DisplayName></t:Folder>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("CreateFolderResponseMessage").attribute("ResponseClass").value(),
               "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorFolderExists");
  EXPECT_TRUE(soap.Find("Folders"));
}

// Verifies several folders get one message each, in order.
TEST_F(EwsFoldersTest, CreateFolderAnswersPerFolder) {
  const HttpReply r = Call(CreateFolder("<t:DistinguishedFolderId Id=\"inbox\"/>",
                                        "<t:Folder><t:DisplayName>A</t:DisplayName></t:Folder>"
                                        "<t:Folder><t:DisplayName>a</t:DisplayName></t:Folder>"
                                        "<t:Folder><t:DisplayName>B</t:DisplayName></t:Folder>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  const auto messages = soap.doc.select_nodes("//*[local-name()='CreateFolderResponseMessage']");
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_STREQ(messages[0].node().attribute("ResponseClass").value(), "Success");
  EXPECT_STREQ(messages[1].node().attribute("ResponseClass").value(), "Error");
  EXPECT_STREQ(messages[2].node().attribute("ResponseClass").value(), "Success");
}

// Verifies a malformed parent id fails every folder of the request with ErrorInvalidIdMalformed.
TEST_F(EwsFoldersTest, CreateFolderMalformedParentIsErrorMessage) {
  const HttpReply r = Call(CreateFolder("<t:FolderId Id=\"AAMkAGarbage\"/>",
                                        "<t:Folder><t:DisplayName>X</t:DisplayName></t:Folder>"));
  ASSERT_EQ(r.status, 200) << r.body;
  Soap soap(r.body);
  EXPECT_STREQ(soap.Find("CreateFolderResponseMessage").attribute("ResponseClass").value(),
               "Error");
  EXPECT_EQ(soap.Text("ResponseCode"), "ErrorInvalidIdMalformed");
}

}  // namespace
}  // namespace exo::mock_ews::test
