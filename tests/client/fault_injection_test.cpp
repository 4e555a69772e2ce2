// Fault injection end to end: the monitor against mock-aad and mock-ews on the simulated clock
// while the network, the server or the disk under the checkpoint fails. For each fault the monitor
// neither crashes nor hangs, reports an error value that says what happened, records no progress it
// did not make, and once the fault clears hands every message exactly once (by idempotency key).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exchange_fixture.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/client/monitor.hpp"

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

const FolderKey kInbox{kMailbox, "inbox"};

// ---- A disk that fails under SQLite ----

// A VFS over the default one whose writes, syncs and truncations fail with a chosen SQLite code
// while armed, as a file system that filled up or a device that reports I/O errors does, under a
// store whose connection stays open. Registered as the default VFS for its lifetime, so the store
// opened by OpenSqliteCheckpointStore (which names no VFS) goes through it.
class FailingDisk {
 public:
  FailingDisk() : real_(sqlite3_vfs_find(nullptr)) {
    vfs_.iVersion = 2;
    vfs_.szOsFile = static_cast<int>(sizeof(ShimFile)) + real_->szOsFile;
    vfs_.mxPathname = real_->mxPathname;
    vfs_.zName = "exo-failing-disk";
    vfs_.pAppData = this;
    vfs_.xOpen = &Open;
    vfs_.xDelete = [](sqlite3_vfs* v, const char* name, int sync) {
      return Real(v)->xDelete(Real(v), name, sync);
    };
    vfs_.xAccess = [](sqlite3_vfs* v, const char* name, int flags, int* out) {
      return Real(v)->xAccess(Real(v), name, flags, out);
    };
    vfs_.xFullPathname = [](sqlite3_vfs* v, const char* name, int n, char* out) {
      return Real(v)->xFullPathname(Real(v), name, n, out);
    };
    vfs_.xDlOpen = [](sqlite3_vfs* v, const char* name) { return Real(v)->xDlOpen(Real(v), name); };
    vfs_.xDlError = [](sqlite3_vfs* v, int n, char* out) { Real(v)->xDlError(Real(v), n, out); };
    vfs_.xDlSym = [](sqlite3_vfs* v, void* h, const char* sym) {
      return Real(v)->xDlSym(Real(v), h, sym);
    };
    vfs_.xDlClose = [](sqlite3_vfs* v, void* h) { Real(v)->xDlClose(Real(v), h); };
    vfs_.xRandomness = [](sqlite3_vfs* v, int n, char* out) {
      return Real(v)->xRandomness(Real(v), n, out);
    };
    vfs_.xSleep = [](sqlite3_vfs* v, int us) { return Real(v)->xSleep(Real(v), us); };
    vfs_.xCurrentTime = [](sqlite3_vfs* v, double* t) { return Real(v)->xCurrentTime(Real(v), t); };
    vfs_.xGetLastError = [](sqlite3_vfs* v, int n, char* out) {
      return Real(v)->xGetLastError(Real(v), n, out);
    };
    vfs_.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* t) {
      return Real(v)->xCurrentTimeInt64(Real(v), t);
    };
    sqlite3_vfs_register(&vfs_, 1);
  }
  // Every database opened through it must be closed first.
  ~FailingDisk() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, 1);
  }
  FailingDisk(const FailingDisk&) = delete;
  FailingDisk& operator=(const FailingDisk&) = delete;

  // From now on writes, syncs and truncations return `code` (SQLITE_FULL, SQLITE_IOERR_WRITE).
  void Fail(int code) { failure_ = code; }
  void Heal() { failure_ = SQLITE_OK; }
  std::size_t refused() const { return refused_; }

 private:
  struct ShimFile {
    sqlite3_file base;
    FailingDisk* disk;
    sqlite3_file* real;  // the default VFS's file, laid out right after this one
  };

  static sqlite3_vfs* Real(sqlite3_vfs* v) { return static_cast<FailingDisk*>(v->pAppData)->real_; }
  static sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f)->real; }
  static int Refusal(sqlite3_file* f) {
    FailingDisk* disk = reinterpret_cast<ShimFile*>(f)->disk;
    const int code = disk->failure_;
    if (code != SQLITE_OK) ++disk->refused_;
    return code;
  }

  static int Open(sqlite3_vfs* v, const char* name, sqlite3_file* file, int flags, int* out) {
    auto* shim = reinterpret_cast<ShimFile*>(file);
    shim->disk = static_cast<FailingDisk*>(v->pAppData);
    shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
    shim->real->pMethods = nullptr;
    const int rc = Real(v)->xOpen(Real(v), name, shim->real, flags, out);
    // SQLite closes a file whose methods are set, even after a failed open: only then forward.
    shim->base.pMethods = shim->real->pMethods != nullptr ? &kMethods : nullptr;
    return rc;
  }

  static constexpr sqlite3_io_methods kMethods = {
      3,
      [](sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); },
      [](sqlite3_file* f, void* buf, int n, sqlite3_int64 at) {
        return Real(f)->pMethods->xRead(Real(f), buf, n, at);
      },
      [](sqlite3_file* f, const void* buf, int n, sqlite3_int64 at) {
        if (const int refused = Refusal(f)) return refused;
        return Real(f)->pMethods->xWrite(Real(f), buf, n, at);
      },
      [](sqlite3_file* f, sqlite3_int64 size) {
        if (const int refused = Refusal(f)) return refused;
        return Real(f)->pMethods->xTruncate(Real(f), size);
      },
      [](sqlite3_file* f, int flags) {
        if (const int refused = Refusal(f)) return refused;
        return Real(f)->pMethods->xSync(Real(f), flags);
      },
      [](sqlite3_file* f, sqlite3_int64* size) {
        return Real(f)->pMethods->xFileSize(Real(f), size);
      },
      [](sqlite3_file* f, int lock) { return Real(f)->pMethods->xLock(Real(f), lock); },
      [](sqlite3_file* f, int lock) { return Real(f)->pMethods->xUnlock(Real(f), lock); },
      [](sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); },
      [](sqlite3_file* f, int op, void* arg) {
        return Real(f)->pMethods->xFileControl(Real(f), op, arg);
      },
      [](sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); },
      [](sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); },
      [](sqlite3_file* f, int region, int size, int extend, void volatile** out) {
        return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
      },
      [](sqlite3_file* f, int offset, int n, int flags) {
        return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
      },
      [](sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); },
      [](sqlite3_file* f, int remove) { return Real(f)->pMethods->xShmUnmap(Real(f), remove); },
      [](sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
        return Real(f)->pMethods->xFetch(Real(f), at, n, out);
      },
      [](sqlite3_file* f, sqlite3_int64 at, void* p) {
        return Real(f)->pMethods->xUnfetch(Real(f), at, p);
      },
  };

  sqlite3_vfs* real_;
  sqlite3_vfs vfs_{};
  std::atomic<int> failure_{SQLITE_OK};
  std::atomic<std::size_t> refused_{0};
};

// ---- A port that closes ----

// A TCP port forward in front of mock-ews, as a load balancer or reverse proxy is in front of
// Exchange: Down() closes the port (connecting is refused, open connections drop), Up() listens on
// the same port again. TLS passes through untouched.
class PortForward {
 public:
  explicit PortForward(int target_port) : target_port_(target_port) { Listen(); }
  ~PortForward() { Down(); }
  PortForward(const PortForward&) = delete;
  PortForward& operator=(const PortForward&) = delete;

  int port() const { return port_; }
  bool up() const { return listener_ >= 0; }

  void Down() {
    if (listener_ < 0) return;
    // Wakes the blocked accept(): on Linux it returns EINVAL for a listener that was shut down.
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    ::close(listener_);
    listener_ = -1;
    std::lock_guard lock(mu_);
    for (Link& l : links_) {
      ::shutdown(l.client, SHUT_RDWR);
      ::shutdown(l.server, SHUT_RDWR);
      l.pump.join();
      ::close(l.client);
      ::close(l.server);
    }
    links_.clear();
  }

  // False if the port was taken in the meantime.
  bool Up() { return up() || Listen(); }

 private:
  struct Link {
    int client;
    int server;
    std::thread pump;
  };

  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  bool Listen() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = Loopback(port_);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(fd);
      return false;
    }
    port_ = ntohs(a.sin_port);
    listener_ = fd;
    acceptor_ = std::thread([this, fd] { Accept(fd); });
    return true;
  }

  void Accept(int listener) {
    for (;;) {
      const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // shut down
      }
      const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in target = Loopback(target_port_);
      if (server < 0 ||
          ::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
        if (server >= 0) ::close(server);
        ::close(client);
        continue;
      }
      std::lock_guard lock(mu_);
      links_.push_back(Link{client, server, std::thread(&Pump, client, server)});
    }
  }

  // Copies bytes both ways until either side closes, then closes the other side too.
  static void Pump(int a, int b) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buffer[16384];
    bool open = true;
    while (open) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2 && open; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
        open = n > 0;
        for (ssize_t sent = 0; open && sent < n;) {
          const ssize_t w = ::send(fds[1 - i].fd, buffer + sent, static_cast<std::size_t>(n - sent),
                                   MSG_NOSIGNAL);
          open = w > 0;
          sent += w;
        }
      }
    }
    ::shutdown(a, SHUT_RDWR);
    ::shutdown(b, SHUT_RDWR);
  }

  const int target_port_;
  int port_ = 0;
  int listener_ = -1;
  std::thread acceptor_;
  std::mutex mu_;
  std::list<Link> links_;
};

// ---- Watching the client's HTTP exchanges ----

// Calls `after` with each exchange's request once its answer (or failure) is back, before the
// client reads it: a test arms a fault at an exact point of the monitor's round this way.
class ObservedHttpTransport final : public HttpTransport {
 public:
  using Observer = std::function<void(const HttpRequest&)>;
  ObservedHttpTransport(HttpTransport& inner, Observer after)
      : inner_(inner), after_(std::move(after)) {}

  Result<HttpResponse> Send(const HttpRequest& request) override {
    auto r = inner_.Send(request);
    after_(request);
    return r;
  }
  Result<HttpResponse> SendStreaming(const HttpRequest& request, const ChunkReceiver& receiver,
                                     StreamCancel* cancel = nullptr) override {
    auto r = inner_.SendStreaming(request, receiver, cancel);
    after_(request);
    return r;
  }

 private:
  HttpTransport& inner_;
  Observer after_;
};

// ---- The checkpoint as the store has it ----

struct Checkpoint {
  std::string sync_state;
  std::vector<std::string> seen, handed, disposed;  // idempotency keys, oldest first

  bool operator==(const Checkpoint&) const = default;
  friend void PrintTo(const Checkpoint& c, std::ostream* os) {
    auto keys = [&](const char* name, const std::vector<std::string>& v) {
      *os << " " << name << "=[";
      for (const auto& k : v) *os << k << " ";
      *os << "]";
    };
    *os << "sync_state=" << c.sync_state.size() << " bytes";
    keys("seen", c.seen);
    keys("handed", c.handed);
    keys("disposed", c.disposed);
  }
};

class FaultInjectionTest : public ExchangeTest {
 protected:
  void SetUp() override {
    ExchangeTest::SetUp();
    if (HasFatalFailure()) return;
    OpenStore();
  }
  void TearDown() override {
    // The monitor releases its lease through the store and its transport.
    monitor_.reset();
    own_transport_.reset();
    observed_http_.reset();
    quick_http_.reset();
    forward_.reset();
    store_.reset();
    ExchangeTest::TearDown();
  }

  void OpenStore() {
    db_ = state_dir_.path() / "checkpoint.db";
    auto store = OpenSqliteCheckpointStore(db_);
    ASSERT_TRUE(store.has_value()) << store.error().Describe();
    store_ = std::move(*store);
  }

  // A monitor of the Inbox over `transport` (the fixture's EWS transport by default), marking
  // handed mail read. The handler records every key it is given; `on_handed` runs after that.
  MailboxMonitor& Monitor(MailboxTransport* transport = nullptr) {
    MonitorOptions o;
    o.key = kInbox;
    o.owner = "test:faults";
    o.use_notifications = false;
    monitor_ = std::make_unique<MailboxMonitor>(
        o, transport != nullptr ? *transport : *transport_, *store_,
        [this](const HandledMessage& m) -> Result<void> {
          EXPECT_FALSE(m.message.mime.empty()) << m.idempotency_key;
          ++hand_count_[m.idempotency_key];
          handed_.push_back(m.idempotency_key);
          if (on_handed_) on_handed_(m);
          return {};
        },
        clock_, random_);
    return *monitor_;
  }

  // Moves the clock to the monitor's next wake-up and steps it.
  MonitorStatus Next(const MonitorStatus& last) {
    if (last.next_wakeup > clock_.Monotonic()) clock_.AdvanceTo(last.next_wakeup);
    return monitor_->Step();
  }

  // Steps at each wake-up until a round ends healthy with nothing pending (bounded: a monitor that
  // never recovers fails the test instead of hanging it).
  MonitorStatus Recover(MonitorStatus st) {
    for (int round = 0; round < 30; ++round) {
      st = Next(st);
      if (st.phase == MonitorStatus::Phase::kHealthy && st.pending == 0) return st;
    }
    ADD_FAILURE() << "the monitor did not recover: "
                  << (st.last_error ? st.last_error->Describe()
                                    : "pending " + std::to_string(st.pending));
    return st;
  }

  Checkpoint ReadCheckpoint() {
    Checkpoint c;
    auto sync_state = store_->SyncState(kInbox);
    EXPECT_TRUE(sync_state.has_value());
    if (sync_state) c.sync_state = *sync_state;
    const std::pair<MessageState, std::vector<std::string>*> states[] = {
        {MessageState::kSeen, &c.seen},
        {MessageState::kHanded, &c.handed},
        {MessageState::kDisposed, &c.disposed}};
    for (auto [state, keys] : states) {
      auto rows = store_->Messages(kInbox, state, 1000);
      EXPECT_TRUE(rows.has_value());
      if (!rows) continue;
      for (const MessageRecord& r : *rows) keys->push_back(r.idempotency_key);
    }
    return c;
  }

  // The checkpoint never claims more than happened: every message it records as handed (or done)
  // was accepted by the handler.
  void ExpectCheckpointBehindHandler() {
    const Checkpoint c = ReadCheckpoint();
    for (const auto* keys : {&c.handed, &c.disposed}) {
      for (const std::string& k : *keys) {
        EXPECT_TRUE(hand_count_.contains(k)) << k << " is recorded as handed but never was";
      }
    }
  }

  // Each of `ids` handed exactly once, and nothing else.
  void ExpectEachHandedOnce(const std::vector<std::string>& ids) {
    EXPECT_THAT(handed_, UnorderedElementsAreArray(ids));
  }

  bool IsRead(const std::string& message_id) {
    auto inbox =
        ews_->store().GetDistinguishedFolder(kMailbox, mock_ews::DistinguishedFolder::kInbox);
    auto page = ews_->store().FindItems(inbox->id, mock_ews::ItemView{});
    EXPECT_TRUE(page.has_value());
    for (const auto& item : page->items) {
      if (item.fields.internet_message_id == message_id) return item.is_read;
    }
    return false;
  }

  // Adds a mock-ews fault rule through its control API; returns its id.
  std::string AddFault(const nlohmann::json& rule) {
    httplib::SSLClient control("127.0.0.1", ews_->port());
    control.set_ca_cert_path(ews_->ca_file().string());
    auto res = control.Post("/_exo/faults", rule.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
    return res && res->status == 201 ? nlohmann::json::parse(res->body).value("id", "") : "";
  }
  // How often the rule fired.
  std::uint64_t Hits(const std::string& id) {
    httplib::SSLClient control("127.0.0.1", ews_->port());
    control.set_ca_cert_path(ews_->ca_file().string());
    auto res = control.Get("/_exo/faults");
    EXPECT_TRUE(res && res->status == 200);
    if (!res || res->status != 200) return 0;
    const nlohmann::json answer = nlohmann::json::parse(res->body);
    for (const auto& rule : answer["faults"]) {
      if (rule.value("id", "") == id) return rule.value("hits", std::uint64_t{0});
    }
    return 0;
  }

  // An EWS transport for the monitored mailbox at `url` over `http`.
  MailboxTransport& OwnTransport(HttpTransport& http, const std::string& url) {
    EwsOptions o;
    o.url = url;
    o.mailbox = kMailbox;
    own_transport_ = MakeEwsTransport(o, *tokens_, http, clock_);
    return *own_transport_;
  }

  exo::testing::TempDir state_dir_;
  std::filesystem::path db_;
  std::unique_ptr<CheckpointStore> store_;
  std::unique_ptr<HttpTransport> quick_http_;
  std::unique_ptr<ObservedHttpTransport> observed_http_;
  std::unique_ptr<PortForward> forward_;
  std::unique_ptr<MailboxTransport> own_transport_;
  std::unique_ptr<MailboxMonitor> monitor_;
  std::map<std::string, int> hand_count_;
  std::vector<std::string> handed_;
  std::function<void(const HandledMessage&)> on_handed_;
};

// ---- The network and the server ----

// Verifies a connection cut in the middle of a GetItem answer (Content-Length announced, part of
// the body sent, then closed) is a transient error naming the endpoint; the synced messages stay
// seen, none is handed from the half answer, and the retry hands each once.
TEST_F(FaultInjectionTest, ConnectionCutMidBodyHandsNothingThenEachOnce) {
  const std::string before = Deliver("Before");
  MonitorStatus st = Monitor().Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  const std::string cut = AddFault({{"path", "/EWS/Exchange.asmx"},
                                    {"bodyContains", "GetItem"},
                                    {"truncateAfterBytes", 400},
                                    {"times", 1}});
  const std::string a = Deliver("Cut 1");
  const std::string b = Deliver("Cut 2");

  st = Next(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_EQ(st.last_error->code, "HTTP transport");
  EXPECT_EQ(st.last_error->category, ErrorCategory::kTransient);
  EXPECT_THAT(st.last_error->message, HasSubstr(ews_->ews_url()));
  EXPECT_EQ(Hits(cut), 1u);
  EXPECT_THAT(ReadCheckpoint().seen, UnorderedElementsAreArray({a, b}));
  ExpectEachHandedOnce({before});

  st = Recover(st);
  ExpectEachHandedOnce({before, a, b});
  EXPECT_TRUE(IsRead(a) && IsRead(b));
  ExpectCheckpointBehindHandler();
}

// Verifies a connection cut in the middle of the answer to the disposition (the server marked the
// message read, the client never learned it) leaves the message handed but not done; the next
// round applies the disposition again and the application is not handed the message twice.
TEST_F(FaultInjectionTest, ConnectionCutAfterDispositionAppliesItAgainWithoutRehanding) {
  const std::string id = Deliver("Applied, unconfirmed");
  const std::string cut = AddFault({{"path", "/EWS/Exchange.asmx"},
                                    {"bodyContains", "UpdateItem"},
                                    {"truncateAfterBytes", 100},
                                    {"times", 1}});
  MonitorStatus st = Monitor().Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_EQ(st.last_error->code, "HTTP transport");
  EXPECT_EQ(Hits(cut), 1u);
  EXPECT_TRUE(IsRead(id));  // the server did it
  EXPECT_THAT(ReadCheckpoint().handed, UnorderedElementsAreArray({id}));

  st = Recover(st);
  ExpectEachHandedOnce({id});
  EXPECT_THAT(ReadCheckpoint().disposed, UnorderedElementsAreArray({id}));
}

// Verifies a 200 whose SOAP body stops half way through a SyncFolderItems answer is not taken for
// a sync state: a protocol error that says the answer is not XML, the checkpoint unchanged, and
// the next sync hands each message once.
TEST_F(FaultInjectionTest, TruncatedXmlIsNotTakenForASyncState) {
  const std::string before = Deliver("Before");
  MonitorStatus st = Monitor().Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  const Checkpoint at_start = ReadCheckpoint();
  const std::string half = AddFault(
      {{"path", "/EWS/Exchange.asmx"},
       {"bodyContains", "SyncFolderItems"},
       {"status", 200},
       {"contentType", "text/xml; charset=utf-8"},
       {"body",
        R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope )"
        R"(xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:SyncFolderItemsResponse )"
        R"(xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" )"
        R"(xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>)"
        R"(<m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError)"
        R"(</m:ResponseCode><m:SyncState>H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/SvVK1+B0oQiAYBMk2)"},
       {"times", 1}});
  const std::string after = Deliver("After the cut");

  st = Next(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_EQ(st.last_error->code, "InvalidSoap");
  EXPECT_EQ(st.last_error->category, ErrorCategory::kProtocol);
  EXPECT_THAT(st.last_error->message, HasSubstr("not XML"));
  EXPECT_EQ(Hits(half), 1u);
  EXPECT_EQ(ReadCheckpoint(), at_start);

  st = Recover(st);
  EXPECT_EQ(st.resyncs, 0u);
  ExpectEachHandedOnce({before, after});
}

// Verifies a 200 whose GetItem body is not well-formed XML is a protocol error, nothing of it is
// handed, and the retry hands each message once.
TEST_F(FaultInjectionTest, MalformedXmlIsReportedAndRetried) {
  const std::string a = Deliver("Garbled 1");
  const std::string b = Deliver("Garbled 2");
  const std::string bad = AddFault(
      {{"path", "/EWS/Exchange.asmx"},
       {"bodyContains", "GetItem"},
       {"status", 200},
       {"contentType", "text/xml; charset=utf-8"},
       {"body",
        R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope )"
        R"(xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse>)"
        R"(<m:ResponseMessages><m:GetItemResponseMessage ResponseClass="Success">)"
        R"(</m:ResponseMessages></m:GetItemResponseMessage>&unknown;</s:Body></s:Envelope>)"},
       {"times", 1}});

  MonitorStatus st = Monitor().Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_EQ(st.last_error->code, "InvalidSoap");
  EXPECT_EQ(st.last_error->category, ErrorCategory::kProtocol);
  EXPECT_FALSE(st.last_error->remedy.empty());
  EXPECT_EQ(Hits(bad), 1u);
  EXPECT_THAT(handed_, IsEmpty());
  EXPECT_THAT(ReadCheckpoint().seen, UnorderedElementsAreArray({a, b}));

  st = Recover(st);
  ExpectEachHandedOnce({a, b});
}

// Verifies an answer slower than the client's read timeout (a socket timeout on the real clock,
// two seconds here; the server holds the answer ten simulated minutes) is abandoned as a transient
// error without handing anything; the retry hands each message once, and the late answer, when
// the server finally sends it, changes nothing.
TEST_F(FaultInjectionTest, AnswerSlowerThanReadTimeoutIsAbandonedAndRetried) {
  HttpOptions quick;
  quick.ca_bundle = aad_->ca_file();
  quick.read_timeout = std::chrono::seconds(2);
  quick_http_ = MakeHttpTransport(quick);
  MailboxTransport& ews = OwnTransport(*quick_http_, ews_->ews_url());
  const std::string a = Deliver("Slow 1");
  const std::string b = Deliver("Slow 2");
  const auto latency = std::chrono::minutes(10);
  const std::string slow = AddFault({{"path", "/EWS/Exchange.asmx"},
                                     {"bodyContains", "GetItem"},
                                     {"latencyMs", 600000},
                                     {"times", 1}});

  MonitorStatus st = Monitor(&ews).Step();
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_EQ(st.last_error->code, "HTTP transport");
  EXPECT_EQ(st.last_error->category, ErrorCategory::kTransient);
  EXPECT_THAT(st.last_error->message, HasSubstr(ews_->ews_url()));
  EXPECT_EQ(Hits(slow), 1u);
  EXPECT_THAT(handed_, IsEmpty());
  EXPECT_THAT(ReadCheckpoint().seen, UnorderedElementsAreArray({a, b}));

  st = Recover(st);
  ExpectEachHandedOnce({a, b});
  // The server's parked request answers into a closed connection.
  clock_.Advance(latency);
  st = Next(st);
  EXPECT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  ExpectEachHandedOnce({a, b});
}

// Verifies a storm of fifty 500s (every EWS request fails) is met with one request per round and
// a back-off that grows on the simulated clock up to its ceiling; nothing is handed or recorded
// during the storm, and afterwards every message is handed once.
TEST_F(FaultInjectionTest, StormOf500sBacksOffAndRecovers) {
  const std::string before = Deliver("Before");
  MonitorStatus st = Monitor().Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  const Checkpoint at_start = ReadCheckpoint();
  constexpr int kStorm = 50;
  const std::string storm = AddFault({{"path", "/EWS/Exchange.asmx"},
                                      {"status", 500},
                                      {"contentType", "text/html"},
                                      {"body", "<html><body>Internal Server Error</body></html>"},
                                      {"times", kStorm}});
  std::vector<std::string> during;
  for (int i = 0; i < 3; ++i) during.push_back(Deliver("Storm " + std::to_string(i)));

  const Duration ceiling = std::chrono::minutes(15);  // MonitorOptions::max_backoff
  std::vector<Duration> waits;
  for (int round = 0; round < kStorm; ++round) {
    st = Next(st);
    ASSERT_EQ(st.phase, MonitorStatus::Phase::kBackingOff) << "round " << round;
    ASSERT_TRUE(st.last_error.has_value());
    EXPECT_EQ(st.last_error->code, "HTTP 500");
    EXPECT_EQ(st.last_error->category, ErrorCategory::kTransient);
    EXPECT_THAT(st.last_error->message, HasSubstr("500"));
    waits.push_back(st.next_wakeup - clock_.Monotonic());
  }
  EXPECT_EQ(Hits(storm), static_cast<std::uint64_t>(kStorm));  // no retries inside a round
  EXPECT_EQ(ReadCheckpoint(), at_start);
  ExpectEachHandedOnce({before});
  // Doubling from a second, never past the ceiling plus its jitter, and at the ceiling at the end.
  EXPECT_GE(waits.front(), std::chrono::seconds(1));
  EXPECT_LT(waits.front(), std::chrono::seconds(2));
  for (std::size_t i = 1; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], std::min(waits[i - 1], ceiling)) << "round " << i;
    EXPECT_LE(waits[i], ceiling + ceiling / 10) << "round " << i;
  }
  EXPECT_GE(waits.back(), ceiling);

  st = Recover(st);
  std::vector<std::string> all = during;
  all.push_back(before);
  ExpectEachHandedOnce(all);
}

// Verifies a port that refuses connections (the server, or the balancer in front of it, is down)
// is a transient error whose remedy says to check the URL and the network; the monitor keeps
// trying without recording anything, and when the port answers again it hands what arrived in
// the meantime, each message once.
TEST_F(FaultInjectionTest, RefusedPortBacksOffUntilTheServerReturns) {
  forward_ = std::make_unique<PortForward>(ews_->port());
  const std::string url =
      "https://127.0.0.1:" + std::to_string(forward_->port()) + "/EWS/Exchange.asmx";
  MailboxTransport& ews = OwnTransport(*http_, url);
  const std::string before = Deliver("Before");
  MonitorStatus st = Monitor(&ews).Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  const Checkpoint at_start = ReadCheckpoint();

  forward_->Down();
  const std::string a = Deliver("While down 1");
  const std::string b = Deliver("While down 2");
  for (int round = 0; round < 3; ++round) {
    st = Next(st);
    ASSERT_EQ(st.phase, MonitorStatus::Phase::kBackingOff) << "round " << round;
    ASSERT_TRUE(st.last_error.has_value());
    EXPECT_EQ(st.last_error->code, "HTTP transport");
    EXPECT_EQ(st.last_error->category, ErrorCategory::kTransient);
    EXPECT_THAT(st.last_error->message, HasSubstr(url));
    EXPECT_THAT(st.last_error->remedy, HasSubstr("check the URL"));
  }
  EXPECT_EQ(ReadCheckpoint(), at_start);
  ExpectEachHandedOnce({before});

  ASSERT_TRUE(forward_->Up());
  st = Recover(st);
  ExpectEachHandedOnce({before, a, b});
  EXPECT_TRUE(IsRead(a) && IsRead(b));
}

// ---- The disk under the checkpoint ----

struct DiskFault {
  int code;                // what the VFS returns
  const char* error_code;  // Error::code the store reports
  const char* says;        // what the message says happened
};

void PrintTo(const DiskFault& f, std::ostream* os) { *os << f.error_code; }

class CheckpointDiskTest : public FaultInjectionTest,
                           public ::testing::WithParamInterface<DiskFault> {
 protected:
  void SetUp() override {
    // Before the store opens, so its connection goes through the failing disk.
    disk_ = std::make_unique<FailingDisk>();
    FaultInjectionTest::SetUp();
  }
  void TearDown() override {
    FaultInjectionTest::TearDown();
    disk_.reset();  // after the store closed its files
  }

  // The error a round reports while the disk fails: what failed, on which file, and what to do.
  void ExpectDiskError(const MonitorStatus& st) {
    EXPECT_EQ(st.phase, MonitorStatus::Phase::kBackingOff);
    ASSERT_TRUE(st.last_error.has_value());
    const Error& e = *st.last_error;
    EXPECT_EQ(e.code, GetParam().error_code) << e.Describe();
    EXPECT_EQ(e.category, ErrorCategory::kInternal);
    EXPECT_THAT(e.message, HasSubstr(GetParam().says));
    EXPECT_THAT(e.message, HasSubstr(db_.string()));
    EXPECT_THAT(e.remedy, HasSubstr(db_.string()));
  }

  // A monitor whose EWS exchanges are watched: `after_ews` sees each request once it is answered.
  MailboxMonitor& WatchedMonitor() {
    observed_http_ = std::make_unique<ObservedHttpTransport>(*http_, [this](const HttpRequest& r) {
      if (after_ews_) after_ews_(r.body);
    });
    return Monitor(&OwnTransport(*observed_http_, ews_->ews_url()));
  }

  std::unique_ptr<FailingDisk> disk_;
  std::function<void(const std::string& soap)> after_ews_;
};

// Verifies a disk that fails before a round stops the monitor at its first write (the lease):
// nothing is handed, the error names the database and what happened, rounds keep failing the same
// way without advancing; once the disk heals every message is handed once.
TEST_P(CheckpointDiskTest, FailingBeforeTheRoundHandsNothing) {
  const std::string before = Deliver("Before");
  MonitorStatus st = Monitor().Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  const Checkpoint at_start = ReadCheckpoint();
  const std::string a = Deliver("Disk 1");
  const std::string b = Deliver("Disk 2");

  disk_->Fail(GetParam().code);
  for (int round = 0; round < 3; ++round) {
    st = Next(st);
    ExpectDiskError(st);
  }
  EXPECT_GT(disk_->refused(), 0u);
  EXPECT_EQ(ReadCheckpoint(), at_start);
  ExpectEachHandedOnce({before});

  disk_->Heal();
  st = Recover(st);
  ExpectEachHandedOnce({before, a, b});
  EXPECT_TRUE(IsRead(a) && IsRead(b));
}

// Verifies a disk that fails while a sync batch is committed keeps the old sync state and records
// no message, so nothing is handed; after it heals the same changes come again and each message is
// handed once.
TEST_P(CheckpointDiskTest, FailingWhileCommittingASyncBatchKeepsTheOldSyncState) {
  const std::string before = Deliver("Before");
  MonitorStatus st = WatchedMonitor().Step();
  ASSERT_EQ(st.phase, MonitorStatus::Phase::kHealthy) << st.last_error->Describe();
  const Checkpoint at_start = ReadCheckpoint();
  const std::string a = Deliver("Synced, not committed");
  after_ews_ = [this](const std::string& soap) {
    if (soap.find("SyncFolderItems") != std::string::npos) disk_->Fail(GetParam().code);
  };

  st = Next(st);
  ExpectDiskError(st);
  EXPECT_THAT(st.last_error->message, HasSubstr("sync batch"));
  EXPECT_EQ(ReadCheckpoint(), at_start);
  ExpectEachHandedOnce({before});

  after_ews_ = nullptr;
  disk_->Heal();
  st = Recover(st);
  EXPECT_EQ(st.resyncs, 0u);
  ExpectEachHandedOnce({before, a});
}

// Verifies a disk that fails just after the handler accepted a message (its hand-over cannot be
// recorded) stops the round there: the messages after it are not handed while the store cannot
// record them, and after the disk heals only that one message is handed again, under the same
// idempotency key, so an application that dedups by key sees each message once.
TEST_P(CheckpointDiskTest, FailingAfterAHandOverRehandsOnlyThatMessageUnderItsKey) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(Deliver("Mail " + std::to_string(i)));
  on_handed_ = [this, &ids](const HandledMessage& m) {
    if (m.idempotency_key == ids[1]) disk_->Fail(GetParam().code);
  };

  MonitorStatus st = Monitor().Step();
  ExpectDiskError(st);
  EXPECT_THAT(st.last_error->message, HasSubstr("progress"));
  EXPECT_THAT(handed_, ::testing::ElementsAre(ids[0], ids[1]));
  const Checkpoint stopped = ReadCheckpoint();
  EXPECT_THAT(stopped.handed, ::testing::ElementsAre(ids[0]));
  EXPECT_THAT(stopped.seen, ::testing::ElementsAre(ids[1], ids[2], ids[3]));
  ExpectCheckpointBehindHandler();
  for (int round = 0; round < 2; ++round) {
    st = Next(st);
    ExpectDiskError(st);
  }
  EXPECT_EQ(handed_.size(), 2u);

  on_handed_ = nullptr;
  disk_->Heal();
  st = Recover(st);
  EXPECT_THAT(handed_, ::testing::ElementsAre(ids[0], ids[1], ids[1], ids[2], ids[3]));
  std::set<std::string> distinct(handed_.begin(), handed_.end());
  EXPECT_EQ(distinct, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_THAT(ReadCheckpoint().disposed, UnorderedElementsAreArray(ids));
}

// Verifies a disk that fails while a disposition is recorded (the message is already read on the
// server) leaves the message handed; after it heals the disposition is applied again and
// recorded, and the message is not handed twice.
TEST_P(CheckpointDiskTest, FailingWhileRecordingADispositionAppliesItAgain) {
  const std::string id = Deliver("Read, not recorded");
  after_ews_ = [this](const std::string& soap) {
    if (soap.find("UpdateItem") != std::string::npos) disk_->Fail(GetParam().code);
  };
  MonitorStatus st = WatchedMonitor().Step();
  ExpectDiskError(st);
  EXPECT_TRUE(IsRead(id));
  EXPECT_THAT(ReadCheckpoint().handed, ::testing::ElementsAre(id));

  after_ews_ = nullptr;
  disk_->Heal();
  st = Recover(st);
  ExpectEachHandedOnce({id});
  EXPECT_THAT(ReadCheckpoint().disposed, ::testing::ElementsAre(id));
}

INSTANTIATE_TEST_SUITE_P(Faults, CheckpointDiskTest,
                         ::testing::Values(DiskFault{SQLITE_FULL, "SQLITE_FULL", "disk is full"},
                                           DiskFault{SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE",
                                                     "disk I/O error"}),
                         [](const ::testing::TestParamInfo<DiskFault>& param) {
                           return std::string(param.param.code == SQLITE_FULL ? "DiskFull"
                                                                              : "IoError");
                         });

}  // namespace
}  // namespace exo::client::test
