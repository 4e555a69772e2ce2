// ConvertId and ResolveNames.
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/base64.hpp"
#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

namespace {

// ResolveNames answers at most this many candidates.
constexpr std::size_t kMaxResolutions = 100;

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && StartsWithNoCase(a, b);
}

// The address of a proxy address ("SMTP:a@b" / "smtp:a@b" -> "a@b").
std::string_view ProxyAddress(std::string_view proxy) {
  const auto colon = proxy.find(':');
  return colon == std::string_view::npos ? proxy : proxy.substr(colon + 1);
}

// Whether a mailbox answers an unresolved entry as Exchange's ambiguous name resolution does for
// directory entries: "smtp:" + a prefix of any proxy address; an address equal to the primary
// SMTP address; a prefix of the display name or of one of its words; a prefix of the alias.
bool Resolves(const Mailbox& m, std::string_view entry) {
  if (StartsWithNoCase(entry, "smtp:")) {
    const std::string_view address = entry.substr(5);
    return std::any_of(
        m.proxy_addresses.begin(), m.proxy_addresses.end(),
        [&](const std::string& p) { return StartsWithNoCase(ProxyAddress(p), address); });
  }
  if (entry.find('@') != std::string_view::npos) {
    return EqualsNoCase(m.primary_smtp_address, entry);
  }
  if (StartsWithNoCase(m.alias, entry)) return true;
  const std::string& name = m.display_name;
  for (std::size_t pos = 0; pos < name.size(); ++pos) {
    if ((pos == 0 || name[pos - 1] == ' ') &&
        StartsWithNoCase(std::string_view(name).substr(pos), entry)) {
      return true;
    }
  }
  return false;
}

// One t:Resolution: the mailbox, and with ReturnFullContactData the directory contact (display
// name, up to three proxy addresses as EmailAddress1..3, ContactSource ActiveDirectory).
std::string ResolutionXml(const Mailbox& m, bool full_contact) {
  std::string x = "<t:Resolution><t:Mailbox><t:Name>" + Esc(m.display_name) +
                  "</t:Name><t:EmailAddress>" + Esc(m.primary_smtp_address) +
                  "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox"
                  "</t:MailboxType></t:Mailbox>";
  if (full_contact) {
    x += "<t:Contact><t:DisplayName>" + Esc(m.display_name) + "</t:DisplayName><t:EmailAddresses>";
    for (std::size_t k = 0; k < m.proxy_addresses.size() && k < 3; ++k) {
      x += "<t:Entry Key=\"EmailAddress" + std::to_string(k + 1) + "\">" +
           Esc(m.proxy_addresses[k]) + "</t:Entry>";
    }
    x += "</t:EmailAddresses><t:ContactSource>ActiveDirectory</t:ContactSource></t:Contact>";
  }
  return x + "</t:Resolution>";
}

}  // namespace

// exchangelib's version probe: it needs only the ServerVersionInfo header, so every id answers
// ErrorInvalidIdMalformed (the mock converts no ids).
namespace {

// The store's ids are base64 of their bytes; the other formats are the same bytes as Exchange
// writes them: EntryId and StoreId base64, HexEntryId upper-case hex, OwaId URL-safe base64. So
// every conversion round-trips. Ids the store did not issue (exchangelib's "DUMMY" version probe)
// are ErrorInvalidIdMalformed, which is all that probe needs.
std::optional<std::string> IdBytes(std::string_view id, std::string_view format) {
  if (format == "HexEntryId") {
    if (id.size() % 2 != 0) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < id.size(); i += 2) {
      const std::string pair(id.substr(i, 2));
      if (!std::isxdigit(static_cast<unsigned char>(pair[0])) ||
          !std::isxdigit(static_cast<unsigned char>(pair[1]))) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(std::stoi(pair, nullptr, 16)));
    }
    return out;
  }
  return Base64Decode(id);
}

std::string FormatId(std::string_view bytes, std::string_view format) {
  if (format == "HexEntryId") {
    std::string hex = HexEncode(bytes);
    std::transform(hex.begin(), hex.end(), hex.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return hex;
  }
  if (format == "OwaId") return Base64UrlEncode(bytes);
  return Base64Encode(bytes);
}

}  // namespace

SoapReply ConvertIdOp(const Request& r, pugi::xml_node op) {
  static constexpr std::array<std::string_view, 6> kFormats = {"EwsLegacyId", "EwsId",   "EntryId",
                                                               "HexEntryId",  "StoreId", "OwaId"};
  auto known = [](std::string_view f) {
    return std::find(kFormats.begin(), kFormats.end(), f) != kFormats.end();
  };
  const std::string destination = op.attribute("DestinationFormat").as_string();
  if (!known(destination)) {
    return SchemaFault("The 'DestinationFormat' attribute is invalid - The value '" + destination +
                       "' is invalid according to its datatype "
                       "'http://schemas.microsoft.com/exchange/services/2006/types:IdFormatType' "
                       "- The Enumeration constraint failed.");
  }
  const Error malformed = ProtocolError(codes::kInvalidIdMalformed, "Id is malformed.");
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "SourceIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    const std::string format = id.attribute("Format").as_string();
    if (!known(format)) {
      return SchemaFault("The 'Format' attribute is invalid - The value '" + format +
                         "' is invalid according to its datatype "
                         "'http://schemas.microsoft.com/exchange/services/2006/types:IdFormatType'"
                         " - The Enumeration constraint failed.");
    }
    const auto bytes = IdBytes(id.attribute("Id").as_string(), format);
    const std::string ews_id = bytes ? Base64Encode(*bytes) : std::string();
    if (!bytes || bytes->empty() || !CheckIdTenant(r, ews_id)) {
      messages += ErrorMessage("ConvertId", malformed, "");
      continue;
    }
    messages += SuccessMessage(
        "ConvertId", "<m:AlternateId xsi:type=\"t:AlternateIdType\" Format=\"" + destination +
                         "\" Id=\"" + Esc(FormatId(*bytes, destination)) + "\" Mailbox=\"" +
                         Esc(id.attribute("Mailbox").as_string()) + "\"/>");
  }
  return Response("ConvertId", messages);
}

// Resolves against the caller's tenant directory (its mailboxes); the mock keeps no personal
// contacts, so a Contacts-only search finds nothing.
SoapReply ResolveNamesOp(const Request& r, pugi::xml_node op) {
  const std::string entry = Text(Child(op, "UnresolvedEntry"));
  if (entry.empty()) {
    return SchemaFault(
        "The element 'UnresolvedEntry' is invalid - The value '' is invalid according to its "
        "datatype 'http://schemas.microsoft.com/exchange/services/2006/types:NonEmptyStringType' "
        "- The actual length is less than the MinLength value.");
  }
  auto full_contact = ParseBool(op.attribute("ReturnFullContactData").as_string());
  if (!full_contact) {
    return SchemaFault("The required attribute 'ReturnFullContactData' is missing or invalid.");
  }
  const std::string scope = op.attribute("SearchScope").as_string("ActiveDirectoryContacts");
  if (scope != "ActiveDirectory" && scope != "ActiveDirectoryContacts" && scope != "Contacts" &&
      scope != "ContactsActiveDirectory") {
    return SchemaFault("The 'SearchScope' attribute is invalid - The value '" + scope +
                       "' is invalid according to its datatype "
                       "'http://schemas.microsoft.com/exchange/services/2006/types:"
                       "ResolveNamesSearchScopeType' - The Enumeration constraint failed.");
  }
  std::vector<Mailbox> found;
  if (scope != "Contacts") {
    for (Mailbox& m : r.store.ListMailboxes(r.caller.tenant_id)) {
      if (Resolves(m, entry)) found.push_back(std::move(m));
    }
  }
  // Directory results come sorted by display name.
  std::stable_sort(found.begin(), found.end(), [](const Mailbox& a, const Mailbox& b) {
    return std::lexicographical_compare(a.display_name.begin(), a.display_name.end(),
                                        b.display_name.begin(), b.display_name.end(),
                                        [](char x, char y) {
                                          return std::tolower(static_cast<unsigned char>(x)) <
                                                 std::tolower(static_cast<unsigned char>(y));
                                        });
  });
  if (found.empty()) {
    return Response(
        "ResolveNames",
        ErrorMessage("ResolveNames",
                     ProtocolError("ErrorNameResolutionNoResults", "No results were found."), ""));
  }
  const std::size_t shown = std::min(found.size(), kMaxResolutions);
  std::string set = "<m:ResolutionSet TotalItemsInView=\"" + std::to_string(shown) +
                    "\" IncludesLastItemInRange=\"true\">";
  for (std::size_t k = 0; k < shown; ++k) set += ResolutionXml(found[k], *full_contact);
  set += "</m:ResolutionSet>";
  if (found.size() == 1) return Response("ResolveNames", SuccessMessage("ResolveNames", set));
  // An ambiguous name is a Warning that still carries every candidate.
  return Response("ResolveNames",
                  "<m:ResolveNamesResponseMessage ResponseClass=\"Warning\"><m:MessageText>"
                  "Multiple results were found.</m:MessageText><m:ResponseCode>"
                  "ErrorNameResolutionMultipleResults</m:ResponseCode><m:DescriptiveLinkKey>0"
                  "</m:DescriptiveLinkKey>" +
                      set + "</m:ResolveNamesResponseMessage>");
}

}  // namespace exo::mock_ews
