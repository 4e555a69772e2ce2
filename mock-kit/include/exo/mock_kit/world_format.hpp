// The world file both mocks read (docs/mock-aad.md "The world file"; mock-ews adds "mailboxes"):
// its shape checked in one place, so either mock refuses a typo or a wrong type the same way.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace exo::mock {

// What is wrong with the shape of `world`, naming the member ("tenants[0].applications[1]:
// unknown key 'secrets' (known: ...)", "tenants[0].users[0]: password is a string, not a
// number"): every object has only the format's members, each of its type. What the values mean
// (GUIDs, dates, certificates, role names) is left to the mock that reads them.
std::optional<std::string> CheckWorldShape(const nlohmann::json& world);

}  // namespace exo::mock
