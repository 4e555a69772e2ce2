// A scripted HttpTransport for client unit tests: records every request and answers from a queue
// (or a function), optionally holding a request until the test releases it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "exo/client/http.hpp"

namespace exo::client::test {

class FakeHttp final : public HttpTransport {
 public:
  using Responder = std::function<Result<HttpResponse>(const HttpRequest&)>;

  // Answers every request with `responder` (after the queued answers are used up).
  void Respond(Responder responder) {
    std::lock_guard lock(mu_);
    responder_ = std::move(responder);
  }
  void Enqueue(Result<HttpResponse> answer) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(answer));
  }
  // Requests block inside Send until Release() (single-flight tests).
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  // Blocks until `n` requests have arrived (no timed wait: the test's own timeout bounds it).
  void AwaitRequests(std::size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return requests_.size() >= n; });
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::unique_lock lock(mu_);
    requests_.push_back(request);
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    if (!queue_.empty()) {
      auto answer = std::move(queue_.front());
      queue_.pop_front();
      return answer;
    }
    if (responder_) return responder_(request);
    return HttpResponse{404, {}, ""};
  }
  Result<HttpResponse> SendStreaming(const HttpRequest& request, const ChunkReceiver& receiver,
                                     StreamCancel* = nullptr) override {
    auto r = Send(request);
    if (r && receiver) receiver(r->body);
    return r;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> requests_;
  std::deque<Result<HttpResponse>> queue_;
  Responder responder_;
  bool held_ = false;
};

inline HttpResponse JsonResponse(int status, const std::string& body,
                                 std::multimap<std::string, std::string> headers = {}) {
  headers.emplace("Content-Type", "application/json; charset=utf-8");
  return HttpResponse{status, std::move(headers), body};
}

}  // namespace exo::client::test
