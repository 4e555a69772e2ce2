#include "exo/mock_kit/json_fields.hpp"

#include <algorithm>

namespace exo::mock {

std::optional<std::string> CheckFields(const nlohmann::json& object,
                                       std::span<const std::string_view> known,
                                       std::initializer_list<std::string_view> strings) {
  if (!object.is_object()) return std::string("not a JSON object");
  for (const auto& [name, value] : object.items()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string list;
    for (const std::string_view k : known) {
      if (!list.empty()) list += ", ";
      list += k;
    }
    return "unknown key '" + name + "' (known: " + list + ")";
  }
  return CheckStringFields(object, strings);
}

std::optional<std::string> CheckStringFields(const nlohmann::json& object,
                                             std::initializer_list<std::string_view> strings) {
  if (!object.is_object()) return std::string("not a JSON object");
  for (const std::string_view name : strings) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_string() || it->is_null()) continue;
    return std::string(name) + " is a string, not " +
           (it->is_array()    ? "an array"
            : it->is_object() ? "an object"
                              : "a " + std::string(it->type_name()));
  }
  return std::nullopt;
}

}  // namespace exo::mock
