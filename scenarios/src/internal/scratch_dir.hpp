// A scratch directory for one world or one replay (CA, .config, key, SQLite state): created under
// the system's temporary directory, removed with its contents at the end.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace exo::scenarios::internal {

class ScratchDir {
 public:
  // `prefix` names the directory ("exo-replay" → /tmp/exo-replay-XXXXXX); path() is empty when it
  // could not be made.
  explicit ScratchDir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace exo::scenarios::internal
