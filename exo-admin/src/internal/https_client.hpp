// HTTPS to mock-aad and mock-ews as a client on another machine would talk to them: one
// connection per origin, the server certificate checked against the harness CA.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exo/common/result.hpp"

namespace httplib {
class Client;
}

namespace exo::admin {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;
  std::string body;
  HeaderList headers;
  // The first header named `name` (case-insensitive), or "".
  std::string Header(const std::string& name) const;
};

class HttpsClient {
 public:
  // `ca_file`: PEM bundle to trust; empty: the system store.
  explicit HttpsClient(std::string ca_file);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Any answer from the server is a reply (whatever its status); an Error means no answer
  // (connection, TLS, timeout), category kTransient, or a malformed URL (kConfiguration).
  Result<HttpReply> Send(const std::string& method, const std::string& url,
                         const HeaderList& headers, const std::string& body = {},
                         const std::string& content_type = {});

 private:
  std::string ca_file_;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients_;
};

}  // namespace exo::admin
