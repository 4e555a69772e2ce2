// FindItem, GetItem, UpdateItem, MoveItem, CopyItem, DeleteItem.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <variant>
#include <vector>

#include "exo/common/time_format.hpp"
#include "internal/ews_ops.hpp"
#include "internal/ews_paging.hpp"

namespace exo::mock_ews {

namespace {

using Predicate = std::function<bool(const Item&)>;

constexpr const char* kSchemaValidation = "ErrorSchemaValidation";

Error UnsupportedFilter() {
  return ProtocolError("ErrorUnsupportedQueryFilter",
                       "The restriction or sort order is too complex for this operation.");
}

Error SchemaError(std::string violation) {
  return ProtocolError(kSchemaValidation, std::move(violation));
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// ---- Properties a restriction or sort order can name ----

// One property value in comparable form: text is compared case-insensitively (lower-cased
// here), as Exchange compares strings in restrictions and sorts; Importance compares as
// Low < Normal < High.
using Value = std::variant<bool, SystemTime, std::int64_t, std::string>;

enum class ValueType { kBool, kTime, kNumber, kText, kImportance };

struct Property {
  const char* uri;
  ValueType type;
  // Empty when the item does not have the property: a restriction on it is then false, as a
  // MAPI property restriction on a missing property is, and it sorts first.
  std::optional<Value> (*get)(const Item&);
};

std::optional<Value> AddressText(const std::optional<MailAddress>& a) {
  if (!a) return std::nullopt;
  return Lower(a->name.empty() ? a->address : a->name);
}

const Property kProperties[] = {
    {"message:IsRead", ValueType::kBool,
     [](const Item& i) -> std::optional<Value> { return i.is_read; }},
    {"item:HasAttachments", ValueType::kBool,
     [](const Item& i) -> std::optional<Value> { return i.fields.has_attachments; }},
    {"item:DateTimeReceived", ValueType::kTime,
     [](const Item& i) -> std::optional<Value> { return i.date_time_received; }},
    {"item:DateTimeCreated", ValueType::kTime,
     [](const Item& i) -> std::optional<Value> { return i.date_time_created; }},
    {"item:DateTimeSent", ValueType::kTime,
     [](const Item& i) -> std::optional<Value> {
       if (!i.fields.date) return std::nullopt;
       return *i.fields.date;
     }},
    {"item:Size", ValueType::kNumber,
     [](const Item& i) -> std::optional<Value> { return static_cast<std::int64_t>(i.size); }},
    {"item:Importance", ValueType::kImportance,
     [](const Item& i) -> std::optional<Value> { return static_cast<std::int64_t>(i.importance); }},
    {"item:Subject", ValueType::kText,
     [](const Item& i) -> std::optional<Value> {
       if (i.fields.subject.empty()) return std::nullopt;
       return Lower(i.fields.subject);
     }},
    // From and Sender sort by display name (the address when there is none), as Outlook's
    // "From" column does.
    {"message:From", ValueType::kText, [](const Item& i) { return AddressText(i.fields.from); }},
    {"message:Sender", ValueType::kText,
     [](const Item& i) { return AddressText(i.fields.sender ? i.fields.sender : i.fields.from); }},
};

const Property* FindProperty(std::string_view uri) {
  for (const Property& p : kProperties) {
    if (uri == p.uri) return &p;
  }
  return nullptr;
}

// The FieldURI a search expression or FieldOrder names; empty for IndexedFieldURI,
// ExtendedFieldURI or more than one property (none of which the mock evaluates).
std::string FieldUri(pugi::xml_node expr) {
  std::string uri;
  int properties = 0;
  for (pugi::xml_node c = FirstElement(expr); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    const std::string_view name = Local(c.name());
    if (name == "FieldURI") {
      uri = c.attribute("FieldURI").as_string();
      ++properties;
    } else if (name == "IndexedFieldURI" || name == "ExtendedFieldURI") {
      return {};
    }
  }
  return properties == 1 ? uri : std::string();
}

// xs:dateTime in any offset; a time without one is read as UTC (the only TimeZoneContext the
// mock's clients send for restrictions).
std::optional<SystemTime> ParseDateTime(const std::string& text) {
  if (auto t = ParseIso8601(text)) return t;
  return ParseIso8601(text + "Z");
}

Result<Value> ParseConstant(ValueType type, const std::string& text) {
  auto invalid = [&]() -> Result<Value> {
    return Fail(ErrorCategory::kProtocol, "ErrorInvalidValueForProperty",
                "The value '" + text + "' is invalid for the property in the restriction.");
  };
  switch (type) {
    case ValueType::kBool: {
      auto b = ParseBool(text);
      if (!b) return invalid();
      return Value(*b);
    }
    case ValueType::kTime: {
      auto t = ParseDateTime(text);
      if (!t) return invalid();
      return Value(*t);
    }
    case ValueType::kNumber: {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size()) return invalid();
      return Value(n);
    }
    case ValueType::kImportance:
      if (text == "Low") return Value(static_cast<std::int64_t>(Importance::kLow));
      if (text == "Normal") return Value(static_cast<std::int64_t>(Importance::kNormal));
      if (text == "High") return Value(static_cast<std::int64_t>(Importance::kHigh));
      return invalid();
    case ValueType::kText:
      return Value(Lower(text));
  }
  return invalid();
}

Result<Predicate> ParseExpression(pugi::xml_node expr);

// The strings of an item a Contains (or an equality on From/Sender) matches: the subject, or
// the display name and the address of the From (Sender: Sender, else From) mailbox.
std::vector<std::string> ContainsTargets(std::string_view uri, const Item& item) {
  const MessageFields& f = item.fields;
  if (uri == "item:Subject") return {f.subject};
  const std::optional<MailAddress>& a =
      uri == "message:From" ? f.from : (f.sender ? f.sender : f.from);
  if (!a) return {};
  return {a->name, a->address};
}

Result<Predicate> ParseComparison(pugi::xml_node expr, std::string_view kind) {
  const Property* property = FindProperty(FieldUri(expr));
  pugi::xml_node constant = Child(Child(expr, "FieldURIOrConstant"), "Constant");
  if (!property || !constant) return std::unexpected(UnsupportedFilter());
  auto value = ParseConstant(property->type, constant.attribute("Value").as_string());
  if (!value) return std::unexpected(value.error());
  const std::string_view uri = property->uri;
  if ((uri == "message:From" || uri == "message:Sender") &&
      (kind == "IsEqualTo" || kind == "IsNotEqualTo")) {
    // A mailbox equals a constant that is its address or its name (exchangelib filters
    // sender= by address).
    return Predicate(
        [uri, want = std::get<std::string>(*value), equal = kind == "IsEqualTo"](const Item& item) {
          const std::vector<std::string> targets = ContainsTargets(uri, item);
          if (targets.empty())
            return false;  // no such mailbox: false either way, as for any property
          for (const std::string& s : targets) {
            if (!s.empty() && Lower(s) == want) return equal;
          }
          return !equal;
        });
  }
  std::function<bool(std::partial_ordering)> test;
  if (kind == "IsEqualTo") {
    test = [](std::partial_ordering o) { return o == 0; };
  } else if (kind == "IsNotEqualTo") {
    test = [](std::partial_ordering o) { return o != 0; };
  } else if (kind == "IsGreaterThan") {
    test = [](std::partial_ordering o) { return o > 0; };
  } else if (kind == "IsGreaterThanOrEqualTo") {
    test = [](std::partial_ordering o) { return o >= 0; };
  } else if (kind == "IsLessThan") {
    test = [](std::partial_ordering o) { return o < 0; };
  } else {
    test = [](std::partial_ordering o) { return o <= 0; };
  }
  return Predicate([get = property->get, want = *value, test](const Item& item) {
    const std::optional<Value> have = get(item);
    return have && test(*have <=> want);
  });
}

bool WordStart(const std::string& s, std::size_t pos) {
  return pos == 0 || !std::isalnum(static_cast<unsigned char>(s[pos - 1]));
}

bool WordEnd(const std::string& s, std::size_t pos) {
  return pos >= s.size() || !std::isalnum(static_cast<unsigned char>(s[pos]));
}

bool ContainsMatch(std::string_view mode, const std::string& value, const std::string& c) {
  if (mode == "FullString") return value == c;
  if (mode == "Prefixed") return value.starts_with(c);
  if (mode == "Substring") return value.find(c) != std::string::npos;
  for (std::size_t pos = value.find(c); pos != std::string::npos; pos = value.find(c, pos + 1)) {
    if (!WordStart(value, pos)) continue;
    if (mode == "PrefixOnWords" || WordEnd(value, pos + c.size())) return true;  // ExactPhrase
  }
  return false;
}

Result<Predicate> ParseContains(pugi::xml_node expr) {
  const std::string uri = FieldUri(expr);
  pugi::xml_node constant = Child(expr, "Constant");
  if ((uri != "item:Subject" && uri != "message:From" && uri != "message:Sender") || !constant) {
    return std::unexpected(UnsupportedFilter());
  }
  // Absent attributes: a whole-string, case-sensitive match (Exchange's defaults).
  const std::string mode = expr.attribute("ContainmentMode").as_string("FullString");
  const std::string comparison = expr.attribute("ContainmentComparison").as_string("Exact");
  static constexpr std::string_view kModes[] = {"FullString", "Prefixed", "Substring",
                                                "PrefixOnWords", "ExactPhrase"};
  static constexpr std::string_view kComparisons[] = {"Exact",
                                                      "IgnoreCase",
                                                      "IgnoreNonSpacingCharacters",
                                                      "Loose",
                                                      "IgnoreCaseAndNonSpacingCharacters",
                                                      "LooseAndIgnoreCase",
                                                      "LooseAndIgnoreNonSpace",
                                                      "LooseAndIgnoreCaseAndIgnoreNonSpace"};
  if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes)) {
    return std::unexpected(SchemaError("The 'ContainmentMode' attribute is invalid - The value '" +
                                       mode + "' is invalid according to its datatype."));
  }
  if (std::find(std::begin(kComparisons), std::end(kComparisons), comparison) ==
      std::end(kComparisons)) {
    return std::unexpected(
        SchemaError("The 'ContainmentComparison' attribute is invalid - The value '" + comparison +
                    "' is invalid according to its datatype."));
  }
  // Non-spacing characters (combining marks) are not folded: every "IgnoreCase" variant folds
  // ASCII case, the others compare exactly.
  const bool fold = comparison.find("IgnoreCase") != std::string::npos;
  std::string c = constant.attribute("Value").as_string();
  if (fold) c = Lower(c);
  return Predicate([uri, mode, fold, c](const Item& item) {
    for (std::string value : ContainsTargets(uri, item)) {
      if (value.empty()) continue;
      if (fold) value = Lower(std::move(value));
      if (ContainsMatch(mode, value, c)) return true;
    }
    return false;
  });
}

Result<Predicate> ParseExists(pugi::xml_node expr) {
  const std::string uri = FieldUri(expr);
  if (uri == "item:Categories") {
    return Predicate([](const Item& i) { return !i.categories.empty(); });
  }
  if (uri == "message:ToRecipients" || uri == "message:CcRecipients") {
    const bool to = uri == "message:ToRecipients";
    return Predicate([to](const Item& i) { return !(to ? i.fields.to : i.fields.cc).empty(); });
  }
  const Property* property = FindProperty(uri);
  if (!property) return std::unexpected(UnsupportedFilter());
  return Predicate([get = property->get](const Item& i) { return get(i).has_value(); });
}

Result<Predicate> ParseExpression(pugi::xml_node expr) {
  const std::string_view kind = Local(expr.name());
  if (kind == "And" || kind == "Or") {
    std::vector<Predicate> parts;
    for (pugi::xml_node c = FirstElement(expr); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      auto p = ParseExpression(c);
      if (!p) return p;
      parts.push_back(std::move(*p));
    }
    if (parts.empty()) return std::unexpected(UnsupportedFilter());
    const bool all = kind == "And";
    return Predicate([all, parts = std::move(parts)](const Item& item) {
      for (const auto& p : parts) {
        if (p(item) != all) return !all;
      }
      return all;
    });
  }
  if (kind == "Not") {
    auto inner = ParseExpression(FirstElement(expr));
    if (!inner) return inner;
    return Predicate([p = std::move(*inner)](const Item& item) { return !p(item); });
  }
  if (kind == "IsEqualTo" || kind == "IsNotEqualTo" || kind == "IsGreaterThan" ||
      kind == "IsGreaterThanOrEqualTo" || kind == "IsLessThan" || kind == "IsLessThanOrEqualTo") {
    return ParseComparison(expr, kind);
  }
  if (kind == "Contains") return ParseContains(expr);
  if (kind == "Exists") return ParseExists(expr);
  return std::unexpected(UnsupportedFilter());  // Excludes, Near, SeekTo... and empty Not
}

// The Restriction's expressions, all of which must hold; no Restriction: every item.
Result<Predicate> ParseRestriction(pugi::xml_node restriction) {
  if (!restriction) return Predicate();
  std::vector<Predicate> parts;
  for (pugi::xml_node c = FirstElement(restriction); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    auto p = ParseExpression(c);
    if (!p) return p;
    parts.push_back(std::move(*p));
  }
  if (parts.empty()) return std::unexpected(UnsupportedFilter());
  if (parts.size() == 1) return parts.front();
  return Predicate([parts = std::move(parts)](const Item& item) {
    return std::all_of(parts.begin(), parts.end(), [&](const Predicate& p) { return p(item); });
  });
}

// ---- Sort order ----

struct SortKey {
  const Property* property;
  bool descending;
};

Result<std::vector<SortKey>> ParseSortOrder(pugi::xml_node sort_order) {
  std::vector<SortKey> keys;
  for (pugi::xml_node order = FirstElement(sort_order); order; order = order.next_sibling()) {
    if (order.type() != pugi::node_element) continue;
    const std::string direction = order.attribute("Order").as_string();
    if (direction != "Ascending" && direction != "Descending") {
      return std::unexpected(SchemaError("The 'Order' attribute is invalid - The value '" +
                                         direction + "' is invalid according to its datatype."));
    }
    const Property* property = FindProperty(FieldUri(order));
    if (!property) return std::unexpected(UnsupportedFilter());
    keys.push_back({property, direction == "Descending"});
  }
  return keys;
}

// Whether the store can sort: no order (its default, newest first) or DateTimeReceived alone.
std::optional<SortOrder> StoreSort(const std::vector<SortKey>& keys) {
  if (keys.empty()) return SortOrder::kReceivedDescending;
  if (keys.size() == 1 && std::string_view(keys[0].property->uri) == "item:DateTimeReceived") {
    return keys[0].descending ? SortOrder::kReceivedDescending : SortOrder::kReceivedAscending;
  }
  return std::nullopt;
}

// Sorts in the facade: keys in order, ties kept in the store's newest-first order.
void SortItems(std::vector<Item>& items, const std::vector<SortKey>& keys) {
  struct Row {
    std::vector<std::optional<Value>> values;
    Item item;
  };
  std::vector<Row> rows;
  rows.reserve(items.size());
  for (Item& item : items) {
    Row row;
    for (const SortKey& k : keys) row.values.push_back(k.property->get(item));
    row.item = std::move(item);
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const std::partial_ordering o = a.values[k] <=> b.values[k];  // missing sorts first
      if (o != 0) return keys[k].descending ? o > 0 : o < 0;
    }
    return false;
  });
  items.clear();
  for (Row& row : rows) items.push_back(std::move(row.item));
}

// One page of a folder's view: the store sorts and pages when it can; otherwise the facade
// sorts the whole filtered list (O(n log n), fine at the mock's scale) and slices it.
Result<ItemPage> FindPage(const Request& r, const std::string& folder_id, const Predicate& filter,
                          const std::vector<SortKey>& keys, const PagedView& paging) {
  ItemView view;
  view.filter = filter;
  const std::optional<SortOrder> store_sort = StoreSort(keys);
  if (store_sort) {
    view.sort = *store_sort;
    if (paging.fractional || paging.from_end) {
      view.max_count = 0;  // only the count, to place the window
      auto counted = r.store.FindItems(folder_id, view);
      if (!counted) return counted;
      const PageWindow w = Window(paging, counted->total_count);
      view.offset = w.start;
      view.max_count = w.count;
    } else {
      view.offset = paging.offset;
      view.max_count = paging.max_count;
    }
    return r.store.FindItems(folder_id, view);
  }
  view.sort = SortOrder::kReceivedDescending;
  auto all = r.store.FindItems(folder_id, view);
  if (!all) return all;
  SortItems(all->items, keys);
  const std::size_t total = all->items.size();
  const PageWindow w = Window(paging, total);
  ItemPage page;
  page.total_count = total;
  const auto first = all->items.begin() + static_cast<std::ptrdiff_t>(w.start);
  page.items.assign(std::make_move_iterator(first),
                    std::make_move_iterator(first + static_cast<std::ptrdiff_t>(w.count)));
  page.next_offset = w.start + w.count;
  page.includes_last = page.next_offset >= total;
  return page;
}

// ---- UpdateItem ----

// A response message whose error carries MessageXml (ErrorInvalidPropertyRequest names the
// property, as Exchange does).
std::string ErrorMessageWithXml(std::string_view op, const Error& e, const std::string& xml,
                                const std::string& empty_payload) {
  std::string m = ErrorMessage(op, e, empty_payload);
  if (xml.empty()) return m;
  const std::string anchor = "</m:DescriptiveLinkKey>";
  m.insert(m.find(anchor) + anchor.size(), "<m:MessageXml>" + xml + "</m:MessageXml>");
  return m;
}

struct UpdateError {
  Error error;
  std::string field;  // the FieldURI to name in MessageXml; empty: none
};

UpdateError PropertyError(const char* code, const char* text, const std::string& field) {
  return {ProtocolError(code, text), field};
}

// The item element of a SetItemField/AppendToItemField (t:Message, t:Item, ...) and the one
// property element in it.
pugi::xml_node PropertyElement(pugi::xml_node change, std::string_view name) {
  for (pugi::xml_node c = FirstElement(change); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    const std::string_view local = Local(c.name());
    if (local == "FieldURI" || local == "IndexedFieldURI" || local == "ExtendedFieldURI") continue;
    return Child(c, name);
  }
  return {};
}

std::vector<std::string> Strings(pugi::xml_node array) {
  std::vector<std::string> out;
  for (pugi::xml_node s = FirstElement(array); s; s = s.next_sibling()) {
    if (s.type() == pugi::node_element && Local(s.name()) == "String") out.push_back(Text(s));
  }
  return out;
}

// The Updates of one ItemChange applied in order onto `current`: message:IsRead,
// item:Categories and item:Importance may be set; Categories appended to; Categories and
// Importance deleted (Importance back to Normal).
std::expected<ItemUpdate, UpdateError> ParseUpdates(pugi::xml_node updates, const Item& current) {
  ItemUpdate update;
  for (pugi::xml_node u = FirstElement(updates); u; u = u.next_sibling()) {
    if (u.type() != pugi::node_element) continue;
    const std::string_view kind = Local(u.name());
    const std::string field = FieldUri(u);
    const bool set = kind == "SetItemField", append = kind == "AppendToItemField";
    if (field == "message:IsRead" || field == "item:Importance") {
      if (append) {
        return std::unexpected(PropertyError("ErrorInvalidPropertyAppend",
                                             "This property does not support append.", field));
      }
      if (!set) {
        if (field == "message:IsRead") {
          return std::unexpected(PropertyError("ErrorInvalidPropertyDelete",
                                               "This property can't be deleted.", field));
        }
        update.importance = Importance::kNormal;
        continue;
      }
      const bool is_read = field == "message:IsRead";
      pugi::xml_node value = PropertyElement(u, is_read ? "IsRead" : "Importance");
      if (!value) {
        return std::unexpected(
            PropertyError("ErrorIncorrectUpdatePropertyCount",
                          "An object within a change description must contain one and only one "
                          "property to modify.",
                          {}));
      }
      const std::string text = Text(value);
      if (is_read) {
        auto b = ParseBool(text);
        if (!b) {
          return std::unexpected(UpdateError{
              SchemaError("The 'IsRead' element is invalid - The value '" + text +
                          "' is invalid according to its datatype 'http://www.w3.org/2001/"
                          "XMLSchema:boolean' - The string '" +
                          text + "' is not a valid Boolean value."),
              {}});
        }
        update.is_read = *b;
      } else if (text == "Low" || text == "Normal" || text == "High") {
        update.importance = text == "Low"    ? Importance::kLow
                            : text == "High" ? Importance::kHigh
                                             : Importance::kNormal;
      } else {
        return std::unexpected(
            UpdateError{SchemaError("The 'Importance' element is invalid - The value '" + text +
                                    "' is invalid according to its datatype "
                                    "'http://schemas.microsoft.com/exchange/services/2006/types:"
                                    "ImportanceChoicesType' - The Enumeration constraint failed."),
                        {}});
      }
      continue;
    }
    if (field == "item:Categories") {
      std::vector<std::string> categories =
          update.categories ? *update.categories : current.categories;
      if (set || append) {
        pugi::xml_node value = PropertyElement(u, "Categories");
        if (!value) {
          return std::unexpected(
              PropertyError("ErrorIncorrectUpdatePropertyCount",
                            "An object within a change description must contain one and only one "
                            "property to modify.",
                            {}));
        }
        if (set) categories.clear();
        for (std::string& c : Strings(value)) categories.push_back(std::move(c));
      } else {
        categories.clear();
      }
      update.categories = std::move(categories);
      continue;
    }
    return std::unexpected(PropertyError("ErrorInvalidPropertyRequest",
                                         "Property is not valid for this object type.", field));
  }
  return update;
}

// MoveItem and CopyItem: one message per id, the new item's id unless ReturnNewItemIds is false.
SoapReply MoveOrCopy(const Request& r, pugi::xml_node op, std::string_view name, bool copy) {
  auto target = ResolveFolder(r, FirstElement(Child(op, "ToFolderId")));
  if (!target && target.error().code == kSchemaValidation) {
    return SchemaFault(target.error().message);
  }
  bool return_ids = true;
  if (pugi::xml_node ret = Child(op, "ReturnNewItemIds")) {
    auto b = ParseBool(Text(ret));
    if (!b) {
      return SchemaFault("The 'ReturnNewItemIds' element is invalid - The value '" + Text(ret) +
                         "' is invalid according to its datatype "
                         "'http://www.w3.org/2001/XMLSchema:boolean'.");
    }
    return_ids = *b;
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<Item> item = [&]() -> Result<Item> {
      if (!target) {
        Error e = target.error();
        if (e.code == codes::kFolderNotFound) e.code = codes::kToFolderNotFound;
        return std::unexpected(e);
      }
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      return copy ? r.store.CopyItem(*item_id, target->id) : r.store.MoveItem(*item_id, target->id);
    }();
    if (!item) {
      messages += ErrorMessage(name, item.error(), "<m:Items/>");
    } else if (return_ids) {
      messages +=
          SuccessMessage(name, "<m:Items><t:Message>" + ItemIdXml(item->id, item->change_key) +
                                   "</t:Message></m:Items>");
    } else {
      messages += SuccessMessage(name, "<m:Items/>");
    }
  }
  return Response(name, messages);
}

}  // namespace

SoapReply FindItemOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  shape->mime = false;  // FindItem never returns MIME content or bodies
  shape->bodies = false;
  const std::string traversal = op.attribute("Traversal").as_string("Shallow");
  if (traversal != "Shallow" && traversal != "Deep" && traversal != "SoftDeleted" &&
      traversal != "Associated") {
    return SchemaFault("The 'Traversal' attribute is invalid - The value '" + traversal +
                       "' is invalid according to its datatype.");
  }
  // Restriction, sort order and view are checked once for the request: their errors answer
  // with a single message, as Exchange does before it visits any folder.
  Result<Predicate> filter = ParseRestriction(Child(op, "Restriction"));
  Result<std::vector<SortKey>> keys = ParseSortOrder(Child(op, "SortOrder"));
  Result<PagedView> paging =
      ParsePagedView(Child(op, "IndexedPageItemView"), Child(op, "FractionalPageItemView"));
  for (const Error* e : {filter ? nullptr : &filter.error(), keys ? nullptr : &keys.error(),
                         paging ? nullptr : &paging.error()}) {
    if (!e) continue;
    if (e->code == kSchemaValidation) return SchemaFault(e->message);
    return Response("FindItem", ErrorMessage("FindItem", *e, ""));
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ParentFolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, id);
    if (!folder && folder.error().code == kSchemaValidation) {
      return SchemaFault(folder.error().message);
    }
    if (!folder) {
      messages += ErrorMessage("FindItem", folder.error(), "");
      continue;
    }
    auto page = FindPage(r, folder->id, *filter, *keys, *paging);
    if (!page) {
      messages += ErrorMessage("FindItem", page.error(), "");
      continue;
    }
    std::string items;
    for (const auto& item : page->items) items += ItemXml(item, *shape);
    messages += SuccessMessage("FindItem",
                               "<m:RootFolder" +
                                   PagingAttributes(*paging, page->next_offset, page->total_count) +
                                   "><t:Items>" + items + "</t:Items></m:RootFolder>");
  }
  return Response("FindItem", messages);
}

SoapReply GetItemOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<Item> item = [&]() -> Result<Item> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      return r.store.GetItem(*item_id);
    }();
    messages += item
                    ? SuccessMessage("GetItem", "<m:Items>" + ItemXml(*item, *shape) + "</m:Items>")
                    : ErrorMessage("GetItem", item.error(), "<m:Items/>");
  }
  return Response("GetItem", messages);
}

SoapReply UpdateItemOp(const Request& r, pugi::xml_node op) {
  const std::string resolution = op.attribute("ConflictResolution").as_string();
  if (resolution != "NeverOverwrite" && resolution != "AutoResolve" &&
      resolution != "AlwaysOverwrite") {
    return SchemaFault("The 'ConflictResolution' attribute is invalid - The value '" + resolution +
                       "' is invalid according to its datatype "
                       "'http://schemas.microsoft.com/exchange/services/2006/types:"
                       "ConflictResolutionType' - The Enumeration constraint failed.");
  }
  const std::string disposition = op.attribute("MessageDisposition").as_string("SaveOnly");
  if (disposition != "SaveOnly" && disposition != "SendOnly" && disposition != "SendAndSaveCopy") {
    return SchemaFault("The 'MessageDisposition' attribute is invalid - The value '" + disposition +
                       "' is invalid according to its datatype "
                       "'http://schemas.microsoft.com/exchange/services/2006/types:"
                       "MessageDispositionType' - The Enumeration constraint failed.");
  }
  // SuppressReadReceipts is accepted and has nothing to suppress: the mock sends no receipts.
  std::string messages;
  for (pugi::xml_node change = FirstElement(Child(op, "ItemChanges")); change;
       change = change.next_sibling()) {
    if (change.type() != pugi::node_element) continue;
    pugi::xml_node id = Child(change, "ItemId");
    std::string field;  // named in MessageXml when the property is the problem
    Result<Item> item = [&]() -> Result<Item> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      auto current = r.store.GetItem(*item_id);
      if (!current) return current;
      auto update = ParseUpdates(Child(change, "Updates"), *current);
      if (!update) {
        field = update.error().field;
        return std::unexpected(update.error().error);
      }
      if (disposition != "SaveOnly") {
        // Sending is for drafts through SendItem/CreateItem; the mock's UpdateItem only saves.
        return Fail(ErrorCategory::kProtocol, "ErrorInvalidOperation",
                    "UpdateItem can only save changes (MessageDisposition SaveOnly) in this "
                    "server; send the item with SendItem.");
      }
      const std::string change_key = id.attribute("ChangeKey").as_string();
      if (resolution == "NeverOverwrite") return r.store.UpdateItem(*item_id, *update, change_key);
      // AutoResolve and AlwaysOverwrite still refuse a change key that is not one. A stale key
      // wins under both: the store keeps no per-property history, so the conflict AutoResolve
      // refuses in Exchange (the same property changed since) cannot be told apart from the
      // mergeable one.
      if (!change_key.empty()) {
        auto checked = r.store.CheckChangeKey(*item_id, change_key);
        if (!checked && checked.error().code != codes::kIrresolvableConflict) {
          return std::unexpected(checked.error());
        }
      }
      return r.store.UpdateItem(*item_id, *update);
    }();
    if (!item && item.error().code == kSchemaValidation) return SchemaFault(item.error().message);
    messages +=
        item ? SuccessMessage("UpdateItem",
                              "<m:Items><t:Message>" + ItemIdXml(item->id, item->change_key) +
                                  "</t:Message></m:Items><m:ConflictResults><t:Count>0"
                                  "</t:Count></m:ConflictResults>")
             : ErrorMessageWithXml(
                   "UpdateItem", item.error(),
                   field.empty() ? std::string() : "<t:FieldURI FieldURI=\"" + Esc(field) + "\"/>",
                   "<m:Items/>");
  }
  return Response("UpdateItem", messages);
}

SoapReply MoveItemOp(const Request& r, pugi::xml_node op) {
  return MoveOrCopy(r, op, "MoveItem", false);
}

SoapReply CopyItemOp(const Request& r, pugi::xml_node op) {
  return MoveOrCopy(r, op, "CopyItem", true);
}

SoapReply DeleteItemOp(const Request& r, pugi::xml_node op) {
  const std::string type = op.attribute("DeleteType").as_string();
  DeleteMode mode;
  if (type == "HardDelete") {
    mode = DeleteMode::kHardDelete;
  } else if (type == "SoftDelete") {
    mode = DeleteMode::kSoftDelete;
  } else if (type == "MoveToDeletedItems") {
    mode = DeleteMode::kMoveToDeletedItems;
  } else {
    return SchemaFault("The 'DeleteType' attribute is invalid - The value '" + type +
                       "' is invalid according to its datatype.");
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ItemIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    Result<void> deleted = [&]() -> Result<void> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      return r.store.DeleteItem(*item_id, mode);
    }();
    messages += deleted ? SuccessMessage("DeleteItem", "")
                        : ErrorMessage("DeleteItem", deleted.error(), "");
  }
  return Response("DeleteItem", messages);
}

}  // namespace exo::mock_ews
