// mock-aad's token service without HTTP, for the token_form and jwt_aad targets: the directory of
// fuzz/make-seeds.py (the tenant; the daemon app with a secret, the fuzz certificate and consent
// to full_access_as_app; a user for the password grant) on a simulated clock that never moves.
#pragma once

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"
#include "exo/mock_aad/directory.hpp"
#include "fuzz_support.hpp"
#include "internal/signing_keys.hpp"
#include "internal/token_service.hpp"

namespace exo::fuzz {

struct StsRig {
  SimulatedClock clock;
  SeededRandom random{3};
  aad::Directory directory{clock, random};
  std::unique_ptr<aad::SigningKeySet> keys;
  std::unique_ptr<aad::TokenService> tokens;

  StsRig() {
    const nlohmann::json exo_consent = {
        {{"resource", "https://outlook.office365.com"}, {"appRole", "full_access_as_app"}}};
    const nlohmann::json world = {
        {"tenants",
         {{{"id", kTenant},
           {"displayName", "Contoso"},
           {"domains", {"contoso.onmicrosoft.com", "contoso.com"}},
           {"users",
            {{{"userPrincipalName", "admin@contoso.onmicrosoft.com"},
              {"displayName", "Harness Admin"},
              {"password", "Harness-Admin-Pa55!"},
              {"roles", {"Global Administrator"}}}}},
           {"applications",
            {{{"appId", kAppId},
              {"displayName", "Contoso Mail Daemon"},
              {"servicePrincipalId", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"},
              {"passwordCredentials",
               {{{"secretText", kAppSecret},
                 {"displayName", "ci"},
                 {"startDateTime", "-1d"},
                 {"endDateTime", "+180d"}}}},
              {"keyCredentials",
               {{{"certificatePem", FuzzCertificate().ToPem()},
                 {"startDateTime", "-1d"},
                 {"endDateTime", "+1y"}}}},
              {"appRoleAssignments", exo_consent}}}}}}}};
    auto loaded = directory.Load(world);
    auto made = aad::SigningKeySet::Create(1);
    if (!loaded || !made) std::abort();
    keys = std::move(*made);
    tokens = std::make_unique<aad::TokenService>(directory, *keys, clock, random);
  }

  // A v2 token request to the tenant, as the route builds it from an HTTPS request.
  static aad::TokenRequest Request(std::string body) {
    aad::TokenRequest r;
    r.tenant_segment = kTenant;
    r.content_type = "application/x-www-form-urlencoded";
    r.body = std::move(body);
    r.origin = "https://login.microsoftonline.com";
    return r;
  }
};

}  // namespace exo::fuzz
