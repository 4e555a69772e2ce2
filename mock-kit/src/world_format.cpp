#include "exo/mock_kit/world_format.hpp"

#include <string_view>

#include "exo/mock_kit/json_fields.hpp"

namespace exo::mock {

namespace {

using nlohmann::json;

constexpr std::string_view kWorld[] = {"tenants", "settings", "mailboxes"};
constexpr std::string_view kTenant[] = {
    "id", "displayName", "domains", "exchangeServicePrincipalNames", "users", "applications"};
constexpr std::string_view kUser[] = {"userPrincipalName", "id",    "displayName",
                                      "password",          "roles", "accountEnabled"};
constexpr std::string_view kApplication[] = {"appId",
                                             "id",
                                             "displayName",
                                             "enabled",
                                             "isFallbackPublicClient",
                                             "identifierUris",
                                             "requiredResourceAccess",
                                             "servicePrincipal",
                                             "servicePrincipalId",
                                             "passwordCredentials",
                                             "keyCredentials",
                                             "appRoleAssignments"};
constexpr std::string_view kPassword[] = {"secretText", "displayName", "keyId", "startDateTime",
                                          "endDateTime"};
constexpr std::string_view kKey[] = {"certificatePem", "key",           "keyId",
                                     "displayName",    "startDateTime", "endDateTime"};
constexpr std::string_view kAssignment[] = {"resource", "appRole"};
constexpr std::string_view kMailbox[] = {"organization", "smtp", "upn", "displayName", "shared"};

std::string Item(const std::string& list, std::size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

// `where`.`name`, when present, is an array (then each entry goes through `each`).
template <typename Each>
std::optional<std::string> Array(const json& object, const std::string& where, const char* name,
                                 Each each) {
  if (!object.contains(name)) return std::nullopt;
  const std::string path = where.empty() ? name : where + "." + name;
  if (!object[name].is_array()) return path + " must be an array";
  for (std::size_t i = 0; i < object[name].size(); ++i) {
    if (auto bad = each(object[name][i], Item(path, i))) return bad;
  }
  return std::nullopt;
}
std::optional<std::string> AnyEntries(const json&, const std::string&) { return std::nullopt; }

std::optional<std::string> Booleans(const json& object, const std::string& where,
                                    std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (object.contains(name) && !object[name].is_boolean()) {
      return where + ": " + name + " is true or false";
    }
  }
  return std::nullopt;
}

// `object` has only `known` members, `strings` of them strings.
std::optional<std::string> Object(const json& object, const std::string& where,
                                  std::span<const std::string_view> known,
                                  std::initializer_list<std::string_view> strings) {
  if (auto bad = CheckFields(object, known, strings)) return where + ": " + *bad;
  return std::nullopt;
}

std::optional<std::string> Application(const json& a, const std::string& where) {
  if (auto bad =
          Object(a, where, kApplication, {"appId", "id", "displayName", "servicePrincipalId"})) {
    return bad;
  }
  if (auto bad = Booleans(a, where, {"enabled", "isFallbackPublicClient", "servicePrincipal"})) {
    return bad;
  }
  if (auto bad = Array(a, where, "identifierUris", AnyEntries)) return bad;
  if (auto bad = Array(a, where, "requiredResourceAccess", AnyEntries)) return bad;
  if (auto bad = Array(a, where, "passwordCredentials", [](const json& p, const std::string& at) {
        return Object(p, at, kPassword,
                      {"secretText", "displayName", "keyId", "startDateTime", "endDateTime"});
      })) {
    return bad;
  }
  if (auto bad = Array(a, where, "keyCredentials", [](const json& k, const std::string& at) {
        return Object(
            k, at, kKey,
            {"certificatePem", "key", "keyId", "displayName", "startDateTime", "endDateTime"});
      })) {
    return bad;
  }
  return Array(a, where, "appRoleAssignments", [](const json& g, const std::string& at) {
    return Object(g, at, kAssignment, {"resource", "appRole"});
  });
}

std::optional<std::string> Tenant(const json& t, const std::string& where) {
  if (auto bad = Object(t, where, kTenant, {"id", "displayName"})) return bad;
  if (auto bad = Array(t, where, "domains", AnyEntries)) return bad;
  if (auto bad = Array(t, where, "exchangeServicePrincipalNames", AnyEntries)) return bad;
  if (auto bad = Array(t, where, "users", [](const json& u, const std::string& at) {
        if (auto wrong =
                Object(u, at, kUser, {"userPrincipalName", "id", "displayName", "password"})) {
          return wrong;
        }
        if (auto wrong = Array(u, at, "roles", AnyEntries)) return wrong;
        return Booleans(u, at, {"accountEnabled"});
      })) {
    return bad;
  }
  return Array(t, where, "applications", Application);
}

}  // namespace

std::optional<std::string> CheckWorldShape(const json& world) {
  if (!world.is_object()) return std::string("the world is a JSON object");
  if (auto bad = Object(world, "the world", kWorld, {})) return bad;
  if (world.contains("settings") && !world["settings"].is_object()) {
    return std::string("settings must be an object");
  }
  if (auto bad = Array(world, "", "tenants", Tenant)) return bad;
  return Array(world, "", "mailboxes", [](const json& m, const std::string& at) {
    if (auto bad = Object(m, at, kMailbox, {"organization", "smtp", "upn", "displayName"})) {
      return bad;
    }
    return Booleans(m, at, {"shared"});
  });
}

}  // namespace exo::mock
