// FindItem, GetItem, UpdateItem, MoveItem, CopyItem, DeleteItem.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <pugixml.hpp>

#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

namespace {

// The one restriction a mail monitor sends: message:IsRead equal (or not) to a constant.
Result<std::function<bool(const Item&)>> ParseRestriction(pugi::xml_node restriction) {
  if (!restriction) return std::function<bool(const Item&)>();
  pugi::xml_node cmp = FirstElement(restriction);
  const std::string_view kind = cmp ? Local(cmp.name()) : std::string_view();
  const std::string field = Child(cmp, "FieldURI").attribute("FieldURI").as_string();
  const auto value =
      ParseBool(Child(Child(cmp, "FieldURIOrConstant"), "Constant").attribute("Value").as_string());
  if ((kind != "IsEqualTo" && kind != "IsNotEqualTo") || field != "message:IsRead" || !value) {
    return Fail(ErrorCategory::kProtocol, "ErrorUnsupportedQueryFilter",
                "The restriction or sort order is too complex for this operation.");
  }
  const bool want = kind == "IsEqualTo" ? *value : !*value;
  return std::function<bool(const Item&)>([want](const Item& i) { return i.is_read == want; });
}

// The updates a mail monitor makes: SetItemField message:IsRead (any xs:boolean form).
Result<ItemUpdate> ParseUpdates(pugi::xml_node updates) {
  ItemUpdate update;
  for (pugi::xml_node u = FirstElement(updates); u; u = u.next_sibling()) {
    if (u.type() != pugi::node_element) continue;
    const std::string field = Child(u, "FieldURI").attribute("FieldURI").as_string();
    if (Local(u.name()) == "SetItemField" && field == "message:IsRead") {
      pugi::xml_node item = FirstElement(u);
      while (item && Local(item.name()) == "FieldURI") item = item.next_sibling();
      if (auto v = ParseBool(Text(Child(item, "IsRead")))) {
        update.is_read = *v;
        continue;
      }
    }
    Error e;
    e.category = ErrorCategory::kProtocol;
    e.code = "ErrorInvalidPropertyRequest";
    e.message = "Property is not valid for this object type.";
    return std::unexpected(e);
  }
  return update;
}

}  // namespace

SoapReply FindItemOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  shape->mime = false;  // FindItem never returns MIME content
  const std::string traversal = op.attribute("Traversal").as_string("Shallow");
  if (traversal != "Shallow" && traversal != "Deep" && traversal != "SoftDeleted" &&
      traversal != "Associated") {
    return SchemaFault("The 'Traversal' attribute is invalid - The value '" + traversal +
                       "' is invalid according to its datatype.");
  }
  ItemView view;
  auto filter = ParseRestriction(Child(op, "Restriction"));
  if (!filter) {
    Error e = filter.error();
    return Response("FindItem", ErrorMessage("FindItem", e, ""));
  }
  view.filter = *filter;
  if (auto order = Child(Child(op, "SortOrder"), "FieldOrder")) {
    if (std::string(order.attribute("Order").as_string("Ascending")) == "Ascending") {
      view.sort = SortOrder::kReceivedAscending;
    }
  }
  bool from_end = false;
  std::size_t offset = 0, max_count = 1000;  // EWSFindCountLimit
  if (auto page = Child(op, "IndexedPageItemView")) {
    offset = page.attribute("Offset").as_ullong(0);
    if (auto max = page.attribute("MaxEntriesReturned")) {
      max_count = std::min<std::size_t>(max.as_ullong(1000), 1000);
    }
    from_end = std::string(page.attribute("BasePoint").as_string("Beginning")) == "End";
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ParentFolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, id);
    if (!folder && folder.error().code == "ErrorSchemaValidation") {
      return SchemaFault(folder.error().message);
    }
    if (!folder) {
      messages += ErrorMessage("FindItem", folder.error(), "");
      continue;
    }
    ItemView v = view;
    v.offset = offset;
    v.max_count = max_count;
    if (from_end) {
      // Offset counts back from the end: the page ends `offset` items before the last one.
      ItemView count = view;
      count.max_count = 0;
      auto total = r.store.FindItems(folder->id, count);
      const std::size_t n = total ? total->total_count : 0;
      const std::size_t end = n > offset ? n - offset : 0;
      v.offset = end > max_count ? end - max_count : 0;
      v.max_count = end - v.offset;
    }
    auto page = r.store.FindItems(folder->id, v);
    if (!page) {
      messages += ErrorMessage("FindItem", page.error(), "");
      continue;
    }
    std::string items;
    for (const auto& item : page->items) items += ItemXml(item, *shape);
    messages += SuccessMessage(
        "FindItem", "<m:RootFolder IndexedPagingOffset=\"" + std::to_string(page->next_offset) +
                        "\" TotalItemsInView=\"" + std::to_string(page->total_count) +
                        "\" IncludesLastItemInRange=\"" + (page->includes_last ? "true" : "false") +
                        "\"><t:Items>" + items + "</t:Items></m:RootFolder>");
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
  const bool check_key =
      std::string(op.attribute("ConflictResolution").as_string("AutoResolve")) == "NeverOverwrite";
  std::string messages;
  for (pugi::xml_node change = FirstElement(Child(op, "ItemChanges")); change;
       change = change.next_sibling()) {
    if (change.type() != pugi::node_element) continue;
    pugi::xml_node id = Child(change, "ItemId");
    Result<Item> item = [&]() -> Result<Item> {
      auto item_id = CheckedItemId(r, id);
      if (!item_id) return std::unexpected(item_id.error());
      auto update = ParseUpdates(Child(change, "Updates"));
      if (!update) return std::unexpected(update.error());
      return r.store.UpdateItem(*item_id, *update,
                                check_key ? id.attribute("ChangeKey").as_string() : "");
    }();
    messages +=
        item ? SuccessMessage("UpdateItem",
                              "<m:Items><t:Message>" + ItemIdXml(item->id, item->change_key) +
                                  "</t:Message></m:Items><m:ConflictResults><t:Count>0"
                                  "</t:Count></m:ConflictResults>")
             : ErrorMessage("UpdateItem", item.error(), "<m:Items/>");
  }
  return Response("UpdateItem", messages);
}

SoapReply MoveItemOp(const Request& r, pugi::xml_node op) {
  auto target = ResolveFolder(r, FirstElement(Child(op, "ToFolderId")));
  if (!target && target.error().code == "ErrorSchemaValidation") {
    return SchemaFault(target.error().message);
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
      return r.store.MoveItem(*item_id, target->id);
    }();
    messages += item ? SuccessMessage("MoveItem", "<m:Items><t:Message>" +
                                                      ItemIdXml(item->id, item->change_key) +
                                                      "</t:Message></m:Items>")
                     : ErrorMessage("MoveItem", item.error(), "<m:Items/>");
  }
  return Response("MoveItem", messages);
}

SoapReply CopyItemOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

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
