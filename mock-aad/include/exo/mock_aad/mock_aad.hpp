// mock-aad: a local Microsoft Entra ID (Azure AD) token service, faithful on the wire, running
// in-process on port 0 on an injected clock. The `mock-aad` binary is a thin shell around it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "exo/common/clock.hpp"
#include "exo/common/result.hpp"
#include "exo/mock_aad/directory.hpp"

namespace exo::aad {

struct MockAadOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  bool tls = true;
  // Where the harness CA lives (ca.pem, ca-key.pem), and the token-signing keys
  // (signing-key-N.pem); created there if absent. Empty: a fresh CA in a new temporary directory
  // and signing keys generated for this process.
  std::filesystem::path ca_dir;
  // Extra names on the server certificate, e.g. "login.microsoftonline.com".
  std::vector<std::string> host_names;
  // The initial directory (docs/mock-aad.md). Absent: Directory::DefaultWorld.
  std::optional<nlohmann::json> world;
  std::uint64_t seed = 1;  // trace ids, generated ids and the default admin password
  std::size_t threads = 64;
  std::size_t journal_capacity = 2000;
  std::size_t signing_keys = 2;  // published in the JWKS; the first signs
};

// The account the default world creates, and the tenant everything defaults to.
struct HarnessIdentity {
  std::string tenant_id;
  std::string tenant_domain;
  std::string admin_upn;
  std::string admin_password;  // generated from the seed, or the world file's
};

class MockAad {
 public:
  // Builds the directory, keys and TLS identity, then starts listening. `clock` must outlive the
  // server. Pass the same object as `adjustable` (a SimulatedClock or OffsetClock) to let the
  // control API move it; leave it null to forbid that.
  static Result<std::unique_ptr<MockAad>> Start(MockAadOptions options, Clock& clock,
                                                AdjustableClock* adjustable = nullptr);
  ~MockAad();

  // "https://127.0.0.1:41234": the authority host; tenants are path segments below it.
  std::string base_url() const;
  int port() const;
  // The harness CA certificate, PEM, and the file it was written to.
  std::string ca_pem() const;
  std::filesystem::path ca_file() const;
  HarnessIdentity identity() const;

  // The directory, for in-process administration by tests and the scenario runner.
  Directory& directory();
  // The current JWKS ({"keys":[...]}): what a resource (mock-ews) trusts.
  nlohmann::json Jwks() const;
  // Issuer of v1 tokens for a tenant: "https://sts.windows.net/{tid}/".
  static std::string V1Issuer(const std::string& tenant_id);
  // Publishes a new signing key and signs with it from now on; the old key stays published.
  Result<std::string> RotateSigningKey();
  // Removes a key from the JWKS.
  bool RetireSigningKey(const std::string& kid);

  // Restores the initial world and clears journal, faults, replay and throttle state.
  Result<void> Reset();
  // The ready-file contents: aad, control, ca, tenant, admin.
  nlohmann::json ReadyInfo() const;

  void Stop();

  struct Impl;

 private:
  explicit MockAad(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace exo::aad
