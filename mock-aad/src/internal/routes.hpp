// Route registration for the parts of mock-aad's HTTP surface, each in its own file.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "exo/mock_aad/directory.hpp"
#include "exo/mock_kit/http_server.hpp"
#include "internal/signing_keys.hpp"
#include "internal/token_service.hpp"

namespace exo::aad {

// "https://host:port" as the client addressed us (Host header), so every URL we hand out works
// from where the client stands, including through a host-name alias.
std::string OriginOf(const httplib::Request& req, const mock::HttpServer& server);

void ApplyAnswer(const HttpAnswer& a, httplib::Response& res);

// Token endpoints, OIDC discovery, JWKS and instance discovery.
void RegisterStsRoutes(mock::HttpServer& server, Directory& directory, SigningKeySet& keys,
                       TokenService& tokens);

// The Microsoft Graph v1.0 subset for directory administration (applications, credentials,
// service principals, admin consent), authenticated with tokens this server issued. The returned
// handle owns what the routes use: keep it as long as the server runs.
std::shared_ptr<void> RegisterGraphAdminRoutes(mock::HttpServer& server, Directory& directory, SigningKeySet& keys,
                              Clock& clock, Random& random);

}  // namespace exo::aad
