// Cassettes: the recording decorator's scrubbing of every secret kind, relative times on a
// simulated clock, the atomic rewrite after each exchange, transport errors and streamed bodies,
// and Load's refusal of files that are no cassette, with messages that say why.
#include "exo/client/cassette.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "../common/temp_dir.hpp"
#include "exo/client/token_provider.hpp"
#include "exo/common/base64.hpp"
#include "exo/common/file.hpp"
#include "exo/common/random.hpp"
#include "exo/common/time_format.hpp"
#include "fake_http.hpp"

namespace exo::client {
namespace {

using test::FakeHttp;
using test::JsonResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "Rpl8Q~the-client-secret-value-0123456789";
constexpr const char* kScope = "https://outlook.office365.com/.default";

std::string Jwt(const nlohmann::json& claims, const std::string& signature) {
  return Base64UrlEncode(R"({"alg":"RS256","typ":"JWT","kid":"k1"})") + "." +
         Base64UrlEncode(claims.dump()) + "." + signature;
}

// A real-looking access token: roles and audience, and a signature that must never be kept.
std::string AccessToken(const std::string& signature = "c2lnbmF0dXJlLW9mLXRoZS1yZWFsLXRva2Vu") {
  return Jwt({{"aud", "https://outlook.office365.com"},
              {"roles", {"full_access_as_app"}},
              {"tid", "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01"},
              {"oid", "a-private-object-id"},
              {"exp", 1}},
             signature);
}

nlohmann::json Decode(const std::string& segment) {
  auto bytes = Base64Decode(segment);
  EXPECT_TRUE(bytes.has_value()) << segment;
  return nlohmann::json::parse(bytes.value_or("{}"), nullptr, false);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto at = s.find(sep); at != std::string::npos; at = s.find(sep, start)) {
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

class CassetteTest : public ::testing::Test {
 protected:
  std::shared_ptr<CassetteRecorder> Recorder(RecordOptions options = {}) {
    auto r = RecordTo(fake_, clock_, file_, std::move(options));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().Describe());
    return r ? *r : nullptr;
  }
  Cassette Loaded() {
    auto c = Cassette::Load(file_);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().Describe());
    return c ? *c : Cassette{};
  }
  std::string Text() { return ReadFile(file_).value_or(""); }

  HttpRequest TokenRequest(const std::string& extra = "") {
    HttpRequest r;
    r.method = "POST";
    r.url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    r.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    r.body =
        "client_id=6a1b2c3d&scope=https%3A%2F%2Foutlook.office365.com%2F.default&"
        "grant_type=client_credentials&client_secret=" +
        PercentEncode(kSecret) + extra;
    return r;
  }

  testing::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "session.json";
  SimulatedClock clock_;
  std::shared_ptr<FakeHttp> fake_ = std::make_shared<FakeHttp>();
};

// Verifies an Authorization value keeps its scheme and loses its credential, everywhere.
TEST_F(CassetteTest, ScrubsAuthorizationKeepingTheScheme) {
  auto rec = Recorder();
  const std::string token = AccessToken();
  HttpRequest r;
  r.method = "POST";
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  r.headers.emplace("Authorization", "Bearer " + token);
  r.headers.emplace("X-AnchorMailbox", "monitor@contoso.com");
  fake_->Enqueue(HttpResponse{401,
                              {{"WWW-Authenticate", "Bearer error=\"invalid_token\""}},
                              "token " + token + " was rejected"});
  ASSERT_TRUE(rec->Send(r).has_value());
  // The decorator forwards the request untouched.
  EXPECT_EQ(fake_->requests().at(0).headers.find("Authorization")->second, "Bearer " + token);

  const Cassette c = Loaded();
  ASSERT_EQ(c.exchanges.size(), 1u);
  EXPECT_EQ(c.exchanges[0].request.headers.find("Authorization")->second, "Bearer <scrubbed>");
  EXPECT_EQ(c.exchanges[0].request.headers.find("X-AnchorMailbox")->second, "monitor@contoso.com");
  EXPECT_EQ(c.exchanges[0].response->body, "token <scrubbed> was rejected");
  EXPECT_THAT(Text(), Not(HasSubstr(token)));
  EXPECT_THAT(Text(), Not(HasSubstr(Split(token, '.')[2])));
}

// Verifies Cookie and Set-Cookie values are scrubbed, and their values wherever else they appear.
TEST_F(CassetteTest, ScrubsCookies) {
  auto rec = Recorder();
  HttpRequest r;
  r.url = "https://outlook.office365.com/autodiscover/autodiscover.json";
  r.headers.emplace("Cookie", "X-BackEndCookie=backend-cookie-value-123; ClientId=CLIENTID12345");
  fake_->Enqueue(HttpResponse{200,
                              {{"Set-Cookie", "exchangecookie=set-cookie-value-456; path=/"},
                               {"Content-Type", "text/plain"}},
                              "echo backend-cookie-value-123"});
  ASSERT_TRUE(rec->Send(r).has_value());

  const Cassette c = Loaded();
  EXPECT_EQ(c.exchanges[0].request.headers.find("Cookie")->second, "<scrubbed>");
  EXPECT_EQ(c.exchanges[0].response->Header("Set-Cookie"), "<scrubbed>");
  EXPECT_EQ(c.exchanges[0].response->body, "echo <scrubbed>");
  for (const char* value : {"backend-cookie-value-123", "CLIENTID12345", "set-cookie-value-456"}) {
    EXPECT_THAT(Text(), Not(HasSubstr(value)));
  }
}

// Verifies each secret form field is scrubbed in a form body and in a URL's query, the other
// fields kept byte for byte.
TEST_F(CassetteTest, ScrubsSecretFormFields) {
  auto rec = Recorder();
  HttpRequest r = TokenRequest(
      "&client_assertion=eyJhbGciOi.assertion-payload.assertion-sig&password=P%40ssw0rd-long-one"
      "&refresh_token=0.AAAA-refresh-token-value&code=OAAABAAAA-authorization-code");
  r.url += "?code=query-authorization-code-789&state=keep-me";
  fake_->Enqueue(JsonResponse(400, R"({"error":"invalid_grant"})"));
  ASSERT_TRUE(rec->Send(r).has_value());

  const Cassette c = Loaded();
  const HttpRequest& got = c.exchanges.at(0).request;
  for (const char* field :
       {"client_secret", "client_assertion", "password", "refresh_token", "code"}) {
    EXPECT_EQ(FormField(got.body, field), "<scrubbed>") << field;
  }
  EXPECT_EQ(FormField(got.body, "client_id"), "6a1b2c3d");
  EXPECT_EQ(FormField(got.body, "grant_type"), "client_credentials");
  EXPECT_THAT(got.body, HasSubstr("scope=https%3A%2F%2Foutlook.office365.com%2F.default&"));
  EXPECT_EQ(got.url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
            "?code=%3Cscrubbed%3E&state=keep-me");
  const std::string text = Text();
  for (const char* secret : {kSecret, "assertion-payload", "P@ssw0rd-long-one", "P%40ssw0rd",
                             "refresh-token-value", "authorization-code"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret))) << secret;
  }
}

// Verifies access, refresh and id tokens become unsigned JWT-shaped placeholders that keep the
// claims a client reads (aud, roles) and drop the rest, with exp from expires_in on the clock.
TEST_F(CassetteTest, ReplacesTokensWithParseablePlaceholders) {
  auto rec = Recorder();
  const std::string access = AccessToken();
  const std::string id_token = Jwt({{"aud", "6a1b2c3d"}, {"name", "Private Person"}}, "aWQtc2ln");
  fake_->Enqueue(JsonResponse(200, nlohmann::json{{"token_type", "Bearer"},
                                                  {"expires_in", 3599},
                                                  {"access_token", access},
                                                  {"refresh_token", "0.AXYA-opaque-refresh-1234"},
                                                  {"id_token", id_token}}
                                       .dump()));
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(rec->Send(TokenRequest()).has_value());

  const Cassette c = Loaded();
  const auto body = nlohmann::json::parse(c.exchanges.at(0).response->body);
  const long long now = ToUnixSeconds(clock_.Now());
  for (const char* field : {"access_token", "refresh_token", "id_token"}) {
    const auto parts = Split(body[field].get<std::string>(), '.');
    ASSERT_EQ(parts.size(), 3u) << field;
    EXPECT_EQ(Decode(parts[0])["alg"], "none") << field;
    EXPECT_EQ(parts[2], "scrubbed") << field;
    const auto claims = Decode(parts[1]);
    EXPECT_EQ(claims["iat"], now) << field;
    EXPECT_EQ(claims["exp"], now + 3599) << field;
  }
  const auto access_claims = Decode(Split(body["access_token"], '.')[1]);
  EXPECT_EQ(access_claims["aud"], "https://outlook.office365.com");
  EXPECT_EQ(access_claims["roles"], nlohmann::json::array({"full_access_as_app"}));
  EXPECT_FALSE(access_claims.contains("oid"));
  EXPECT_FALSE(Decode(Split(body["id_token"], '.')[1]).contains("name"));
  EXPECT_EQ(body["expires_in"], 3599);
  const std::string text = Text();
  EXPECT_THAT(text, Not(HasSubstr(access)));
  EXPECT_THAT(text, Not(HasSubstr("opaque-refresh")));
  EXPECT_THAT(text, Not(HasSubstr("Private Person")));
  EXPECT_THAT(text, Not(HasSubstr(kSecret)));
}

// Verifies the client's own token provider accepts a recorded token answer: the placeholder
// carries the roles it checks, so a replayed session gets as far as the recorded one did.
TEST_F(CassetteTest, TokenProviderAcceptsTheRecordedAnswer) {
  auto rec = Recorder();
  fake_->Enqueue(JsonResponse(
      200, nlohmann::json{{"expires_in", 3599}, {"access_token", AccessToken()}}.dump()));
  ASSERT_TRUE(rec->Send(TokenRequest()).has_value());
  const Cassette c = Loaded();

  FakeHttp replay;
  replay.Enqueue(*c.exchanges.at(0).response);
  ClientCredential credential;
  credential.tenant = "contoso.onmicrosoft.com";
  credential.client_id = "6a1b2c3d";
  credential.secret = [] { return Result<SecretString>(SecretString("dummy")); };
  SeededRandom random(1);
  TokenProvider tokens(credential, {}, replay, clock_, random);
  auto token = tokens.Get(kScope);
  ASSERT_TRUE(token.has_value()) << token.error().Describe();
  EXPECT_EQ(token->roles, std::vector<std::string>{"full_access_as_app"});
  EXPECT_EQ(token->audience, "https://outlook.office365.com");
}

// Verifies a secret echoed later (an error quoting a token) is scrubbed, and one echoed before
// the recorder learnt it is scrubbed from the earlier exchange once it is learnt.
TEST_F(CassetteTest, ScrubsSecretsEchoedAnywhere) {
  auto rec = Recorder();
  const std::string token = AccessToken("bGF0ZXItZWNob2VkLXNpZ25hdHVyZQ");
  HttpRequest probe;
  probe.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  fake_->Enqueue(HttpResponse{500, {}, std::string("stack trace mentions ") + kSecret});
  ASSERT_TRUE(rec->Send(probe).has_value());
  fake_->Enqueue(
      JsonResponse(200, nlohmann::json{{"expires_in", 60}, {"access_token", token}}.dump()));
  ASSERT_TRUE(rec->Send(TokenRequest()).has_value());
  fake_->Enqueue(HttpResponse{
      400, {{"X-Debug", "saw " + token}}, "<soap:Fault>bad token " + token + "</soap:Fault>"});
  ASSERT_TRUE(rec->Send(probe).has_value());
  fake_->Enqueue(std::unexpected(Error{ErrorCategory::kTransient, "HTTP transport",
                                       "https://x/?t=" + token + ": Read", "", std::nullopt, 0}));
  ASSERT_FALSE(rec->Send(probe).has_value());

  const Cassette c = Loaded();
  ASSERT_EQ(c.exchanges.size(), 4u);
  EXPECT_EQ(c.exchanges[0].response->body, "stack trace mentions <scrubbed>");
  EXPECT_EQ(c.exchanges[2].response->body, "<soap:Fault>bad token <scrubbed></soap:Fault>");
  EXPECT_EQ(c.exchanges[2].response->Header("X-Debug"), "saw <scrubbed>");
  EXPECT_EQ(c.exchanges[3].error->message, "https://x/?t=<scrubbed>: Read");
  EXPECT_THAT(Text(), Not(HasSubstr(token)));
  EXPECT_THAT(Text(), Not(HasSubstr(kSecret)));
}

// Verifies mail is kept as it came: subjects, addresses and MIME are what reproduce a problem.
TEST_F(CassetteTest, KeepsMailContents) {
  auto rec = Recorder();
  const std::string mime = "Subject: Order 1001\r\nFrom: sender@contoso.com\r\n\r\nTotal: 12 EUR";
  const std::string body =
      "<m:GetItemResponse><t:MimeContent CharacterSet=\"UTF-8\">" + Base64Encode(mime) +
      "</t:MimeContent><t:Subject>Order 1001</t:Subject>" + "</m:GetItemResponse>";
  fake_->Enqueue(HttpResponse{200, {{"Content-Type", "text/xml; charset=utf-8"}}, body});
  HttpRequest r;
  r.method = "POST";
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  r.headers.emplace("Content-Type", "text/xml; charset=utf-8");
  r.body = "<soap:Envelope><soap:Body><m:GetItem/></soap:Body></soap:Envelope>";
  ASSERT_TRUE(rec->Send(r).has_value());
  const Cassette c = Loaded();
  EXPECT_EQ(c.exchanges[0].request.body, r.body);
  EXPECT_EQ(c.exchanges[0].response->body, body);
}

// Verifies `at` counts from the first exchange on the injected clock (never the wall clock),
// durationMs is the exchange's own time, and recordedAt is the first exchange's UTC time.
TEST_F(CassetteTest, TimesAreRelativeToTheFirstExchange) {
  auto rec = Recorder();
  fake_->Respond([this](const HttpRequest&) -> Result<HttpResponse> {
    clock_.Advance(std::chrono::milliseconds(250));  // the server takes a quarter second
    return HttpResponse{200, {}, "ok"};
  });
  clock_.Advance(std::chrono::minutes(5));
  const SystemTime first = clock_.Now();
  HttpRequest r;
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  ASSERT_TRUE(rec->Send(r).has_value());
  clock_.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(rec->Send(r).has_value());

  const Cassette c = Loaded();
  EXPECT_EQ(c.recorded_at, first);
  EXPECT_THAT(Text(), HasSubstr("\"recordedAt\": \"" + FormatIso8601Ticks(first) + "\""));
  ASSERT_EQ(c.exchanges.size(), 2u);
  EXPECT_EQ(c.exchanges[0].at, std::chrono::milliseconds(0));
  EXPECT_EQ(c.exchanges[0].duration, std::chrono::milliseconds(250));
  EXPECT_EQ(c.exchanges[1].at, std::chrono::milliseconds(60'250));
  EXPECT_EQ(c.client, HttpOptions().user_agent);
}

// Verifies a transport failure is recorded as an error with no response, and passed on as is.
TEST_F(CassetteTest, RecordsATransportError) {
  auto rec = Recorder();
  fake_->Enqueue(
      std::unexpected(Error{ErrorCategory::kTransient, "HTTP transport",
                            "https://outlook.office365.com/EWS/Exchange.asmx: Connection",
                            "check the URL", std::nullopt, 0}));
  HttpRequest r;
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  auto result = rec->Send(r);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, "HTTP transport");

  const Cassette c = Loaded();
  ASSERT_EQ(c.exchanges.size(), 1u);
  EXPECT_FALSE(c.exchanges[0].response.has_value());
  ASSERT_TRUE(c.exchanges[0].error.has_value());
  EXPECT_EQ(c.exchanges[0].error->code, "HTTP transport");
  EXPECT_EQ(c.exchanges[0].error->category, ErrorCategory::kTransient);
  EXPECT_THAT(c.exchanges[0].error->message, HasSubstr("Connection"));
}

// A transport that streams its answer in chunks, as GetStreamingEvents arrives.
class ChunkedHttp final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest&) override { return HttpResponse{200, {}, "whole"}; }
  Result<HttpResponse> SendStreaming(const HttpRequest&, const ChunkReceiver& receiver,
                                     StreamCancel*) override {
    for (const char* chunk : {"<Envelope>", "<Notification/>", "</Envelope>"}) {
      if (!receiver(chunk)) break;
    }
    return HttpResponse{200, {{"Content-Type", "text/xml"}, {"Transfer-Encoding", "chunked"}}, ""};
  }
};

// Verifies a streamed body is recorded as its chunks joined, marked streaming, while the
// application's receiver still gets every chunk; framing headers are not kept.
TEST_F(CassetteTest, JoinsStreamedChunks) {
  auto rec = RecordTo(std::make_shared<ChunkedHttp>(), clock_, file_);
  ASSERT_TRUE(rec.has_value());
  std::vector<std::string> seen;
  HttpRequest r;
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  ASSERT_TRUE((*rec)
                  ->SendStreaming(r,
                                  [&](std::string_view chunk) {
                                    seen.emplace_back(chunk);
                                    return true;
                                  })
                  .has_value());
  EXPECT_EQ(seen.size(), 3u);
  const Cassette c = Loaded();
  EXPECT_TRUE(c.exchanges.at(0).streaming);
  EXPECT_EQ(c.exchanges[0].response->body, "<Envelope><Notification/></Envelope>");
  EXPECT_EQ(c.exchanges[0].response->Header("Transfer-Encoding"), "");
  EXPECT_EQ(c.exchanges[0].response->Header("Content-Type"), "text/xml");
}

// Verifies the file exists from the start, is rewritten whole after every exchange (so a crash
// keeps what came before), replaces what was there, leaves no temporary file and is 0600.
TEST_F(CassetteTest, WritesAtomicallyAfterEveryExchange) {
  ASSERT_TRUE(WriteFileAtomically(file_, "an older, unrelated file").has_value());
  auto rec = Recorder();
  EXPECT_EQ(Loaded().exchanges.size(), 0u);
  HttpRequest r;
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  for (std::size_t n = 1; n <= 3; ++n) {
    fake_->Enqueue(HttpResponse{200, {}, "answer " + std::to_string(n)});
    ASSERT_TRUE(rec->Send(r).has_value());
    const Cassette c = Loaded();
    ASSERT_EQ(c.exchanges.size(), n);
    EXPECT_EQ(c.exchanges.back().response->body, "answer " + std::to_string(n));
  }
  EXPECT_EQ(rec->recorded(), 3u);
  EXPECT_FALSE(rec->write_error().has_value());
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    ++files;
    EXPECT_EQ(entry.path(), file_) << "left behind: " << entry.path();
  }
  EXPECT_EQ(files, 1u);
  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Verifies exchanges from several threads are all kept, in a file that always parses.
TEST_F(CassetteTest, IsThreadSafe) {
  auto rec = Recorder();
  fake_->Respond([](const HttpRequest& r) -> Result<HttpResponse> {
    return HttpResponse{200, {}, r.body};
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        HttpRequest r;
        r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
        r.body = std::to_string(t) + "/" + std::to_string(i);
        (void)rec->Send(r);
      }
    });
  }
  for (auto& t : threads) t.join();
  const Cassette c = Loaded();
  ASSERT_EQ(c.exchanges.size(), 100u);
  for (const auto& e : c.exchanges) EXPECT_EQ(e.request.body, e.response->body);
}

// Verifies the context is written and read back, and a body that is not UTF-8 survives.
TEST_F(CassetteTest, RoundTripsContextAndBinaryBodies) {
  RecordOptions options;
  options.context["EmailIntegrationFolder"] = "Orders/Incoming";
  auto rec = Recorder(options);
  const std::string binary("\xff\xfe\x00\x01 not utf-8", 15);
  fake_->Enqueue(HttpResponse{200, {}, binary});
  HttpRequest r;
  r.url = "https://outlook.office365.com/EWS/Exchange.asmx";
  ASSERT_TRUE(rec->Send(r).has_value());
  const Cassette c = Loaded();
  EXPECT_EQ(c.context.at("EmailIntegrationFolder"), "Orders/Incoming");
  EXPECT_EQ(c.exchanges.at(0).response->body, binary);
  EXPECT_THAT(Text(), HasSubstr("bodyBase64"));
  auto again = Cassette::Parse(c.Serialize());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->exchanges.at(0).response->body, binary);
}

// Verifies a path that cannot be written is refused up front.
TEST_F(CassetteTest, RecordToRefusesAnUnwritablePath) {
  auto r = RecordTo(fake_, clock_, dir_.path() / "no-such-dir" / "c.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "CassetteUnwritable");
  EXPECT_EQ(r.error().category, ErrorCategory::kConfiguration);
}

// Verifies Load refuses what is no cassette, naming the file and the problem, and never throws.
TEST_F(CassetteTest, LoadRejectsBadFilesClearly) {
  const std::string good_exchange =
      R"({"at": 0, "request": {"method": "GET", "url": "https://x/"}, "response": {"status": 200}})";
  auto cassette = [&](const std::string& exchanges, const std::string& head =
                                                        R"("format": "exo-cassette", "version": 1,
                                                           "recordedAt": "2026-11-02T09:00:00Z")") {
    return "{" + head + ", \"exchanges\": [" + exchanges + "]}";
  };
  ASSERT_TRUE(Cassette::Parse(cassette(good_exchange)).has_value());

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "not JSON: parse error at line 1, column 1"},
      {"{\"format\": \"exo-cassette\",", "not JSON"},
      {"[1, 2]", "not a JSON object"},
      {"{}", "not an exo-cassette"},
      {R"({"format": "har", "version": 1})", "format is 'har', not 'exo-cassette'"},
      {R"({"format": "exo-cassette", "version": 2})", "version 2 is not supported"},
      {R"({"format": "exo-cassette", "version": 1, "exchanges": []})", "recordedAt is missing"},
      {cassette("", R"("format": "exo-cassette", "version": 1, "recordedAt": "yesterday")"),
       "recordedAt 'yesterday' is not ISO 8601"},
      {R"({"format": "exo-cassette", "version": 1, "recordedAt": "2026-11-02T09:00:00Z"})",
       "exchanges is missing"},
      {cassette(R"({"at": 0, "request": {"url": "https://x/"}, "response": {"status": 200}})"),
       "exchanges[0].request.method is missing"},
      {cassette(good_exchange +
                R"(, {"at": 5, "request": {"method": "GET", "url": "https://x/"}})"),
       "exchanges[1] must have either a response or an error"},
      {cassette(R"({"at": 0, "request": {"method": "GET", "url": "https://x/"},
                    "response": {"status": "200"}})"),
       "exchanges[0].response.status must be a whole number"},
      {cassette(R"({"at": -3, "request": {"method": "GET", "url": "https://x/"},
                    "error": {"code": "HTTP transport"}})"),
       "exchanges[0].at must be a whole number, not negative"},
      {cassette(R"({"at": 0, "request": {"method": "GET", "url": "/relative"},
                    "error": {"code": "x"}})"),
       "exchanges[0].request.url '/relative' is not absolute"},
  };
  for (const auto& [text, want] : cases) {
    auto c = Cassette::Parse(text, "bad.json");
    ASSERT_FALSE(c.has_value()) << text;
    EXPECT_EQ(c.error().code, "InvalidCassette") << text;
    EXPECT_EQ(c.error().category, ErrorCategory::kConfiguration);
    EXPECT_THAT(c.error().message, HasSubstr("bad.json: " + want)) << text;
    EXPECT_FALSE(c.error().remedy.empty());
  }
  auto missing = Cassette::Load(dir_.path() / "absent.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, "InvalidCassette");
  EXPECT_THAT(missing.error().message, HasSubstr("absent.json"));
}

}  // namespace
}  // namespace exo::client
