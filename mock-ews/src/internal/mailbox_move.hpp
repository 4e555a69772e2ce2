// Copying a mailbox between two servers' stores for a hybrid move (MockEws::CompleteMailboxMove).
#pragma once

#include "exo/common/result.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

// Creates `mailbox` in `to` (same addresses, UPN, GUID; its organization too if missing) with
// its folder tree and messages (MIME, read, draft, categories, importance), oldest first. On
// failure nothing is left in `to`. `from` is only read.
Result<void> MoveMailboxContents(const MailboxStore& from, const Mailbox& mailbox,
                                 MailboxStore& to);

}  // namespace exo::mock_ews
