#include "exo/common/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

namespace exo {
namespace {

using exo::testing::TempDir;

unsigned FileMode(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> Entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Sets the process umask for one scope and restores it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// Verifies that WriteFileAtomically writes the exact bytes with the default mode 0644 and leaves
// no temporary file behind.
TEST(FileTest, WriteFileAtomicallyWritesContents) {
  TempDir tmp;
  const auto path = tmp.path() / "ready.json";
  ASSERT_TRUE(WriteFileAtomically(path, "{\"port\":4443}\n").has_value());
  EXPECT_EQ(ReadFile(path).value_or("<error>"), "{\"port\":4443}\n");
  EXPECT_EQ(FileMode(path), 0644u);
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"ready.json"});
}

// Verifies that the requested mode is applied exactly, whatever the process umask.
TEST(FileTest, WriteFileAtomicallySetsModeDespiteUmask) {
  TempDir tmp;
  {
    ScopedUmask mask(077);
    ASSERT_TRUE(WriteFileAtomically(tmp.path() / "public.pem", "cert", 0644).has_value());
  }
  {
    ScopedUmask mask(0);
    ASSERT_TRUE(WriteFileAtomically(tmp.path() / "key.pem", "key", 0600).has_value());
    ASSERT_TRUE(WriteFileAtomically(tmp.path() / "group.txt", "g", 0640).has_value());
  }
  EXPECT_EQ(FileMode(tmp.path() / "public.pem"), 0644u);
  EXPECT_EQ(FileMode(tmp.path() / "key.pem"), 0600u);
  EXPECT_EQ(FileMode(tmp.path() / "group.txt"), 0640u);
}

// Verifies that rewriting a file replaces both its contents (longer to shorter) and its mode.
TEST(FileTest, WriteFileAtomicallyReplacesExistingFile) {
  TempDir tmp;
  const auto path = tmp.path() / "state";
  ASSERT_TRUE(WriteFileAtomically(path, "a much longer first version", 0644).has_value());
  ASSERT_TRUE(WriteFileAtomically(path, "v2", 0600).has_value());
  EXPECT_EQ(ReadFile(path).value_or("<error>"), "v2");
  EXPECT_EQ(FileMode(path), 0600u);
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"state"});
}

// Verifies that binary contents (NUL bytes, CR LF, high bytes) and an empty file round-trip.
TEST(FileTest, BinaryAndEmptyContentsRoundTrip) {
  TempDir tmp;
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  binary += std::string("\r\n\0tail", 7);
  ASSERT_TRUE(WriteFileAtomically(tmp.path() / "bin", binary).has_value());
  EXPECT_EQ(ReadFile(tmp.path() / "bin").value_or("<error>"), binary);

  ASSERT_TRUE(WriteFileAtomically(tmp.path() / "empty", "").has_value());
  auto empty = ReadFile(tmp.path() / "empty");
  ASSERT_TRUE(empty.has_value()) << empty.error().Describe();
  EXPECT_EQ(*empty, "");
}

// Verifies that a multi-megabyte file is written and read back whole.
TEST(FileTest, LargeContentsRoundTrip) {
  TempDir tmp;
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) & 0xff);
  ASSERT_TRUE(WriteFileAtomically(tmp.path() / "big", big).has_value());
  const auto back = ReadFile(tmp.path() / "big");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size(), big.size());
  EXPECT_TRUE(*back == big);
}

// Verifies that writing into a directory that does not exist is an internal I/O error naming the
// path, and leaves nothing behind.
TEST(FileTest, WriteFileAtomicallyIntoMissingDirectoryFails) {
  TempDir tmp;
  const auto path = tmp.path() / "missing" / "file";
  auto r = WriteFileAtomically(path, "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kInternal);
  EXPECT_EQ(r.error().code, "io");
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
  EXPECT_TRUE(Entries(tmp.path()).empty());
}

// Verifies that renaming onto an existing directory fails cleanly and removes the temporary file.
TEST(FileTest, WriteFileAtomicallyOntoDirectoryFails) {
  TempDir tmp;
  const auto path = tmp.path() / "dir";
  std::filesystem::create_directory(path);
  std::ofstream(path / "keep") << "kept";
  auto r = WriteFileAtomically(path, "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kInternal);
  EXPECT_EQ(r.error().code, "io");
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"dir"});
  EXPECT_EQ(ReadFile(path / "keep").value_or("<error>"), "kept");
}

// Verifies that reading a missing file is a configuration error (a wrong path in the settings)
// with code "io" and the path in the message.
TEST(FileTest, ReadFileMissingIsConfigurationError) {
  TempDir tmp;
  const auto path = tmp.path() / "nope.pem";
  auto r = ReadFile(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(r.error().code, "io");
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
}

// Verifies that reading a directory is a configuration error naming the path, not an empty file.
TEST(FileTest, ReadFileOfDirectoryIsError) {
  TempDir tmp;
  auto r = ReadFile(tmp.path());
  ASSERT_FALSE(r.has_value()) << "read a directory as \"" << *r << "\"";
  EXPECT_EQ(r.error().category, ErrorCategory::kConfiguration);
  EXPECT_EQ(r.error().code, "io");
  EXPECT_NE(r.error().message.find(tmp.path().string()), std::string::npos) << r.error().message;
}

// Verifies that two threads writing the same path at once both succeed, the file ends up holding
// one writer's whole contents, and no temporary file is left behind.
TEST(FileTest, ConcurrentWritersToSamePathBothSucceed) {
  TempDir tmp;
  const auto path = tmp.path() / "shared";
  const std::string a(64 * 1024, 'a');
  const std::string b(32 * 1024, 'b');
  constexpr int kRounds = 50;
  std::latch start(2);
  std::atomic<int> failures{0};
  auto writer = [&](const std::string& contents) {
    start.arrive_and_wait();
    for (int i = 0; i < kRounds; ++i) {
      if (!WriteFileAtomically(path, contents).has_value()) ++failures;
    }
  };
  std::thread first(writer, std::cref(a));
  std::thread second(writer, std::cref(b));
  first.join();
  second.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string final_contents = ReadFile(path).value_or("<error>");
  EXPECT_TRUE(final_contents == a || final_contents == b)
      << "mixed contents of " << final_contents.size() << " bytes";
  EXPECT_EQ(Entries(tmp.path()), std::vector<std::string>{"shared"});
}

}  // namespace
}  // namespace exo
