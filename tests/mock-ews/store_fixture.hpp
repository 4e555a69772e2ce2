// A mailbox store on a simulated clock with one organization and two mailboxes, plus helpers
// that write small RFC 5322 messages, shared by the mock-ews store tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews::test {

inline constexpr const char* kOrgId = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01";
inline constexpr const char* kAlice = "alice@contoso.com";
inline constexpr const char* kBob = "bob@contoso.com";

// A plain-text message with the given subject; `n` makes its Message-ID unique.
inline std::string SimpleMime(std::string_view subject, int n = 1) {
  return "From: Carol Sender <carol@fabrikam.com>\r\n"
         "To: Alice <alice@contoso.com>\r\n"
         "Subject: " +
         std::string(subject) +
         "\r\n"
         "Message-ID: <msg-" +
         std::to_string(n) +
         "@fabrikam.com>\r\n"
         "Date: Mon, 2 Nov 2026 08:00:00 +0000\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "\r\n"
         "Hello.\r\n";
}

// A spec for a user mailbox in kOrgId.
inline MailboxSpec SpecFor(std::string address) {
  MailboxSpec spec;
  spec.organization_id = kOrgId;
  spec.primary_smtp_address = std::move(address);
  return spec;
}

// A second, independent store (its own seed, so its own id key) with Alice's mailbox: the source
// of "foreign" ids and states.
struct OtherStore {
  OtherStore(Clock& clock, std::uint64_t seed, StoreOptions options = {})
      : random(seed), store(clock, random, options) {
    EXPECT_TRUE(store.CreateOrganization(kOrgId, "Contoso").has_value());
    EXPECT_TRUE(store.CreateMailbox(SpecFor(kAlice)).has_value());
  }
  std::string Inbox() {
    return store.GetDistinguishedFolder(kAlice, DistinguishedFolder::kInbox)->id;
  }

  SeededRandom random;
  MailboxStore store;
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.CreateOrganization(kOrgId, "Contoso").has_value());
    MailboxSpec alice = SpecFor(kAlice);
    alice.display_name = "Alice Example";
    alice.secondary_smtp_addresses = {"a.example@contoso.com"};
    ASSERT_TRUE(store_.CreateMailbox(alice).has_value());
    ASSERT_TRUE(store_.CreateMailbox(SpecFor(kBob)).has_value());
  }

  std::string FolderIdOf(const char* mailbox, DistinguishedFolder which) {
    auto f = store_.GetDistinguishedFolder(mailbox, which);
    EXPECT_TRUE(f.has_value());
    return f ? f->id : std::string();
  }
  std::string Inbox(const char* mailbox = kAlice) {
    return FolderIdOf(mailbox, DistinguishedFolder::kInbox);
  }
  Folder FolderNow(const std::string& id) {
    auto f = store_.GetFolder(id);
    EXPECT_TRUE(f.has_value()) << (f ? "" : f.error().Describe());
    return f ? *f : Folder{};
  }

  // Delivers SimpleMime(subject, n) to Alice's Inbox (or `folder_id`) and returns the item.
  Item Deliver(std::string_view subject, int n = 1, const std::string& folder_id = {}) {
    auto item = store_.DeliverItem(folder_id.empty() ? Inbox() : folder_id, SimpleMime(subject, n));
    EXPECT_TRUE(item.has_value()) << (item ? "" : item.error().Describe());
    return item ? *item : Item{};
  }

  SimulatedClock clock_;
  SeededRandom random_{20261102};
  MailboxStore store_{clock_, random_};
};

}  // namespace exo::mock_ews::test
