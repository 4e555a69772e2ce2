// The client's reading of the token endpoint's answers (token_provider.cpp, aad_errors.cpp): the
// JSON of a token or an AADSTS error, and the access token's payload, which the client decodes
// without verifying (roles and audience, to explain refusals early). An input whose first line is
// "token" is the access token itself, inside a well-formed 200 answer; any other input is the
// script of answers (fuzz_support.hpp) to a token request and, after the token is invalidated, a
// second one.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/log.hpp"
#include "exo/common/random.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = exo::log::SetLevel("off");
  (void)quiet;
  const std::string_view text = exo::fuzz::AsText(data, size);
  std::deque<exo::client::HttpResponse> script;
  if (text.starts_with("token\n")) {
    exo::client::HttpResponse r;
    r.status = 200;
    r.headers.emplace("Content-Type", "application/json; charset=utf-8");
    // Bytes that are not UTF-8 cannot be in a JSON string: replaced, not thrown on.
    r.body = nlohmann::json{{"token_type", "Bearer"},
                            {"expires_in", 3599},
                            {"access_token", std::string(text.substr(6))}}
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    script.push_back(std::move(r));
  } else {
    script = exo::fuzz::ParseScript(text, "application/json; charset=utf-8");
  }
  exo::fuzz::ScriptedHttp http(std::move(script), false);
  exo::SimulatedClock clock;
  exo::SeededRandom random(1);
  exo::client::ClientCredential credential;
  credential.tenant = exo::fuzz::kTenant;
  credential.client_id = exo::fuzz::kAppId;
  credential.secret = [] {
    return exo::Result<exo::client::SecretString>(exo::client::SecretString(exo::fuzz::kAppSecret));
  };
  exo::client::TokenProvider tokens(credential, {}, http, clock, random);
  const std::string scope = "https://outlook.office365.com/.default";
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto token = tokens.Get(scope);
    exo::fuzz::Show(token ? "token, roles " + std::to_string(token->roles.size()) + ", aud " +
                                token->audience
                          : token.error().Describe());
    if (token) {
      tokens.Invalidate(scope, token->value.Reveal());
    } else {
      (void)token.error().Describe();
      tokens.ResetBackoff();
    }
  }
  return 0;
}
