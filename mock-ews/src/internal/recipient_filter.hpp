// OPATH recipient filters as New-ManagementScope -RecipientRestrictionFilter takes them
// (`CustomAttribute1 -eq '012332'`, `MemberOfGroup -eq '<group DN>'`), parsed once and evaluated
// against one recipient's properties.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/result.hpp"

namespace exo::mock_ews::admin_internal {

struct RecipientFilter {
  enum class Op { kAnd, kOr, kNot, kEq, kNe, kLike, kNotLike };
  Op op = Op::kEq;
  std::string property;  // comparisons: the canonical lower-case name ("customattribute1")
  std::string value;
  std::vector<std::shared_ptr<const RecipientFilter>> children;  // kAnd/kOr: 2, kNot: 1
};

// The properties a filter may name: MemberOfGroup, CustomAttribute1..15, Name, Alias,
// DisplayName, PrimarySmtpAddress, RecipientTypeDetails. Errors (kConfiguration):
// admin_codes::kFilterInvalid with Exchange's "Invalid filter syntax. …" text.
Result<std::shared_ptr<const RecipientFilter>> ParseRecipientFilter(std::string_view text);

// A recipient's values of a property (several for MemberOfGroup: each direct group's DN and
// name). Comparisons are case-insensitive; -like takes '*' wildcards.
using PropertyValues = std::function<std::vector<std::string>(const std::string& property)>;
bool Matches(const RecipientFilter& filter, const PropertyValues& values);

}  // namespace exo::mock_ews::admin_internal
