// What a mock's binary needs around the library: stop on SIGTERM or SIGINT, cleanly.
#pragma once

namespace exo::mock {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts afterwards, so that
// only WaitForStopSignal() receives them. Call first thing in main, before starting servers.
void BlockStopSignals();
// Waits until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForStopSignal();

}  // namespace exo::mock
