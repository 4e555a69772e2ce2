// What the runner puts between the client and the world: an HTTP decorator that notes every
// exchange for the transcript and the report (and can play a broken client that never refreshes
// its token), and a checkpoint-store decorator that can die at a chosen write, as a crash would.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "exo/client/checkpoint_store.hpp"
#include "exo/client/http.hpp"
#include "exo/scenarios/runner.hpp"

namespace exo::scenarios::internal {

// Names the server a URL belongs to: "aad", "ews", "graph" (Exchange Online's Graph mail),
// "onprem" (empty: not one of the world's).
using ServerOf = std::function<std::string(const std::string& url)>;

// How one exchange reads in a transcript and a report: the operation (token, the SOAP body's
// first element, or METHOD /path), and the outcome from the status and the service's own codes.
Exchange Classify(const std::string& server, const client::HttpRequest& request,
                  const Result<client::HttpResponse>& response);

class ObservedTransport final : public client::HttpTransport {
 public:
  ObservedTransport(client::HttpTransport& inner, ServerOf server_of,
                    std::function<void(Exchange)> sink)
      : inner_(inner), server_of_(std::move(server_of)), sink_(std::move(sink)) {}

  // The broken client "never refreshes tokens": after its first token, every later token request
  // is answered with that same first response, so it keeps presenting a token that expires.
  void ReuseFirstToken(bool on) { reuse_first_token_ = on; }

  Result<client::HttpResponse> Send(const client::HttpRequest& request) override;
  Result<client::HttpResponse> SendStreaming(const client::HttpRequest& request,
                                             const client::ChunkReceiver& receiver,
                                             client::StreamCancel* cancel = nullptr) override;

 private:
  client::HttpTransport& inner_;
  ServerOf server_of_;
  std::function<void(Exchange)> sink_;
  bool reuse_first_token_ = false;
  std::optional<client::HttpResponse> first_token_;
};

// A crash at a chosen instant of the monitor's work. Armed with N, the N-th message marked handed
// after arming is not committed: the process "dies" just after the application got the message
// and before the monitor wrote it down, and from then on the store writes nothing (a dead process
// writes nothing). Everything committed before that point is in the SQLite file.
class CrashingStore final : public client::CheckpointStore {
 public:
  explicit CrashingStore(std::unique_ptr<client::CheckpointStore> inner) : inner_(std::move(inner)) {}

  void ArmCrashAtHanded(int nth) { crash_at_handed_ = nth; }
  bool crashed() const { return crashed_; }
  // Dies now: every later write fails. The broken client that commits before handing over calls
  // this between its commit and the application.
  void Die() { crashed_ = true; }
  client::CheckpointStore& inner() { return *inner_; }

  Result<void> AcquireLease(const client::FolderKey& key, const std::string& owner, SystemTime now,
                            Duration ttl) override;
  Result<void> ReleaseLease(const client::FolderKey& key, const std::string& owner) override;
  Result<std::string> SyncState(const client::FolderKey& key) override;
  Result<void> CommitSyncBatch(const client::FolderKey& key, const std::string& sync_state,
                               const std::vector<client::MessageRecord>& new_messages) override;
  Result<void> ResetSyncState(const client::FolderKey& key) override;
  Result<std::vector<client::MessageRecord>> Messages(const client::FolderKey& key,
                                                      client::MessageState state,
                                                      std::size_t limit) override;
  Result<std::size_t> Count(const client::FolderKey& key, client::MessageState state) override {
    return inner_->Count(key, state);
  }
  Result<std::optional<client::MessageRecord>> Find(const client::FolderKey& key,
                                                    const std::string& idempotency_key) override;
  Result<void> SetState(const client::FolderKey& key, const std::string& idempotency_key,
                        client::MessageState state, const std::string& item_id = {}) override;
  Result<void> RecordFailure(const client::FolderKey& key, const std::string& idempotency_key,
                             const std::string& error) override;

 private:
  Result<void> Dead() const;

  std::unique_ptr<client::CheckpointStore> inner_;
  int crash_at_handed_ = 0;  // 0: not armed
  bool crashed_ = false;
};

}  // namespace exo::scenarios::internal
