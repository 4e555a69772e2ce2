// mock-aad's token endpoint from the request body on (token_service.cpp): the form parsing the
// route does (httplib's parse_query_text), then grants, credentials and every AADSTS check in
// Entra's order. The input is the application/x-www-form-urlencoded body; leading lines starting
// with '#' set what the route would take from the request line and headers instead:
// "#v1" (the /oauth2/token endpoint), "#tenant SEGMENT", "#auth AUTHORIZATION",
// "#type CONTENT-TYPE", "#method METHOD". Replay and throttling state is forgotten between inputs.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "sts_rig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static exo::fuzz::StsRig rig;
  std::string_view text = exo::fuzz::AsText(data, size);
  exo::aad::TokenRequest request = exo::fuzz::StsRig::Request({});
  while (text.starts_with('#')) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(1, eol == std::string_view::npos ? eol : eol - 1);
    const std::size_t space = line.find(' ');
    const std::string_view key = line.substr(0, space);
    const std::string value(space == std::string_view::npos ? "" : line.substr(space + 1));
    if (key == "v1") request.v2 = false;
    if (key == "tenant") request.tenant_segment = value;
    if (key == "auth") request.authorization = value;
    if (key == "type") request.content_type = value;
    if (key == "method") request.method = value;
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  }
  request.body = std::string(text);
  rig.tokens->Reset();
  const exo::aad::HttpAnswer answer = rig.tokens->Handle(request);
  exo::fuzz::Show(std::to_string(answer.status) + " " + answer.body);
  return 0;
}
