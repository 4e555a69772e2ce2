// Placeholder, replaced below.
#include "internal/routes.hpp"
namespace exo::aad {
void RegisterGraphAdminRoutes(mock::HttpServer&, Directory&, SigningKeySet&, Clock&, Random&) {}
}  // namespace exo::aad
