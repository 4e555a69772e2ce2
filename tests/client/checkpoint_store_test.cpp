// One conformance suite for every CheckpointStore (SQLite and in memory): the lease, the sync state
// committed with its messages, and each message's progress seen -> handed -> disposed.
#include "exo/client/checkpoint_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>

#include "../common/temp_dir.hpp"

namespace exo::client {
namespace {

using ::testing::HasSubstr;

const FolderKey kInbox{"monitor@contoso.com", "inbox"};
const SystemTime kNow = SystemTime(std::chrono::hours(24 * 365 * 56));

MessageRecord Message(const std::string& key, const std::string& id) {
  MessageRecord m;
  m.idempotency_key = key;
  m.item_id = id;
  m.internet_message_id = "<" + key + "@fabrikam.com>";
  m.seen_at = kNow;
  return m;
}

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<CheckpointStore>(const std::filesystem::path& dir)> open;
};

class CheckpointStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { store_ = GetParam().open(dir_.path()); }
  std::vector<std::string> Keys(MessageState state) {
    std::vector<std::string> keys;
    auto rows = store_->Messages(kInbox, state, 100);
    EXPECT_TRUE(rows.has_value());
    for (const auto& m : rows.value_or(std::vector<MessageRecord>{})) {
      keys.push_back(m.idempotency_key);
    }
    return keys;
  }
  exo::testing::TempDir dir_;
  std::unique_ptr<CheckpointStore> store_;
};

// Verifies a fresh folder has an empty sync state and no messages.
TEST_P(CheckpointStoreTest, StartsEmpty) {
  EXPECT_EQ(*store_->SyncState(kInbox), "");
  EXPECT_TRUE(store_->Messages(kInbox, MessageState::kSeen, 10)->empty());
  EXPECT_FALSE(store_->Find(kInbox, "a")->has_value());
}

// Verifies a sync batch stores the state and its messages as seen, in order.
TEST_P(CheckpointStoreTest, CommitsBatchWithState) {
  ASSERT_TRUE(store_->CommitSyncBatch(kInbox, "S1", {Message("a", "1"), Message("b", "2")}));
  EXPECT_EQ(*store_->SyncState(kInbox), "S1");
  EXPECT_THAT(Keys(MessageState::kSeen), ::testing::ElementsAre("a", "b"));
}

// Verifies a message seen again (resync, or the same mail in a later batch) keeps its progress
// and only follows the new item id: nothing is handed twice.
TEST_P(CheckpointStoreTest, KnownMessageKeepsItsState) {
  ASSERT_TRUE(store_->CommitSyncBatch(kInbox, "S1", {Message("a", "1")}));
  ASSERT_TRUE(store_->SetState(kInbox, "a", MessageState::kHanded));
  ASSERT_TRUE(store_->ResetSyncState(kInbox));
  EXPECT_EQ(*store_->SyncState(kInbox), "");
  ASSERT_TRUE(store_->CommitSyncBatch(kInbox, "S2", {Message("a", "1b")}));
  auto a = *store_->Find(kInbox, "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->state, MessageState::kHanded);
  EXPECT_EQ(a->item_id, "1b");
  EXPECT_TRUE(Keys(MessageState::kSeen).empty());
}

// Verifies progress through the states, with the id a move gives.
TEST_P(CheckpointStoreTest, MessageProgress) {
  ASSERT_TRUE(store_->CommitSyncBatch(kInbox, "S1", {Message("a", "1"), Message("b", "2")}));
  ASSERT_TRUE(store_->RecordFailure(kInbox, "a", "handler: busy"));
  EXPECT_EQ((*store_->Find(kInbox, "a"))->attempts, 1);
  EXPECT_EQ((*store_->Find(kInbox, "a"))->last_error, "handler: busy");
  ASSERT_TRUE(store_->SetState(kInbox, "a", MessageState::kHanded));
  ASSERT_TRUE(store_->SetState(kInbox, "a", MessageState::kDisposed, "moved-1"));
  auto a = *store_->Find(kInbox, "a");
  EXPECT_EQ(a->state, MessageState::kDisposed);
  EXPECT_EQ(a->item_id, "moved-1");
  EXPECT_EQ(a->attempts, 0);
  EXPECT_THAT(Keys(MessageState::kSeen), ::testing::ElementsAre("b"));
  EXPECT_THAT(Keys(MessageState::kDisposed), ::testing::ElementsAre("a"));
  EXPECT_EQ(store_->SetState(kInbox, "zz", MessageState::kHanded).error().code, "UnknownMessage");
}

// Verifies Count agrees with the rows per state and per folder, an unknown folder counting none.
TEST_P(CheckpointStoreTest, CountsMessagesPerState) {
  EXPECT_EQ(*store_->Count(kInbox, MessageState::kSeen), 0u);
  ASSERT_TRUE(store_->CommitSyncBatch(kInbox, "S1",
                                      {Message("a", "1"), Message("b", "2"), Message("c", "3")}));
  ASSERT_TRUE(store_->SetState(kInbox, "a", MessageState::kHanded));
  ASSERT_TRUE(store_->SetState(kInbox, "b", MessageState::kHanded));
  ASSERT_TRUE(store_->SetState(kInbox, "b", MessageState::kDisposed));
  EXPECT_EQ(*store_->Count(kInbox, MessageState::kSeen), 1u);
  EXPECT_EQ(*store_->Count(kInbox, MessageState::kHanded), 1u);
  EXPECT_EQ(*store_->Count(kInbox, MessageState::kDisposed), 1u);
  EXPECT_EQ(*store_->Count({"monitor@contoso.com", "Orders"}, MessageState::kSeen), 0u);
}

// Verifies one owner holds the lease; another gets LeaseHeld naming the holder until it expires.
TEST_P(CheckpointStoreTest, LeaseExcludesOtherOwners) {
  ASSERT_TRUE(store_->AcquireLease(kInbox, "host-a:1:ProjectA", kNow, std::chrono::minutes(2)));
  ASSERT_TRUE(store_->AcquireLease(kInbox, "host-a:1:ProjectA", kNow, std::chrono::minutes(2)));
  auto other = store_->AcquireLease(kInbox, "host-b:2:ProjectB", kNow + std::chrono::minutes(1),
                                    std::chrono::minutes(2));
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, "LeaseHeld");
  EXPECT_THAT(other.error().message, HasSubstr("host-a:1:ProjectA"));
  EXPECT_THAT(other.error().remedy, HasSubstr("one mailbox per project"));
  EXPECT_TRUE(store_->AcquireLease(kInbox, "host-b:2:ProjectB", kNow + std::chrono::minutes(3),
                                   std::chrono::minutes(2)));
  ASSERT_TRUE(store_->ReleaseLease(kInbox, "host-b:2:ProjectB"));
  EXPECT_TRUE(store_->AcquireLease(kInbox, "host-a:1:ProjectA", kNow + std::chrono::minutes(3),
                                   std::chrono::minutes(2)));
}

// Verifies folders are independent.
TEST_P(CheckpointStoreTest, FoldersAreIndependent) {
  const FolderKey other{"monitor@contoso.com", "Orders"};
  ASSERT_TRUE(store_->CommitSyncBatch(kInbox, "S1", {Message("a", "1")}));
  EXPECT_EQ(*store_->SyncState(other), "");
  EXPECT_FALSE(store_->Find(other, "a")->has_value());
  EXPECT_TRUE(store_->AcquireLease(other, "x", kNow, std::chrono::minutes(1)));
  EXPECT_TRUE(store_->AcquireLease(kInbox, "y", kNow, std::chrono::minutes(1)));
}

INSTANTIATE_TEST_SUITE_P(Stores, CheckpointStoreTest,
                         ::testing::Values(StoreKind{"Memory",
                                                     [](const std::filesystem::path&) {
                                                       return MakeMemoryCheckpointStore();
                                                     }},
                                           StoreKind{"Sqlite",
                                                     [](const std::filesystem::path& dir) {
                                                       auto s = OpenSqliteCheckpointStore(
                                                           dir / "checkpoint.db");
                                                       EXPECT_TRUE(s.has_value())
                                                           << s.error().Describe();
                                                       return std::move(*s);
                                                     }}),
                         [](const auto& param_info) { return param_info.param.name; });

// Verifies the SQLite file survives reopening (durable commits) and is created private (0600).
TEST(SqliteCheckpointStoreTest, PersistsAcrossReopenAndIsPrivate) {
  exo::testing::TempDir dir;
  const auto file = dir.path() / "checkpoint.db";
  {
    auto s = OpenSqliteCheckpointStore(file);
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE((*s)->CommitSyncBatch(kInbox, "S1", {Message("a", "1")}));
    ASSERT_TRUE((*s)->SetState(kInbox, "a", MessageState::kHanded));
  }
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto s = OpenSqliteCheckpointStore(file);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*(*s)->SyncState(kInbox), "S1");
  EXPECT_EQ((*(*s)->Find(kInbox, "a"))->state, MessageState::kHanded);
}

// Verifies a file that is not a database is refused with a clear error, not overwritten.
TEST(SqliteCheckpointStoreTest, RefusesCorruptFile) {
  exo::testing::TempDir dir;
  const auto file = dir.path() / "checkpoint.db";
  std::ofstream(file) << "this is not an SQLite database, but it is long enough to look like one.";
  auto s = OpenSqliteCheckpointStore(file);
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().message, HasSubstr(file.string()));
}

// Verifies a directory that cannot hold the database gives a configuration error naming the key.
TEST(SqliteCheckpointStoreTest, UnwritableDirectory) {
  auto s = OpenSqliteCheckpointStore("/nonexistent-dir/checkpoint.db");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().category, ErrorCategory::kConfiguration);
  EXPECT_THAT(s.error().remedy, HasSubstr("EmailIntegrationStateDir"));
}

}  // namespace
}  // namespace exo::client
