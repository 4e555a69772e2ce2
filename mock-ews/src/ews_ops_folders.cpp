// GetFolder, FindFolder, CreateFolder.
#include <pugixml.hpp>

#include "internal/ews_ops.hpp"

namespace exo::mock_ews {

SoapReply GetFolderOp(const Request& r, pugi::xml_node op) {
  auto shape = ParseShape(Child(op, "FolderShape"));
  if (!shape) return SchemaFault(shape.error().message);
  std::string messages;
  for (pugi::xml_node id = FirstElement(Child(op, "FolderIds")); id; id = id.next_sibling()) {
    if (id.type() != pugi::node_element) continue;
    auto folder = ResolveFolder(r, id);
    if (!folder && folder.error().code == "ErrorSchemaValidation") {
      return SchemaFault(folder.error().message);
    }
    messages += folder ? SuccessMessage("GetFolder",
                                        "<m:Folders>" + FolderXml(*folder, *shape) + "</m:Folders>")
                       : ErrorMessage("GetFolder", folder.error(), "<m:Folders/>");
  }
  return Response("GetFolder", messages);
}

SoapReply FindFolderOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

SoapReply CreateFolderOp(const Request&, pugi::xml_node) { return InvalidRequestFault(); }

}  // namespace exo::mock_ews
