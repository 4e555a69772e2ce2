// GetFolder, FindFolder, CreateFolder.
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "internal/ews_ops.hpp"
#include "internal/ews_paging.hpp"

namespace exo::mock_ews {

namespace {

constexpr const char* kSchemaValidation = "ErrorSchemaValidation";

// The folder classes of CreateFolder's typed folder elements when FolderClass is absent; a plain
// t:Folder gets none, as in Exchange (clients then treat it as a mail folder).
std::string DefaultFolderClass(std::string_view element) {
  if (element == "CalendarFolder") return "IPF.Appointment";
  if (element == "ContactsFolder") return "IPF.Contact";
  if (element == "TasksFolder") return "IPF.Task";
  return {};
}

}  // namespace

SoapReply GetFolderOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "FolderShape"));
  if (!shape) return SchemaFault(shape.error().message);
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "FolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, id);
    if (!folder && folder.error().code == kSchemaValidation) {
      return SchemaFault(folder.error().message);
    }
    messages += folder ? SuccessMessage("GetFolder",
                                        "<m:Folders>" + FolderXml(*folder, *shape) + "</m:Folders>")
                       : ErrorMessage("GetFolder", folder.error(), "<m:Folders/>");
  }
  return Response("GetFolder", messages);
}

SoapReply FindFolderOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "FolderShape"));
  if (!shape) return SchemaFault(shape.error().message);
  const std::string traversal = op.attribute("Traversal").as_string();
  if (traversal != "Shallow" && traversal != "Deep" && traversal != "SoftDeleted") {
    return SchemaFault("The 'Traversal' attribute is invalid - The value '" + traversal +
                       "' is invalid according to its datatype "
                       "'http://schemas.microsoft.com/exchange/services/2006/types:"
                       "FolderQueryTraversalType' - The Enumeration constraint failed.");
  }
  // The view and restriction are checked once: their errors answer with a single message.
  auto view =
      ParsePagedView(Child(op, "IndexedPageFolderView"), Child(op, "FractionalPageFolderView"));
  if (!view) return Response("FindFolder", ErrorMessage("FindFolder", view.error(), ""));
  if (Child(op, "Restriction")) {
    // Folder restrictions are not evaluated; Exchange answers this code for what it cannot.
    return Response("FindFolder",
                    ErrorMessage("FindFolder",
                                 ProtocolError("ErrorUnsupportedQueryFilter",
                                               "The restriction or sort order is too complex for "
                                               "this operation."),
                                 ""));
  }
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "ParentFolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto parent = ResolveFolder(r, id);
    if (!parent && parent.error().code == kSchemaValidation) {
      return SchemaFault(parent.error().message);
    }
    Result<std::vector<Folder>> children =
        !parent ? Result<std::vector<Folder>>(std::unexpected(parent.error()))
        // The store keeps no soft-deleted folders: that traversal finds none.
        : traversal == "SoftDeleted" ? std::vector<Folder>()
                                     : r.store.ListChildFolders(parent->id, traversal == "Deep");
    if (!children) {
      messages += ErrorMessage("FindFolder", children.error(), "");
      continue;
    }
    const PageWindow w = Window(*view, children->size());
    std::string folders;
    for (std::size_t k = w.start; k < w.start + w.count; ++k) {
      folders += FolderXml((*children)[k], *shape);
    }
    messages += SuccessMessage("FindFolder",
                               "<m:RootFolder" +
                                   PagingAttributes(*view, w.start + w.count, children->size()) +
                                   "><t:Folders>" + folders + "</t:Folders></m:RootFolder>");
  }
  return Response("FindFolder", messages);
}

SoapReply CreateFolderOp(const Request& r, pugi::xml_node op) {
  auto parent = ResolveFolder(r, FirstElement(Child(op, "ParentFolderId")));
  if (!parent && parent.error().code == kSchemaValidation) {
    return SchemaFault(parent.error().message);
  }
  std::string messages;
  for (pugi::xml_node f = FirstElement(Child(op, "Folders")); f; f = f.next_sibling()) {
    if (f.type() != pugi::node_element) continue;
    const std::string element(Local(f.name()));
    if (element != "Folder" && element != "CalendarFolder" && element != "ContactsFolder" &&
        element != "TasksFolder" && element != "SearchFolder") {
      return SchemaFault("The element 'Folders' has invalid child element '" + element + "'.");
    }
    Result<Folder> created = [&]() -> Result<Folder> {
      if (!parent) return std::unexpected(parent.error());
      if (element == "SearchFolder") {
        // Search folders need a search the store cannot run.
        return Fail(ErrorCategory::kProtocol, "ErrorInvalidFolderTypeForOperation",
                    "The folder type is not supported for this operation.");
      }
      pugi::xml_node folder_class = Child(f, "FolderClass");
      return r.store.CreateFolder(parent->id, Text(Child(f, "DisplayName")),
                                  folder_class ? Text(folder_class) : DefaultFolderClass(element));
    }();
    messages +=
        created ? SuccessMessage("CreateFolder", "<m:Folders><t:" + element + "><t:FolderId Id=\"" +
                                                     Esc(created->id) + "\" ChangeKey=\"" +
                                                     Esc(created->change_key) +
                                                     "\"/></t:" + element + "></m:Folders>")
                : ErrorMessage("CreateFolder", created.error(), "<m:Folders/>");
  }
  return Response("CreateFolder", messages);
}

}  // namespace exo::mock_ews
