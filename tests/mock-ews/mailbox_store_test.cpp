// The mailbox store (mailbox_store.cpp, token_codec.cpp): organizations and mailboxes, the folder
// tree, items and their ids and change keys, views, determinism and concurrent use.
#include "exo/mock_ews/mailbox_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "exo/common/base64.hpp"
#include "store_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// ---- organizations and mailboxes ----

// Verifies organizations need a GUID id, are kept lower-case and cannot be created twice.
TEST_F(StoreTest, CreatesOrganizationsOnce) {
  auto again = store_.CreateOrganization("3F6C2A8E-91B4-4D7A-8E15-2B9C7D4E6F01", "Contoso again");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, codes::kOrganizationExists);
  EXPECT_EQ(again.error().category, ErrorCategory::kConfiguration);
  auto bad = store_.CreateOrganization("contoso", "Contoso");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, codes::kInvalidMailboxSpec);
  auto fabrikam = store_.CreateOrganization("AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", "Fabrikam");
  ASSERT_TRUE(fabrikam.has_value());
  EXPECT_EQ(fabrikam->id, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
  EXPECT_EQ(store_.ListOrganizations().size(), 2u);
}

// Verifies a mailbox gets a GUID, an S-1-5-21 SID, its proxy addresses (primary first), alias,
// UPN and display name defaults.
TEST_F(StoreTest, CreatesMailboxWithDerivedIdentity) {
  auto alice = store_.ResolveMailbox(kAlice);
  ASSERT_TRUE(alice.has_value());
  EXPECT_TRUE(std::regex_match(alice->object_guid,
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")));
  EXPECT_TRUE(std::regex_match(alice->sid, std::regex(R"(S-1-5-21-\d+-\d+-\d+-\d+)")));
  EXPECT_EQ(alice->organization_id, kOrgId);
  EXPECT_EQ(alice->user_principal_name, kAlice);
  EXPECT_EQ(alice->display_name, "Alice Example");
  EXPECT_EQ(alice->alias, "alice");
  EXPECT_EQ(alice->proxy_addresses,
            (std::vector<std::string>{"SMTP:alice@contoso.com", "smtp:a.example@contoso.com"}));
  EXPECT_EQ(alice->kind, MailboxKind::kUser);
  auto bob = store_.ResolveMailbox(kBob);
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->display_name, "bob");
  // Same organization: same domain part of the SID, different RID.
  EXPECT_EQ(alice->sid.substr(0, alice->sid.rfind('-')), bob->sid.substr(0, bob->sid.rfind('-')));
  EXPECT_NE(alice->sid, bob->sid);
}

// Verifies the SID is a function of the organization and the GUID: another store given the same
// inputs derives the same one.
TEST_F(StoreTest, DerivesSidDeterministically) {
  OtherStore other(clock_, 1);
  auto alice = store_.ResolveMailbox(kAlice);
  ASSERT_TRUE(alice.has_value());
  MailboxSpec spec = SpecFor("someone.else@contoso.com");
  spec.object_guid = alice->object_guid;
  auto twin = other.store.CreateMailbox(spec);
  ASSERT_TRUE(twin.has_value()) << twin.error().Describe();
  EXPECT_EQ(twin->sid, alice->sid);
  EXPECT_EQ(twin->object_guid, alice->object_guid);
}

// Verifies lookup by primary or secondary SMTP address, UPN, SID and GUID, in any case, and that
// a typed key only looks in its own index.
TEST_F(StoreTest, ResolvesMailboxByAnyKey) {
  auto alice = store_.ResolveMailbox(kAlice);
  ASSERT_TRUE(alice.has_value());
  for (const std::string& key :
       {std::string("ALICE@Contoso.com"), std::string("A.Example@contoso.com"), alice->sid,
        alice->object_guid, std::string(" alice@contoso.com ")}) {
    SCOPED_TRACE(key);
    auto found = store_.ResolveMailbox(key);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->primary_smtp_address, kAlice);
  }
  EXPECT_TRUE(store_.ResolveMailbox(alice->sid, MailboxKey::kSid).has_value());
  EXPECT_TRUE(store_.ResolveMailbox("a.example@contoso.com", MailboxKey::kSmtpAddress).has_value());
  EXPECT_FALSE(
      store_.ResolveMailbox("a.example@contoso.com", MailboxKey::kUserPrincipalName).has_value());
  EXPECT_FALSE(store_.ResolveMailbox(alice->sid, MailboxKey::kObjectGuid).has_value());
  auto missing = store_.ResolveMailbox("nobody@contoso.com");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, codes::kNonExistentMailbox);
  EXPECT_EQ(missing.error().category, ErrorCategory::kNotFound);
}

// Verifies a mailbox with its UPN distinct from its address resolves by either.
TEST_F(StoreTest, ResolvesSharedMailboxByUpn) {
  MailboxSpec spec = SpecFor("support@contoso.com");
  spec.user_principal_name = "support_ab12@contoso.onmicrosoft.com";
  spec.kind = MailboxKind::kShared;
  spec.directory_object_id = "11111111-2222-4333-8444-555555555555";
  ASSERT_TRUE(store_.CreateMailbox(spec).has_value());
  auto by_upn = store_.ResolveMailbox("SUPPORT_AB12@contoso.onmicrosoft.com");
  ASSERT_TRUE(by_upn.has_value());
  EXPECT_EQ(by_upn->primary_smtp_address, "support@contoso.com");
  EXPECT_EQ(by_upn->kind, MailboxKind::kShared);
  EXPECT_EQ(by_upn->directory_object_id, "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(store_.ListMailboxes(kOrgId).size(), 3u);
}

// Verifies mailbox creation errors: unknown organization, bad addresses, and any address, UPN or
// GUID already in use.
TEST_F(StoreTest, RejectsInvalidOrDuplicateMailboxes) {
  auto expect_error = [&](MailboxSpec spec, const char* code) {
    auto r = store_.CreateMailbox(spec);
    ASSERT_FALSE(r.has_value()) << spec.primary_smtp_address;
    EXPECT_EQ(r.error().code, code) << spec.primary_smtp_address;
  };
  MailboxSpec base;
  base.organization_id = kOrgId;
  base.primary_smtp_address = "new@contoso.com";

  MailboxSpec s = base;
  s.organization_id = "99999999-9999-4999-8999-999999999999";
  expect_error(s, codes::kOrganizationNotFound);
  for (const char* bad :
       {"", "no-at-sign", "two@@contoso.com", "space @contoso.com", "@contoso.com", "x@"}) {
    s = base;
    s.primary_smtp_address = bad;
    expect_error(s, codes::kInvalidMailboxSpec);
  }
  s = base;
  s.primary_smtp_address = "Alice@CONTOSO.com";
  expect_error(s, codes::kProxyAddressExists);
  s = base;
  s.secondary_smtp_addresses = {"smtp:a.example@contoso.com"};
  expect_error(s, codes::kProxyAddressExists);
  s = base;
  s.user_principal_name = kBob;
  expect_error(s, codes::kProxyAddressExists);
  s = base;
  s.object_guid = store_.ResolveMailbox(kAlice)->object_guid;
  expect_error(s, codes::kProxyAddressExists);
  s = base;
  s.object_guid = "not-a-guid";
  expect_error(s, codes::kInvalidMailboxSpec);
  EXPECT_EQ(store_.ListMailboxes().size(), 2u);
}

// Verifies removing a mailbox makes its addresses, folder ids and item ids stop resolving.
TEST_F(StoreTest, RemovesMailboxAndItsIds) {
  const Item item = Deliver("bye");
  const std::string inbox = Inbox();
  ASSERT_TRUE(store_.RemoveMailbox("A.EXAMPLE@contoso.com").has_value());
  EXPECT_EQ(store_.ResolveMailbox(kAlice).error().code, codes::kNonExistentMailbox);
  EXPECT_EQ(store_.GetItem(item.id).error().code, codes::kItemNotFound);
  EXPECT_EQ(store_.GetFolder(inbox).error().code, codes::kFolderNotFound);
  EXPECT_EQ(store_.MailboxOfId(inbox).error().code, codes::kNonExistentMailbox);
  EXPECT_EQ(store_.RemoveMailbox(kAlice).error().code, codes::kNonExistentMailbox);
  // The address is free again, and the new mailbox's ids are new.
  ASSERT_TRUE(store_.CreateMailbox(SpecFor(kAlice)).has_value());
  EXPECT_NE(Inbox(), inbox);
  EXPECT_EQ(store_.GetItem(item.id).error().code, codes::kItemNotFound);
}

// Verifies removing an organization removes its mailboxes and only those.
TEST_F(StoreTest, RemovesOrganizationWithItsMailboxes) {
  ASSERT_TRUE(store_.CreateOrganization("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "Fabrikam"));
  MailboxSpec spec = SpecFor("zed@fabrikam.com");
  spec.organization_id = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  ASSERT_TRUE(store_.CreateMailbox(spec).has_value());
  ASSERT_TRUE(store_.RemoveOrganization(kOrgId).has_value());
  EXPECT_FALSE(store_.ResolveMailbox(kAlice).has_value());
  EXPECT_FALSE(store_.ResolveMailbox(kBob).has_value());
  EXPECT_TRUE(store_.ResolveMailbox("zed@fabrikam.com").has_value());
  EXPECT_EQ(store_.RemoveOrganization(kOrgId).error().code, codes::kOrganizationNotFound);
}

// Verifies MailboxOfId names the owner of item and folder ids and refuses anything else.
TEST_F(StoreTest, FindsMailboxOfId) {
  const Item item = Deliver("x");
  EXPECT_EQ(store_.MailboxOfId(item.id)->primary_smtp_address, kAlice);
  EXPECT_EQ(store_.MailboxOfId(Inbox(kBob))->primary_smtp_address, kBob);
  EXPECT_EQ(store_.MailboxOfId("garbage").error().code, codes::kInvalidIdMalformed);
  EXPECT_EQ(store_.MailboxOfId(*store_.CurrentWatermark(kAlice)).error().code,
            codes::kInvalidIdMalformed);
}

// ---- folders ----

// Verifies the distinguished folder tree: root above msgfolderroot above the six mail folders,
// with names, classes and counts.
TEST_F(StoreTest, BuildsDistinguishedFolderTree) {
  const Folder root = FolderNow(FolderIdOf(kAlice, DistinguishedFolder::kRoot));
  const Folder top = FolderNow(FolderIdOf(kAlice, DistinguishedFolder::kMsgFolderRoot));
  EXPECT_EQ(root.parent_id, "");
  EXPECT_EQ(root.distinguished, DistinguishedFolder::kRoot);
  EXPECT_EQ(root.child_folder_count, 1u);
  EXPECT_EQ(top.parent_id, root.id);
  EXPECT_EQ(top.display_name, "Top of Information Store");
  EXPECT_EQ(top.child_folder_count, 6u);
  const std::vector<std::pair<DistinguishedFolder, const char*>> expected = {
      {DistinguishedFolder::kInbox, "Inbox"},
      {DistinguishedFolder::kSentItems, "Sent Items"},
      {DistinguishedFolder::kDeletedItems, "Deleted Items"},
      {DistinguishedFolder::kDrafts, "Drafts"},
      {DistinguishedFolder::kJunkEmail, "Junk Email"},
      {DistinguishedFolder::kOutbox, "Outbox"}};
  std::set<std::string> ids = {root.id, top.id};
  for (const auto& [which, name] : expected) {
    const Folder f = FolderNow(FolderIdOf(kAlice, which));
    EXPECT_EQ(f.display_name, name);
    EXPECT_EQ(f.parent_id, top.id);
    EXPECT_EQ(f.folder_class, "IPF.Note");
    EXPECT_EQ(f.distinguished, which);
    EXPECT_EQ(f.mailbox, kAlice);
    EXPECT_EQ(f.total_count, 0u);
    EXPECT_EQ(f.change_key.substr(0, 11), "AQAAABYAAAB");
    ids.insert(f.id);
  }
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_NE(Inbox(kAlice), Inbox(kBob));
  EXPECT_EQ(store_.GetDistinguishedFolder("nobody@x.com", DistinguishedFolder::kInbox).error().code,
            codes::kNonExistentMailbox);
}

// Verifies distinguished names map both ways, case-insensitively.
TEST(DistinguishedFolderTest, ParsesAndPrintsNames) {
  for (auto f : {DistinguishedFolder::kRoot, DistinguishedFolder::kMsgFolderRoot,
                 DistinguishedFolder::kInbox, DistinguishedFolder::kSentItems,
                 DistinguishedFolder::kDeletedItems, DistinguishedFolder::kDrafts,
                 DistinguishedFolder::kJunkEmail, DistinguishedFolder::kOutbox}) {
    EXPECT_EQ(ParseDistinguishedFolder(ToString(f)), f);
  }
  EXPECT_EQ(ParseDistinguishedFolder("SentItems"), DistinguishedFolder::kSentItems);
  EXPECT_STREQ(ToString(DistinguishedFolder::kMsgFolderRoot), "msgfolderroot");
  EXPECT_FALSE(ParseDistinguishedFolder("calendar").has_value());
}

// Verifies custom folders under any folder, duplicate names per parent (case-insensitive) refused
// with ErrorFolderExists, the parent's child count, and shallow and deep listing order.
TEST_F(StoreTest, CreatesCustomFolders) {
  auto projects = store_.CreateFolder(Inbox(), "Projects");
  ASSERT_TRUE(projects.has_value());
  EXPECT_EQ(projects->parent_id, Inbox());
  EXPECT_EQ(projects->folder_class, "IPF.Note");
  EXPECT_FALSE(projects->distinguished.has_value());
  auto dup = store_.CreateFolder(Inbox(), "PROJECTS");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, codes::kFolderExists);
  auto clash =
      store_.CreateFolder(FolderIdOf(kAlice, DistinguishedFolder::kMsgFolderRoot), "inbox");
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code, codes::kFolderExists);
  EXPECT_EQ(store_.CreateFolder(Inbox(), "  ").error().code, codes::kInvalidArgument);
  auto alpha = store_.CreateFolder(projects->id, "Alpha");
  auto beta = store_.CreateFolder(projects->id, "Beta");
  auto elsewhere = store_.CreateFolder(FolderIdOf(kAlice, DistinguishedFolder::kRoot), "Projects");
  ASSERT_TRUE(alpha && beta && elsewhere);
  EXPECT_EQ(FolderNow(Inbox()).child_folder_count, 1u);
  EXPECT_EQ(FolderNow(projects->id).child_folder_count, 2u);

  auto shallow = store_.ListChildFolders(Inbox());
  ASSERT_TRUE(shallow.has_value());
  ASSERT_EQ(shallow->size(), 1u);
  EXPECT_EQ((*shallow)[0].display_name, "Projects");
  auto deep =
      store_.ListChildFolders(FolderIdOf(kAlice, DistinguishedFolder::kMsgFolderRoot), true);
  ASSERT_TRUE(deep.has_value());
  std::vector<std::string> names;
  for (const auto& f : *deep) names.push_back(f.display_name);
  EXPECT_EQ(names, (std::vector<std::string>{"Inbox", "Projects", "Alpha", "Beta", "Sent Items",
                                             "Deleted Items", "Drafts", "Junk Email", "Outbox"}));
}

// Verifies folder id errors: malformed, an item id, a foreign store's id, a deleted folder.
TEST_F(StoreTest, ReportsFolderIdErrors) {
  const Item item = Deliver("x");
  EXPECT_EQ(store_.GetFolder("").error().code, codes::kInvalidIdMalformed);
  EXPECT_EQ(store_.GetFolder("!!!").error().code, codes::kInvalidIdMalformed);
  EXPECT_EQ(store_.GetFolder(item.id).error().code, codes::kItemIdForFolderId);
  OtherStore other(clock_, 5);
  EXPECT_EQ(store_.GetFolder(other.Inbox()).error().code, codes::kInvalidIdMalformed);
  auto f = store_.CreateFolder(Inbox(), "Temp");
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(store_.DeleteFolder(f->id).has_value());
  auto gone = store_.GetFolder(f->id);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, codes::kFolderNotFound);
  EXPECT_EQ(gone.error().category, ErrorCategory::kNotFound);
}

// Verifies renaming: custom folders only, no sibling clash, a new change key.
TEST_F(StoreTest, RenamesCustomFolders) {
  auto a = store_.CreateFolder(Inbox(), "A");
  auto b = store_.CreateFolder(Inbox(), "B");
  ASSERT_TRUE(a && b);
  auto renamed = store_.RenameFolder(a->id, "Archive");
  ASSERT_TRUE(renamed.has_value());
  EXPECT_EQ(renamed->display_name, "Archive");
  EXPECT_EQ(renamed->id, a->id);
  EXPECT_NE(renamed->change_key, a->change_key);
  EXPECT_EQ(store_.RenameFolder(a->id, "b").error().code, codes::kFolderExists);
  EXPECT_TRUE(store_.RenameFolder(b->id, "b").has_value());  // its own name in another case
  EXPECT_EQ(store_.RenameFolder(Inbox(), "Mail").error().code, codes::kInvalidArgument);
}

// Verifies moving folders: id kept, counts on both parents, and the refusals (distinguished,
// into itself or a descendant, another mailbox, a name clash, a missing target).
TEST_F(StoreTest, MovesCustomFolders) {
  auto a = store_.CreateFolder(Inbox(), "A");
  ASSERT_TRUE(a.has_value());
  auto child = store_.CreateFolder(a->id, "Child");
  ASSERT_TRUE(child.has_value());
  const std::string drafts = FolderIdOf(kAlice, DistinguishedFolder::kDrafts);
  auto moved = store_.MoveFolder(a->id, drafts);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->id, a->id);
  EXPECT_EQ(moved->parent_id, drafts);
  EXPECT_EQ(FolderNow(Inbox()).child_folder_count, 0u);
  EXPECT_EQ(FolderNow(drafts).child_folder_count, 1u);
  EXPECT_EQ(store_.MoveFolder(a->id, child->id).error().code, codes::kMoveCopyFailed);
  EXPECT_EQ(store_.MoveFolder(a->id, a->id).error().code, codes::kMoveCopyFailed);
  EXPECT_EQ(store_.MoveFolder(Inbox(), drafts).error().code, codes::kMoveDistinguishedFolder);
  EXPECT_EQ(store_.MoveFolder(a->id, Inbox(kBob)).error().code, codes::kCrossMailboxMoveCopy);
  ASSERT_TRUE(store_.CreateFolder(Inbox(), "Child").has_value());
  EXPECT_EQ(store_.MoveFolder(child->id, Inbox()).error().code, codes::kFolderExists);
  auto doomed = store_.CreateFolder(Inbox(), "Doomed");
  ASSERT_TRUE(doomed && store_.DeleteFolder(doomed->id));
  EXPECT_EQ(store_.MoveFolder(a->id, doomed->id).error().code, codes::kToFolderNotFound);
}

// Verifies deleting a folder takes its subfolders and items, refuses distinguished folders, and
// updates the parent.
TEST_F(StoreTest, DeletesFolderSubtree) {
  auto a = store_.CreateFolder(Inbox(), "A");
  ASSERT_TRUE(a.has_value());
  auto b = store_.CreateFolder(a->id, "B");
  ASSERT_TRUE(b.has_value());
  const Item in_a = Deliver("in a", 1, a->id);
  const Item in_b = Deliver("in b", 2, b->id);
  ASSERT_TRUE(store_.DeleteFolder(a->id).has_value());
  EXPECT_EQ(store_.GetFolder(b->id).error().code, codes::kFolderNotFound);
  EXPECT_EQ(store_.GetItem(in_a.id).error().code, codes::kItemNotFound);
  EXPECT_EQ(store_.GetItem(in_b.id).error().code, codes::kItemNotFound);
  EXPECT_EQ(FolderNow(Inbox()).child_folder_count, 0u);
  auto refused = store_.DeleteFolder(FolderIdOf(kAlice, DistinguishedFolder::kDeletedItems));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, codes::kDeleteDistinguishedFolder);
}

// ---- items ----

// Verifies delivery: the MIME kept verbatim, fields extracted, unread, DateTimeReceived from the
// clock, size, the folder's counts and change key.
TEST_F(StoreTest, DeliversMailToInbox) {
  clock_.Advance(minutes(5));
  const Folder before = FolderNow(Inbox());
  const std::string mime = SimpleMime("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", 7);
  auto item = store_.DeliverToInbox("A.Example@Contoso.com", mime);
  ASSERT_TRUE(item.has_value()) << item.error().Describe();
  EXPECT_EQ(*item->mime, mime);
  EXPECT_EQ(item->size, mime.size());
  EXPECT_EQ(item->fields.subject,
            "Gr\xC3\xBC\xC3\x9F"
            "e");
  EXPECT_EQ(item->fields.from->address, "carol@fabrikam.com");
  EXPECT_EQ(item->fields.internet_message_id, "<msg-7@fabrikam.com>");
  EXPECT_FALSE(item->is_read);
  EXPECT_FALSE(item->is_draft);
  EXPECT_EQ(item->date_time_received, clock_.Now());
  EXPECT_EQ(item->date_time_created, clock_.Now());
  EXPECT_EQ(item->parent_folder_id, Inbox());
  EXPECT_EQ(item->mailbox, kAlice);
  EXPECT_EQ(item->change_key.size(), 40u);
  EXPECT_EQ(item->change_key.substr(0, 11), "CQAAABYAAAB");
  const Folder after = FolderNow(Inbox());
  EXPECT_EQ(after.total_count, 1u);
  EXPECT_EQ(after.unread_count, 1u);
  EXPECT_NE(after.change_key, before.change_key);
  auto got = store_.GetItem(item->id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->change_key, item->change_key);
  EXPECT_EQ(got->fields.subject, item->fields.subject);
}

// Verifies CreateItem applies its options (read, draft, categories, importance over the header).
TEST_F(StoreTest, CreatesItemWithOptions) {
  NewItemOptions options;
  options.is_draft = true;
  options.categories = {"Red", "Blue"};
  options.importance = Importance::kLow;
  const std::string drafts = FolderIdOf(kAlice, DistinguishedFolder::kDrafts);
  auto item = store_.CreateItem(drafts, SimpleMime("draft"), options);
  ASSERT_TRUE(item.has_value());
  EXPECT_TRUE(item->is_read);
  EXPECT_TRUE(item->is_draft);
  EXPECT_EQ(item->categories, (std::vector<std::string>{"Red", "Blue"}));
  EXPECT_EQ(item->importance, Importance::kLow);
  EXPECT_EQ(FolderNow(drafts).unread_count, 0u);
  EXPECT_EQ(FolderNow(drafts).total_count, 1u);
}

// Verifies ComposeMime dates the message by the store clock and generates a Message-ID on the
// sender's domain; the stored item reads back the draft's fields.
TEST_F(StoreTest, ComposesMimeForItemsCreatedFromFields) {
  clock_.Advance(std::chrono::hours(3));
  MessageDraft draft;
  draft.from = {"Alice Example", kAlice};
  draft.to = {{"Bob", kBob}};
  draft.subject = "Lunch?";
  draft.body = "At noon.";
  const std::string mime = store_.ComposeMime(draft);
  auto item = store_.CreateItem(FolderIdOf(kAlice, DistinguishedFolder::kSentItems), mime);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->fields.subject, "Lunch?");
  EXPECT_EQ(item->fields.to, draft.to);
  ASSERT_TRUE(item->fields.date.has_value());
  EXPECT_EQ(*item->fields.date, std::chrono::floor<seconds>(clock_.Now()));
  EXPECT_TRUE(std::regex_match(item->fields.internet_message_id,
                               std::regex("<[0-9a-f]{32}@contoso\\.com>")));
  EXPECT_NE(store_.ComposeMime(draft), mime);  // a new Message-ID each time
}

// Verifies the store refuses MIME over its configured limit and empty MIME, storing nothing.
TEST_F(StoreTest, RefusesOversizedOrEmptyMime) {
  StoreOptions options;
  options.max_mime_bytes = 100;
  OtherStore other(clock_, 9, options);
  MailboxStore& small = other.store;
  const std::string inbox = other.Inbox();
  auto big = small.DeliverItem(inbox, "Subject: x\r\n\r\n" + std::string(200, 'x'));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, codes::kMessageSizeExceeded);
  auto empty = small.CreateItem(inbox, "");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, codes::kMimeContentInvalid);
  EXPECT_EQ(small.GetFolder(inbox)->total_count, 0u);
}

// Verifies item ids: stable across reads and updates, distinct per item, and every way an id can
// be bad: malformed, truncated, edited, a folder id, another store's id, a deleted item.
TEST_F(StoreTest, ReportsItemIdErrors) {
  const Item a = Deliver("a", 1);
  const Item b = Deliver("b", 2);
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(store_.GetItem(a.id)->id, a.id);
  auto expect = [&](const std::string& id, const char* code) {
    auto r = store_.GetItem(id);
    ASSERT_FALSE(r.has_value()) << id;
    EXPECT_EQ(r.error().code, code) << id;
  };
  expect("", codes::kInvalidIdMalformed);
  expect("not base64 at all", codes::kInvalidIdMalformed);
  expect(a.id.substr(0, a.id.size() - 4), codes::kInvalidIdMalformed);
  std::string edited = a.id;
  edited[10] = edited[10] == 'A' ? 'B' : 'A';
  expect(edited, codes::kInvalidIdMalformed);
  expect(Base64Encode("AAMkADAwATM0MDAAMS1iNjA3LTExAGE3LTAwAi0wMAoARgAAA"),
         codes::kInvalidIdMalformed);
  expect(Inbox(), codes::kFolderIdForItemId);
  OtherStore other(clock_, 6);
  auto foreign = other.store.DeliverToInbox(kAlice, SimpleMime("foreign"));
  ASSERT_TRUE(foreign.has_value());
  expect(foreign->id, codes::kInvalidIdMalformed);
  ASSERT_TRUE(store_.DeleteItem(a.id, DeleteMode::kHardDelete));
  expect(a.id, codes::kItemNotFound);
  EXPECT_EQ(store_.GetItem(a.id).error().category, ErrorCategory::kNotFound);
  EXPECT_EQ(store_.GetItem(a.id).error().message,
            "The specified object was not found in the store.");
}

// Verifies every real update bumps the change key and keeps the id; read-flag updates move the
// unread count; an update that changes nothing changes nothing.
TEST_F(StoreTest, UpdatesBumpChangeKey) {
  const Item item = Deliver("x");
  ItemUpdate read;
  read.is_read = true;
  auto r1 = store_.UpdateItem(item.id, read);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->id, item.id);
  EXPECT_TRUE(r1->is_read);
  EXPECT_NE(r1->change_key, item.change_key);
  EXPECT_EQ(FolderNow(Inbox()).unread_count, 0u);

  auto same = store_.UpdateItem(item.id, read);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->change_key, r1->change_key);

  ItemUpdate cats;
  cats.categories = std::vector<std::string>{"Follow up"};
  auto r2 = store_.UpdateItem(item.id, cats);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->categories, (std::vector<std::string>{"Follow up"}));
  EXPECT_NE(r2->change_key, r1->change_key);

  ItemUpdate importance;
  importance.importance = Importance::kHigh;
  importance.is_read = false;
  auto r3 = store_.UpdateItem(item.id, importance);
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(r3->importance, Importance::kHigh);
  EXPECT_FALSE(r3->is_read);
  EXPECT_NE(r3->change_key, r2->change_key);
  EXPECT_EQ(FolderNow(Inbox()).unread_count, 1u);
  EXPECT_EQ(store_.GetItem(item.id)->change_key, r3->change_key);
}

// Verifies stale change keys are detected (ErrorIrresolvableConflict) by CheckChangeKey and by an
// UpdateItem that names one, which then changes nothing; a non-change-key is ErrorInvalidChangeKey.
TEST_F(StoreTest, DetectsStaleChangeKeys) {
  const Item item = Deliver("x");
  EXPECT_TRUE(store_.CheckChangeKey(item.id, item.change_key).has_value());
  ItemUpdate read;
  read.is_read = true;
  auto updated = store_.UpdateItem(item.id, read, item.change_key);
  ASSERT_TRUE(updated.has_value());
  auto stale = store_.CheckChangeKey(item.id, item.change_key);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, codes::kIrresolvableConflict);
  ItemUpdate unread;
  unread.is_read = false;
  auto refused = store_.UpdateItem(item.id, unread, item.change_key);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, codes::kIrresolvableConflict);
  EXPECT_TRUE(store_.GetItem(item.id)->is_read);
  EXPECT_EQ(store_.CheckChangeKey(item.id, "CQAAAA==").error().code, codes::kInvalidChangeKey);
  EXPECT_EQ(store_.UpdateItem(item.id, unread, "junk").error().code, codes::kInvalidChangeKey);
  EXPECT_EQ(store_.CheckChangeKey("bad", updated->change_key).error().code,
            codes::kInvalidIdMalformed);
}

// Verifies a move gives a new id and change key (the old id is gone), keeps the content and
// DateTimeReceived, and moves the counts.
TEST_F(StoreTest, MovesItemToNewId) {
  const Item item = Deliver("move me");
  clock_.Advance(minutes(1));
  auto folder = store_.CreateFolder(Inbox(), "Done");
  ASSERT_TRUE(folder.has_value());
  auto moved = store_.MoveItem(item.id, folder->id);
  ASSERT_TRUE(moved.has_value());
  EXPECT_NE(moved->id, item.id);
  EXPECT_NE(moved->change_key, item.change_key);
  EXPECT_EQ(moved->parent_folder_id, folder->id);
  EXPECT_EQ(*moved->mime, *item.mime);
  EXPECT_EQ(moved->date_time_received, item.date_time_received);
  EXPECT_EQ(store_.GetItem(item.id).error().code, codes::kItemNotFound);
  EXPECT_EQ(store_.GetItem(moved->id)->fields.subject, "move me");
  EXPECT_EQ(FolderNow(Inbox()).total_count, 0u);
  EXPECT_EQ(FolderNow(Inbox()).unread_count, 0u);
  EXPECT_EQ(FolderNow(folder->id).total_count, 1u);
  EXPECT_EQ(FolderNow(folder->id).unread_count, 1u);
  // Moving to its own folder is a no-op.
  auto again = store_.MoveItem(moved->id, folder->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, moved->id);
  EXPECT_EQ(again->change_key, moved->change_key);
}

// Verifies move and copy target errors: malformed, missing (ErrorToFolderNotFound), another
// mailbox (ErrorCrossMailboxMoveCopy), an item id; and a missing source item.
TEST_F(StoreTest, ReportsMoveAndCopyErrors) {
  const Item item = Deliver("x");
  auto doomed = store_.CreateFolder(Inbox(), "Doomed");
  ASSERT_TRUE(doomed && store_.DeleteFolder(doomed->id));
  for (auto op : {&MailboxStore::MoveItem, &MailboxStore::CopyItem}) {
    EXPECT_EQ((store_.*op)(item.id, "zzz").error().code, codes::kInvalidIdMalformed);
    EXPECT_EQ((store_.*op)(item.id, doomed->id).error().code, codes::kToFolderNotFound);
    EXPECT_EQ((store_.*op)(item.id, Inbox(kBob)).error().code, codes::kCrossMailboxMoveCopy);
    EXPECT_EQ((store_.*op)(item.id, item.id).error().code, codes::kItemIdForFolderId);
  }
  ASSERT_TRUE(store_.DeleteItem(item.id, DeleteMode::kHardDelete));
  EXPECT_EQ(store_.MoveItem(item.id, Inbox()).error().code, codes::kItemNotFound);
  EXPECT_EQ(store_.CopyItem(item.id, Inbox()).error().code, codes::kItemNotFound);
}

// Verifies a copy is a new item with the same MIME, flags and DateTimeReceived, the source
// untouched.
TEST_F(StoreTest, CopiesItem) {
  const Item item = Deliver("copy me");
  ItemUpdate update;
  update.is_read = true;
  update.categories = std::vector<std::string>{"Keep"};
  const Item source = *store_.UpdateItem(item.id, update);
  clock_.Advance(minutes(2));
  const std::string sent = FolderIdOf(kAlice, DistinguishedFolder::kSentItems);
  auto copy = store_.CopyItem(item.id, sent);
  ASSERT_TRUE(copy.has_value());
  EXPECT_NE(copy->id, item.id);
  EXPECT_EQ(copy->mime, source.mime);  // the same immutable bytes
  EXPECT_TRUE(copy->is_read);
  EXPECT_EQ(copy->categories, source.categories);
  EXPECT_EQ(copy->date_time_received, source.date_time_received);
  EXPECT_EQ(copy->date_time_created, clock_.Now());
  EXPECT_EQ(store_.GetItem(item.id)->change_key, source.change_key);
  auto second = store_.CopyItem(item.id, Inbox());  // a copy into the same folder is fine
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(FolderNow(Inbox()).total_count, 2u);
}

// Verifies the delete modes: hard and soft delete remove, MoveToDeletedItems moves to Deleted
// Items (new id) and deletes from there.
TEST_F(StoreTest, DeletesInEveryMode) {
  const Item hard = Deliver("hard", 1);
  const Item soft = Deliver("soft", 2);
  const Item trash = Deliver("trash", 3);
  ASSERT_TRUE(store_.DeleteItem(hard.id, DeleteMode::kHardDelete));
  ASSERT_TRUE(store_.DeleteItem(soft.id, DeleteMode::kSoftDelete));
  EXPECT_EQ(store_.GetItem(hard.id).error().code, codes::kItemNotFound);
  EXPECT_EQ(store_.GetItem(soft.id).error().code, codes::kItemNotFound);
  ASSERT_TRUE(store_.DeleteItem(trash.id, DeleteMode::kMoveToDeletedItems));
  EXPECT_EQ(store_.GetItem(trash.id).error().code, codes::kItemNotFound);
  const std::string deleted_items = FolderIdOf(kAlice, DistinguishedFolder::kDeletedItems);
  auto in_trash = store_.FindItems(deleted_items, {});
  ASSERT_TRUE(in_trash.has_value());
  ASSERT_EQ(in_trash->items.size(), 1u);
  EXPECT_EQ(in_trash->items[0].fields.subject, "trash");
  ASSERT_TRUE(store_.DeleteItem(in_trash->items[0].id, DeleteMode::kMoveToDeletedItems));
  EXPECT_EQ(FolderNow(deleted_items).total_count, 0u);
  EXPECT_EQ(FolderNow(Inbox()).total_count, 0u);
  EXPECT_EQ(store_.DeleteItem(hard.id, DeleteMode::kHardDelete).error().code, codes::kItemNotFound);
}

// Verifies views: DateTimeReceived descending and ascending with creation-order tie-breaks, a
// filter, and paging with total count, next offset and the last-page flag.
TEST_F(StoreTest, ListsFolderViews) {
  std::vector<std::string> ids;
  for (int k = 0; k < 5; ++k) {
    ids.push_back(Deliver("m" + std::to_string(k), k).id);
    if (k != 2) clock_.Advance(seconds(10));  // m2 and m3 arrive at the same instant
  }
  auto subjects = [](const ItemPage& page) {
    std::vector<std::string> out;
    for (const auto& i : page.items) out.push_back(i.fields.subject);
    return out;
  };
  auto desc = store_.FindItems(Inbox(), {});
  ASSERT_TRUE(desc.has_value());
  EXPECT_EQ(subjects(*desc), (std::vector<std::string>{"m4", "m3", "m2", "m1", "m0"}));
  EXPECT_EQ(desc->total_count, 5u);
  EXPECT_TRUE(desc->includes_last);

  ItemView asc;
  asc.sort = SortOrder::kReceivedAscending;
  EXPECT_EQ(subjects(*store_.FindItems(Inbox(), asc)),
            (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));

  ItemUpdate read;
  read.is_read = true;
  ASSERT_TRUE(store_.UpdateItem(ids[1], read));
  ASSERT_TRUE(store_.UpdateItem(ids[3], read));
  ItemView unread;
  unread.filter = [](const Item& i) { return !i.is_read; };
  unread.max_count = 2;
  auto page1 = store_.FindItems(Inbox(), unread);
  ASSERT_TRUE(page1.has_value());
  EXPECT_EQ(subjects(*page1), (std::vector<std::string>{"m4", "m2"}));
  EXPECT_EQ(page1->total_count, 3u);
  EXPECT_EQ(page1->next_offset, 2u);
  EXPECT_FALSE(page1->includes_last);
  unread.offset = page1->next_offset;
  auto page2 = store_.FindItems(Inbox(), unread);
  ASSERT_TRUE(page2.has_value());
  EXPECT_EQ(subjects(*page2), (std::vector<std::string>{"m0"}));
  EXPECT_EQ(page2->next_offset, 3u);
  EXPECT_TRUE(page2->includes_last);
  unread.offset = 10;
  auto beyond = store_.FindItems(Inbox(), unread);
  ASSERT_TRUE(beyond.has_value());
  EXPECT_TRUE(beyond->items.empty());
  EXPECT_EQ(beyond->total_count, 3u);
  EXPECT_TRUE(beyond->includes_last);
  EXPECT_EQ(store_.FindItems("nope", {}).error().code, codes::kInvalidIdMalformed);
}

// ---- determinism and concurrency ----

struct Transcript {
  std::vector<std::string> values;
};

// Runs one fixed sequence of operations and records every opaque value the store hands out.
Transcript RunScript(std::uint64_t seed) {
  SimulatedClock clock;
  SeededRandom random(seed);
  MailboxStore store(clock, random);
  Transcript t;
  auto keep = [&](const std::string& v) { t.values.push_back(v); };
  EXPECT_TRUE(store.CreateOrganization(kOrgId, "Contoso"));
  const Mailbox mb = *store.CreateMailbox(SpecFor(kAlice));
  keep(mb.object_guid);
  keep(mb.sid);
  const std::string inbox = store.GetDistinguishedFolder(kAlice, DistinguishedFolder::kInbox)->id;
  keep(inbox);
  auto sub = store.Subscribe({kAlice, {inbox}, false, {}, {}, std::nullopt});
  keep(sub->id);
  keep(sub->watermark);
  MessageDraft draft;
  draft.from = {"Alice", kAlice};
  draft.to = {{"Bob", kBob}};
  draft.subject = "Deterministic";
  for (int k = 0; k < 3; ++k) {
    clock.Advance(seconds(7));
    const std::string mime = store.ComposeMime(draft);
    keep(mime);
    const Item item = *store.DeliverItem(inbox, mime);
    keep(item.id);
    keep(item.change_key);
  }
  const Folder custom = *store.CreateFolder(inbox, "Custom");
  keep(custom.id);
  keep(custom.change_key);
  const ItemPage page = *store.FindItems(inbox, {});
  keep(store.MoveItem(page.items[0].id, custom.id)->id);
  keep(store.SyncFolderItems(inbox, "", 2)->sync_state);
  keep(store.GetEvents(sub->id)->watermark);
  return t;
}

// Verifies two stores with the same seed, driven identically on simulated clocks, hand out
// byte-identical ids, change keys, states, watermarks and MIME; another seed changes them.
TEST(StoreDeterminismTest, SameSeedSameBytes) {
  const Transcript a = RunScript(42);
  const Transcript b = RunScript(42);
  const Transcript c = RunScript(43);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (std::size_t k = 0; k < a.values.size(); ++k) EXPECT_EQ(a.values[k], b.values[k]) << k;
  EXPECT_NE(a.values[0], c.values[0]);  // the mailbox GUID
  EXPECT_NE(a.values[2], c.values[2]);  // the Inbox id (another MAC key)
}

// Verifies concurrent deliveries, reads, updates and views from several threads leave consistent
// counts (run under TSan to check for races).
TEST_F(StoreTest, SurvivesConcurrentUse) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  const std::string inbox = Inbox();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        auto item = store_.DeliverItem(inbox, SimpleMime("c", t * 1000 + k));
        if (!item) {
          ++failures;
          continue;
        }
        ItemUpdate read;
        read.is_read = (k % 2) == 0;
        if (!store_.UpdateItem(item->id, read)) ++failures;
        if (!store_.GetItem(item->id)) ++failures;
        if (!store_.FindItems(inbox, {})) ++failures;
        if (!store_.SyncFolderItems(inbox, "", 512)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const Folder f = FolderNow(inbox);
  EXPECT_EQ(f.total_count, static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(f.unread_count, static_cast<std::size_t>(kThreads * kPerThread / 2));
}

}  // namespace
}  // namespace exo::mock_ews::test
