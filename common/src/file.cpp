#include "exo/common/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace exo {

Result<void> WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                                 unsigned mode) {
  // The pid keeps processes apart and the counter threads and calls within one process: two
  // writers sharing a temporary file would rename each other's half-written bytes into place.
  static std::atomic<unsigned long long> counter{0};
  const std::string tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  auto fail = [&](const std::string& what) -> Result<void> {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Fail(ErrorCategory::kInternal, "io", what + " " + path.string() + ": " + reason);
  };
  if (fd < 0) return fail("cannot create");
  ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Fail(ErrorCategory::kInternal, "io", "cannot rename onto " + path.string() + ": " + reason);
  }
  // The rename lives in the directory: until the directory is synced a crash can undo it. A
  // directory we may write but not read cannot be opened, so that case stays best effort.
  const std::filesystem::path parent = path.has_parent_path() ? path.parent_path() : ".";
  const int dir_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    const bool synced = ::fsync(dir_fd) == 0 || errno == EINVAL;  // EINVAL: fs cannot sync dirs
    const std::string reason = synced ? "" : std::strerror(errno);
    ::close(dir_fd);
    if (!synced) {
      return Fail(ErrorCategory::kInternal, "io",
                  "cannot sync directory of " + path.string() + ": " + reason);
    }
  }
  return {};
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  // std::ifstream opens a directory and then reads it as empty.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Fail(ErrorCategory::kConfiguration, "io",
                "cannot read " + path.string() + ": " + std::strerror(EISDIR));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorCategory::kConfiguration, "io", "cannot read " + path.string() + ": " +
                                                        std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace exo
