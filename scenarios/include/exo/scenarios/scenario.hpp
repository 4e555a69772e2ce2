// A scenario as data: the world (tenant, apps, mailboxes, groups, on-premises server), the
// client's configuration, admin PowerShell lines and a timeline of steps and expectations on
// simulated time. Parsing and validation only; scenarios/runner.hpp runs one. Format: docs/scenarios.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"

namespace exo::scenarios {

struct SecretSpec {
  std::string name;                        // how steps and the client refer to it
  std::string start = "-1d";               // mock-aad world times, relative to the start
  std::string expires = "+180d";
};

// A certificate credential (keyCredentials): the runner makes an RSA key and a self-signed
// certificate valid from `start` to `expires`, uploads the certificate to the app registration and
// keeps key and certificate in one PEM file the client can be pointed at.
struct CertificateSpec {
  std::string name;
  std::string start = "-1d";
  std::string expires = "+365d";
};

struct AppSpec {
  std::string name;     // "daemon"; PowerShell lines say {{daemon.appId}}
  std::string app_id;   // derived from the name when absent
  std::vector<SecretSpec> secrets;     // a default "secret1" when neither these nor certificates
  std::vector<CertificateSpec> certificates;
  bool consent = true;  // full_access_as_app granted (seed step 2.3)
  bool enabled = true;
};

struct GroupSpec {
  std::string name;
  std::string smtp;
  bool security = true;
  std::vector<std::string> members;
};

struct OnPremisesSpec {
  std::string url = "https://mail.contoso.com";  // its public origin, an Exchange SPN in Entra
  bool app_only_oauth = true;
  bool spn = true;
  std::vector<std::string> mailboxes;  // hybrid users: mail users in Exchange Online
};

struct WorldSpec {
  std::vector<AppSpec> apps;
  std::vector<std::string> mailboxes;
  std::vector<GroupSpec> groups;
  std::optional<OnPremisesSpec> on_premises;
  std::optional<Duration> token_lifetime;
  // mock-aad's settings: a secret younger than this is refused (AADSTS7000215); a new app role
  // assignment appears in tokens only after this.
  std::optional<Duration> secret_propagation, consent_propagation;
  // mock-ews's PUT /_exo/admin/propagation body (frontEnds, accessPolicy windows…), applied after
  // the world's groups exist; its values are the mock's to validate.
  std::optional<nlohmann::json> exchange_propagation;
  // The simulated clock's system time at +0; default SimulatedClock::DefaultStart().
  std::optional<SystemTime> start;
};

struct ClientSpec {
  std::string app;              // an AppSpec name (empty with app_id)
  std::string secret;           // a SecretSpec name of that app, or "wrong"; empty: its first
  std::string certificate;      // a CertificateSpec name of that app: no secret, a certificate
  // An app the world does not hold (made by the scenario's own PowerShell): its id and secret
  // Value, usually "{{captured}}" variables, expanded when the client opens.
  std::string app_id, secret_value;
  std::string mailbox;          // empty: the world's first mailbox
  std::string folder = "inbox";
  std::string disposition = "markread";
  bool autodiscover = false;    // no EmailIntegrationEwsUrl: discover the endpoint
  Duration poll_interval = std::chrono::seconds(60);
  std::string owner = "scheduler-a:101:ProjectA";  // the lease owner
  int sync_batch = 512;         // MaxChangesReturned per SyncFolderItems page
  // EmailIntegrationTransport: empty follows the run's transport (Scenario::transports); "auto"
  // lets the client choose (Graph for Exchange Online), as an operator moving off EWS sets it.
  std::string transport;
};

// How a step must fail; empty fields match anything.
struct ExpectedFailure {
  std::string code;
  std::string message_contains;
};

// What must hold at a point of the timeline (or at the end). Absent fields are not checked.
struct Expectation {
  std::optional<std::string> phase;  // starting | healthy | backing-off | stopped
  bool no_error = false;             // "error": null
  std::optional<std::string> error_code, error_category, remedy_contains, message_contains;
  std::optional<std::vector<std::string>> handed;  // every subject handed so far, in order
  std::map<std::string, std::size_t> unread;       // mailbox -> unread items in its Inbox
  std::map<std::string, std::size_t> inbox;        // mailbox -> items in its Inbox
  std::optional<std::size_t> token_requests, max_token_requests;
  std::optional<std::uint64_t> early_retries;
  std::optional<std::size_t> resyncs;
  std::optional<std::string> endpoint;  // online | on-premises
};

struct Step {
  enum class Kind {
    kExpect,
    kDeliver,
    kExpireSecret,
    kRotateSecret,
    kGrantConsent,
    kRevokeConsent,
    kPowerShell,
    kFault,
    kThrottle,
    kMoveMailbox,
    kRestart,
    kCrash,
    kSecondProject,
    kInvalidateSyncState,
    kAdvance,
    kControl,
    kOpenClient,
    kUpdateConfig,
    kAddCertificate,
    kRemoveCertificate,
    kHoldConnections,
  };
  Kind kind = Kind::kExpect;
  Duration at{};
  std::string where;       // "timeline[3]" for messages
  nlohmann::json args;     // the step's value, validated by the parser
  std::optional<ExpectedFailure> must_fail;
  std::optional<Expectation> expect;
  // kPowerShell: objects the lines must output (JSON), each a subset of the actual one, in order.
  // kControl: the answer's JSON must contain it (objects key by key, arrays as subsequences).
  std::optional<nlohmann::json> output;
  // kPowerShell, kControl: variable -> where its value comes from, for "{{variable}}" later.
  std::map<std::string, std::string> capture;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::uint64_t seed = 1;
  // The mailbox protocols the scenario holds for, "ews" and/or "graph", the first its main one:
  // the runner runs it once per transport (the variants after the first are named
  // "<name>@graph"). A step or expectation that only one protocol has keeps it to that one.
  std::vector<std::string> transports = {"ews"};
  WorldSpec world;
  ClientSpec client;
  std::vector<std::string> admin;  // PowerShell lines run at the start, before the client opens
  std::vector<Step> timeline;      // sorted by `at`, stable
  Duration end{};                  // the run ends here (default: the last step)
  std::optional<Expectation> expect_at_end;
};

// Parses JSON with comments. Errors (kConfiguration) carry "file:line:col" for syntax and
// "file: timeline[3].deliver: …" for content, so a typo is never silently a no-op.
Result<Scenario> ParseScenario(const std::string& text, const std::string& file);
Result<Scenario> LoadScenario(const std::string& path);

// "+65m", "90s", "+1h30m", "2d", "0": a non-negative offset from the start.
Result<Duration> ParseOffset(const std::string& text);
// "+01:05:00" (or "+1d02:00:00"): how offsets print in transcripts.
std::string FormatOffset(Duration d);
const char* ToString(Step::Kind kind);

}  // namespace exo::scenarios
