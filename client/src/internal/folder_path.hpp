// A folder path as the configuration names one ("Orders/Incoming"): display names under the top
// of the information store, separated by '/', for every transport that walks it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exo::client {

// The path's names in order; empty names (a leading, trailing or doubled '/') are dropped.
inline std::vector<std::string> SplitFolderPath(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace exo::client
