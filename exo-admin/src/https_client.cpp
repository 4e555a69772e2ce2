#include "internal/https_client.hpp"

#include <httplib.h>

#include "exo/exo_admin/powershell.hpp"

namespace exo::admin {

std::string HttpReply::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return {};
}

HttpsClient::HttpsClient(std::string ca_file) : ca_file_(std::move(ca_file)) {}
HttpsClient::~HttpsClient() = default;

Result<HttpReply> HttpsClient::Send(const std::string& method, const std::string& url,
                                    const HeaderList& headers, const std::string& body,
                                    const std::string& content_type) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return Fail(ErrorCategory::kConfiguration, "BadUrl", "not an absolute URL: " + url);
  }
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  auto& client = clients_[origin];
  const bool reused = client != nullptr;
  const auto make = [&] {
    client = std::make_unique<httplib::Client>(origin);
    if (url.compare(0, 8, "https://") == 0) {
      if (!ca_file_.empty()) client->set_ca_cert_path(ca_file_);
      client->enable_server_certificate_verification(true);
    }
    client->set_connection_timeout(10);
    client->set_read_timeout(60);
    client->set_write_timeout(60);
    client->set_keep_alive(true);
  };
  if (!reused) make();
  httplib::Request req;
  req.method = method;
  req.path = path;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  if (!body.empty() || method == "POST" || method == "PATCH") {
    req.body = body;
    if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  }
  auto res = client->send(req);
  if (!res && reused && res.error() == httplib::Error::Write) {
    // A kept-alive connection the server closed while the session sat idle between statements
    // (cpp-httplib servers drop it after 5 s): over TLS it looks alive until the write fails.
    // Nothing reached the server, so the request goes once more on a new connection.
    make();
    res = client->send(req);
  }
  if (!res) {
    return Fail(ErrorCategory::kTransient, "HTTP",
                method + " " + url + ": " + httplib::to_string(res.error()));
  }
  HttpReply reply;
  reply.status = res->status;
  reply.body = res->body;
  for (const auto& [k, v] : res->headers) reply.headers.emplace_back(k, v);
  return reply;
}

}  // namespace exo::admin
