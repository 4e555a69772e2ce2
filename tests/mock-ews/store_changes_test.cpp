// The change log's readers (store_changes.cpp): SyncFolderItems states, collapsing and paging;
// subscriptions, events, watermarks and waiting on the simulated clock.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <set>

#include "exo/common/base64.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "store_fixture.hpp"

namespace exo::mock_ews::test {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class SyncTest : public StoreTest {
 protected:
  SyncBatch Sync(const std::string& state, int max = 512, const std::string& folder = {}) {
    auto batch = store_.SyncFolderItems(folder.empty() ? Inbox() : folder, state, max);
    EXPECT_TRUE(batch.has_value()) << (batch ? "" : batch.error().Describe());
    return batch ? *batch : SyncBatch{};
  }
  // "Create:<subject>" / "Delete:<id>" ... for compact comparisons.
  static std::vector<std::string> Describe(const SyncBatch& b) {
    std::vector<std::string> out;
    for (const auto& c : b.changes) {
      switch (c.kind) {
        case SyncChangeKind::kCreate:
          out.push_back("Create:" + c.item->fields.subject);
          break;
        case SyncChangeKind::kUpdate:
          out.push_back("Update:" + c.item->fields.subject);
          break;
        case SyncChangeKind::kReadFlagChange:
          out.push_back(std::string("ReadFlag:") + c.item->fields.subject +
                        (c.item->is_read ? "=read" : "=unread"));
          break;
        case SyncChangeKind::kDelete:
          out.push_back("Delete");
          break;
      }
    }
    return out;
  }
  void MarkRead(const std::string& id, bool read = true) {
    ItemUpdate u;
    u.is_read = read;
    ASSERT_TRUE(store_.UpdateItem(id, u).has_value());
  }
  void Categorize(const std::string& id, const std::string& category) {
    ItemUpdate u;
    u.categories = std::vector<std::string>{category};
    ASSERT_TRUE(store_.UpdateItem(id, u).has_value());
  }
};

// ---- sync ----

// Verifies the first sync (empty state) returns every current item as Create in arrival order,
// and a sync with nothing new returns no changes and the very same state.
TEST_F(SyncTest, FirstSyncReturnsAllItemsAsCreate) {
  Deliver("a", 1);
  const Item gone = Deliver("gone", 2);
  Deliver("b", 3);
  ASSERT_TRUE(store_.DeleteItem(gone.id, DeleteMode::kHardDelete));
  const SyncBatch first = Sync("");
  EXPECT_EQ(Describe(first), (std::vector<std::string>{"Create:a", "Create:b"}));
  EXPECT_TRUE(first.includes_last_item_in_range);
  EXPECT_FALSE(first.changes[0].item_id.empty());
  EXPECT_EQ(first.changes[0].item_id, first.changes[0].item->id);
  const SyncBatch again = Sync(first.sync_state);
  EXPECT_TRUE(again.changes.empty());
  EXPECT_TRUE(again.includes_last_item_in_range);
  EXPECT_EQ(again.sync_state, first.sync_state);
  // Changes in another folder or mailbox do not move this folder's state.
  Deliver("elsewhere", 4, FolderIdOf(kAlice, DistinguishedFolder::kJunkEmail));
  ASSERT_TRUE(store_.DeliverToInbox(kBob, SimpleMime("bob's")).has_value());
  EXPECT_EQ(Sync(first.sync_state).sync_state, first.sync_state);
}

// Verifies the SyncFolderItems collapsing rules: created+updated -> one Create with the current
// change key; created+deleted -> nothing; updated+deleted -> Delete; read-flag-only ->
// ReadFlagChange; read flag + other change -> Update.
TEST_F(SyncTest, CollapsesChangesPerItem) {
  const Item old_read = Deliver("old-read", 1);
  const Item old_cat = Deliver("old-cat", 2);
  const Item old_both = Deliver("old-both", 3);
  const Item old_doomed = Deliver("old-doomed", 4);
  const std::string state = Sync("").sync_state;

  const Item fresh = Deliver("fresh", 5);
  MarkRead(fresh.id);
  Categorize(fresh.id, "X");
  const Item fleeting = Deliver("fleeting", 6);
  ASSERT_TRUE(store_.DeleteItem(fleeting.id, DeleteMode::kHardDelete));
  MarkRead(old_read.id);
  MarkRead(old_read.id, false);
  MarkRead(old_read.id);
  Categorize(old_cat.id, "Y");
  MarkRead(old_both.id);
  Categorize(old_both.id, "Z");
  Categorize(old_doomed.id, "W");
  ASSERT_TRUE(store_.DeleteItem(old_doomed.id, DeleteMode::kSoftDelete));

  const SyncBatch batch = Sync(state);
  std::map<std::string, SyncChangeKind> by_id;
  for (const auto& c : batch.changes) by_id[c.item_id] = c.kind;
  ASSERT_EQ(batch.changes.size(), 5u) << testing::PrintToString(Describe(batch));
  EXPECT_EQ(by_id.at(fresh.id), SyncChangeKind::kCreate);
  EXPECT_EQ(by_id.at(old_read.id), SyncChangeKind::kReadFlagChange);
  EXPECT_EQ(by_id.at(old_cat.id), SyncChangeKind::kUpdate);
  EXPECT_EQ(by_id.at(old_both.id), SyncChangeKind::kUpdate);
  EXPECT_EQ(by_id.at(old_doomed.id), SyncChangeKind::kDelete);
  EXPECT_FALSE(by_id.count(fleeting.id));
  for (const auto& c : batch.changes) {
    if (c.kind == SyncChangeKind::kDelete) {
      EXPECT_FALSE(c.item.has_value());
      continue;
    }
    ASSERT_TRUE(c.item.has_value());
    EXPECT_EQ(c.item->change_key, store_.GetItem(c.item_id)->change_key);
  }
  // The Create carries the item as it is now (read, categorized).
  for (const auto& c : batch.changes) {
    if (c.item_id == fresh.id) {
      EXPECT_TRUE(c.item->is_read);
      EXPECT_EQ(c.item->categories, (std::vector<std::string>{"X"}));
    }
  }
}

// Verifies moves are a Delete in the source folder's sync and a Create (new id) in the target's,
// and copies a Create in the target only.
TEST_F(SyncTest, ReportsMovesAndCopiesPerFolder) {
  const Item a = Deliver("a", 1);
  const Item b = Deliver("b", 2);
  auto archive = store_.CreateFolder(Inbox(), "Archive");
  ASSERT_TRUE(archive.has_value());
  const std::string inbox_state = Sync("").sync_state;
  const std::string archive_state = Sync("", 512, archive->id).sync_state;
  auto moved = store_.MoveItem(a.id, archive->id);
  auto copied = store_.CopyItem(b.id, archive->id);
  ASSERT_TRUE(moved && copied);

  const SyncBatch inbox = Sync(inbox_state);
  ASSERT_EQ(inbox.changes.size(), 1u);
  EXPECT_EQ(inbox.changes[0].kind, SyncChangeKind::kDelete);
  EXPECT_EQ(inbox.changes[0].item_id, a.id);

  const SyncBatch target = Sync(archive_state, 512, archive->id);
  EXPECT_EQ(Describe(target), (std::vector<std::string>{"Create:a", "Create:b"}));
  EXPECT_EQ(target.changes[0].item_id, moved->id);
  EXPECT_EQ(target.changes[1].item_id, copied->id);
}

// Verifies paging with max_changes: five new items in pages of 2, 2 and 1, the flag false until
// the last page, every item exactly once.
TEST_F(SyncTest, PagesWithMaxChanges) {
  for (int k = 0; k < 5; ++k) Deliver("m" + std::to_string(k), k);
  std::vector<std::string> seen;
  std::vector<std::size_t> sizes;
  std::vector<bool> last_flags;
  std::string state;
  for (int round = 0; round < 10; ++round) {
    const SyncBatch b = Sync(state, 2);
    sizes.push_back(b.changes.size());
    last_flags.push_back(b.includes_last_item_in_range);
    for (const auto& d : Describe(b)) seen.push_back(d);
    state = b.sync_state;
    if (b.includes_last_item_in_range) break;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(last_flags, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(seen, (std::vector<std::string>{"Create:m0", "Create:m1", "Create:m2", "Create:m3",
                                            "Create:m4"}));
  EXPECT_TRUE(Sync(state, 1).changes.empty());
}

// Verifies an item touched on either side of a page boundary is reported with its current state
// and never lost: updated items repeat as Update, the client ends up with the server's set.
TEST_F(SyncTest, PagingAcrossChangesConvergesOnServerState) {
  std::vector<Item> items;
  for (int k = 0; k < 6; ++k) items.push_back(Deliver("m" + std::to_string(k), k));
  std::string state = Sync("").sync_state;
  Categorize(items[0].id, "A");
  ASSERT_TRUE(store_.DeleteItem(items[1].id, DeleteMode::kHardDelete));
  const Item late = Deliver("late", 10);
  Categorize(items[0].id, "B");
  ASSERT_TRUE(store_.DeleteItem(items[2].id, DeleteMode::kHardDelete));
  ASSERT_TRUE(store_.DeleteItem(late.id, DeleteMode::kHardDelete));
  const Item later = Deliver("later", 11);

  std::set<std::string> client;
  for (const auto& i : items) client.insert(i.id);
  for (int round = 0; round < 20; ++round) {
    const SyncBatch b = Sync(state, 1);
    EXPECT_LE(b.changes.size(), 1u);
    for (const auto& c : b.changes) {
      if (c.kind == SyncChangeKind::kDelete) {
        client.erase(c.item_id);
      } else {
        client.insert(c.item_id);
      }
    }
    state = b.sync_state;
    if (b.includes_last_item_in_range) break;
  }
  std::set<std::string> server;
  const ItemPage page = *store_.FindItems(Inbox(), {});
  for (const auto& i : page.items) server.insert(i.id);
  EXPECT_EQ(client, server);
  EXPECT_TRUE(server.count(later.id));
  EXPECT_EQ(server.size(), 5u);
}

// Verifies a stale but valid state (taken before several deletes and arrivals) still syncs:
// Deletes for what went, Creates for what came.
TEST_F(SyncTest, SyncsFromStaleStateAfterDeletes) {
  std::vector<Item> items;
  for (int k = 0; k < 4; ++k) items.push_back(Deliver("m" + std::to_string(k), k));
  const std::string stale = Sync("").sync_state;
  std::string current = stale;
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(store_.DeleteItem(items[k].id, DeleteMode::kHardDelete));
    Deliver("new" + std::to_string(k), 10 + k);
    current = Sync(current).sync_state;  // another client keeps up
  }
  const SyncBatch b = Sync(stale);
  std::multiset<std::string> kinds;
  for (const auto& d : Describe(b)) kinds.insert(d);
  EXPECT_EQ(kinds, (std::multiset<std::string>{"Delete", "Delete", "Delete", "Create:new0",
                                               "Create:new1", "Create:new2"}));
  EXPECT_EQ(b.sync_state, current);
}

// Verifies a tampered, truncated, garbage, foreign or misplaced state is ErrorInvalidSyncStateData.
TEST_F(SyncTest, RejectsInvalidStates) {
  Deliver("a");
  const std::string state = Sync("").sync_state;
  auto expect_invalid = [&](const std::string& s, const std::string& folder) {
    auto r = store_.SyncFolderItems(folder, s, 10);
    ASSERT_FALSE(r.has_value()) << s;
    EXPECT_EQ(r.error().code, codes::kInvalidSyncStateData) << s;
    EXPECT_EQ(r.error().message, "Synchronization state data is corrupt or otherwise invalid.");
  };
  std::string tampered = state;
  tampered[8] = tampered[8] == 'A' ? 'B' : 'A';
  expect_invalid(tampered, Inbox());
  // Flip the sequence number inside the payload and re-encode: the MAC no longer matches.
  std::string raw = *Base64Decode(state);
  raw[21] = static_cast<char>(raw[21] ^ 1);
  expect_invalid(Base64Encode(raw), Inbox());
  expect_invalid(state.substr(0, state.size() - 4), Inbox());
  expect_invalid("H4sIAAA==", Inbox());
  expect_invalid("not base64", Inbox());
  expect_invalid(Inbox(), Inbox());                                            // a folder id
  expect_invalid(state, FolderIdOf(kAlice, DistinguishedFolder::kJunkEmail));  // another folder
  expect_invalid(*store_.CurrentWatermark(kAlice), Inbox());
  OtherStore other(clock_, 8);
  const std::string foreign = other.store.SyncFolderItems(other.Inbox(), "", 10)->sync_state;
  expect_invalid(foreign, Inbox());
}

// Verifies max_changes outside 1..512, a deleted folder and the Ignore list.
TEST_F(SyncTest, ValidatesArgumentsAndHonoursIgnore) {
  EXPECT_EQ(store_.SyncFolderItems(Inbox(), "", 0).error().code, codes::kInvalidArgument);
  EXPECT_EQ(store_.SyncFolderItems(Inbox(), "", 513).error().code, codes::kInvalidArgument);
  EXPECT_TRUE(store_.SyncFolderItems(Inbox(), "", 512).has_value());
  auto temp = store_.CreateFolder(Inbox(), "Temp");
  ASSERT_TRUE(temp && store_.DeleteFolder(temp->id));
  EXPECT_EQ(store_.SyncFolderItems(temp->id, "", 10).error().code, codes::kFolderNotFound);

  const Item a = Deliver("a", 1);
  const Item b = Deliver("b", 2);
  auto r = store_.SyncFolderItems(Inbox(), "", 10, {a.id, "junk"});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->changes.size(), 1u);
  EXPECT_EQ(r->changes[0].item_id, b.id);
}

// ---- subscriptions ----

class EventsTest : public StoreTest {
 protected:
  Subscription Subscribe(std::vector<std::string> folders, std::set<EventType> types = {},
                         bool all = false, std::optional<Duration> idle_timeout = std::nullopt) {
    SubscriptionSpec spec;
    spec.mailbox = kAlice;
    spec.folder_ids = std::move(folders);
    spec.all_folders = all;
    spec.event_types = std::move(types);
    spec.idle_timeout = idle_timeout;
    auto sub = store_.Subscribe(spec);
    EXPECT_TRUE(sub.has_value()) << (sub ? "" : sub.error().Describe());
    return sub ? *sub : Subscription{};
  }
  EventBatch Events(const Subscription& sub, const std::string& watermark = {},
                    std::size_t max = 100) {
    auto batch = store_.GetEvents(sub.id, watermark, max);
    EXPECT_TRUE(batch.has_value()) << (batch ? "" : batch.error().Describe());
    return batch ? *batch : EventBatch{};
  }
  static std::vector<EventType> Types(const EventBatch& b) {
    std::vector<EventType> out;
    for (const auto& e : b.events) out.push_back(e.type);
    return out;
  }
};

// Verifies delivered mail raises NewMail then Created with the item and folder ids, the clock's
// timestamp and a watermark; the next poll is empty and keeps the watermark.
TEST_F(EventsTest, DeliveryRaisesNewMailAndCreated) {
  const Subscription sub = Subscribe({Inbox()});
  clock_.Advance(minutes(3));
  const Item item = Deliver("hello");
  const EventBatch batch = Events(sub);
  EXPECT_EQ(Types(batch), (std::vector<EventType>{EventType::kNewMail, EventType::kCreated}));
  EXPECT_EQ(batch.previous_watermark, sub.watermark);
  EXPECT_NE(batch.watermark, sub.watermark);
  for (const auto& e : batch.events) {
    EXPECT_EQ(e.id, item.id);
    EXPECT_EQ(e.parent_folder_id, Inbox());
    EXPECT_EQ(e.timestamp, clock_.Now());
    EXPECT_EQ(e.watermark, batch.watermark);
    EXPECT_FALSE(e.is_folder);
  }
  EXPECT_FALSE(batch.more_events);
  const EventBatch empty = Events(sub);
  EXPECT_TRUE(empty.events.empty());
  EXPECT_EQ(empty.watermark, batch.watermark);
  EXPECT_EQ(empty.previous_watermark, batch.watermark);
}

// Verifies Modified, Moved (with old ids, seen from the source and the target folder), Copied
// and Deleted events, and that Bob's mailbox and unsubscribed folders stay silent.
TEST_F(EventsTest, ReportsEveryItemChange) {
  const Item item = Deliver("x", 1);
  auto archive = store_.CreateFolder(Inbox(), "Archive");
  ASSERT_TRUE(archive.has_value());
  const Subscription on_inbox = Subscribe({Inbox()});
  const Subscription on_archive = Subscribe({archive->id});

  ItemUpdate read;
  read.is_read = true;
  ASSERT_TRUE(store_.UpdateItem(item.id, read));
  auto copy = store_.CopyItem(item.id, archive->id);
  auto moved = store_.MoveItem(item.id, archive->id);
  ASSERT_TRUE(copy && moved);
  ASSERT_TRUE(store_.DeleteItem(copy->id, DeleteMode::kHardDelete));
  ASSERT_TRUE(store_.DeliverToInbox(kBob, SimpleMime("bob")));
  Deliver("junk", 2, FolderIdOf(kAlice, DistinguishedFolder::kJunkEmail));

  const EventBatch inbox = Events(on_inbox);
  EXPECT_EQ(Types(inbox), (std::vector<EventType>{EventType::kModified, EventType::kMoved}));
  const MailboxEvent& move = inbox.events[1];
  EXPECT_EQ(move.id, moved->id);
  EXPECT_EQ(move.parent_folder_id, archive->id);
  EXPECT_EQ(move.old_id, item.id);
  EXPECT_EQ(move.old_parent_folder_id, Inbox());

  const EventBatch target = Events(on_archive);
  EXPECT_EQ(Types(target),
            (std::vector<EventType>{EventType::kCopied, EventType::kMoved, EventType::kDeleted}));
  EXPECT_EQ(target.events[0].id, copy->id);
  EXPECT_EQ(target.events[0].old_id, item.id);
  EXPECT_EQ(target.events[2].id, copy->id);
}

// Verifies an event type filter, and an all-folders subscription that also sees folder events
// and folders created after it.
TEST_F(EventsTest, FiltersTypesAndCoversAllFolders) {
  const Subscription new_mail_only = Subscribe({Inbox()}, {EventType::kNewMail});
  const Subscription everything = Subscribe({}, {}, /*all=*/true);
  auto folder = store_.CreateFolder(Inbox(), "Later");
  ASSERT_TRUE(folder.has_value());
  Deliver("in new folder", 1, folder->id);
  Deliver("in inbox", 2);
  ASSERT_TRUE(store_.DeleteFolder(folder->id));

  const EventBatch filtered = Events(new_mail_only);
  ASSERT_EQ(Types(filtered), (std::vector<EventType>{EventType::kNewMail}));

  const EventBatch all = Events(everything);
  EXPECT_EQ(Types(all), (std::vector<EventType>{EventType::kCreated, EventType::kNewMail,
                                                EventType::kCreated, EventType::kNewMail,
                                                EventType::kCreated, EventType::kDeleted}));
  EXPECT_TRUE(all.events[0].is_folder);
  EXPECT_EQ(all.events[0].id, folder->id);
  EXPECT_EQ(all.events[0].parent_folder_id, Inbox());
  EXPECT_EQ(all.events[1].parent_folder_id, folder->id);
  EXPECT_TRUE(all.events[5].is_folder);
}

// Verifies max_events paging (never splitting one change's events), re-reading from an older
// watermark, and subscribing from a saved watermark.
TEST_F(EventsTest, PagesAndResumesFromWatermarks) {
  const std::string start = *store_.CurrentWatermark(kAlice);
  const Subscription sub = Subscribe({Inbox()});
  EXPECT_EQ(sub.watermark, start);
  for (int k = 0; k < 3; ++k) Deliver("m" + std::to_string(k), k);

  const EventBatch first = Events(sub, {}, 3);
  EXPECT_EQ(first.events.size(), 2u);  // the second delivery's pair would make 4
  EXPECT_TRUE(first.more_events);
  const EventBatch second = Events(sub, {}, 1);
  EXPECT_EQ(second.events.size(), 2u);  // one change's events are never split
  EXPECT_TRUE(second.more_events);
  const EventBatch third = Events(sub);
  EXPECT_EQ(third.events.size(), 2u);
  EXPECT_FALSE(third.more_events);
  EXPECT_EQ(third.previous_watermark, second.watermark);

  const EventBatch replay = Events(sub, first.watermark);
  EXPECT_EQ(replay.events.size(), 4u);

  SubscriptionSpec spec;
  spec.mailbox = kAlice;
  spec.folder_ids = {Inbox()};
  spec.watermark = first.watermark;
  auto resumed = store_.Subscribe(spec);
  ASSERT_TRUE(resumed.has_value());
  EXPECT_EQ(resumed->watermark, first.watermark);
  EXPECT_EQ(Events(*resumed).events.size(), 4u);
}

// Verifies the subscription and watermark errors.
TEST_F(EventsTest, ReportsSubscriptionErrors) {
  const Subscription sub = Subscribe({Inbox()});
  EXPECT_EQ(store_.GetEvents("bogus").error().code, codes::kInvalidSubscription);
  EXPECT_EQ(store_.GetEvents(Inbox()).error().code, codes::kInvalidSubscription);
  EXPECT_EQ(store_.GetEvents(sub.id, "bogus").error().code, codes::kInvalidWatermark);
  EXPECT_EQ(store_.GetEvents(sub.id, *store_.CurrentWatermark(kBob)).error().code,
            codes::kInvalidWatermark);
  EXPECT_EQ(store_.GetEvents(sub.id, {}, 0).error().code, codes::kInvalidArgument);

  SubscriptionSpec spec;
  spec.mailbox = kAlice;
  EXPECT_EQ(store_.Subscribe(spec).error().code, codes::kInvalidArgument);
  spec.folder_ids = {Inbox(kBob)};
  EXPECT_EQ(store_.Subscribe(spec).error().code, codes::kInvalidArgument);
  spec.folder_ids = {Inbox()};
  spec.watermark = *store_.CurrentWatermark(kBob);
  EXPECT_EQ(store_.Subscribe(spec).error().code, codes::kInvalidWatermark);
  spec.mailbox = "nobody@contoso.com";
  EXPECT_EQ(store_.Subscribe(spec).error().code, codes::kNonExistentMailbox);

  ASSERT_TRUE(store_.Unsubscribe(sub.id).has_value());
  EXPECT_EQ(store_.GetEvents(sub.id).error().code, codes::kSubscriptionNotFound);
  EXPECT_EQ(store_.Unsubscribe(sub.id).error().code, codes::kSubscriptionNotFound);
}

// Verifies an idle timeout expires a pull subscription that nobody polls, measured on the store
// clock, while a polled one lives on.
TEST_F(EventsTest, ExpiresIdleSubscriptions) {
  const auto polled = Subscribe({Inbox()}, {}, false, minutes(30));
  const auto idle = Subscribe({Inbox()}, {}, false, minutes(30));
  clock_.Advance(minutes(20));
  ASSERT_TRUE(store_.GetEvents(polled.id).has_value());
  clock_.Advance(minutes(20));
  EXPECT_TRUE(store_.GetEvents(polled.id).has_value());
  auto expired = store_.GetEvents(idle.id);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, codes::kExpiredSubscription);
  EXPECT_EQ(store_.GetEvents(idle.id).error().code, codes::kSubscriptionNotFound);
}

// Verifies a thread waiting for events wakes when mail is delivered: the test delivers only once
// the waiter is parked on the simulated clock.
TEST_F(EventsTest, WaiterWakesWhenMailArrives) {
  const Subscription sub = Subscribe({Inbox()});
  const MonoTime deadline = clock_.Monotonic() + minutes(30);
  auto waiter =
      std::async(std::launch::async, [&] { return store_.WaitForEvents(sub.id, deadline); });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Deliver("wake up");
  const Result<bool> woke = waiter.get();
  ASSERT_TRUE(woke.has_value()) << woke.error().Describe();
  EXPECT_TRUE(*woke);
  EXPECT_LT(clock_.Monotonic(), deadline);  // woken by the event, not by time
  EXPECT_EQ(Events(sub).events.size(), 2u);
}

// Verifies a waiter returns false when the deadline passes, even if unrelated changes (another
// folder) woke it in between.
TEST_F(EventsTest, WaiterTimesOutAtDeadline) {
  const Subscription sub = Subscribe({Inbox()});
  const MonoTime deadline = clock_.Monotonic() + minutes(5);
  auto waiter =
      std::async(std::launch::async, [&] { return store_.WaitForEvents(sub.id, deadline); });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  Deliver("elsewhere", 1, FolderIdOf(kAlice, DistinguishedFolder::kSentItems));
  clock_.Advance(minutes(6));
  const Result<bool> woke = waiter.get();
  ASSERT_TRUE(woke.has_value());
  EXPECT_FALSE(*woke);
}

// Verifies pending events make WaitForEvents return at once, and unsubscribing wakes a waiter
// with ErrorSubscriptionNotFound.
TEST_F(EventsTest, WaiterSeesPendingEventsAndUnsubscribe) {
  const Subscription sub = Subscribe({Inbox()});
  Deliver("already here");
  auto now = store_.WaitForEvents(sub.id, clock_.Monotonic());
  ASSERT_TRUE(now.has_value());
  EXPECT_TRUE(*now);
  ASSERT_EQ(Events(sub).events.size(), 2u);

  auto waiter = std::async(std::launch::async, [&] {
    return store_.WaitForEvents(sub.id, clock_.Monotonic() + minutes(30));
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  ASSERT_TRUE(store_.Unsubscribe(sub.id).has_value());
  const Result<bool> woke = waiter.get();
  ASSERT_FALSE(woke.has_value());
  EXPECT_EQ(woke.error().code, codes::kSubscriptionNotFound);
}

// Verifies waiting counts as using a subscription (a wait longer than its idle timeout ends at
// the deadline, not in ErrorExpiredSubscription), and waits that scanned past old events do not
// hide them from a re-read with an older watermark.
TEST_F(EventsTest, WaitingKeepsSubscriptionAliveAndRereadsStillWork) {
  const Subscription sub = Subscribe({Inbox()}, {}, false, minutes(10));
  Deliver("a", 1);
  EXPECT_EQ(Events(sub).events.size(), 2u);
  EXPECT_FALSE(*store_.WaitForEvents(sub.id, clock_.Monotonic()));
  EXPECT_EQ(Events(sub, sub.watermark).events.size(), 2u);

  Deliver("junk", 2, FolderIdOf(kAlice, DistinguishedFolder::kJunkEmail));
  auto waiter = std::async(std::launch::async, [&] {
    return store_.WaitForEvents(sub.id, clock_.Monotonic() + minutes(30));
  });
  ASSERT_TRUE(clock_.AwaitWaiters(1));
  clock_.Advance(minutes(31));
  const Result<bool> woke = waiter.get();
  ASSERT_TRUE(woke.has_value()) << woke.error().Describe();
  EXPECT_FALSE(*woke);
  Deliver("b", 3);
  EXPECT_TRUE(*store_.WaitForEvents(sub.id, clock_.Monotonic()));
}

}  // namespace
}  // namespace exo::mock_ews::test
