// exo-mailbox as an operator runs it: a real process against mock-aad and mock-ews (in this test's
// process), its exit codes, output and files. The test waits on the child's pipes, never on time.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "configured_client.hpp"
#include "exo/client/checkpoint_store.hpp"
#include "exo/client/mailbox_client.hpp"
#include "exo/common/file.hpp"

extern char** environ;

namespace exo::client::test {
namespace {

using ::testing::HasSubstr;

// A child process with its standard input, output and error on pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int in[2], out[2], err[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    args.insert(args.begin(), EXO_MAILBOX_BIN);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, EXO_MAILBOX_BIN, &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = ::fdopen(out[0], "r");
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (in_ >= 0) ::close(in_);
    if (out_) ::fclose(out_);
    if (err_ >= 0) ::close(err_);
  }

  void Write(const std::string& s) {
    EXPECT_EQ(::write(in_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
    ::close(in_);
    in_ = -1;
  }
  // The next line of standard output, or empty at its end.
  std::string ReadLine() {
    char* line = nullptr;
    std::size_t cap = 0;
    const ssize_t n = ::getline(&line, &cap, out_);
    std::string s = n > 0 ? std::string(line, static_cast<std::size_t>(n)) : "";
    std::free(line);
    return s;
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Waits for the exit; collects what is left of stdout and all of stderr.
  int Wait() {
    if (in_ >= 0) {
      ::close(in_);
      in_ = -1;
    }
    for (std::string l = ReadLine(); !l.empty(); l = ReadLine()) out_text_ += l;
    char buf[4096];
    for (ssize_t n; (n = ::read(err_, buf, sizeof buf)) > 0;) err_text_.append(buf, n);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1, err_ = -1;
  FILE* out_ = nullptr;
  std::string out_text_, err_text_;
};

class CliTest : public ConfiguredTest {
 protected:
  int Run(std::vector<std::string> args, const std::string& input = "") {
    Child c(std::move(args));
    if (!input.empty()) c.Write(input);
    const int code = c.Wait();
    out_ = c.out();
    err_ = c.err();
    return code;
  }
  std::size_t Files(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      n += e.path().extension() == ".eml";
    return n;
  }
  std::string out_, err_;
};

// Verifies --help documents the exit codes, and a bad option is exit code 2.
TEST_F(CliTest, HelpAndUsage) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("Exit codes"));
  EXPECT_EQ(Run({"monitor", "--help"}), 0);
  EXPECT_THAT(out_, HasSubstr("--exec"));
  EXPECT_EQ(Run({"fetch", "--no-such-option"}), 2);
  EXPECT_EQ(Run({"fetch", "--config", "/nonexistent.config", "--out-dir", "/tmp"}), 2);
  EXPECT_THAT(err_, HasSubstr("/nonexistent.config"));
}

// Verifies protect-secret reads the secret from standard input and stores only ciphertext in the
// .config, which the client then decrypts to the same secret.
TEST_F(CliTest, ProtectSecretIntoTheConfig) {
  WriteConfig(aad::test::kDaemonAppId, "placeholder");
  ASSERT_EQ(Run({"protect-secret", "--config", config_file_.string()},
                std::string(aad::test::kDaemonSecret) + "\n"),
            0)
      << err_;
  auto text = ReadFile(config_file_);
  ASSERT_TRUE(text.has_value());
  EXPECT_THAT(*text, ::testing::Not(HasSubstr(aad::test::kDaemonSecret)));
  EXPECT_THAT(*text, HasSubstr("the Bizagi Scheduler's settings"));  // comments survive
  auto key = SecretKey::LoadFile(key_file_);
  ASSERT_TRUE(key.has_value());
  auto plain = UnprotectSecret(LoadConfig().encrypted_secret, *key);
  ASSERT_TRUE(plain.has_value()) << plain.error().Describe();
  EXPECT_EQ(plain->Reveal(), aad::test::kDaemonSecret);
  // Printed instead when no config is named; a new key file is refused if one exists.
  EXPECT_EQ(Run({"protect-secret", "--key-file", key_file_.string()}, "abc\n"), 0);
  EXPECT_THAT(out_, HasSubstr("exo1:"));
  EXPECT_EQ(Run({"protect-secret", "--key-file", key_file_.string(), "--new-key"}, "abc\n"), 2);
}

// Verifies rotate-key re-encrypts the config's secret under a new key and points the config at it.
TEST_F(CliTest, RotateKey) {
  WriteConfig();
  const auto fresh = dir_->path() / "fresh.key";
  ASSERT_EQ(Run({"rotate-key", "--config", config_file_.string(), "--key-file", fresh.string(),
                 "--new-key"}),
            0)
      << err_;
  const ClientConfig c = LoadConfig();
  EXPECT_EQ(c.key_file, std::filesystem::absolute(fresh));
  auto key = SecretKey::LoadFile(fresh);
  ASSERT_TRUE(key.has_value());
  auto plain = UnprotectSecret(c.encrypted_secret, *key);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->Reveal(), aad::test::kDaemonSecret);
}

// Verifies the doctor's exit code is the number of failures, with text and JSON reports.
TEST_F(CliTest, DoctorExitCodeCountsFailures) {
  WriteConfig();
  EXPECT_EQ(Run({"doctor", "--config", config_file_.string()}), 0) << out_ << err_;
  EXPECT_THAT(out_, HasSubstr("[ok  ]"));
  EXPECT_THAT(out_, HasSubstr("0 failed"));
  EXPECT_EQ(Run({"doctor", "--json", "--config", config_file_.string()}), 0);
  auto j = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out_;
  EXPECT_EQ(j["failures"], 0);
  WriteConfig(aad::test::kDaemonAppId, "Xy78Q~not-the-secret");
  EXPECT_EQ(Run({"doctor", "--config", config_file_.string()}), 1);
  EXPECT_THAT(out_, HasSubstr("AADSTS7000215"));
}

// Verifies fetch writes each new message once as an .eml file, marks it read, and a second pass
// finds nothing new.
TEST_F(CliTest, FetchWritesEmlFilesOnce) {
  WriteConfig();
  for (int i = 0; i < 3; ++i) Deliver("Invoice " + std::to_string(i));
  const auto out = dir_->path() / "mail";
  ASSERT_EQ(Run({"fetch", "--config", config_file_.string(), "--out-dir", out.string()}), 0)
      << err_;
  EXPECT_EQ(Files(out), 3u);
  EXPECT_THAT(out_, HasSubstr("handed=3"));
  Deliver("Invoice 3");
  ASSERT_EQ(Run({"fetch", "--config", config_file_.string(), "--out-dir", out.string()}), 0);
  EXPECT_EQ(Files(out), 4u);
  EXPECT_THAT(out_, HasSubstr("handed=1"));
}

// Verifies a command that refuses the message is exit code 7 and the message stays pending; a
// credential failure is exit code 3; another holder of the lease is exit code 6.
TEST_F(CliTest, FetchExitCodes) {
  WriteConfig();
  Deliver("Refused");
  EXPECT_EQ(Run({"fetch", "--config", config_file_.string(), "--exec", "exit 9"}), 7);
  EXPECT_THAT(err_, HasSubstr("status 9"));
  EXPECT_EQ(Run({"fetch", "--config", config_file_.string(), "--exec", "cat >/dev/null"}), 0);
  EXPECT_THAT(out_, HasSubstr("handed=1"));

  {
    // The lease's expiry is wall-clock time, which is what the child process runs on.
    RealClock wall;
    auto holder = MailboxClient::Open(LoadConfig(), wall, random_);
    ASSERT_TRUE(holder.has_value());
    auto monitor = (*holder)->MakeMonitor([](const HandledMessage&) { return Result<void>(); });
    ASSERT_TRUE(monitor.has_value());
    ASSERT_EQ((*monitor)->Step().phase, MonitorStatus::Phase::kHealthy);
    EXPECT_EQ(Run({"fetch", "--config", config_file_.string(), "--exec", "true"}), 6);
    EXPECT_THAT(err_, HasSubstr("LeaseHeld"));
    monitor->reset();
  }
  WriteConfig(aad::test::kDaemonAppId, "Xy78Q~not-the-secret");
  EXPECT_EQ(Run({"fetch", "--config", config_file_.string(), "--exec", "true"}), 3);
}

// Verifies monitor hands mail to the command with its metadata in the environment, prints status
// lines, and stops cleanly on SIGTERM (exit 0, lease released).
TEST_F(CliTest, MonitorRunsCommandAndStopsOnSigterm) {
  WriteConfig();
  const std::string id = Deliver("Purchase order");
  const auto log = dir_->path() / "handled.log";
  Child c({"monitor", "--config", config_file_.string(), "--poll-interval", "1", "--exec",
           "printf '%s|%s\\n' \"$EXO_IDEMPOTENCY_KEY\" \"$EXO_SUBJECT\" >> " + log.string()});
  std::string line;
  do {
    line = c.ReadLine();
  } while (!line.empty() && line.find("handed=1") == std::string::npos);
  ASSERT_THAT(line, HasSubstr("status healthy handed=1"));
  c.Signal(SIGTERM);
  EXPECT_EQ(c.Wait(), 0) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("SIGTERM"));
  auto handled = ReadFile(log);
  ASSERT_TRUE(handled.has_value());
  EXPECT_EQ(*handled, id + "|Purchase order\n");
  // The lease was released: another run may take the mailbox at once.
  EXPECT_EQ(Run({"fetch", "--config", config_file_.string(), "--exec", "true"}), 0) << err_;
}

}  // namespace
}  // namespace exo::client::test
