// SyncFolderItems.
#include <cstdlib>
#include <pugixml.hpp>

#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

SoapReply SyncFolderItemsOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "ItemShape"));
  if (!shape) return SchemaFault(shape.error().message);
  shape->mime = false;
  shape->bodies = false;
  const std::string empty_payload =
      "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>";
  auto folder = ResolveFolder(r, FirstElement(Child(op, "SyncFolderId")));
  if (!folder && folder.error().code == "ErrorSchemaValidation") {
    return SchemaFault(folder.error().message);
  }
  if (!folder) {
    return Response("SyncFolderItems",
                    ErrorMessage("SyncFolderItems", folder.error(), empty_payload));
  }
  const std::string max_text = Text(Child(op, "MaxChangesReturned"));
  const int max_changes = max_text.empty() ? 0 : std::atoi(max_text.c_str());
  if (max_changes < 1 || max_changes > 512) {
    return SchemaFault("The element 'MaxChangesReturned' has an invalid value '" + max_text +
                       "' - The value must be between 1 and 512.");
  }
  std::vector<std::string> ignore;
  for (pugi::xml_node i = FirstElement(Child(op, "Ignore")); i; i = i.next_sibling()) {
    if (i.type() == pugi::node_element) ignore.push_back(i.attribute("Id").as_string());
  }
  auto batch =
      r.store.SyncFolderItems(folder->id, Text(Child(op, "SyncState")), max_changes, ignore);
  if (!batch) {
    return Response("SyncFolderItems",
                    ErrorMessage("SyncFolderItems", batch.error(), empty_payload));
  }
  std::string changes;
  for (const SyncChange& c : batch->changes) {
    switch (c.kind) {
      case SyncChangeKind::kCreate:
      case SyncChangeKind::kUpdate: {
        if (!c.item) break;
        const char* tag = c.kind == SyncChangeKind::kCreate ? "Create" : "Update";
        changes += std::string("<t:") + tag + ">" + ItemXml(*c.item, *shape) + "</t:" + tag + ">";
        break;
      }
      case SyncChangeKind::kReadFlagChange:
        changes += "<t:ReadFlagChange>" +
                   ItemIdXml(c.item_id, c.item ? c.item->change_key : "CQAAAA==") + "<t:IsRead>" +
                   (c.item && c.item->is_read ? "true" : "false") +
                   "</t:IsRead></t:ReadFlagChange>";
        break;
      case SyncChangeKind::kDelete:
        changes += "<t:Delete>" + ItemIdXml(c.item_id, "CQAAAA==") + "</t:Delete>";
        break;
    }
  }
  return Response(
      "SyncFolderItems",
      SuccessMessage("SyncFolderItems",
                     "<m:SyncState>" + Esc(batch->sync_state) +
                         "</m:SyncState><m:IncludesLastItemInRange>" +
                         (batch->includes_last_item_in_range ? "true" : "false") +
                         "</m:IncludesLastItemInRange><m:Changes>" + changes + "</m:Changes>"));
}

}  // namespace exo::mock_ews
