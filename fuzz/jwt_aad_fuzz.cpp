// mock-aad's verification of client assertions (private_key_jwt, token_service.cpp over mock-kit's
// JWT code): the input is the assertion, sent by the daemon app, whose registered certificate is
// the fuzz certificate, in an otherwise valid client-credentials request. The seeds are assertions
// signed with the fuzz key (make-seeds.py), so thumbprint, signature, issuer, audience, lifetime and
// replay checks are all reached; the replay memory is forgotten between inputs.
#include <cstdint>
#include <string>

#include "exo/common/base64.hpp"
#include "fuzz_support.hpp"
#include "sts_rig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static exo::fuzz::StsRig rig;
  const std::string body =
      std::string("client_id=") + exo::fuzz::kAppId +
      "&scope=https%3A%2F%2Foutlook.office365.com%2F.default&grant_type=client_credentials"
      "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
      "&client_assertion=" +
      exo::PercentEncode(exo::fuzz::AsText(data, size));
  rig.tokens->Reset();
  const exo::aad::HttpAnswer answer = rig.tokens->Handle(exo::fuzz::StsRig::Request(body));
  exo::fuzz::Show(std::to_string(answer.status) + " " + answer.body);
  return 0;
}
