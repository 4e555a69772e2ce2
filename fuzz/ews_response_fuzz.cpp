// The client's reading of EWS answers (ews_xml.cpp, ews_transport.cpp): the first line of the
// input names an operation of the EWS MailboxTransport, the rest is the script of HTTP answers
// it gets (fuzz_support.hpp: answers separated by "%%", "HTTP <status>" for a non-200 or headers).
// Operations: resolve (inbox), path (a folder path, created when missing: FindFolder and
// CreateFolder), sync, fetch (three ids in batches of two), markread, move, delete, reply, watch
// (Subscribe, then GetStreamingEvents answers streamed in chunks); anything else runs them all in
// that order. Tokens are answered outside the script.
#include <cstdint>
#include <string>
#include <string_view>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "exo/client/ews_transport.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/log.hpp"
#include "exo/common/random.hpp"
#include "fuzz_support.hpp"

namespace {

using exo::client::MailboxTransport;

// The simulated clock, telling when a thread starts waiting on it: the watcher backs off (the
// script is spent or an answer refused it) and, as time never moves, would wait forever.
class WaitWatchingClock final : public exo::Clock {
 public:
  exo::SystemTime Now() const override { return clock_.Now(); }
  exo::MonoTime Monotonic() const override { return clock_.Monotonic(); }
  bool WaitUntil(exo::MonoTime deadline, const std::function<bool()>& done) override {
    {
      std::lock_guard lock(mu_);
      waited_ = true;
    }
    cv_.notify_all();
    return clock_.WaitUntil(deadline, done);
  }
  void Notify() override { clock_.Notify(); }

  void WaitForAWaiter() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return waited_; });
  }

 private:
  exo::SimulatedClock clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool waited_ = false;
};

template <class T>
void Note(const char* what, const exo::Result<T>& r) {
  exo::fuzz::Show(std::string(what) + ": " + (r ? "ok" : r.error().Describe()));
}

void Run(std::string_view op, MailboxTransport& ews, exo::fuzz::ScriptedHttp& http,
         WaitWatchingClock& clock) {
  const bool all = op != "resolve" && op != "path" && op != "sync" && op != "fetch" &&
                   op != "markread" && op != "move" && op != "delete" && op != "reply" &&
                   op != "watch";
  if (all || op == "resolve") Note("resolve", ews.ResolveFolder("inbox", false));
  if (all || op == "path") Note("path", ews.ResolveFolder("Processed/2026", true));
  if (all || op == "sync") Note("sync", ews.SyncFolder("AQMkAGI2", "H4sIAAAA", 512));
  if (all || op == "fetch") Note("fetch", ews.FetchMessages({"AAMkA1", "AAMkA2", "AAMkA3"}));
  if (all || op == "markread") Note("markread", ews.MarkRead("AAMkA1"));
  if (all || op == "move") Note("move", ews.Move("AAMkA1", "AQMkAGI2"));
  if (all || op == "delete") Note("delete", ews.Delete("AAMkA1"));
  if (all || op == "reply") Note("reply", ews.Reply("AAMkA1", "Thanks"));
  if ((all || op == "watch") && !http.spent()) {
    // The watcher thread reads answers until the script is spent or an answer makes it back off;
    // either way it then waits on the clock, and stopping it there is deterministic.
    (void)ews.Watch("AQMkAGI2", [] {});
    clock.WaitForAWaiter();
    ews.StopWatching();
  }
  (void)ews.Info();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = exo::log::SetLevel("off");
  (void)quiet;
  std::string_view text = exo::fuzz::AsText(data, size);
  const std::size_t eol = text.find('\n');
  const std::string_view op = text.substr(0, eol);
  text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);

  exo::fuzz::ScriptedHttp http(exo::fuzz::ParseScript(text, "text/xml; charset=utf-8"), true);
  WaitWatchingClock clock;
  exo::SeededRandom random(1);
  exo::client::ClientCredential credential;
  credential.tenant = exo::fuzz::kTenant;
  credential.client_id = exo::fuzz::kAppId;
  credential.secret = [] {
    return exo::Result<exo::client::SecretString>(exo::client::SecretString("s"));
  };
  exo::client::TokenProvider tokens(credential, {}, http, clock, random);
  exo::client::EwsOptions options;
  options.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  options.mailbox = exo::fuzz::kMailbox;
  options.fetch_batch = 2;
  auto ews = exo::client::MakeEwsTransport(options, tokens, http, clock);
  Run(op, *ews, http, clock);
  return 0;
}
