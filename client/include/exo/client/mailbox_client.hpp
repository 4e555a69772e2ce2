// Assembly: from a ClientConfig to a working connection (key, secret, HTTP, tokens, discovery,
// transport) and a durable monitor; what the exo-mailbox CLI and embedding applications use.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "exo/client/config.hpp"
#include "exo/client/http.hpp"
#include "exo/client/mailbox_transport.hpp"
#include "exo/client/monitor.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/random.hpp"

namespace exo::client {

struct MailboxClientOptions {
  // Tests and embedders may bring their own HTTP; null: HTTPS with config.ca_bundle.
  std::shared_ptr<HttpTransport> http;
  // The lease owner the monitor writes ("host:pid:config"); empty: derived.
  std::string owner;
  // The checkpoint database; empty: config.state_dir / "exo-mailbox.db".
  std::filesystem::path state_file;
  // Embedders and fault injection (the scenario runner's crash inside a batch) may bring their own
  // store; null: SQLite at state_file.
  std::shared_ptr<CheckpointStore> store;
  // Where the secret's key comes from when the config names no EmailIntegrationKeyFile.
  std::string key_environment_variable = "EXO_SECRET_KEY";
};

// Owns the pieces; they live as long as it does. Thread-safe.
//
// The transport it hands out is a stable facade: the endpoint behind it may change (autodiscover
// on first use when no EWS URL is configured; a hybrid mailbox that Exchange Online does not hold,
// ErrorNonExistentMailbox, is looked up again and served from its on-premises URL with a token for
// that audience; a reloaded configuration with another tenant, app or endpoint), and the monitor
// never notices beyond one full resync, which hands nothing twice.
class MailboxClient {
 public:
  // Wires only: decrypts nothing and contacts nobody, so a broken secret is reported by the first
  // use (the monitor's status, the doctor), not here. Error (kConfiguration): no key source.
  static Result<std::unique_ptr<MailboxClient>> Open(ClientConfig config, Clock& clock,
                                                     Random& random,
                                                     MailboxClientOptions options = {});
  ~MailboxClient();

  TokenProvider& tokens();
  MailboxTransport& transport();
  HttpTransport& http();
  // The plaintext secret under the current key (the doctor's "secret decrypts").
  Result<SecretString> DecryptSecret() const;
  // The endpoint the transport would use now, discovering it if nobody has yet.
  Result<TransportInfo> Endpoint();

  // A monitor over transport() with the SQLite checkpoint store, options from the configuration
  // (folder, disposition) merged into `base`. It must be destroyed before the client.
  Result<std::shared_ptr<MailboxMonitor>> MakeMonitor(MessageHandler handler,
                                                      MonitorOptions base = {});

  // Re-reads config.source if it changed on disk: true when a new, valid configuration is in
  // force (the credential's back-off is forgotten and the monitor retries at once). A broken edit
  // is an error and changes nothing: the old configuration stays.
  Result<bool> ReloadIfChanged();
  // Calls ReloadIfChanged every `every` on the clock, on its own thread, until destruction.
  // `checked`, when given, hears each check's outcome after it took effect (a reload: true; an
  // edit refused: its error), e.g. to tell a runner outside the process that the reload is done.
  void WatchConfig(Duration every = std::chrono::seconds(2),
                   std::function<void(const Result<bool>&)> checked = {});

  ClientConfig config() const;

  struct State;

 private:
  explicit MailboxClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace exo::client
