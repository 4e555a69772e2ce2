#include "internal/world_mailboxes.hpp"

#include <algorithm>
#include <cctype>

#include "exo/mock_kit/world_format.hpp"

namespace exo::mock_ews {

using nlohmann::json;

namespace {

std::unexpected<Error> Invalid(const std::string& code, const std::string& where,
                               const std::string& what) {
  return Fail(ErrorCategory::kConfiguration, code, where + ": " + what,
              "see docs/mock-ews.md for the world file and --mailbox formats");
}

bool SameId(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

Result<void> EnsureOrganization(MailboxStore& store, const std::string& id,
                                const std::string& name) {
  for (const auto& o : store.ListOrganizations()) {
    if (SameId(o.id, id)) return {};
  }
  auto created = store.CreateOrganization(id, name.empty() ? id : name);
  if (!created) return std::unexpected(created.error());
  return {};
}

std::string StringField(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

Result<SeededMailboxes> SeedFromWorld(const json& world, MailboxStore& store) {
  constexpr const char* kCode = "InvalidWorld";
  SeededMailboxes out;
  if (!world.is_object()) return Invalid(kCode, "world", "not a JSON object");
  // Every member known and of its type (the format mock-aad reads too, mock-kit's): a typo such
  // as "mailbox" must not start a server without the mailboxes the file meant to declare.
  if (auto bad = mock::CheckWorldShape(world)) {
    return Fail(ErrorCategory::kConfiguration, kCode, *bad,
                "see docs/mock-ews.md for the world file and --mailbox formats");
  }
  const json empty = json::array();
  const json& tenants = world.contains("tenants") ? world["tenants"] : empty;
  const json& mailboxes = world.contains("mailboxes") ? world["mailboxes"] : empty;
  if (!tenants.is_array()) return Invalid(kCode, "tenants", "not an array");
  if (!mailboxes.is_array()) return Invalid(kCode, "mailboxes", "not an array");

  for (std::size_t i = 0; i < tenants.size(); ++i) {
    const std::string where = "tenants[" + std::to_string(i) + "]";
    const json& t = tenants[i];
    const std::string id = t.is_object() ? StringField(t, "id") : std::string();
    if (id.empty()) return Invalid(kCode, where, "no \"id\"");
    if (auto o = EnsureOrganization(store, id, StringField(t, "displayName")); !o) {
      return Invalid(kCode, where, o.error().message);
    }
    out.tenant_ids.push_back(id);
    const json& users = t.contains("users") ? t["users"] : empty;
    if (!users.is_array()) return Invalid(kCode, where + ".users", "not an array");
    for (std::size_t u = 0; u < users.size(); ++u) {
      const std::string uwhere = where + ".users[" + std::to_string(u) + "]";
      const std::string upn =
          users[u].is_object() ? StringField(users[u], "userPrincipalName") : std::string();
      if (upn.empty()) return Invalid(kCode, uwhere, "no \"userPrincipalName\"");
      MailboxSpec spec;
      spec.organization_id = id;
      spec.primary_smtp_address = upn;
      spec.display_name = StringField(users[u], "displayName");
      spec.directory_object_id = StringField(users[u], "id");
      if (auto m = store.CreateMailbox(spec); !m) return Invalid(kCode, uwhere, m.error().message);
      out.smtp.push_back(upn);
    }
  }

  for (std::size_t i = 0; i < mailboxes.size(); ++i) {
    const std::string where = "mailboxes[" + std::to_string(i) + "]";
    const json& m = mailboxes[i];
    if (!m.is_object()) return Invalid(kCode, where, "not an object");
    MailboxSpec spec;
    spec.organization_id = StringField(m, "organization");
    spec.primary_smtp_address = StringField(m, "smtp");
    spec.user_principal_name = StringField(m, "upn");
    spec.display_name = StringField(m, "displayName");
    if (m.contains("shared") && !m["shared"].is_boolean()) {
      return Invalid(kCode, where + ".shared", "not true or false");
    }
    if (m.value("shared", false)) spec.kind = MailboxKind::kShared;
    if (spec.organization_id.empty()) return Invalid(kCode, where, "no \"organization\"");
    if (spec.primary_smtp_address.empty()) return Invalid(kCode, where, "no \"smtp\"");
    if (auto o = EnsureOrganization(store, spec.organization_id, {}); !o) {
      return Invalid(kCode, where, o.error().message);
    }
    if (auto c = store.CreateMailbox(spec); !c) return Invalid(kCode, where, c.error().message);
    out.smtp.push_back(spec.primary_smtp_address);
  }
  return out;
}

Result<std::string> SeedOne(const std::string& tenant_and_smtp, MailboxStore& store) {
  constexpr const char* kCode = "InvalidMailbox";
  const std::string where = "--mailbox " + tenant_and_smtp;
  const auto colon = tenant_and_smtp.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == tenant_and_smtp.size()) {
    return Invalid(kCode, where, "expected TENANT_ID:smtp-address");
  }
  MailboxSpec spec;
  spec.organization_id = tenant_and_smtp.substr(0, colon);
  spec.primary_smtp_address = tenant_and_smtp.substr(colon + 1);
  if (auto o = EnsureOrganization(store, spec.organization_id, {}); !o) {
    return Invalid(kCode, where, o.error().message);
  }
  if (auto m = store.CreateMailbox(spec); !m) return Invalid(kCode, where, m.error().message);
  return spec.primary_smtp_address;
}

}  // namespace exo::mock_ews
