// mock-ews: a local Exchange Online EWS endpoint (POST /EWS/Exchange.asmx) over the
// protocol-neutral MailboxStore, with Exchange's app-only OAuth checks, running in-process on port
// 0 on an injected clock; or, in a hybrid test, an on-premises Exchange Server. Tokens are trusted
// per tenant through that tenant's JWKS (in-process: mock-aad's).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/graph_throttling.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "exo/mock_ews/throttling.hpp"

namespace exo::mock_ews {

// Which Exchange a MockEws plays.
enum class Deployment {
  kExchangeOnline,  // outlook.office365.com: tokens for https://outlook.office365.com
  kExchangeServer,  // Exchange Server on-premises in a hybrid organization (OnPremisesOptions)
};

// Exchange Server on-premises with hybrid modern authentication (reference ews.md §4.3,
// exchange-admin.md §4): Entra issues its tokens, for its own URL as the audience.
struct OnPremisesOptions {
  // The public origin clients and Entra know the server by, e.g. "https://mail.contoso.com":
  // tokens must carry it as aud (an SPN of the tenant's Exchange Online service principal),
  // autodiscover advertises <public_url>/EWS/Exchange.asmx, and the TLS certificate names its host.
  std::string public_url;
  // Whether app-only (client credentials) OAuth is configured on the server: the unsupported
  // V1S2SAppOnly profile plus the partner application's AppOnlyPermissions. Out of the box it is
  // not, and a valid full_access_as_app token gets 403 "The token contains not enough scope to
  // make this call." (Garethp/php-ews#222).
  bool app_only_oauth = false;
};

struct MockEwsOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  bool tls = true;
  // The harness CA directory (ca.pem, ca-key.pem), shared with mock-aad; created if absent.
  // Empty: a fresh CA in a new temporary directory.
  std::filesystem::path ca_dir;
  std::uint64_t seed = 1;  // the store's ids and generated MIME
  std::size_t threads = 64;
  std::size_t journal_capacity = 2000;
  std::size_t max_body_bytes = 4 * 1024 * 1024;  // larger SOAP requests get 413
  Deployment deployment = Deployment::kExchangeOnline;
  OnPremisesOptions on_premises;  // read when deployment is kExchangeServer
};

// A tenant whose access tokens the server accepts. `jwks` is called on every token check, so key
// rotation in the issuer is seen at once; it must be thread-safe and outlive the server.
struct TrustedTenant {
  std::string tenant_id;
  std::function<nlohmann::json()> jwks;
  // Optional, used instead of `jwks` when set: the key set given the kid a token names, so a
  // cache of a remote JWKS can refetch when a rotated-in key appears (the mock-ews binary).
  std::function<nlohmann::json(const std::string& kid)> jwks_for_kid = {};
};

// Where autodiscover sends clients for one address instead of this server (hybrid and redirected
// mailboxes; see MockEws::SetAutodiscoverRedirect). Set the fields that apply, at least one; a
// redirect wins over an EWS URL.
struct AutodiscoverRedirect {
  std::string ews_url;           // the mailbox lives elsewhere (on-premises): its EWS URL
  std::string redirect_address;  // autodiscover again with this address (SOAP RedirectAddress)
  std::string redirect_url;      // autodiscover again at this URL (SOAP RedirectUrl)
};

// MockEws owns the store, the listener and the control API. Thread-safe after Start().
// Control API (besides /_exo/clock, /_exo/faults, /_exo/journal):
//   POST /_exo/mailboxes {"organization","smtp","upn","displayName"} creates a mailbox (and the
//        organization, named after its id, when it does not exist yet);
//   POST /_exo/mailboxes/{smtp}/deliver {"mime"} or {"from","to","subject","body"} delivers a
//        message to the mailbox's Inbox;
//   PUT /_exo/autodiscover/{smtp} {"ewsUrl","redirectAddress","redirectUrl"} and DELETE set and
//        remove an autodiscover redirect (SetAutodiscoverRedirect);
//   GET /_exo/throttling shows the throttling limits, the forced answer, earlyRetries, throttled
//        answers by code and each app/mailbox's state; PUT /_exo/throttling changes limits and
//        sets {"force": {...}} or clears {"force": null} (keys: ThrottlingPolicy::Update);
//        POST /_exo/throttling/reset forgets the per app/mailbox state and counters;
//   GET /_exo/state lists organizations, mailboxes and their folders with counts;
//   POST /_exo/reset empties every mailbox (same addresses and GUIDs) and clears throttling,
//        fault rules and the journal.
class MockEws {
 public:
  // Starts listening. `clock` must outlive the server; pass it again as `adjustable` to let the
  // control API move it.
  static Result<std::unique_ptr<MockEws>> Start(MockEwsOptions options, Clock& clock,
                                                AdjustableClock* adjustable = nullptr);
  ~MockEws();
  MockEws(const MockEws&) = delete;
  MockEws& operator=(const MockEws&) = delete;

  // Accepts tokens issued by "https://sts.windows.net/{tenant_id}/" and signed with a key of
  // `tenant.jwks()`. Error (kConfiguration): an empty id or no JWKS function.
  Result<void> TrustTenant(TrustedTenant tenant);

  // Makes autodiscover (v2 JSON, SOAP and POX alike) answer `target` for `smtp`, which need not be
  // a mailbox of the store (a hybrid mailbox is a mail user in Exchange Online); replaces an
  // earlier redirect for the address. Error (kConfiguration): no '@' in `smtp`, no field set, a
  // URL that is not http(s), or a redirect address without '@'.
  Result<void> SetAutodiscoverRedirect(const std::string& smtp, AutodiscoverRedirect target);
  // Removes the redirect for `smtp`; false if there was none.
  bool ClearAutodiscoverRedirect(const std::string& smtp);

  // A hybrid mailbox move between this server and `target` (Exchange Online and an Exchange
  // Server, either way), in the two phases a migration batch shows clients. BeginMailboxMove:
  // from now EWS answers ErrorMailboxMoveInProgress for the mailbox here. CompleteMailboxMove:
  // its folders and messages (MIME, read state) move to `target` with the same addresses and
  // mailbox GUID; here it is gone (Exchange Online keeps a mail user for it), and autodiscover on
  // both servers points at its new home. Errors: kNonExistentMailbox; kConfiguration
  // "NoMoveInProgress" (Complete without Begin) or "MoveTargetIsSource"; the target's
  // CreateMailbox errors (nothing changes here then).
  Result<void> BeginMailboxMove(const std::string& smtp);
  Result<void> CompleteMailboxMove(const std::string& smtp, MockEws& target);
  // The address of this server's EWS as its clients know it: on-premises the public URL's, else
  // ews_url().
  std::string public_ews_url() const;

  // The mailbox model, for in-process setup and assertions.
  MailboxStore& store();
  // EWS throttling per app and impersonated mailbox (limits, forced answers, early retries); the
  // same object GET/PUT /_exo/throttling read and change.
  ThrottlingPolicy& throttling();
  // Exchange Online's administration model over store(): recipients, access policies, RBAC for
  // Applications, EWS settings and licences, enforced on EWS after their propagation delays
  // (also GET /_exo/admin/state, GET/PUT /_exo/admin/propagation). Not enforced on-premises.
  ExchangeAdmin& admin();
  // Microsoft Graph mail (/v1.0/users/{id|upn}/…, Exchange Online only): its Outlook throttling
  // per app and mailbox (also GET/PUT /_exo/graph/throttling). Graph serves the same store and
  // answers to the same admin() policies as EWS (docs/mock-ews.md "Microsoft Graph mail").
  GraphThrottling& graph_throttling();

  // "https://127.0.0.1:41234" (no trailing slash).
  std::string base_url() const;
  // The origin clients are told about: on-premises options.on_premises.public_url (no trailing
  // slash), otherwise base_url().
  std::string public_url() const;
  // base_url() + "/EWS/Exchange.asmx".
  std::string ews_url() const;
  // base_url() + "/v1.0": the Graph client's baseUrl plus version, as
  // https://graph.microsoft.com/v1.0.
  std::string graph_url() const;
  // base_url() + "/autodiscover/autodiscover.svc" (SOAP Autodiscover; JSON and POX live beside it).
  std::string autodiscover_url() const;
  int port() const;
  std::filesystem::path ca_file() const;

  void Stop();

  struct Impl;

 private:
  explicit MockEws(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace exo::mock_ews
