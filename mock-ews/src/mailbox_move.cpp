// A hybrid move copies what clients see: folders by name under the same parents, messages with
// their bytes and flags. Ids are the target server's own, as after a real move; the mailbox GUID
// (ExchangeGuid) and addresses travel with the mailbox.
#include "internal/mailbox_move.hpp"

#include <map>

#include "exo/common/text.hpp"

namespace exo::mock_ews {

namespace {

Result<void> CopyInto(const MailboxStore& from, const Mailbox& mailbox, MailboxStore& to) {
  const std::string& smtp = mailbox.primary_smtp_address;
  auto root = from.GetDistinguishedFolder(smtp, DistinguishedFolder::kRoot);
  if (!root) return std::unexpected(root.error());
  auto folders = from.ListChildFolders(root->id, /*deep=*/true);
  if (!folders) return std::unexpected(folders.error());
  auto target_root = to.GetDistinguishedFolder(smtp, DistinguishedFolder::kRoot);
  if (!target_root) return std::unexpected(target_root.error());

  std::map<std::string, std::string> ids = {{root->id, target_root->id}};
  // Parents first: repeat until every folder found its parent (the listing's order is not
  // promised to be a pre-order).
  std::vector<Folder> pending = *folders;
  while (!pending.empty()) {
    std::vector<Folder> later;
    for (const Folder& f : pending) {
      if (f.distinguished) {
        auto same = to.GetDistinguishedFolder(smtp, *f.distinguished);
        if (!same) return std::unexpected(same.error());
        ids[f.id] = same->id;
        continue;
      }
      auto parent = ids.find(f.parent_id);
      if (parent == ids.end()) {
        later.push_back(f);
        continue;
      }
      auto made = to.CreateFolder(parent->second, f.display_name, f.folder_class);
      if (!made) return std::unexpected(made.error());
      ids[f.id] = made->id;
    }
    if (later.size() == pending.size()) {
      return Fail(ErrorCategory::kInternal, "MoveFolderTree",
                  "folders of " + smtp + " whose parents are missing");
    }
    pending = std::move(later);
  }

  for (const auto& [source_id, target_id] : ids) {
    ItemView view;
    view.sort = SortOrder::kReceivedAscending;
    auto page = from.FindItems(source_id, view);
    if (!page) return std::unexpected(page.error());
    for (const Item& item : page->items) {
      NewItemOptions o;
      o.is_read = item.is_read;
      o.is_draft = item.is_draft;
      o.categories = item.categories;
      o.importance = item.importance;
      if (auto copied = to.CreateItem(target_id, *item.mime, o); !copied) {
        return std::unexpected(copied.error());
      }
    }
  }
  return {};
}

}  // namespace

Result<void> MoveMailboxContents(const MailboxStore& from, const Mailbox& mailbox,
                                 MailboxStore& to) {
  bool has_org = false;
  for (const auto& org : to.ListOrganizations())
    has_org = has_org || org.id == mailbox.organization_id;
  if (!has_org) {
    std::string name = mailbox.organization_id;
    for (const auto& org : from.ListOrganizations()) {
      if (org.id == mailbox.organization_id) name = org.name;
    }
    if (auto made = to.CreateOrganization(mailbox.organization_id, name); !made) {
      return std::unexpected(made.error());
    }
  }
  MailboxSpec spec;
  spec.organization_id = mailbox.organization_id;
  spec.primary_smtp_address = mailbox.primary_smtp_address;
  spec.user_principal_name = mailbox.user_principal_name;
  spec.display_name = mailbox.display_name;
  spec.kind = mailbox.kind;
  spec.object_guid = mailbox.object_guid;
  spec.directory_object_id = mailbox.directory_object_id;
  for (const auto& proxy : mailbox.proxy_addresses) {
    // "SMTP:" marks the primary; the others ("smtp:") move as secondary addresses.
    if (proxy.starts_with("smtp:")) spec.secondary_smtp_addresses.push_back(proxy.substr(5));
  }
  if (auto made = to.CreateMailbox(spec); !made) return std::unexpected(made.error());
  if (auto copied = CopyInto(from, mailbox, to); !copied) {
    (void)to.RemoveMailbox(mailbox.primary_smtp_address);
    return copied;
  }
  return {};
}

}  // namespace exo::mock_ews
