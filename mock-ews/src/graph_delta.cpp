// GET …/mailFolders/{id}/messages/delta (message-delta.md, delta-query-messages.md): the store's
// SyncFolderItems change log as Graph's delta rounds. A round starts without a token and returns
// every message of the folder; its pages end with an @odata.nextLink ($skiptoken) or, when the
// folder is caught up, an @odata.deltaLink ($deltatoken) to start the next round from. Options
// given on the first request ($select, $filter, $orderby, $top, changeType) are kept in the
// token's state, as Graph encodes them into its links.
#include <algorithm>

#include "exo/common/base64.hpp"
#include "internal/graph_ops.hpp"
#include "internal/text_codec.hpp"

namespace exo::mock_ews::graph {

namespace {

using internal::AsciiIEquals;
using internal::AsciiLower;

// The store answers at most this many changes per call (SyncFolderItems' MaxChangesReturned).
constexpr std::size_t kMaxStorePage = 512;
// A delta page without Prefer: odata.maxpagesize or $top [infer: the default for message delta
// is not documented; list's default is 10].
constexpr std::size_t kDefaultDeltaPage = 10;

ojson Removed(const std::string& store_id) {
  ojson r = ojson::object();
  r["@odata.type"] = "#microsoft.graph.message";
  r["id"] = ToGraphId(store_id);
  ojson reason = ojson::object();
  reason["reason"] = "deleted";
  r["@removed"] = reason;
  return r;
}

// The options of a round's first request, checked as the service documents them: $filter only on
// receivedDateTime ge/gt, $orderby only receivedDateTime desc, changeType created, updated or
// deleted.
std::optional<GraphError> ReadOptions(const GraphCall& call, DeltaState& state) {
  if (auto s = call.query.Get("$select")) {
    Selection select;
    if (auto e = ParseSelect(*s, select)) return e;
    state.select = *s;
  }
  if (auto f = call.query.Get("$filter")) {
    ItemFilter filter;
    if (auto e = ParseFilter(*f, filter)) return e;
    const bool received_only = std::all_of(filter.properties.begin(), filter.properties.end(),
                                           [](const auto& p) { return p == "receivedDateTime"; });
    if (!received_only) {
      // [infer the wording; the restriction is message-delta.md's]
      return BadRequest(
          "The only supported $filter expressions in a delta query are receivedDateTime ge "
          "{value} and receivedDateTime gt {value}.");
    }
    state.filter = *f;
  }
  if (auto o = call.query.Get("$orderby")) {
    std::vector<SortKey> keys;
    if (auto e = ParseOrderBy(*o, keys)) return e;
    if (keys.size() != 1 || keys[0].property != "receivedDateTime" || !keys[0].descending) {
      return BadRequest(  // [infer the wording]
          "The only supported $orderby expression in a delta query is receivedDateTime desc.");
    }
    state.newest_first = true;
  }
  if (auto c = call.query.Get("changeType")) {
    const std::string kind = AsciiLower(*c);
    if (kind != "created" && kind != "updated" && kind != "deleted") {
      return BadRequest("The value '" + *c +
                        "' of changeType is not valid; use created, updated or deleted.");
    }
    state.change_type = kind;
  }
  if (auto t = call.query.Get("$top")) {
    if (t->empty() || t->size() > 4 ||
        !std::all_of(t->begin(), t->end(), [](unsigned char ch) { return std::isdigit(ch); })) {
      return BadRequest("Invalid value for a query option: $top takes a non-negative integer.");
    }
    state.page_size = std::stoul(*t);
  }
  return std::nullopt;
}

}  // namespace

GraphReply MessageDelta(GraphCall& call) {
  GraphError refusal;
  auto folder = ResolveFolderOf(call, call.folder, refusal);
  if (!folder) return GraphReply::Fail(refusal);

  const std::optional<std::string> delta_token = call.query.Get("$deltatoken");
  const std::optional<std::string> skip_token = call.query.Get("$skiptoken");
  DeltaState state;
  std::uint64_t chain = 0;
  if (delta_token || skip_token) {
    auto found = call.delta.Find(delta_token ? *delta_token : *skip_token, refusal);
    if (!found) return GraphReply::Fail(refusal);
    if (found->state.folder_id != folder->id) {
      // A token of another folder: "The sync state root folder is not found."
      // (msgraph-sdk-javascript#99).
      return GraphReply::Fail(
          GraphError{410, "SyncStateNotFound", "The sync state root folder is not found.", {}});
    }
    chain = found->chain;
    state = std::move(found->state);
  } else {
    state.folder_id = folder->id;
    if (auto e = ReadOptions(call, state)) return GraphReply::Fail(*e);
    chain = call.delta.Start();
  }

  Selection select;
  if (!state.select.empty()) (void)ParseSelect(state.select, select);
  ItemFilter filter;
  if (!state.filter.empty()) (void)ParseFilter(state.filter, filter);
  const std::size_t page = std::min(
      kMaxStorePage,
      PreferredPageSize(call).value_or(state.page_size > 0 ? state.page_size : kDefaultDeltaPage));

  auto batch = call.store.SyncFolderItems(folder->id, state.sync_state, static_cast<int>(page));
  if (!batch) {
    if (batch.error().code == codes::kInvalidSyncStateData) {
      // The state names a mailbox or folder that is gone (a reset, a recreated mailbox) [infer].
      return GraphReply::Fail(
          GraphError{410, "SyncStateNotFound", "The sync state root folder is not found.", {}});
    }
    return GraphReply::Fail(FromStoreError(batch.error()));
  }

  const BodyFormat body = PreferredBody(call);
  std::vector<const SyncChange*> kept;
  for (const SyncChange& change : batch->changes) {
    const bool removed = change.kind == SyncChangeKind::kDelete;
    const char* kind = removed                                  ? "deleted"
                       : change.kind == SyncChangeKind::kCreate ? "created"
                                                                : "updated";
    if (!state.change_type.empty() && state.change_type != kind) continue;
    if (!removed && filter.matches && change.item && !filter.matches(*change.item)) continue;
    kept.push_back(&change);
  }
  if (state.newest_first) {
    std::stable_sort(kept.begin(), kept.end(), [](const SyncChange* a, const SyncChange* b) {
      if (!a->item || !b->item) return !a->item.has_value() && b->item.has_value();
      return a->item->date_time_received > b->item->date_time_received;
    });
  }
  ojson value = ojson::array();
  for (const SyncChange* change : kept) {
    if (change->kind == SyncChangeKind::kDelete || !change->item) {
      value.push_back(Removed(change->item_id));
    } else {
      value.push_back(RenderMessage(*change->item, select, body, MessageLayout::kDelta));
    }
  }

  DeltaState next = state;
  next.sync_state = batch->sync_state;
  const std::string token = call.delta.Advance(chain, std::move(next));
  const bool caught_up = batch->includes_last_item_in_range;
  const std::string link = call.base_url + "/v1.0/" + call.user_path + "/mailFolders('" +
                           call.folder + "')/messages/delta?" +
                           (caught_up ? "$deltatoken=" : "$skiptoken=") + token;
  ojson out = ojson::object();
  out["@odata.context"] = call.base_url + "/v1.0/$metadata#Collection(message)";
  out[caught_up ? "@odata.deltaLink" : "@odata.nextLink"] = link;
  out["value"] = std::move(value);
  GraphReply reply = GraphReply::Json(std::move(out));
  if (body == BodyFormat::kText) {
    reply.headers.emplace_back("Preference-Applied", "outlook.body-content-type=\"text\"");
  }
  return reply;
}

}  // namespace exo::mock_ews::graph
