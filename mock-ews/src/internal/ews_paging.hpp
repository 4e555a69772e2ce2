// Paged views of FindItem and FindFolder (IndexedPage*View, FractionalPage*View): which slice of
// a result a request asks for, and the RootFolder attributes that tell the client where the next
// page starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <pugixml.hpp>
#include <string>

#include "exo/common/result.hpp"

namespace exo::mock_ews {

// Exchange Online's EWSFindCountLimit: no page holds more.
inline constexpr std::size_t kFindCountLimit = 1000;

struct PagedView {
  bool fractional = false;
  // Indexed: the offset from the beginning, or back from the end (BasePoint End).
  std::size_t offset = 0;
  bool from_end = false;
  // Fractional: the page starts Numerator/Denominator of the way into the result.
  std::int64_t numerator = 0;
  std::int64_t denominator = 1;
  std::size_t max_count = kFindCountLimit;
};

// The view of a Find request from its IndexedPage*View or FractionalPage*View element (either may
// be empty; both empty: everything from the start, up to kFindCountLimit). Errors (response
// messages): ErrorInvalidPagingMaxRows (MaxEntriesReturned below 1),
// ErrorInvalidIndexedPagingParameters (negative Offset), ErrorInvalidFractionalPagingParameters
// (Denominator below 1, Numerator outside 0..Denominator).
Result<PagedView> ParsePagedView(pugi::xml_node indexed, pugi::xml_node fractional);

// The slice of a result of `total` entries the view selects.
struct PageWindow {
  std::size_t start = 0;
  std::size_t count = 0;
};
PageWindow Window(const PagedView& view, std::size_t total);

// The RootFolder / ResolutionSet attributes for a page that ends before entry `next` of `total`:
// IndexedPagingOffset, or NumeratorOffset and AbsoluteDenominator for a fractional view (the
// numerator to send next over that denominator), then TotalItemsInView and
// IncludesLastItemInRange. Starts with a space.
std::string PagingAttributes(const PagedView& view, std::size_t next, std::size_t total);

}  // namespace exo::mock_ews
