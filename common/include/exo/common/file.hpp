// Whole-file reads and durable, atomic whole-file writes, for ready files, keys and state dumps.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "exo/common/result.hpp"

namespace exo {

// Writes `contents` to `path` atomically (temporary file, fsync, rename) with `mode`.
Result<void> WriteFileAtomically(const std::filesystem::path& path, std::string_view contents,
                                 unsigned mode = 0644);
// Reads a whole file.
Result<std::string> ReadFile(const std::filesystem::path& path);

}  // namespace exo
