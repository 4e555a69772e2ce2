// An application's side of the ExoHarness client: one pass over the configured mailbox folder,
// printing each new message. Build: see CMakeLists.txt here, or with pkg-config:
//   c++ -std=c++23 print_new_mail.cpp $(pkg-config --cflags --libs exo-client)
// Run: print-new-mail /etc/bizagi/scheduler.config
#include <iostream>

#include "exo/client/mailbox_client.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: print-new-mail <scheduler .config>\n";
    return 2;
  }
  auto config = exo::client::LoadClientConfig(argv[1]);
  if (!config) {
    std::cerr << config.error().Describe() << "\n";
    return 2;
  }
  exo::RealClock clock;
  exo::SecureRandom random;
  auto client = exo::client::MailboxClient::Open(*config, clock, random);
  if (!client) {
    std::cerr << client.error().Describe() << "\n";
    return 2;
  }
  // The handler runs at least once per message; the idempotency key is what makes that exactly
  // once for the application (store it with whatever the message produced).
  auto monitor = (*client)->MakeMonitor([](const exo::client::HandledMessage& m) {
    std::cout << m.idempotency_key << "  " << m.message.from << "  " << m.message.subject << "\n";
    return exo::Result<void>();
  });
  if (!monitor) {
    std::cerr << monitor.error().Describe() << "\n";
    return 2;
  }
  const exo::client::MonitorStatus status = (*monitor)->Step();
  if (status.last_error) {
    std::cerr << status.last_error->Describe() << "\n";
    return 1;
  }
  std::cerr << status.handed << " new message(s)\n";
  return 0;
}
