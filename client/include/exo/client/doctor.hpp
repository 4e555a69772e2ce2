// `exo-mailbox doctor`: checks every link from the configuration file to the monitored folder, in
// order, and reports each with the seed's setup step that fixes it. It changes nothing anywhere.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exo/client/http.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"

namespace exo::client {

struct DoctorCheck {
  enum class Outcome { kPass, kWarn, kFail, kSkipped };
  std::string id;    // stable, for machines: "config", "secret", "authority", "token", ...
  std::string name;  // for people: "secret decrypts"
  Outcome outcome = Outcome::kSkipped;
  std::string detail;  // what was found
  std::string code;    // the service's own code when it failed (AADSTS7000222, ErrorAccessDenied)
  std::string remedy;  // what to do; empty on kPass
  std::string seed_step;  // "3" (client secret), "2.3" (admin consent), "5.7" (access policy)...
};

struct DoctorReport {
  std::filesystem::path config_file;
  std::vector<DoctorCheck> checks;
  int failures() const;
  int warnings() const;
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

struct DoctorOptions {
  std::shared_ptr<HttpTransport> http;  // tests; null: HTTPS with the config's CA bundle
  // Exchange Online turns EWS off for good on this day: a warning before, a failure after.
  SystemTime ews_retirement = std::chrono::sys_days{std::chrono::year{2027} / 4 / 1};
};

// In order: the configuration's keys, the secret (or certificate), the authority, the transport
// (EWS or Microsoft Graph, and why: EmailIntegrationTransport, or under auto what autodiscover
// said), a token for that transport, its roles (EWS: full_access_as_app; Graph: Mail.ReadWrite)
// and audience, the endpoint ("ews" or "graph"), EWS retirement (a warning while an Exchange
// Online mailbox is still read over EWS, a failure after the cut-off), access to the mailbox, the
// folder, the disposition's folder and the state directory. A failed link skips the checks that
// depend on it.
DoctorReport RunDoctor(const std::filesystem::path& config_file, Clock& clock, Random& random,
                       DoctorOptions options = {});

}  // namespace exo::client
