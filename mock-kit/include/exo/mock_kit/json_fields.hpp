// Reading JSON objects that people write (world files, control requests): a member the reader does
// not know, or a member it reads as a string holding something else, is an error that names it.
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace exo::mock {

// What is wrong with `object`, if anything: its first member not in `known` ("unknown key
// 'apps' (known: id, users, applications)"), else the first of `strings` present as neither a
// string nor null ("appId is a string, not an array"). A typo or a wrong type left unchecked
// would be a silent default: a world loading without the app the file meant to declare.
std::optional<std::string> CheckFields(const nlohmann::json& object,
                                       std::span<const std::string_view> known,
                                       std::initializer_list<std::string_view> strings = {});

// Only the type half: the first of `strings` present as neither a string nor null.
std::optional<std::string> CheckStringFields(const nlohmann::json& object,
                                             std::initializer_list<std::string_view> strings);

}  // namespace exo::mock
