// MailboxStore: organizations, mailboxes, folders and items. The change log's readers (sync and
// notifications) are in store_changes.cpp.
#include "exo/mock_ews/mailbox_store.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

#include "exo/common/base64.hpp"
#include "exo/common/crypto.hpp"
#include "internal/store_state.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews {

using internal::ChangeKind;
using internal::ChangeRecord;
using internal::FolderRecord;
using internal::FolderRef;
using internal::ItemRecord;
using internal::ItemRef;
using internal::MailboxRecord;
using internal::Token;
using internal::TokenKind;

namespace {

struct DistinguishedInfo {
  DistinguishedFolder which;
  const char* name;
  const char* display_name;
  const char* folder_class;
};

// Creation order is the order below; root first so every other folder has its parent.
// Root has no display name (inference: the MAPI root shows none); both roots have no class.
constexpr std::array<DistinguishedInfo, internal::kDistinguishedCount> kDistinguished = {{
    {DistinguishedFolder::kRoot, "root", "", ""},
    {DistinguishedFolder::kMsgFolderRoot, "msgfolderroot", "Top of Information Store", ""},
    {DistinguishedFolder::kInbox, "inbox", "Inbox", "IPF.Note"},
    {DistinguishedFolder::kSentItems, "sentitems", "Sent Items", "IPF.Note"},
    {DistinguishedFolder::kDeletedItems, "deleteditems", "Deleted Items", "IPF.Note"},
    {DistinguishedFolder::kDrafts, "drafts", "Drafts", "IPF.Note"},
    {DistinguishedFolder::kJunkEmail, "junkemail", "Junk Email", "IPF.Note"},
    {DistinguishedFolder::kOutbox, "outbox", "Outbox", "IPF.Note"},
}};

bool IsPlausibleAddress(std::string_view a) {
  if (a.empty() || a.size() > 320) return false;
  const std::size_t at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  return std::none_of(a.begin(), a.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"';
  });
}

std::string StripSmtpPrefix(std::string_view a) {
  if (internal::AsciiIStartsWith(a, "smtp:")) a.remove_prefix(5);
  return std::string(internal::TrimWhitespace(a));
}

std::unexpected<Error> SpecError(std::string message) {
  return Fail(ErrorCategory::kConfiguration, codes::kInvalidMailboxSpec, std::move(message),
              "fix the mailbox or organization definition");
}

std::uint32_t Little32(std::string_view bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

bool SameName(std::string_view a, std::string_view b) { return internal::AsciiIEquals(a, b); }

bool HasChildNamed(const MailboxRecord& mb, const FolderRecord& parent, std::string_view name,
                   std::uint64_t except = 0) {
  return std::any_of(parent.children.begin(), parent.children.end(), [&](std::uint64_t c) {
    return c != except && SameName(mb.folders.at(c).display_name, name);
  });
}

std::unexpected<Error> FolderExists(std::string_view name) {
  return Fail(ErrorCategory::kProtocol, codes::kFolderExists,
              "A folder with the specified name already exists. (" + std::string(name) + ")");
}

void AttachItem(FolderRecord& f, const ItemRecord& item) {
  f.items.insert(item.number);
  if (!item.is_read) ++f.unread;
}

void DetachItem(FolderRecord& f, const ItemRecord& item) {
  f.items.erase(item.number);
  if (!item.is_read && f.unread > 0) --f.unread;
}

bool IsDescendantOrSelf(const MailboxRecord& mb, std::uint64_t folder, std::uint64_t ancestor) {
  for (std::uint64_t f = folder; f != 0; f = mb.folders.at(f).parent) {
    if (f == ancestor) return true;
  }
  return false;
}

}  // namespace

// ---- names ----

const char* ToString(DistinguishedFolder folder) {
  return kDistinguished[static_cast<std::size_t>(folder)].name;
}

std::optional<DistinguishedFolder> ParseDistinguishedFolder(std::string_view name) {
  for (const auto& d : kDistinguished) {
    if (internal::AsciiIEquals(name, d.name)) return d.which;
  }
  return std::nullopt;
}

// ---- errors ----

namespace errors {
std::unexpected<Error> Malformed() {
  return Fail(ErrorCategory::kProtocol, codes::kInvalidIdMalformed, "Id is malformed.");
}
std::unexpected<Error> ItemNotFound() {
  return Fail(ErrorCategory::kNotFound, codes::kItemNotFound,
              "The specified object was not found in the store.");
}
std::unexpected<Error> FolderNotFound(const char* code) {
  return Fail(ErrorCategory::kNotFound, code,
              "The specified folder could not be found in the store.");
}
std::unexpected<Error> NonExistentMailbox(std::string_view key) {
  return Fail(ErrorCategory::kNotFound, codes::kNonExistentMailbox,
              "The SMTP address has no mailbox associated with it. (" + std::string(key) + ")",
              "create the mailbox in the harness world first");
}
std::unexpected<Error> InvalidArgument(std::string message) {
  return Fail(ErrorCategory::kProtocol, codes::kInvalidArgument, std::move(message));
}
}  // namespace errors

// ---- State ----

MailboxStore::State::State(Clock& c, Random& r, StoreOptions o)
    : clock(c), random(r), options(o), codec(r.Bytes(32)) {}

MailboxRecord* MailboxStore::State::FindMailbox(std::string_view key, MailboxKey how) {
  const std::string k = internal::AsciiLower(internal::TrimWhitespace(key));
  auto lookup = [&](const std::unordered_map<std::string, std::uint32_t>& index) -> MailboxRecord* {
    auto it = index.find(k);
    return it == index.end() ? nullptr : &mailboxes.at(it->second);
  };
  switch (how) {
    case MailboxKey::kSmtpAddress:
      return lookup(by_smtp);
    case MailboxKey::kUserPrincipalName:
      return lookup(by_upn);
    case MailboxKey::kSid:
      return lookup(by_sid);
    case MailboxKey::kObjectGuid:
      return lookup(by_guid);
    case MailboxKey::kAny:
      break;
  }
  for (const auto* index : {&by_smtp, &by_upn, &by_sid, &by_guid}) {
    if (auto* mb = lookup(*index)) return mb;
  }
  return nullptr;
}

Result<MailboxRecord*> MailboxStore::State::RequireMailbox(std::string_view key) {
  if (auto* mb = FindMailbox(key, MailboxKey::kAny)) return mb;
  return errors::NonExistentMailbox(key);
}

Result<Token> MailboxStore::State::DecodeId(std::string_view id, TokenKind want) const {
  const std::optional<Token> token = codec.Decode(id);
  if (!token) return errors::Malformed();
  if (token->kind == want) return *token;
  if (want == TokenKind::kFolder && token->kind == TokenKind::kItem) {
    return Fail(ErrorCategory::kProtocol, codes::kItemIdForFolderId,
                "An item id cannot be used as a folder id.");
  }
  if (want == TokenKind::kItem && token->kind == TokenKind::kFolder) {
    return Fail(ErrorCategory::kProtocol, codes::kFolderIdForItemId,
                "A folder id cannot be used as an item id.");
  }
  return errors::Malformed();
}

Result<FolderRef> MailboxStore::State::ResolveFolder(std::string_view folder_id,
                                                     const char* not_found_code) {
  auto token = DecodeId(folder_id, TokenKind::kFolder);
  if (!token) return std::unexpected(token.error());
  auto mb = mailboxes.find(token->mailbox);
  if (mb == mailboxes.end()) return errors::FolderNotFound(not_found_code);
  auto f = mb->second.folders.find(token->a);
  if (f == mb->second.folders.end()) return errors::FolderNotFound(not_found_code);
  return FolderRef{&mb->second, &f->second};
}

Result<ItemRef> MailboxStore::State::ResolveItem(std::string_view item_id) {
  auto token = DecodeId(item_id, TokenKind::kItem);
  if (!token) return std::unexpected(token.error());
  auto mb = mailboxes.find(token->mailbox);
  if (mb == mailboxes.end()) return errors::ItemNotFound();
  auto it = mb->second.items.find(token->a);
  if (it == mb->second.items.end()) return errors::ItemNotFound();
  return ItemRef{&mb->second, &it->second};
}

std::string MailboxStore::State::ItemId(const MailboxRecord& mb, std::uint64_t item) const {
  return codec.Encode(Token{TokenKind::kItem, mb.ordinal, item, 0});
}

std::string MailboxStore::State::FolderId(const MailboxRecord& mb, std::uint64_t folder) const {
  return codec.Encode(Token{TokenKind::kFolder, mb.ordinal, folder, 0});
}

std::string MailboxStore::State::Watermark(const MailboxRecord& mb, std::uint64_t seq) const {
  return codec.Encode(Token{TokenKind::kWatermark, mb.ordinal, seq, 0});
}

Item MailboxStore::State::MakeItem(const MailboxRecord& mb, const ItemRecord& r) const {
  Item item;
  item.id = ItemId(mb, r.number);
  item.change_key = internal::EncodeChangeKey(false, mb.guid_bytes, r.change_number);
  item.parent_folder_id = FolderId(mb, r.folder);
  item.mailbox = mb.info.primary_smtp_address;
  item.mime = r.mime;
  item.fields = *r.fields;
  item.size = r.mime->size();
  item.date_time_received = r.received;
  item.date_time_created = r.created;
  item.is_read = r.is_read;
  item.is_draft = r.is_draft;
  item.categories = r.categories;
  item.importance = r.importance;
  return item;
}

Folder MailboxStore::State::MakeFolder(const MailboxRecord& mb, const FolderRecord& f) const {
  Folder out;
  out.id = FolderId(mb, f.number);
  out.change_key = internal::EncodeChangeKey(true, mb.guid_bytes, f.change_number);
  if (f.parent != 0) out.parent_id = FolderId(mb, f.parent);
  out.mailbox = mb.info.primary_smtp_address;
  out.display_name = f.display_name;
  out.folder_class = f.folder_class;
  out.distinguished = f.distinguished;
  out.child_folder_count = f.children.size();
  out.total_count = f.items.size();
  out.unread_count = f.unread;
  return out;
}

std::uint64_t MailboxStore::State::Append(MailboxRecord& mb, ChangeRecord change) {
  mb.log.push_back(change);
  const std::uint64_t seq = mb.log.size();
  auto index = [&](std::uint64_t folder) {
    auto it = mb.folders.find(folder);
    if (it != mb.folders.end()) it->second.changes.push_back(seq);
  };
  index(change.folder);
  if (change.old_folder != 0 && change.old_folder != change.folder) index(change.old_folder);
  return seq;
}

void MailboxStore::State::Touch(MailboxRecord& mb, FolderRecord& f) {
  f.change_number = mb.next_change_number++;
}

void MailboxStore::State::RemoveMailboxLocked(std::uint32_t ordinal) {
  auto it = mailboxes.find(ordinal);
  if (it == mailboxes.end()) return;
  for (auto* index : {&by_smtp, &by_upn, &by_sid, &by_guid}) {
    std::erase_if(*index, [&](const auto& entry) { return entry.second == ordinal; });
  }
  std::erase_if(subscriptions, [&](const auto& entry) { return entry.first.first == ordinal; });
  mailboxes.erase(it);
}

// ---- MailboxStore: organizations and mailboxes ----

MailboxStore::MailboxStore(Clock& clock, Random& random, StoreOptions options)
    : state_(std::make_unique<State>(clock, random, options)) {}

MailboxStore::~MailboxStore() = default;

Result<Organization> MailboxStore::CreateOrganization(std::string_view id, std::string_view name) {
  State& s = *state_;
  return s.Mutate([&]() -> Result<Organization> {
    if (!internal::GuidBytes(id)) return SpecError("an organization id must be a GUID");
    const std::string key = internal::AsciiLower(id);
    if (s.organizations.count(key)) {
      return Fail(ErrorCategory::kConfiguration, codes::kOrganizationExists,
                  "The organization " + key + " already exists.");
    }
    Organization org{key, std::string(name)};
    s.organizations.emplace(key, org);
    return org;
  });
}

Result<void> MailboxStore::RemoveOrganization(std::string_view id) {
  State& s = *state_;
  return s.Mutate([&]() -> Result<void> {
    const std::string key = internal::AsciiLower(id);
    if (!s.organizations.count(key)) {
      return Fail(ErrorCategory::kConfiguration, codes::kOrganizationNotFound,
                  "The organization " + key + " does not exist.");
    }
    std::vector<std::uint32_t> doomed;
    for (const auto& [ordinal, mb] : s.mailboxes) {
      if (mb.info.organization_id == key) doomed.push_back(ordinal);
    }
    for (std::uint32_t ordinal : doomed) s.RemoveMailboxLocked(ordinal);
    s.organizations.erase(key);
    return {};
  });
}

std::vector<Organization> MailboxStore::ListOrganizations() const {
  std::lock_guard lock(state_->mu);
  std::vector<Organization> out;
  for (const auto& [key, org] : state_->organizations) out.push_back(org);
  return out;
}

Result<Mailbox> MailboxStore::CreateMailbox(const MailboxSpec& spec) {
  State& s = *state_;
  return s.Mutate([&]() -> Result<Mailbox> {
    const std::string org_id = internal::AsciiLower(spec.organization_id);
    if (!s.organizations.count(org_id)) {
      return Fail(ErrorCategory::kConfiguration, codes::kOrganizationNotFound,
                  "The organization " + org_id + " does not exist.",
                  "create the organization before its mailboxes");
    }
    const std::string primary = StripSmtpPrefix(spec.primary_smtp_address);
    if (!IsPlausibleAddress(primary)) return SpecError("not an SMTP address: " + primary);
    const std::string upn = spec.user_principal_name.empty()
                                ? primary
                                : std::string(internal::TrimWhitespace(spec.user_principal_name));
    if (!IsPlausibleAddress(upn)) return SpecError("not a user principal name: " + upn);

    std::vector<std::string> secondaries;
    std::set<std::string> seen = {internal::AsciiLower(primary)};
    for (const auto& raw : spec.secondary_smtp_addresses) {
      std::string a = StripSmtpPrefix(raw);
      if (!IsPlausibleAddress(a)) return SpecError("not an SMTP address: " + a);
      if (seen.insert(internal::AsciiLower(a)).second) secondaries.push_back(std::move(a));
    }
    for (const auto& a : seen) {
      if (s.by_smtp.count(a)) {
        return Fail(
            ErrorCategory::kConfiguration, codes::kProxyAddressExists,
            "The proxy address \"SMTP:" + a + "\" is already being used by another mailbox.");
      }
    }
    if (s.by_upn.count(internal::AsciiLower(upn))) {
      return Fail(ErrorCategory::kConfiguration, codes::kProxyAddressExists,
                  "The user principal name " + upn + " is already being used by another mailbox.");
    }
    std::string guid = spec.object_guid.empty() ? s.random.Uuid() : spec.object_guid;
    guid = internal::AsciiLower(guid);
    const std::optional<std::string> guid_bytes = internal::GuidBytes(guid);
    if (!guid_bytes) return SpecError("the object GUID is not a GUID: " + guid);
    if (s.by_guid.count(guid)) {
      return Fail(ErrorCategory::kConfiguration, codes::kProxyAddressExists,
                  "The object GUID " + guid + " is already being used by another mailbox.");
    }

    MailboxRecord mb;
    mb.ordinal = s.next_mailbox++;
    mb.guid_bytes = *guid_bytes;
    Mailbox& info = mb.info;
    info.organization_id = org_id;
    info.object_guid = guid;
    info.primary_smtp_address = primary;
    info.user_principal_name = upn;
    info.alias = primary.substr(0, primary.find('@'));
    info.display_name = spec.display_name.empty() ? info.alias : spec.display_name;
    info.kind = spec.kind;
    info.directory_object_id = spec.directory_object_id;
    info.proxy_addresses.push_back("SMTP:" + primary);
    for (const auto& a : secondaries) info.proxy_addresses.push_back("smtp:" + a);

    // The SID: a per-organization domain part and a RID from the GUID, bumped past collisions.
    const std::string domain = crypto::Sha256("exo-mock-ews-domain-sid:" + org_id);
    const std::string rid_hash = crypto::Sha256("exo-mock-ews-rid:" + guid);
    std::uint32_t rid = 1000 + Little32(rid_hash, 0) % 0x3FFFFFFFu;
    char sid[96];
    while (true) {
      std::snprintf(sid, sizeof sid, "S-1-5-21-%u-%u-%u-%u", Little32(domain, 0),
                    Little32(domain, 4), Little32(domain, 8), rid);
      if (!s.by_sid.count(internal::AsciiLower(sid))) break;
      ++rid;
    }
    info.sid = sid;

    for (const auto& d : kDistinguished) {
      FolderRecord f;
      f.number = mb.next_folder++;
      f.display_name = d.display_name;
      f.folder_class = d.folder_class;
      f.distinguished = d.which;
      f.change_number = mb.next_change_number++;
      if (d.which == DistinguishedFolder::kMsgFolderRoot) {
        f.parent = mb.Distinguished(DistinguishedFolder::kRoot);
      } else if (d.which != DistinguishedFolder::kRoot) {
        f.parent = mb.Distinguished(DistinguishedFolder::kMsgFolderRoot);
      }
      mb.distinguished[static_cast<std::size_t>(d.which)] = f.number;
      if (f.parent != 0) mb.folders.at(f.parent).children.insert(f.number);
      mb.folders.emplace(f.number, std::move(f));
    }

    for (const auto& a : seen) s.by_smtp.emplace(a, mb.ordinal);
    s.by_upn.emplace(internal::AsciiLower(upn), mb.ordinal);
    s.by_sid.emplace(internal::AsciiLower(info.sid), mb.ordinal);
    s.by_guid.emplace(guid, mb.ordinal);
    Mailbox snapshot = info;
    s.mailboxes.emplace(mb.ordinal, std::move(mb));
    return snapshot;
  });
}

Result<void> MailboxStore::RemoveMailbox(std::string_view mailbox) {
  State& s = *state_;
  return s.Mutate([&]() -> Result<void> {
    auto mb = s.RequireMailbox(mailbox);
    if (!mb) return std::unexpected(mb.error());
    s.RemoveMailboxLocked((*mb)->ordinal);
    return {};
  });
}

Result<Mailbox> MailboxStore::ResolveMailbox(std::string_view key, MailboxKey how) const {
  std::lock_guard lock(state_->mu);
  if (auto* mb = state_->FindMailbox(key, how)) return mb->info;
  return errors::NonExistentMailbox(key);
}

std::vector<Mailbox> MailboxStore::ListMailboxes(std::string_view organization_id) const {
  std::lock_guard lock(state_->mu);
  const std::string org = internal::AsciiLower(organization_id);
  std::vector<Mailbox> out;
  for (const auto& [ordinal, mb] : state_->mailboxes) {
    if (org.empty() || mb.info.organization_id == org) out.push_back(mb.info);
  }
  return out;
}

Result<Mailbox> MailboxStore::MailboxOfId(std::string_view item_or_folder_id) const {
  std::lock_guard lock(state_->mu);
  const std::optional<Token> token = state_->codec.Decode(item_or_folder_id);
  if (!token || (token->kind != TokenKind::kItem && token->kind != TokenKind::kFolder)) {
    return errors::Malformed();
  }
  auto it = state_->mailboxes.find(token->mailbox);
  if (it == state_->mailboxes.end()) return errors::NonExistentMailbox(item_or_folder_id);
  return it->second.info;
}

// ---- folders ----

Result<Folder> MailboxStore::GetFolder(std::string_view folder_id) const {
  std::lock_guard lock(state_->mu);
  auto ref = state_->ResolveFolder(folder_id, codes::kFolderNotFound);
  if (!ref) return std::unexpected(ref.error());
  return state_->MakeFolder(*ref->mailbox, *ref->folder);
}

Result<Folder> MailboxStore::GetDistinguishedFolder(std::string_view mailbox,
                                                    DistinguishedFolder which) const {
  std::lock_guard lock(state_->mu);
  auto mb = state_->RequireMailbox(mailbox);
  if (!mb) return std::unexpected(mb.error());
  return state_->MakeFolder(**mb, (*mb)->folders.at((*mb)->Distinguished(which)));
}

Result<std::vector<Folder>> MailboxStore::ListChildFolders(std::string_view folder_id,
                                                           bool deep) const {
  std::lock_guard lock(state_->mu);
  auto ref = state_->ResolveFolder(folder_id, codes::kFolderNotFound);
  if (!ref) return std::unexpected(ref.error());
  const MailboxRecord& mb = *ref->mailbox;
  std::vector<Folder> out;
  // Depth first, children in creation order; an explicit stack keeps deep trees off the call stack.
  std::vector<std::uint64_t> stack(ref->folder->children.rbegin(), ref->folder->children.rend());
  while (!stack.empty()) {
    const FolderRecord& f = mb.folders.at(stack.back());
    stack.pop_back();
    out.push_back(state_->MakeFolder(mb, f));
    if (deep) stack.insert(stack.end(), f.children.rbegin(), f.children.rend());
  }
  return out;
}

Result<Folder> MailboxStore::CreateFolder(std::string_view parent_folder_id,
                                          std::string_view display_name,
                                          std::string_view folder_class) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<Folder> {
    auto ref = s.ResolveFolder(parent_folder_id, codes::kFolderNotFound);
    if (!ref) return std::unexpected(ref.error());
    if (internal::TrimWhitespace(display_name).empty()) {
      return errors::InvalidArgument("A folder needs a display name.");
    }
    MailboxRecord& mb = *ref->mailbox;
    FolderRecord& parent = *ref->folder;
    if (HasChildNamed(mb, parent, display_name)) return FolderExists(display_name);
    FolderRecord f;
    f.number = mb.next_folder++;
    f.parent = parent.number;
    f.display_name = std::string(display_name);
    f.folder_class = std::string(folder_class);
    f.change_number = mb.next_change_number++;
    parent.children.insert(f.number);
    s.Touch(mb, parent);
    const std::uint64_t number = f.number;
    mb.folders.emplace(number, std::move(f));
    s.Append(mb, {ChangeKind::kFolderCreated, parent.number, 0, number, 0, now});
    return s.MakeFolder(mb, mb.folders.at(number));
  });
}

Result<Folder> MailboxStore::RenameFolder(std::string_view folder_id,
                                          std::string_view display_name) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<Folder> {
    auto ref = s.ResolveFolder(folder_id, codes::kFolderNotFound);
    if (!ref) return std::unexpected(ref.error());
    MailboxRecord& mb = *ref->mailbox;
    FolderRecord& f = *ref->folder;
    if (f.distinguished)
      return errors::InvalidArgument("A distinguished folder cannot be renamed.");
    if (internal::TrimWhitespace(display_name).empty()) {
      return errors::InvalidArgument("A folder needs a display name.");
    }
    if (HasChildNamed(mb, mb.folders.at(f.parent), display_name, f.number)) {
      return FolderExists(display_name);
    }
    if (f.display_name == display_name) return s.MakeFolder(mb, f);
    f.display_name = std::string(display_name);
    s.Touch(mb, f);
    s.Append(mb, {ChangeKind::kFolderRenamed, f.parent, 0, f.number, 0, now});
    return s.MakeFolder(mb, f);
  });
}

Result<Folder> MailboxStore::MoveFolder(std::string_view folder_id, std::string_view to_folder_id) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<Folder> {
    auto ref = s.ResolveFolder(folder_id, codes::kFolderNotFound);
    if (!ref) return std::unexpected(ref.error());
    auto to = s.ResolveFolder(to_folder_id, codes::kToFolderNotFound);
    if (!to) return std::unexpected(to.error());
    MailboxRecord& mb = *ref->mailbox;
    FolderRecord& f = *ref->folder;
    if (f.distinguished) {
      return Fail(ErrorCategory::kProtocol, codes::kMoveDistinguishedFolder,
                  "Cannot move distinguished folder.");
    }
    if (to->mailbox != &mb) {
      return Fail(ErrorCategory::kProtocol, codes::kCrossMailboxMoveCopy,
                  "Cannot move or copy a folder between mailboxes.");
    }
    FolderRecord& target = *to->folder;
    if (IsDescendantOrSelf(mb, target.number, f.number)) {
      return Fail(ErrorCategory::kProtocol, codes::kMoveCopyFailed,
                  "A folder cannot be moved into itself or one of its subfolders.");
    }
    if (target.number == f.parent) return s.MakeFolder(mb, f);
    if (HasChildNamed(mb, target, f.display_name)) return FolderExists(f.display_name);
    FolderRecord& old_parent = mb.folders.at(f.parent);
    old_parent.children.erase(f.number);
    target.children.insert(f.number);
    const std::uint64_t old_parent_number = f.parent;
    f.parent = target.number;
    s.Touch(mb, old_parent);
    s.Touch(mb, target);
    s.Touch(mb, f);
    s.Append(mb, {ChangeKind::kFolderMoved, target.number, old_parent_number, f.number, 0, now});
    return s.MakeFolder(mb, f);
  });
}

Result<void> MailboxStore::DeleteFolder(std::string_view folder_id) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<void> {
    auto ref = s.ResolveFolder(folder_id, codes::kFolderNotFound);
    if (!ref) return std::unexpected(ref.error());
    MailboxRecord& mb = *ref->mailbox;
    if (ref->folder->distinguished) {
      return Fail(ErrorCategory::kProtocol, codes::kDeleteDistinguishedFolder,
                  "Distinguished folders cannot be deleted.");
    }
    const std::uint64_t number = ref->folder->number;
    const std::uint64_t parent_number = ref->folder->parent;
    std::vector<std::uint64_t> doomed = {number};
    for (std::size_t k = 0; k < doomed.size(); ++k) {
      const FolderRecord& f = mb.folders.at(doomed[k]);
      doomed.insert(doomed.end(), f.children.begin(), f.children.end());
    }
    for (std::uint64_t n : doomed) {
      for (std::uint64_t item : mb.folders.at(n).items) mb.items.erase(item);
      mb.folders.erase(n);
    }
    FolderRecord& parent = mb.folders.at(parent_number);
    parent.children.erase(number);
    s.Touch(mb, parent);
    s.Append(mb, {ChangeKind::kFolderDeleted, parent_number, 0, number, 0, now});
    return {};
  });
}

// ---- items ----

namespace {

Result<std::shared_ptr<const MessageFields>> ParseForStore(const std::string& mime,
                                                           const StoreOptions& options) {
  MimeLimits limits;
  limits.max_bytes = options.max_mime_bytes;
  auto fields = ParseMessage(mime, limits);
  if (!fields) return std::unexpected(fields.error());
  return std::make_shared<const MessageFields>(std::move(*fields));
}

}  // namespace

Result<Item> MailboxStore::State::AddItem(std::string_view folder_id, std::string mime,
                                          ChangeKind kind, const NewItemOptions& item_options) {
  // Parsing (up to the size limit) happens before the lock, so big messages do not stall others.
  auto fields = ParseForStore(mime, options);
  if (!fields) return std::unexpected(fields.error());
  auto bytes = std::make_shared<const std::string>(std::move(mime));
  const SystemTime now = clock.Now();
  return Mutate([&]() -> Result<Item> {
    auto ref = ResolveFolder(folder_id, codes::kFolderNotFound);
    if (!ref) return std::unexpected(ref.error());
    MailboxRecord& mb = *ref->mailbox;
    ItemRecord r;
    r.number = mb.next_item++;
    r.folder = ref->folder->number;
    r.creation_order = mb.next_creation_order++;
    r.change_number = mb.next_change_number++;
    r.mime = bytes;
    r.fields = *fields;
    r.received = r.created = now;
    r.is_read = item_options.is_read;
    r.is_draft = item_options.is_draft;
    r.categories = item_options.categories;
    r.importance = item_options.importance.value_or((*fields)->importance);
    AttachItem(*ref->folder, r);
    Touch(mb, *ref->folder);
    const std::uint64_t number = r.number;
    mb.items.emplace(number, std::move(r));
    Append(mb, {kind, ref->folder->number, 0, number, 0, now});
    return MakeItem(mb, mb.items.at(number));
  });
}

Result<Item> MailboxStore::DeliverItem(std::string_view folder_id, std::string mime) {
  NewItemOptions arriving;
  arriving.is_read = false;
  return state_->AddItem(folder_id, std::move(mime), ChangeKind::kDelivered, arriving);
}

Result<Item> MailboxStore::DeliverToInbox(std::string_view mailbox, std::string mime) {
  auto inbox = GetDistinguishedFolder(mailbox, DistinguishedFolder::kInbox);
  if (!inbox) return std::unexpected(inbox.error());
  return DeliverItem(inbox->id, std::move(mime));
}

Result<Item> MailboxStore::CreateItem(std::string_view folder_id, std::string mime,
                                      const NewItemOptions& options) {
  return state_->AddItem(folder_id, std::move(mime), ChangeKind::kCreated, options);
}

std::string MailboxStore::ComposeMime(const MessageDraft& draft) {
  const std::string& from = draft.from.address;
  const std::size_t at = from.rfind('@');
  std::string domain;
  if (at != std::string::npos) {
    for (char c : internal::AsciiLower(from.substr(at + 1))) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
        domain.push_back(c);
      }
    }
  }
  if (domain.empty()) domain = "exoharness.invalid";
  const std::string message_id = "<" + HexEncode(state_->random.Bytes(16)) + "@" + domain + ">";
  return BuildMime(draft, state_->clock.Now(), message_id);
}

Result<Item> MailboxStore::GetItem(std::string_view item_id) const {
  std::lock_guard lock(state_->mu);
  auto ref = state_->ResolveItem(item_id);
  if (!ref) return std::unexpected(ref.error());
  return state_->MakeItem(*ref->mailbox, *ref->item);
}

namespace {

Result<void> CheckChangeKeyLocked(const MailboxRecord& mb, const ItemRecord& item,
                                  std::string_view change_key) {
  if (!internal::IsChangeKeyShaped(change_key)) {
    return Fail(ErrorCategory::kProtocol, codes::kInvalidChangeKey, "The change key is invalid.");
  }
  const std::string current = internal::EncodeChangeKey(false, mb.guid_bytes, item.change_number);
  // Compare bytes, not text: Base64Decode also reads the URL-safe alphabet.
  if (Base64Decode(change_key) != Base64Decode(current)) {
    return Fail(ErrorCategory::kProtocol, codes::kIrresolvableConflict,
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
                "read the item again and retry with its current change key");
  }
  return {};
}

}  // namespace

Result<void> MailboxStore::CheckChangeKey(std::string_view item_id,
                                          std::string_view change_key) const {
  std::lock_guard lock(state_->mu);
  auto ref = state_->ResolveItem(item_id);
  if (!ref) return std::unexpected(ref.error());
  return CheckChangeKeyLocked(*ref->mailbox, *ref->item, change_key);
}

Result<Item> MailboxStore::UpdateItem(std::string_view item_id, const ItemUpdate& update,
                                      std::string_view expected_change_key) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<Item> {
    auto ref = s.ResolveItem(item_id);
    if (!ref) return std::unexpected(ref.error());
    MailboxRecord& mb = *ref->mailbox;
    ItemRecord& item = *ref->item;
    if (!expected_change_key.empty()) {
      if (auto ok = CheckChangeKeyLocked(mb, item, expected_change_key); !ok) {
        return std::unexpected(ok.error());
      }
    }
    const bool read_changed = update.is_read && *update.is_read != item.is_read;
    const bool categories_changed = update.categories && *update.categories != item.categories;
    const bool importance_changed = update.importance && *update.importance != item.importance;
    if (!read_changed && !categories_changed && !importance_changed) {
      return s.MakeItem(mb, item);
    }
    FolderRecord& folder = mb.folders.at(item.folder);
    if (read_changed) {
      item.is_read = *update.is_read;
      if (item.is_read) {
        --folder.unread;
      } else {
        ++folder.unread;
      }
      s.Touch(mb, folder);
    }
    if (categories_changed) item.categories = *update.categories;
    if (importance_changed) item.importance = *update.importance;
    item.change_number = mb.next_change_number++;
    const ChangeKind kind =
        (categories_changed || importance_changed) ? ChangeKind::kModified : ChangeKind::kReadFlag;
    s.Append(mb, {kind, folder.number, 0, item.number, 0, now});
    return s.MakeItem(mb, item);
  });
}

Result<internal::MoveCopyRefs> MailboxStore::State::ResolveMoveCopy(std::string_view item_id,
                                                                    std::string_view to_folder_id) {
  auto ref = ResolveItem(item_id);
  if (!ref) return std::unexpected(ref.error());
  auto to = ResolveFolder(to_folder_id, codes::kToFolderNotFound);
  if (!to) return std::unexpected(to.error());
  if (to->mailbox != ref->mailbox) {
    return Fail(ErrorCategory::kProtocol, codes::kCrossMailboxMoveCopy,
                "Cannot move or copy items between mailboxes.");
  }
  return internal::MoveCopyRefs{ref->mailbox, ref->item, to->folder};
}

std::uint64_t MailboxStore::State::MoveItemLocked(MailboxRecord& mb, std::uint64_t number,
                                                  FolderRecord& target, SystemTime now) {
  auto node = mb.items.extract(number);
  ItemRecord& item = node.mapped();
  FolderRecord& source = mb.folders.at(item.folder);
  DetachItem(source, item);
  Touch(mb, source);
  item.number = mb.next_item++;
  item.folder = target.number;
  item.change_number = mb.next_change_number++;
  AttachItem(target, item);
  Touch(mb, target);
  node.key() = item.number;
  const std::uint64_t new_number = item.number;
  mb.items.insert(std::move(node));
  Append(mb, {ChangeKind::kMoved, target.number, source.number, new_number, number, now});
  return new_number;
}

Result<Item> MailboxStore::MoveItem(std::string_view item_id, std::string_view to_folder_id) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<Item> {
    auto refs = s.ResolveMoveCopy(item_id, to_folder_id);
    if (!refs) return std::unexpected(refs.error());
    MailboxRecord& mb = *refs->mailbox;
    if (refs->target->number == refs->item->folder) return s.MakeItem(mb, *refs->item);
    const std::uint64_t moved = s.MoveItemLocked(mb, refs->item->number, *refs->target, now);
    return s.MakeItem(mb, mb.items.at(moved));
  });
}

Result<Item> MailboxStore::CopyItem(std::string_view item_id, std::string_view to_folder_id) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<Item> {
    auto refs = s.ResolveMoveCopy(item_id, to_folder_id);
    if (!refs) return std::unexpected(refs.error());
    MailboxRecord& mb = *refs->mailbox;
    FolderRecord& target = *refs->target;
    ItemRecord copy = *refs->item;
    const std::uint64_t source_number = refs->item->number;
    const std::uint64_t source_folder = refs->item->folder;
    copy.number = mb.next_item++;
    copy.folder = target.number;
    copy.creation_order = mb.next_creation_order++;
    copy.change_number = mb.next_change_number++;
    copy.created = now;
    AttachItem(target, copy);
    s.Touch(mb, target);
    const std::uint64_t number = copy.number;
    mb.items.emplace(number, std::move(copy));  // may rehash: refs->item is not used after this
    s.Append(mb, {ChangeKind::kCopied, target.number, source_folder, number, source_number, now});
    return s.MakeItem(mb, mb.items.at(number));
  });
}

Result<void> MailboxStore::DeleteItem(std::string_view item_id, DeleteMode mode) {
  State& s = *state_;
  const SystemTime now = s.clock.Now();
  return s.Mutate([&]() -> Result<void> {
    auto ref = s.ResolveItem(item_id);
    if (!ref) return std::unexpected(ref.error());
    MailboxRecord& mb = *ref->mailbox;
    const std::uint64_t number = ref->item->number;
    const std::uint64_t folder_number = ref->item->folder;
    const std::uint64_t deleted_items = mb.Distinguished(DistinguishedFolder::kDeletedItems);
    if (mode == DeleteMode::kMoveToDeletedItems && folder_number != deleted_items) {
      s.MoveItemLocked(mb, number, mb.folders.at(deleted_items), now);
      return {};
    }
    FolderRecord& folder = mb.folders.at(folder_number);
    DetachItem(folder, *ref->item);
    s.Touch(mb, folder);
    mb.items.erase(number);
    s.Append(mb, {ChangeKind::kDeleted, folder_number, 0, number, 0, now});
    return {};
  });
}

Result<ItemPage> MailboxStore::FindItems(std::string_view folder_id, const ItemView& view) const {
  std::lock_guard lock(state_->mu);
  auto ref = state_->ResolveFolder(folder_id, codes::kFolderNotFound);
  if (!ref) return std::unexpected(ref.error());
  const MailboxRecord& mb = *ref->mailbox;
  // Rows are light (sort keys and the record): only the page's items are materialized (MakeItem
  // copies fields and computes two HMAC ids), so an unfiltered page costs O(page) items, not
  // O(folder). A filter sees whole items, so filtered views materialize each one once.
  struct Row {
    SystemTime received;
    std::uint64_t order;
    const ItemRecord* record;
    std::optional<Item> item;
  };
  std::vector<Row> rows;
  rows.reserve(ref->folder->items.size());
  for (std::uint64_t number : ref->folder->items) {
    const ItemRecord& r = mb.items.at(number);
    if (view.filter) {
      Item item = state_->MakeItem(mb, r);
      if (!view.filter(item)) continue;
      rows.push_back({r.received, r.creation_order, &r, std::move(item)});
    } else {
      rows.push_back({r.received, r.creation_order, &r, std::nullopt});
    }
  }
  const bool ascending = view.sort == SortOrder::kReceivedAscending;
  const auto before = [&](const Row& a, const Row& b) {
    if (a.received != b.received)
      return ascending ? a.received < b.received : a.received > b.received;
    return ascending ? a.order < b.order : a.order > b.order;
  };
  ItemPage page;
  page.total_count = rows.size();
  const std::size_t begin = std::min(view.offset, rows.size());
  const std::size_t count = std::min(view.max_count, rows.size() - begin);
  // Only the rows up to the page's end need to be in order.
  const auto end = rows.begin() + static_cast<std::ptrdiff_t>(begin + count);
  std::partial_sort(rows.begin(), end, rows.end(), before);
  page.items.reserve(count);
  for (std::size_t k = begin; k < begin + count; ++k) {
    Row& row = rows[k];
    page.items.push_back(row.item ? std::move(*row.item) : state_->MakeItem(mb, *row.record));
  }
  page.next_offset = begin + count;
  page.includes_last = page.next_offset >= rows.size();
  return page;
}

}  // namespace exo::mock_ews
