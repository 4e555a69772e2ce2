// The EWS operations over MailboxStore: the request context, response shapes and rendering shared
// by all of them, and one handler per operation (each in the ews_ops_*.cpp of its family).
#pragma once

#include <functional>

#include <pugixml.hpp>
#include <set>
#include <string>
#include <string_view>

#include "exo/common/clock.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "internal/ews_auth.hpp"
#include "internal/soap.hpp"

namespace exo::mock_ews {

class ThrottlingPolicy;

// What every operation may use besides the request: the store and the server's clock; and what
// the facade applies before dispatching (null: no throttling).
struct EwsContext {
  MailboxStore& store;
  Clock& clock;
  ThrottlingPolicy* throttling = nullptr;
  // Exchange Online's admin model: EWS gates, licences, access policies, RBAC (null: none, as on
  // an on-premises server).
  ExchangeAdmin* admin = nullptr;
  // True while the mailbox (primary SMTP address) is being moved to another server (hybrid).
  std::function<bool(const std::string&)> moving = {};
};

// One authenticated, impersonated request.
struct Request {
  MailboxStore& store;
  const EwsCaller& caller;
  Mailbox mailbox;  // the impersonated one
  Clock& clock;
};

// ---- Shapes (ItemShape, FolderShape) ----

enum class BaseShape { kIdOnly, kDefault, kAllProperties };

struct Shape {
  BaseShape base = BaseShape::kIdOnly;
  std::set<std::string> fields;  // AdditionalProperties FieldURIs
  bool mime = false;
  std::string body_type = "Best";  // ItemShape BodyType: Best, HTML or Text
  // Bodies come only from GetItem: FindItem and SyncFolderItems never return them.
  bool bodies = true;

  // Whether the property `uri` goes out: in the base shape (`in_default` for Default), or asked.
  bool Want(const std::string& uri, bool in_default) const {
    if (base == BaseShape::kAllProperties) return true;
    if (base == BaseShape::kDefault && in_default) return true;
    return fields.contains(uri);
  }
};

// Error (ErrorSchemaValidation) for a BaseShape outside the enumeration.
Result<Shape> ParseShape(pugi::xml_node shape_node);

// ---- Rendering, in the element order of types.xsd ----

std::string FolderXml(const Folder& f, const Shape& shape);
std::string MailboxXml(const MailAddress& a);
std::string ItemXml(const Item& item, const Shape& shape);
std::string ItemIdXml(std::string_view id, std::string_view change_key);

// ---- Resolution within the caller's tenant ----

// A body t:Mailbox/t:EmailAddress. Error: ErrorNonExistentMailbox (also for other tenants).
Result<Mailbox> ResolveInTenant(const Request& r, std::string_view address);
// Checks an id belongs to a mailbox of the caller's tenant (ids of other tenants are malformed).
Result<void> CheckIdTenant(const Request& r, std::string_view id);
// A t:DistinguishedFolderId or t:FolderId to a store folder; an ErrorSchemaValidation error means
// the request must fail as a whole (SchemaFault), other errors go into the response message.
Result<Folder> ResolveFolder(const Request& r, pugi::xml_node node);
// A t:ItemId element's id, checked to belong to the caller's tenant.
Result<std::string> CheckedItemId(const Request& r, pugi::xml_node id);

// ---- Operations: each takes the operation element (the SOAP Body's child) ----

// ews_ops_folders.cpp
SoapReply GetFolderOp(const Request& r, pugi::xml_node op);
SoapReply FindFolderOp(const Request& r, pugi::xml_node op);
SoapReply CreateFolderOp(const Request& r, pugi::xml_node op);
// ews_ops_items.cpp
SoapReply FindItemOp(const Request& r, pugi::xml_node op);
SoapReply GetItemOp(const Request& r, pugi::xml_node op);
SoapReply UpdateItemOp(const Request& r, pugi::xml_node op);
SoapReply MoveItemOp(const Request& r, pugi::xml_node op);
SoapReply CopyItemOp(const Request& r, pugi::xml_node op);
SoapReply DeleteItemOp(const Request& r, pugi::xml_node op);
// ews_ops_sync.cpp
SoapReply SyncFolderItemsOp(const Request& r, pugi::xml_node op);
// ews_ops_compose.cpp
SoapReply CreateItemOp(const Request& r, pugi::xml_node op);
SoapReply SendItemOp(const Request& r, pugi::xml_node op);
// ews_ops_notify.cpp
SoapReply SubscribeOp(const Request& r, pugi::xml_node op);
SoapReply GetEventsOp(const Request& r, pugi::xml_node op);
SoapReply GetStreamingEventsOp(const Request& r, pugi::xml_node op);
SoapReply UnsubscribeOp(const Request& r, pugi::xml_node op);
// ews_ops_misc.cpp
SoapReply ConvertIdOp(const Request& r, pugi::xml_node op);
SoapReply ResolveNamesOp(const Request& r, pugi::xml_node op);

}  // namespace exo::mock_ews
