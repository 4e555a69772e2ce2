// The open GetStreamingEvents connections of the EWS facade, so that stopping a server ends them
// at once instead of leaving pool threads parked on the clock until their next heartbeat.
#pragma once

#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

// Ends every open GetStreamingEvents stream served from `store` (server shutdown): their
// subscriptions are removed, as a restarting Exchange server loses its streaming subscriptions,
// which wakes the streams; they then end without writing anything more. Thread-safe; call it
// before stopping the listener, whose stop joins the threads that serve the streams.
void EndStreams(MailboxStore& store);

}  // namespace exo::mock_ews
