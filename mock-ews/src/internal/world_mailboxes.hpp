// The mailboxes the standalone mock-ews binary starts with: every user of every tenant in a
// mock-aad world file, the file's own "mailboxes" list, and single TENANT:smtp additions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exo/common/result.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

struct SeededMailboxes {
  std::vector<std::string> tenant_ids;  // the world's tenants, in file order
  std::vector<std::string> smtp;        // every mailbox created, in creation order
};

// Creates an organization per tenant (named after its displayName) with a mailbox per user
// (userPrincipalName as address and UPN), then the top-level "mailboxes" entries
// ({organization, smtp, upn, displayName, shared}), creating their organizations when needed.
// Error (kConfiguration, code "InvalidWorld"): the message names the offending entry, e.g.
// "tenants[0].users[2]: ...".
Result<SeededMailboxes> SeedFromWorld(const nlohmann::json& world, MailboxStore& store);

// "TENANT_ID:smtp" (as --mailbox takes it) into the store, creating the organization when needed.
// Returns the address. Error (kConfiguration, "InvalidMailbox"): no colon, or the store refused.
Result<std::string> SeedOne(const std::string& tenant_and_smtp, MailboxStore& store);

}  // namespace exo::mock_ews
