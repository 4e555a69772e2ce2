// mock-ews's bearer-token checks (ews_auth.cpp, over mock-kit's JWT parsing and remote_jwks.cpp's
// key cache): the input is an Authorization header value. Exchange Online's validator (EWS
// permissions with an RBAC lookup, the Graph-style Inspect with v2 issuers) and an on-premises
// server's run on it; the tenant's keys (fuzz/keys) come through a RemoteJwks, as the
// standalone mock-ews has them. The seeds are tokens signed with the fuzz key (make-seeds.py), so
// the lifetime, audience, issuer and role checks are reached.
#include <cstdint>
#include <string>

#include "exo/common/clock.hpp"
#include "fuzz_support.hpp"
#include "internal/ews_auth.hpp"
#include "internal/remote_jwks.hpp"

namespace {

struct Validators {
  exo::SimulatedClock clock;
  exo::mock_ews::RemoteJwks keys{[] { return exo::Result<nlohmann::json>(exo::fuzz::FuzzJwks()); },
                                 clock};
  exo::mock_ews::TokenValidator online{clock};
  exo::mock_ews::TokenValidator on_premises{
      clock, exo::mock_ews::AudiencePolicy{true, "https://mail.contoso.com", true}};

  Validators() {
    for (auto* v : {&online, &on_premises}) {
      v->Trust(exo::fuzz::kTenant, [this](const std::string& kid) { return keys.KeysFor(kid); });
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Stateless between inputs except the key cache, which only ever holds the one key set.
  static Validators v;
  const std::string authorization(exo::fuzz::AsText(data, size));
  const exo::mock_ews::TokenValidator::RbacGrantLookup rbac = [](const std::string& tid,
                                                                 const std::string& app) {
    return tid == exo::fuzz::kTenant && app == exo::fuzz::kAppId;
  };
  exo::mock_ews::EwsCaller caller;
  const auto refused = v.online.Check(authorization, caller, &rbac);
  exo::fuzz::Show(refused ? std::to_string(refused->status) + " " + refused->diagnostics
                          : "accepted for " + caller.app_id);
  // The other validators differ only after the signature: most mutants fail before it, and one
  // RSA verification per input is what keeps this target over a thousand inputs a second.
  if (refused && (refused->diagnostics.empty() ||
                  refused->diagnostics.find("invalid_signature") != std::string::npos ||
                  refused->diagnostics.find("is malformed") != std::string::npos)) {
    return 0;
  }
  exo::mock_ews::EwsCaller plain;
  (void)v.online.Check(authorization, plain);
  exo::mock_ews::TokenExpectations graph;
  graph.audience = [](const std::string& aud) {
    return aud == "https://graph.microsoft.com" || aud == "00000003-0000-0000-c000-000000000000";
  };
  graph.accept_v2_issuer = true;
  exo::mock_ews::VerifiedToken token;
  std::string detail;
  (void)v.online.Inspect(authorization, graph, token, &detail);
  exo::mock_ews::EwsCaller hybrid;
  (void)v.on_premises.Check(authorization, hybrid);
  return 0;
}
