// `exo-scenario replay`: serves a cassette the client library recorded (exo/client/cassette.hpp)
// back to the real client, in order, on a frozen clock, to reproduce a problem from the field.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>

namespace exo::scenarios {

struct ReplayOptions {
  std::filesystem::path cassette;
  // A real .config for the client (identity, folder, disposition, endpoints); its secret, key,
  // certificate, CA and state directory are replaced. Absent: derived from the cassette.
  std::optional<std::filesystem::path> config;
  std::size_t max_steps = 10000;  // monitor rounds before the replay gives up
  bool verbose = false;           // each exchange's headers and bodies (shortened) too
};

// Exit codes of Replay.
inline constexpr int kReplayConsumed = 0;  // the client consumed the whole cassette, in order
inline constexpr int kReplayDiverged =
    1;  // a request differed, or went past the end, or stopped short
inline constexpr int kReplayBadInput = 2;  // not a cassette (or a bad --config); nothing replayed

// Starts a local HTTPS server (a fresh CA in a temporary directory) on a SimulatedClock frozen at
// the cassette's recordedAt, configures the real client (MailboxClient, a monitor without
// notifications) against it, and steps the monitor. Before each request the clock moves to the
// recorded time of the next exchange when that is later; the server checks each request against
// the next exchange (method, path; the SOAP operation; a token request's grant_type and scope) and
// answers with its response, or closes the connection for a recorded transport error. Prints one
// line per exchange, the messages handed, the client's final status and last error, and a verdict.
// Never throws; each call has its own server, clock and temporary directory.
int Replay(const ReplayOptions& options, std::ostream& out, std::ostream& err);

}  // namespace exo::scenarios
