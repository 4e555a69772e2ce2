// The Exchange Online cmdlets the admin API (InvokeCommand) runs: each cmdlet's real parameters,
// bound from the request's Parameters hash table as PowerShell binds them, executed against
// ExchangeAdmin and the MailboxStore, and rendered as the output objects the REST transport
// returns (PascalCase properties with their @odata.type annotations, docs/research/exo-admin-api.md
// §3). Wire concerns (status codes, error envelope, paging) belong to admin_api.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/result.hpp"
#include "exo/mock_ews/exchange_admin.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {

// What one invocation runs against.
struct CmdletContext {
  ExchangeAdmin& admin;
  MailboxStore& store;
  std::string organization_id;  // lower-case tenant GUID
  std::string caller_domain;    // the signed-in user's UPN domain, when there is one
};

struct CmdletOutput {
  std::vector<nlohmann::ordered_json> objects;
  std::vector<std::string> warnings;  // @adminapi.warnings
  // Set when -Confirm:$true or -WhatIf asked first: the cmdlet did not run, this is the text of
  // @adminapi.confirmationmessage.
  std::optional<std::string> confirmation;
};

struct Cmdlet;

// The cmdlet `name` names in any letter case; nullptr when the mock does not know it.
const Cmdlet* FindCmdlet(std::string_view name);
// The canonical spelling ("New-ServicePrincipal").
const char* CmdletName(const Cmdlet& cmdlet);
// Get-* and Test-*: no side effects, so a page after the first can run it again.
bool IsReadOnly(const Cmdlet& cmdlet);

// Binds `parameters` (a JSON object, or null for none) and runs the cmdlet. Errors carry the .NET
// exception's short name as code (ParameterBindingException, ManagementObjectNotFoundException,
// …) and kNotFound as category when an object was not found; a failed cmdlet changes nothing.
Result<CmdletOutput> RunCmdlet(const Cmdlet& cmdlet, const nlohmann::json& parameters,
                               const CmdletContext& context);

}  // namespace exo::mock_ews
