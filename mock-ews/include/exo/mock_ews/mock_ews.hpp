// mock-ews: a local Exchange Online EWS endpoint (POST /EWS/Exchange.asmx) over the
// protocol-neutral MailboxStore, with Exchange's app-only OAuth checks, running in-process on port
// 0 on an injected clock. Tokens are trusted per tenant through that tenant's JWKS (in-process:
// mock-aad's).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

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
};

// A tenant whose access tokens the server accepts. `jwks` is called on every token check, so key
// rotation in the issuer is seen at once; it must be thread-safe and outlive the server.
struct TrustedTenant {
  std::string tenant_id;
  std::function<nlohmann::json()> jwks;
};

// MockEws owns the store, the listener and the control API. Thread-safe after Start().
// Control API (besides /_exo/clock, /_exo/faults, /_exo/journal):
//   POST /_exo/mailboxes {"organization","smtp","upn","displayName"} creates a mailbox (and the
//        organization, named after its id, when it does not exist yet);
//   POST /_exo/mailboxes/{smtp}/deliver {"mime"} or {"from","to","subject","body"} delivers a
//        message to the mailbox's Inbox.
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

  // The mailbox model, for in-process setup and assertions.
  MailboxStore& store();

  // "https://127.0.0.1:41234" (no trailing slash).
  std::string base_url() const;
  // base_url() + "/EWS/Exchange.asmx".
  std::string ews_url() const;
  int port() const;
  std::filesystem::path ca_file() const;

  void Stop();

  struct Impl;

 private:
  explicit MockEws(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace exo::mock_ews
