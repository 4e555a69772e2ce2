// Micro-benchmarks of the hot paths (Google Benchmark), without the network.
// Mocks: what every token issuance and every EWS request pays besides HTTP: JWT sign and verify
// as mock-aad and mock-ews do them, the EWS bearer-token check, and the SOAP handling of the
// operations a mailbox monitor sends most (request parsed, store read, response serialized) on
// an in-memory store.
// Client: its EWS transport building each request and reading mock-ews's recorded answer (sync,
// fetch with MIME, mark read), and a checkpoint commit in the SQLite store (fsync included).
// Measures only; CTest runs it once with a tiny --benchmark_min_time (bench.micro.smoke).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <unistd.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exo/client/checkpoint_store.hpp"
#include "exo/client/ews_transport.hpp"
#include "exo/client/http.hpp"
#include "exo/client/secret_box.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/clock.hpp"
#include "exo/common/crypto.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "exo/mock_kit/jwt.hpp"
#include "internal/ews_auth.hpp"
#include "internal/ews_service.hpp"

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
constexpr const char* kTenant = "8a1f7c2e-3b4d-4e5f-9a6b-7c8d9e0f1a2b";
constexpr const char* kAppId = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d";
constexpr const char* kMailbox = "monitor@contoso.onmicrosoft.com";
constexpr const char* kKid = "bench-key-1";

// One RSA-2048 key for the whole process: generating it is not what is measured.
const exo::crypto::PrivateKey& Key() {
  static const exo::crypto::PrivateKey key = *exo::crypto::PrivateKey::GenerateRsa(2048);
  return key;
}

json Jwks() {
  const exo::crypto::PublicKey pub = Key().Public();
  return {{"keys",
           {{{"kty", "RSA"},
             {"use", "sig"},
             {"kid", kKid},
             {"n", exo::Base64UrlEncode(pub.RsaModulus())},
             {"e", exo::Base64UrlEncode(pub.RsaExponent())}}}}};
}

// An app-only access token for Exchange Online shaped as mock-aad issues it (v1 issuer).
std::string AccessToken(exo::SystemTime now) {
  const auto unix = exo::ToUnixSeconds(now);
  const ordered_json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5t", kKid}, {"kid", kKid}};
  const ordered_json payload = {
      {"aud", "https://outlook.office365.com"},
      {"iss", std::string("https://sts.windows.net/") + kTenant + "/"},
      {"iat", unix},
      {"nbf", unix},
      {"exp", unix + 3599},
      {"aio", "E2ZgYJgz0Kk3bench"},
      {"app_displayname", "Bench Daemon"},
      {"appid", kAppId},
      {"appidacr", "1"},
      {"idp", std::string("https://sts.windows.net/") + kTenant + "/"},
      {"oid", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
      {"rh", "0.AAAA-bench."},
      {"roles", ordered_json::array({"full_access_as_app"})},
      {"sid", "00000000-0000-0000-0000-000000000001"},
      {"sub", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
      {"tid", kTenant},
      {"uti", "bench-uti"},
      {"ver", "1.0"}};
  return exo::mock::SignJwt(header, payload, Key());
}

// mock-aad's per-token cost besides HTTP: the claims serialized and one RS256 signature.
void BM_JwtSignRs256(benchmark::State& state) {
  const exo::SystemTime now = exo::SimulatedClock::DefaultStart();
  for (auto _ : state) benchmark::DoNotOptimize(AccessToken(now));
}
BENCHMARK(BM_JwtSignRs256);

// The generic verification: parse, the key from the JWKS by kid (rebuilt from n and e), verify.
void BM_JwtVerifyRs256(benchmark::State& state) {
  const std::string token = AccessToken(exo::SimulatedClock::DefaultStart());
  const json jwks = Jwks();
  for (auto _ : state) {
    auto jwt = exo::mock::ParseJwt(token);
    auto key = exo::mock::FindJwk(jwks, kKid);
    benchmark::DoNotOptimize(exo::mock::VerifyJwtSignature(*jwt, *key));
  }
}
BENCHMARK(BM_JwtVerifyRs256);

// What mock-ews runs on every request's Authorization header: signature, lifetime, audience,
// issuer and roles, with the tenant's key set from a cache (as the standalone mock-ews has it).
void BM_EwsTokenCheck(benchmark::State& state) {
  exo::SimulatedClock clock(exo::SimulatedClock::DefaultStart());
  exo::mock_ews::TokenValidator validator(clock);
  const json jwks = Jwks();
  validator.Trust(kTenant, [&jwks](const std::string&) { return jwks; });
  const std::string header = "Bearer " + AccessToken(clock.Now());
  for (auto _ : state) {
    exo::mock_ews::EwsCaller caller;
    auto refused = validator.Check(header, caller);
    if (refused) state.SkipWithError("token refused");
    benchmark::DoNotOptimize(caller);
  }
}
BENCHMARK(BM_EwsTokenCheck);

std::string Envelope(const std::string& body) {
  return std::string(
             "<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope "
             "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
             "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "
             "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><s:Header>"
             "<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>"
             "<t:ConnectingSID><t:PrimarySmtpAddress>") +
         kMailbox +
         "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>"
         "<s:Body>" +
         body + "</s:Body></s:Envelope>";
}

// An in-memory store with one mailbox of `messages` typical mails (about 3 KB each).
struct Mailbox {
  exo::SimulatedClock clock{exo::SimulatedClock::DefaultStart()};
  exo::SeededRandom random{1};
  exo::mock_ews::MailboxStore store{clock, random};
  std::vector<exo::mock_ews::Item> items;
  exo::mock_ews::EwsCaller caller;

  explicit Mailbox(std::size_t messages) {
    caller.tenant_id = kTenant;
    caller.app_id = kAppId;
    caller.roles = {"full_access_as_app"};
    if (!store.CreateOrganization(kTenant, "Contoso")) std::abort();
    exo::mock_ews::MailboxSpec spec;
    spec.organization_id = kTenant;
    spec.primary_smtp_address = kMailbox;
    if (!store.CreateMailbox(spec)) std::abort();
    for (std::size_t i = 0; i < messages; ++i) {
      exo::mock_ews::MessageDraft draft;
      draft.from = {"Sender " + std::to_string(i % 7),
                    "sender" + std::to_string(i % 7) + "@fabrikam.com"};
      draft.to = {{"Monitor", kMailbox}};
      draft.subject = "Order " + std::to_string(10000 + i) + " shipped";
      for (int line = 0; line < 40; ++line) {
        draft.body += "Line " + std::to_string(line) + " of the message about order " +
                      std::to_string(10000 + i) + ", shipped today.\r\n";
      }
      auto item = store.DeliverToInbox(kMailbox, store.ComposeMime(draft));
      if (!item) std::abort();
      items.push_back(*item);
    }
  }

  exo::mock_ews::SoapReply Handle(const std::string& body) {
    const exo::mock_ews::EwsContext context{store, clock};
    return exo::mock_ews::HandleSoap(context, caller, body);
  }
};

Mailbox& Shared() {
  static Mailbox mailbox(500);
  return mailbox;
}

// Runs `body` through the SOAP facade; bytes processed are the response's.
void RunSoap(benchmark::State& state, const std::vector<std::string>& bodies) {
  Mailbox& m = Shared();
  std::size_t n = 0, bytes = 0;
  for (auto _ : state) {
    auto reply = m.Handle(bodies[n++ % bodies.size()]);
    if (reply.status != 200 || reply.body.find("ResponseClass=\"Error\"") != std::string::npos) {
      state.SkipWithError(reply.body.substr(0, 400).c_str());
      break;
    }
    bytes += reply.body.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_SoapFindItemPage50(benchmark::State& state) {
  std::vector<std::string> bodies;
  for (int offset = 0; offset < 500; offset += 50) {
    bodies.push_back(Envelope(
        "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
        "</m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"50\" Offset=\"" +
        std::to_string(offset) +
        "\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
        "</m:ParentFolderIds></m:FindItem>"));
  }
  RunSoap(state, bodies);
}
BENCHMARK(BM_SoapFindItemPage50);

std::vector<std::string> GetItemBodies(bool mime) {
  std::vector<std::string> bodies;
  for (const auto& item : Shared().items) {
    bodies.push_back(
        Envelope(std::string("<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape>") +
                 (mime ? "<t:IncludeMimeContent>true</t:IncludeMimeContent>" : "") +
                 "</m:ItemShape><m:ItemIds><t:ItemId Id=\"" + item.id + "\" ChangeKey=\"" +
                 item.change_key + "\"/></m:ItemIds></m:GetItem>"));
  }
  return bodies;
}

void BM_SoapGetItem(benchmark::State& state) { RunSoap(state, GetItemBodies(false)); }
BENCHMARK(BM_SoapGetItem);

void BM_SoapGetItemMime(benchmark::State& state) { RunSoap(state, GetItemBodies(true)); }
BENCHMARK(BM_SoapGetItemMime);

// The monitor's first sync of a folder: up to 512 changes, ids only.
void BM_SoapSyncFolderItems512(benchmark::State& state) {
  RunSoap(state, {Envelope("<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
                           "</m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id=\"inbox\"/>"
                           "</m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned>"
                           "</m:SyncFolderItems>")});
}
BENCHMARK(BM_SoapSyncFolderItems512);

// The monitor's mark-read disposition (UpdateItem, SetItemField IsRead), alternating values.
void BM_SoapUpdateItemIsRead(benchmark::State& state) {
  Mailbox m(50);
  std::size_t n = 0;
  for (auto _ : state) {
    const auto& item = m.items[n % m.items.size()];
    const bool read = (n / m.items.size()) % 2 == 0;
    ++n;
    // ChangeKey omitted: AutoResolve applies it whatever the item's current version.
    auto reply = m.Handle(Envelope(
        std::string("<m:UpdateItem MessageDisposition=\"SaveOnly\" "
                    "ConflictResolution=\"AutoResolve\"><m:ItemChanges><t:ItemChange>"
                    "<t:ItemId Id=\"") +
        item.id +
        "\"/><t:Updates><t:SetItemField><t:FieldURI FieldURI=\"message:IsRead\"/><t:Message>"
        "<t:IsRead>" +
        (read ? "true" : "false") +
        "</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges>"
        "</m:UpdateItem>"));
    if (reply.status != 200 || reply.body.find("ResponseClass=\"Error\"") != std::string::npos) {
      state.SkipWithError(reply.body.substr(0, 400).c_str());
      break;
    }
  }
}
BENCHMARK(BM_SoapUpdateItemIsRead);

// ---- Client ----

// Answers the client's requests with what mock-ews answered the same request once (recorded on
// first sight), and token requests with a fixed token: what remains is the client's own work.
class RecordedExchange final : public exo::client::HttpTransport {
 public:
  explicit RecordedExchange(Mailbox& mailbox) : mailbox_(mailbox) {}

  exo::Result<exo::client::HttpResponse> Send(const exo::client::HttpRequest& request) override {
    exo::client::HttpResponse response;
    response.status = 200;
    if (request.url.find("/oauth2/") != std::string::npos) {
      response.headers.emplace("Content-Type", "application/json");
      response.body = json{{"token_type", "Bearer"},
                           {"expires_in", 3599},
                           {"access_token", AccessToken(mailbox_.clock.Now())}}
                          .dump();
      return response;
    }
    auto [it, fresh] = answers_.try_emplace(request.body);
    if (fresh) it->second = mailbox_.Handle(request.body).body;
    response.headers.emplace("Content-Type", "text/xml; charset=utf-8");
    response.body = it->second;
    return response;
  }
  exo::Result<exo::client::HttpResponse> SendStreaming(const exo::client::HttpRequest& request,
                                                       const exo::client::ChunkReceiver&,
                                                       exo::client::StreamCancel*) override {
    return Send(request);
  }

 private:
  Mailbox& mailbox_;
  std::map<std::string, std::string> answers_;
};

// The client's EWS transport over RecordedExchange, impersonating the shared mailbox.
struct ClientRig {
  Mailbox& mailbox = Shared();
  RecordedExchange http{mailbox};
  exo::SeededRandom random{2};
  exo::client::TokenProvider tokens{Credential(), {}, http, mailbox.clock, random};
  std::unique_ptr<exo::client::MailboxTransport> ews =
      exo::client::MakeEwsTransport(Options(), tokens, http, mailbox.clock);

  static exo::client::ClientCredential Credential() {
    exo::client::ClientCredential c;
    c.tenant = kTenant;
    c.client_id = kAppId;
    c.secret = [] { return exo::Result<exo::client::SecretString>(exo::client::SecretString("s")); };
    return c;
  }
  static exo::client::EwsOptions Options() {
    exo::client::EwsOptions o;
    o.url = "https://127.0.0.1:1/EWS/Exchange.asmx";
    o.mailbox = kMailbox;
    return o;
  }
};

// SyncFolderItems of up to 512 changes: the request built, the recorded answer read.
void BM_ClientSyncFolder512(benchmark::State& state) {
  ClientRig rig;
  auto folder = rig.ews->ResolveFolder("inbox", false);
  if (!folder) {
    state.SkipWithError(folder.error().Describe().c_str());
    return;
  }
  for (auto _ : state) {
    auto page = rig.ews->SyncFolder(*folder, "", 512);
    if (!page || page->changes.empty()) {
      state.SkipWithError("sync failed");
      break;
    }
    benchmark::DoNotOptimize(page);
  }
}
BENCHMARK(BM_ClientSyncFolder512);

// GetItem with MIME for a batch of 50 ids, as the monitor fetches.
void BM_ClientFetch50Mime(benchmark::State& state) {
  ClientRig rig;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < 50; ++i) ids.push_back(rig.mailbox.items[i].id);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto messages = rig.ews->FetchMessages(ids);
    if (!messages || messages->size() != ids.size()) {
      state.SkipWithError(messages ? "short fetch" : messages.error().Describe().c_str());
      break;
    }
    for (const auto& m : *messages) bytes += m.mime.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_ClientFetch50Mime);

// The mark-read disposition of one message.
void BM_ClientMarkRead(benchmark::State& state) {
  ClientRig rig;
  const std::string id = rig.mailbox.items[0].id;
  for (auto _ : state) {
    auto done = rig.ews->MarkRead(id);
    if (!done) {
      state.SkipWithError(done.error().Describe().c_str());
      break;
    }
  }
}
BENCHMARK(BM_ClientMarkRead);

// The SQLite checkpoint store in a fresh directory under TMPDIR (WAL, synchronous=FULL).
struct StoreRig {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("exo-micro-bench-" + std::to_string(::getpid()));
  std::unique_ptr<exo::client::CheckpointStore> store;
  exo::client::FolderKey key{kMailbox, "inbox"};
  StoreRig() {
    std::filesystem::create_directories(dir);
    auto s = exo::client::OpenSqliteCheckpointStore(dir / "checkpoint.db");
    if (!s) std::abort();
    store = std::move(*s);
  }
  ~StoreRig() { std::filesystem::remove_all(dir); }
  static exo::client::MessageRecord Record(std::size_t i) {
    exo::client::MessageRecord r;
    r.idempotency_key = "<" + std::to_string(i) + ".bench@fabrikam.com>";
    r.item_id = "AAMkAD" + std::to_string(i);
    r.internet_message_id = r.idempotency_key;
    return r;
  }
};

// One sync batch committed: the new sync state and 50 new messages in one transaction.
void BM_CheckpointCommitSyncBatch50(benchmark::State& state) {
  StoreRig rig;
  std::size_t n = 0;
  for (auto _ : state) {
    std::vector<exo::client::MessageRecord> batch;
    for (int i = 0; i < 50; ++i) batch.push_back(StoreRig::Record(n++));
    if (!rig.store->CommitSyncBatch(rig.key, "state-" + std::to_string(n), batch)) {
      state.SkipWithError("commit failed");
      break;
    }
  }
}
BENCHMARK(BM_CheckpointCommitSyncBatch50);

// One hand-over committed (seen -> handed): what the monitor pays per message.
void BM_CheckpointCommitHandOver(benchmark::State& state) {
  StoreRig rig;
  constexpr std::size_t kBatch = 4096;
  std::size_t n = 0, committed = 0;
  for (auto _ : state) {
    if (n == committed) {  // seed the next messages, off the clock
      state.PauseTiming();
      std::vector<exo::client::MessageRecord> batch;
      for (std::size_t i = 0; i < kBatch; ++i) batch.push_back(StoreRig::Record(committed + i));
      committed += kBatch;
      (void)rig.store->CommitSyncBatch(rig.key, "s" + std::to_string(committed), batch);
      state.ResumeTiming();
    }
    if (!rig.store->SetState(rig.key, StoreRig::Record(n++).idempotency_key,
                             exo::client::MessageState::kHanded)) {
      state.SkipWithError("commit failed");
      break;
    }
  }
}
BENCHMARK(BM_CheckpointCommitHandOver);

}  // namespace

BENCHMARK_MAIN();
