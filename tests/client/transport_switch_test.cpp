// Moving a mailbox's monitor from EWS to Microsoft Graph (and back) without handing any message
// twice. Ids and sync states belong to the transport that issued them; the monitor keys messages
// by their Message-ID, which EWS and Graph report alike. First at the monitor with two scripted
// transports over one mailbox and a SQLite checkpoint written under one and read under the other;
// then through MailboxClient (mock-aad, mock-ews, and a Graph test double) with the
// configuration edited while it runs; then EmailIntegrationTransport=auto choosing per mailbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "configured_client.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/client/monitor.hpp"
#include "fake_graph.hpp"

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;

// ---- The monitor over two transports that share one mailbox ----

// One mailbox as two protocols would see it: messages by Message-ID, each with its read flag.
struct SharedMailbox {
  struct Mail {
    std::string message_id;
    std::string subject;
    bool read = false;
  };
  std::vector<Mail> mail;  // in arrival order
  std::string Add(const std::string& subject) {
    const std::string id = "<" + std::to_string(mail.size() + 1) + ".switch@contoso.com>";
    mail.push_back({id, subject, false});
    return id;
  }
};

// A protocol's view of the mailbox: ids "<protocol>-<n>" and sync states "<protocol>:<count>".
// Like a real server it refuses the other protocol's sync states (ErrorInvalidSyncStateData) and
// ids (ErrorInvalidIdMalformed).
class ProtocolView final : public MailboxTransport {
 public:
  ProtocolView(std::string protocol, SharedMailbox& box)
      : protocol_(std::move(protocol)), box_(box) {}

  TransportInfo Info() const override {
    return {protocol_, "fake", "", true, "", messages_per_fetch};
  }
  Result<std::string> ResolveFolder(const std::string& name, bool) override { return name; }
  Result<SyncPage> SyncFolder(const std::string&, const std::string& state, int) override {
    std::size_t from = 0;
    if (!state.empty()) {
      if (!state.starts_with(protocol_ + ":")) {
        return Fail(ErrorCategory::kProtocol, "ErrorInvalidSyncStateData", "not my state");
      }
      from = std::stoul(state.substr(protocol_.size() + 1));
    }
    SyncPage page;
    for (std::size_t i = from; i < box_.mail.size(); ++i) {
      FolderChange c;
      c.message = Message(i);
      page.changes.push_back(c);
    }
    page.sync_state = protocol_ + ":" + std::to_string(box_.mail.size());
    return page;
  }
  Result<std::vector<MailMessage>> FetchMessages(const std::vector<std::string>& ids) override {
    if (fetches_left == 0) {
      return Fail(ErrorCategory::kThrottled, "ApplicationThrottled", "over the request rate");
    }
    if (fetches_left > 0) --fetches_left;
    std::vector<MailMessage> out;
    for (const auto& id : ids) {
      if (auto i = Index(id)) out.push_back(Message(*i));
    }
    return out;
  }
  Result<void> MarkRead(const std::string& id) override {
    auto i = Index(id);
    if (!i) return Fail(ErrorCategory::kProtocol, "ErrorInvalidIdMalformed", "not my id: " + id);
    if (fail_next_mark_read > 0) {
      --fail_next_mark_read;
      return Fail(ErrorCategory::kTransient, "ErrorInternalServerTransientError", "try again");
    }
    box_.mail[*i].read = true;
    marked_read.push_back(id);
    return {};
  }
  Result<std::string> Move(const std::string& id, const std::string&) override { return id; }
  Result<void> Delete(const std::string&) override { return {}; }
  Result<void> Reply(const std::string&, const std::string&) override { return {}; }
  Result<bool> Watch(const std::string&, std::function<void()>) override { return false; }
  void StopWatching() override {}

  int fail_next_mark_read = 0;
  std::size_t messages_per_fetch = 0;  // as Info() says; Graph's is 1
  int fetches_left = -1;               // then every fetch is throttled; -1: no limit
  std::vector<std::string> marked_read;

 private:
  std::optional<std::size_t> Index(const std::string& id) const {
    if (!id.starts_with(protocol_ + "-")) return std::nullopt;
    const std::size_t i = std::stoul(id.substr(protocol_.size() + 1));
    return i < box_.mail.size() ? std::optional<std::size_t>(i) : std::nullopt;
  }
  MailMessage Message(std::size_t i) const {
    MailMessage m;
    m.id = protocol_ + "-" + std::to_string(i);
    m.internet_message_id = box_.mail[i].message_id;
    m.subject = box_.mail[i].subject;
    m.is_read = box_.mail[i].read;
    m.mime = "Subject: " + m.subject + "\r\n\r\n";
    return m;
  }

  std::string protocol_;
  SharedMailbox& box_;
};

class MonitorSwitchTest : public ::testing::Test {
 protected:
  std::unique_ptr<CheckpointStore> OpenStore() {
    auto store = OpenSqliteCheckpointStore(dir_.path() / "exo-mailbox.db");
    EXPECT_TRUE(store.has_value()) << store.error().Describe();
    return store ? std::move(*store) : nullptr;
  }
  MonitorStatus StepWith(MailboxTransport& transport, CheckpointStore& store) {
    MonitorOptions o;
    o.key = {"monitor@contoso.com", "inbox"};
    o.owner = "test:1";
    o.use_notifications = false;
    MailboxMonitor monitor(
        o, transport, store,
        [this](const HandledMessage& h) -> Result<void> {
          ++handed_[h.idempotency_key];
          return {};
        },
        clock_, random_);
    return monitor.Step();
  }

  exo::testing::TempDir dir_;
  SimulatedClock clock_;
  SeededRandom random_{5};
  SharedMailbox box_;
  std::map<std::string, int> handed_;  // idempotency key -> times handed
};

// Verifies the switch from EWS to Graph hands nothing twice: messages handed under EWS are
// recognised by their Message-ID in Graph's full resync; one handed but not yet marked read
// when the switch came (its row holds an EWS id) gets the disposition through Graph once the
// resync gave it its Graph id; mail that arrived meanwhile is handed once; and switching back
// repeats nothing either.
TEST_F(MonitorSwitchTest, EwsToGraphAndBackHandsNothingTwice) {
  ProtocolView ews("ews", box_), graph("graph", box_);
  const std::string a = box_.Add("A"), b = box_.Add("B");
  {
    auto store = OpenStore();
    ASSERT_EQ(StepWith(ews, *store).phase, MonitorStatus::Phase::kHealthy);
    const std::string c = box_.Add("C");
    ews.fail_next_mark_read = 1;  // C is handed, its disposition fails: the row stays kHanded
    ASSERT_EQ(StepWith(ews, *store).phase, MonitorStatus::Phase::kBackingOff);
    auto row = store->Find({"monitor@contoso.com", "inbox"}, c);
    ASSERT_TRUE(row.has_value() && row->has_value());
    EXPECT_EQ((*row)->state, MessageState::kHanded);
    EXPECT_EQ((*row)->item_id, "ews-2");
  }
  const std::string d = box_.Add("D");

  auto store = OpenStore();  // the rows written under EWS, read under Graph
  const MonitorStatus s = StepWith(graph, *store);
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
      << (s.last_error ? s.last_error->Describe() : "");
  EXPECT_EQ(s.resyncs, 1u);
  EXPECT_EQ(handed_,
            (std::map<std::string, int>{{a, 1}, {b, 1}, {box_.mail[2].message_id, 1}, {d, 1}}));
  EXPECT_THAT(graph.marked_read, ::testing::ElementsAre("graph-2", "graph-3"));
  for (const auto& m : box_.mail) EXPECT_TRUE(m.read) << m.subject;
  auto row = store->Find({"monitor@contoso.com", "inbox"}, box_.mail[2].message_id);
  ASSERT_TRUE(row.has_value() && row->has_value());
  EXPECT_EQ((*row)->state, MessageState::kDisposed);
  EXPECT_EQ((*row)->item_id, "graph-2");

  // And back: EWS's resync finds every key known.
  const MonitorStatus back = StepWith(ews, *store);
  ASSERT_EQ(back.phase, MonitorStatus::Phase::kHealthy);
  EXPECT_EQ(back.resyncs, 1u);
  EXPECT_EQ(handed_.size(), 4u);
  for (const auto& [key, times] : handed_) EXPECT_EQ(times, 1) << key;
}

// Verifies a transport that reads one message per round trip (Graph) gets one message per fetch,
// each handed before the next is read: throttled halfway through a burst, the monitor keeps what
// it handed and the next round hands the rest, each once. (Fetching the whole burst first, a rate
// limit smaller than the burst's requests would refuse every round: nothing would ever be handed.)
TEST_F(MonitorSwitchTest, OneMessagePerFetchKeepsProgressWhenThrottledMidBurst) {
  ProtocolView graph("graph", box_);
  graph.messages_per_fetch = 1;
  auto store = OpenStore();
  EXPECT_EQ(StepWith(graph, *store).phase, MonitorStatus::Phase::kHealthy);  // the folder, empty
  for (int i = 1; i <= 5; ++i) box_.Add("Burst " + std::to_string(i));
  graph.fetches_left = 2;
  const MonitorStatus throttled = StepWith(graph, *store);
  ASSERT_TRUE(throttled.last_error.has_value());
  EXPECT_EQ(throttled.last_error->code, "ApplicationThrottled");
  EXPECT_EQ(handed_.size(), 2u);
  graph.fetches_left = -1;
  EXPECT_EQ(StepWith(graph, *store).phase, MonitorStatus::Phase::kHealthy);
  EXPECT_EQ(handed_.size(), 5u);
  for (const auto& [key, times] : handed_) EXPECT_EQ(times, 1) << key;
}

// ---- MailboxClient: mock-ews, then a Graph test double, by editing the configuration ----

constexpr const char* kGraphBase = "https://graph.test";

class TransportSwitchTest : public ConfiguredTest {
 protected:
  void SetUp() override {
    ConfiguredTest::SetUp();
    if (HasFatalFailure()) return;
    // Admin consent of Graph's Mail.ReadWrite (seed step 2.2 for Graph), next to
    // full_access_as_app.
    ASSERT_TRUE(aad_->directory()
                    .GrantAppRole(aad::test::kTenantId, aad::test::kDaemonAppId,
                                  "https://graph.microsoft.com", "Mail.ReadWrite")
                    .has_value());
    graph_ = std::make_unique<FakeGraph>(kGraphBase, kMailbox);
  }
  void TearDown() override {
    monitor_.reset();
    client_.reset();
    router_.reset();
    graph_.reset();
    ConfiguredTest::TearDown();
  }

  void Open(HttpTransport& rest) {
    router_ = std::make_unique<GraphRouter>(*graph_, rest);
    MailboxClientOptions o;
    o.http = std::shared_ptr<HttpTransport>(router_.get(), [](HttpTransport*) {});
    auto client = MailboxClient::Open(LoadConfig(), clock_, random_, std::move(o));
    ASSERT_TRUE(client.has_value()) << client.error().Describe();
    client_ = std::move(*client);
    MonitorOptions base;
    base.use_notifications = false;
    auto monitor = client_->MakeMonitor(
        [this](const HandledMessage& h) -> Result<void> {
          ++handed_[h.idempotency_key];
          EXPECT_FALSE(h.message.mime.empty());
          return {};
        },
        base);
    ASSERT_TRUE(monitor.has_value()) << monitor.error().Describe();
    monitor_ = *monitor;
  }

  // Delivered to the mailbox as both protocols see it: the same Message-ID in mock-ews and Graph.
  std::string DeliverBoth(const std::string& subject) {
    const std::string id = Deliver(subject);
    graph_->Add(id, subject);
    return id;
  }

  MonitorStatus Step() {
    const MonitorStatus s = monitor_->Step();
    EXPECT_EQ(s.phase, MonitorStatus::Phase::kHealthy)
        << (s.last_error ? s.last_error->Describe() : "");
    return s;
  }

  std::unique_ptr<FakeGraph> graph_;
  std::unique_ptr<GraphRouter> router_;
  std::unique_ptr<MailboxClient> client_;
  std::shared_ptr<MailboxMonitor> monitor_;
  std::map<std::string, int> handed_;
};

// Verifies the operator's move to Graph while the monitor runs: mail handed over EWS is not
// handed again by Graph's resync (the keys are Message-IDs); a message whose disposition was
// still pending when the configuration changed keeps its EWS id in the checkpoint, which the
// client recognises as EWS's (no request with it reaches Graph) until the resync gives it its
// Graph id, and is then marked read through Graph; new mail is handed once; and moving back to
// EWS hands nothing again.
TEST_F(TransportSwitchTest, ConfigReloadFromEwsToGraphHandsNothingTwice) {
  WriteConfig();
  Open(*http_);
  const std::string a = DeliverBoth("A"), b = DeliverBoth("B");
  Step();
  EXPECT_EQ(client_->transport().Info().protocol, "EWS");
  graph_->SetRead(a);  // the same mailbox: what EWS marked read is read in Graph too
  graph_->SetRead(b);
  const std::string c = DeliverBoth("C");
  Step();
  // As after a crash between the hand-over and the disposition: C is kHanded with its EWS id, and
  // still unread.
  auto store = OpenSqliteCheckpointStore(dir_->path() / "exo-mailbox.db");
  ASSERT_TRUE(store.has_value());
  const FolderKey key{kMailbox, "inbox"};
  auto row = (*store)->Find(key, c);
  ASSERT_TRUE(row.has_value() && row->has_value());
  const std::string ews_id = (*row)->item_id;
  ASSERT_TRUE((*store)->SetState(key, c, MessageState::kHanded).has_value());

  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationTransport", "graph"}, {"EmailIntegrationGraphUrl", kGraphBase}});
  auto reloaded = client_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.has_value() && *reloaded) << (reloaded ? "" : reloaded.error().Describe());
  // The EWS id is recognised as EWS's without asking Graph, and named so.
  auto foreign = client_->transport().MarkRead(ews_id);
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code, "ErrorInvalidIdMalformed");
  EXPECT_THAT(foreign.error().message, HasSubstr("issued by EWS"));
  EXPECT_TRUE(graph_->requests().empty());
  const std::string d = DeliverBoth("D");

  const MonitorStatus s = Step();
  EXPECT_EQ(client_->transport().Info().protocol, "Graph");
  EXPECT_EQ(client_->transport().Info().reason, "EmailIntegrationTransport=graph");
  EXPECT_GE(s.resyncs, 1u);
  EXPECT_EQ(handed_, (std::map<std::string, int>{{a, 1}, {b, 1}, {c, 1}, {d, 1}}));
  EXPECT_TRUE(graph_->ByMessageId(c)->is_read);
  EXPECT_TRUE(graph_->ByMessageId(d)->is_read);
  for (const HttpRequest& r : graph_->requests()) {
    EXPECT_EQ(r.url.find(PercentEncode(ews_id)), std::string::npos) << r.method << " " << r.url;
  }
  row = (*store)->Find(key, c);
  ASSERT_TRUE(row.has_value() && row->has_value());
  EXPECT_EQ((*row)->state, MessageState::kDisposed);
  EXPECT_TRUE((*row)->item_id.starts_with("graph:")) << (*row)->item_id;
  Step();
  EXPECT_EQ(handed_.size(), 4u);

  WriteConfig();  // back to EWS, where D is still unread: known by its key, not handed again
  ASSERT_TRUE(client_->ReloadIfChanged().value_or(false));
  Step();
  EXPECT_EQ(client_->transport().Info().protocol, "EWS");
  for (const auto& [k, times] : handed_) EXPECT_EQ(times, 1) << k;
  EXPECT_EQ(handed_.size(), 4u);
}

// Verifies Graph's own expiry of a delta link (410 SyncStateNotFound) costs one full resync that
// hands nothing twice.
TEST_F(TransportSwitchTest, ExpiredDeltaLinkResyncsWithoutRepeats) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationTransport", "graph"}, {"EmailIntegrationGraphUrl", kGraphBase}});
  Open(*http_);
  graph_->Add("<a.graph@contoso.com>", "A");
  Step();
  graph_->ExpireDeltaTokens();
  graph_->Add("<b.graph@contoso.com>", "B");
  const MonitorStatus s = Step();
  EXPECT_EQ(s.resyncs, 1u);
  EXPECT_EQ(handed_, (std::map<std::string, int>{{"<a.graph@contoso.com>", 1},
                                                 {"<b.graph@contoso.com>", 1}}));
}

// Verifies EmailIntegrationTransport=auto reads an Exchange Online mailbox over Graph and says why.
TEST_F(TransportSwitchTest, AutoReadsExchangeOnlineOverGraph) {
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationTransport", "auto"}, {"EmailIntegrationGraphUrl", kGraphBase}});
  Open(*http_);
  auto info = client_->Endpoint();
  ASSERT_TRUE(info.has_value()) << info.error().Describe();
  EXPECT_EQ(info->protocol, "Graph");
  EXPECT_EQ(info->endpoint, kGraphBase);
  EXPECT_THAT(info->reason, HasSubstr("EmailIntegrationTransport=auto"));
  EXPECT_THAT(info->reason, HasSubstr("Exchange Online"));
  graph_->Add("<auto@contoso.com>", "Over Graph");
  Step();
  EXPECT_EQ(handed_["<auto@contoso.com>"], 1);
  EXPECT_TRUE(graph_->ByMessageId("<auto@contoso.com>")->is_read);
}

// Verifies auto reads a hybrid mailbox on-premises over EWS: autodiscover names the Exchange
// Server, which Graph does not serve, and the reason says so.
TEST_F(TransportSwitchTest, AutoReadsOnPremisesMailboxOverEws) {
  StartOnPremises(/*app_only_oauth=*/true);
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationMailbox", kHybridUser},
               {"EmailIntegrationTransport", "auto"},
               {"EmailIntegrationGraphUrl", kGraphBase}});
  Open(*routed_);
  const std::string id = DeliverAt(*onprem_, "Invoice on-premises", kHybridUser);
  Step();
  EXPECT_EQ(handed_[id], 1);
  const TransportInfo info = client_->transport().Info();
  EXPECT_EQ(info.protocol, "EWS");
  EXPECT_EQ(info.endpoint, kOnPremEws);
  EXPECT_FALSE(info.exchange_online);
  EXPECT_THAT(info.reason, HasSubstr("EmailIntegrationTransport=auto: autodiscover says"));
  EXPECT_THAT(info.reason, HasSubstr("on-premises"));
  Step();
  EXPECT_EQ(handed_[id], 1);
  for (const HttpRequest& r : graph_->requests()) ADD_FAILURE() << "Graph asked: " << r.url;
}

// Verifies auto follows a mailbox that moves on-premises while it is read over Graph: Graph then
// answers MailboxNotEnabledForRESTAPI, autodiscover names the Exchange Server, and the monitor
// goes on over EWS there, handing over the new mail and nothing it handed over Graph.
TEST_F(TransportSwitchTest, AutoFollowsMailboxMovedOnPremises) {
  StartOnPremises(/*app_only_oauth=*/true);
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationTransport", "auto"}, {"EmailIntegrationGraphUrl", kGraphBase}});
  Open(*routed_);
  const std::string before = DeliverBoth("Before the move");
  Step();
  ASSERT_EQ(client_->transport().Info().protocol, "Graph");

  ASSERT_TRUE(ews_->BeginMailboxMove(kMailbox).has_value());
  ASSERT_TRUE(ews_->CompleteMailboxMove(kMailbox, *onprem_).has_value());
  graph_->KnowOnly("nobody@contoso.com");  // Exchange Online holds no mailbox for it any more
  const std::string after = DeliverAt(*onprem_, "After the move");

  const MonitorStatus s = Step();
  const TransportInfo info = client_->transport().Info();
  EXPECT_EQ(info.protocol, "EWS");
  EXPECT_EQ(info.endpoint, kOnPremEws);
  EXPECT_THAT(info.reason, HasSubstr("MailboxNotEnabledForRESTAPI"));
  EXPECT_GE(s.resyncs, 1u);
  EXPECT_EQ(handed_, (std::map<std::string, int>{{before, 1}, {after, 1}}));
}

// Verifies an explicit graph transport does not second-guess Graph: the on-premises mailbox's
// MailboxNotEnabledForRESTAPI stands, its remedy naming auto.
TEST_F(TransportSwitchTest, ExplicitGraphReportsOnPremisesMailbox) {
  StartOnPremises(/*app_only_oauth=*/true);
  WriteConfig(aad::test::kDaemonAppId, aad::test::kDaemonSecret,
              {{"EmailIntegrationMailbox", kHybridUser},
               {"EmailIntegrationTransport", "graph"},
               {"EmailIntegrationGraphUrl", kGraphBase}});
  Open(*routed_);
  const MonitorStatus s = monitor_->Step();
  ASSERT_EQ(s.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_EQ(s.last_error->code, "MailboxNotEnabledForRESTAPI");
  EXPECT_EQ(s.last_error->category, ErrorCategory::kNotFound);
  EXPECT_THAT(s.last_error->remedy, HasSubstr("auto"));
}

}  // namespace
}  // namespace exo::client::test
