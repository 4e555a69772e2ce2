// The client's autodiscover (client/src/autodiscover.cpp): v2 JSON answers and redirects, then
// SOAP GetUserSettings answers and their RedirectAddress / RedirectUrl hops. The input is the
// script of HTTP answers (fuzz_support.hpp) to the requests in the order the client makes them;
// a redirect is "HTTP 302" with a Location header. Tokens for the SOAP stage are answered outside
// the script.
#include <cstdint>
#include <string>

#include "exo/client/autodiscover.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/log.hpp"
#include "exo/common/random.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = exo::log::SetLevel("off");
  (void)quiet;
  exo::fuzz::ScriptedHttp http(
      exo::fuzz::ParseScript(exo::fuzz::AsText(data, size), "application/json; charset=utf-8"),
      true);
  exo::SimulatedClock clock;
  exo::SeededRandom random(1);
  exo::client::ClientCredential credential;
  credential.tenant = exo::fuzz::kTenant;
  credential.client_id = exo::fuzz::kAppId;
  credential.secret = [] {
    return exo::Result<exo::client::SecretString>(exo::client::SecretString("s"));
  };
  exo::client::TokenProvider tokens(credential, {}, http, clock, random);
  exo::client::AutodiscoverOptions options;
  options.max_hops = 4;
  auto endpoint = exo::client::DiscoverEws(exo::fuzz::kMailbox, options, http, &tokens);
  exo::fuzz::Show(endpoint ? endpoint->source + " " + endpoint->url : endpoint.error().Describe());
  return 0;
}
