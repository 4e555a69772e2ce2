// Sends requests for public origins ("https://mail.contoso.com") to in-process servers
// ("https://127.0.0.1:41234"), as DNS and a port forward would, so the client uses the URLs the
// services advertise (autodiscover answers, on-premises audiences).
#pragma once

#include <map>
#include <string>

#include "exo/client/http.hpp"

namespace exo::scenarios::internal {

class RoutedHttpTransport final : public client::HttpTransport {
 public:
  RoutedHttpTransport(client::HttpTransport& inner, std::map<std::string, std::string> routes)
      : inner_(inner), routes_(std::move(routes)) {}

  Result<client::HttpResponse> Send(const client::HttpRequest& request) override {
    return inner_.Send(Route(request));
  }
  Result<client::HttpResponse> SendStreaming(const client::HttpRequest& request,
                                             const client::ChunkReceiver& receiver,
                                             client::StreamCancel* cancel = nullptr) override {
    return inner_.SendStreaming(Route(request), receiver, cancel);
  }

 private:
  client::HttpRequest Route(client::HttpRequest request) const;

  client::HttpTransport& inner_;
  std::map<std::string, std::string> routes_;
};

}  // namespace exo::scenarios::internal
