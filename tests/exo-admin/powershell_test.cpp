// The PowerShell subset exo-admin reads: tokens, parameters, variables, hashtables, continuation.
#include "exo/exo_admin/powershell.hpp"

#include <gtest/gtest.h>

namespace exo::admin {
namespace {

Command OnlyCommand(const ParseResult& r) {
  EXPECT_FALSE(r.error) << r.error->message;
  EXPECT_EQ(r.statements.size(), 1u);
  EXPECT_TRUE(r.statements.at(0).command.has_value());
  return *r.statements.at(0).command;
}

// Verifies a seed line splits into the command, parameter tokens and bare-word arguments.
TEST(PowerShellParseTest, SplitsParametersAndBareWords) {
  const auto r = Parse(
      "New-ServicePrincipal -AppId ad9b4ca0-9ed8-4c57-bd21-8e266ca24fad -ServiceId "
      "b5754b80-da35-44e1-9344-0c51133a2654");
  const Command c = OnlyCommand(r);
  EXPECT_EQ(c.name, "New-ServicePrincipal");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_TRUE(c.elements[0].is_parameter);
  EXPECT_EQ(c.elements[0].name, "AppId");
  EXPECT_FALSE(c.elements[1].is_parameter);
  EXPECT_EQ(c.elements[1].argument.literal, "ad9b4ca0-9ed8-4c57-bd21-8e266ca24fad");
  EXPECT_TRUE(c.elements[1].argument.bare_word);
  EXPECT_EQ(c.elements[2].name, "ServiceId");
}

// Verifies the seed's typo is one parameter token, whole, as PowerShell reads it.
TEST(PowerShellParseTest, TypoIsOneParameterToken) {
  const std::string line =
      "Test-ApplicationAccessPolicy -Identity \"<USER@your-domain.onmicrosoft.com>\" "
      "-AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad";
  const Command c = OnlyCommand(Parse(line));
  ASSERT_EQ(c.elements.size(), 3u);
  EXPECT_EQ(c.elements[1].argument.literal, "<USER@your-domain.onmicrosoft.com>");
  EXPECT_TRUE(c.elements[2].is_parameter);
  EXPECT_EQ(c.elements[2].name, "AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad");
  EXPECT_EQ(c.elements[2].offset, line.find("-AppIdad"));
}

// Verifies -Name:value binds the value to the token and $false/$true/$null are literals.
TEST(PowerShellParseTest, ColonValuesAndConstants) {
  const Command c = OnlyCommand(Parse("Disconnect-ExchangeOnline -Confirm:$false -X $null -Y $TRUE"));
  ASSERT_EQ(c.elements.size(), 5u);
  ASSERT_TRUE(c.elements[0].colon_value);
  EXPECT_EQ(c.elements[0].colon_value->literal, false);
  EXPECT_TRUE(c.elements[2].argument.literal.is_null());
  EXPECT_EQ(c.elements[4].argument.literal, true);
}

// Verifies a comma list becomes one array argument.
TEST(PowerShellParseTest, CommaListIsOneArray) {
  const Command c = OnlyCommand(Parse("New-ApplicationAccessPolicy -AppId a , 'b',\"c\" -X 1"));
  ASSERT_EQ(c.elements.size(), 4u);
  const Expr& list = c.elements[1].argument;
  ASSERT_EQ(list.kind, Expr::Kind::kArray);
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[2].literal, "c");
  EXPECT_EQ(c.elements[3].argument.literal, 1);
}

// Verifies assignments, variables with members and comments.
TEST(PowerShellParseTest, AssignmentVariablesAndComments) {
  const auto r = Parse("$lc = Get-Credential   # the hybrid sign-in");
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.statements.size(), 1u);
  EXPECT_EQ(r.statements[0].assign_to, "lc");
  EXPECT_EQ(r.statements[0].command->name, "Get-Credential");
  EXPECT_TRUE(r.statements[0].command->elements.empty());

  const Command c = OnlyCommand(Parse("New-ServicePrincipal -AppId $app.AppId -ServiceId $sp.Id"));
  EXPECT_EQ(c.elements[1].argument.kind, Expr::Kind::kVariable);
  EXPECT_EQ(c.elements[1].argument.variable, "app");
  EXPECT_EQ(c.elements[1].argument.members, std::vector<std::string>{"AppId"});

  EXPECT_TRUE(Parse("# only a comment").statements.empty());
}

// Verifies quoting: doubled quotes, backtick escapes, expansion only in double quotes.
TEST(PowerShellParseTest, QuotedStrings) {
  const auto r = Parse("'it''s $x'");
  ASSERT_EQ(r.statements.size(), 1u);
  EXPECT_EQ(r.statements[0].expression->literal, "it's $x");

  const auto e = Parse("\"a `\"b`\" \"\"c\"\" $name and $($app.AppId)\"");
  ASSERT_FALSE(e.error);
  const Expr& x = *e.statements[0].expression;
  ASSERT_EQ(x.kind, Expr::Kind::kExpandable);
  ASSERT_EQ(x.items.size(), 4u);
  EXPECT_EQ(x.items[0].literal, "a \"b\" \"c\" ");
  EXPECT_EQ(x.items[1].variable, "name");
  EXPECT_EQ(x.items[2].literal, " and ");
  EXPECT_EQ(x.items[3].variable, "app");
  EXPECT_EQ(x.items[3].members, std::vector<std::string>{"AppId"});
}

// Verifies typographic quotes and dashes from web pages read as their ASCII forms.
TEST(PowerShellParseTest, TypographicQuotesAndDashes) {
  const Command c = OnlyCommand(Parse("Get-Mailbox \xE2\x80\x93Identity \xE2\x80\x9C" "a b\xE2\x80\x9D"));
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_TRUE(c.elements[0].is_parameter);
  EXPECT_EQ(c.elements[0].name, "Identity");
  EXPECT_EQ(c.elements[1].argument.literal, "a b");
}

// Verifies hashtable literals, with ';' and line breaks between entries, nested arrays.
TEST(PowerShellParseTest, Hashtables) {
  const auto r = Parse("Add-MgApplicationPassword -ApplicationId $id -PasswordCredential @{DisplayName='ci'; EndDateTime = \"2027-01-01\"\n Tags=@('a','b')}");
  const Command c = OnlyCommand(r);
  const Expr& h = c.elements[3].argument;
  ASSERT_EQ(h.kind, Expr::Kind::kHashtable);
  ASSERT_EQ(h.entries.size(), 3u);
  EXPECT_EQ(h.entries[0].key, "DisplayName");
  EXPECT_EQ(h.entries[0].value.literal, "ci");
  EXPECT_EQ(h.entries[1].key, "EndDateTime");
  EXPECT_EQ(h.entries[2].value.kind, Expr::Kind::kArray);
  EXPECT_EQ(h.entries[2].value.items.size(), 2u);
}

// Verifies a backtick joins lines, and open strings and hashtables ask for more input.
TEST(PowerShellParseTest, ContinuationAndIncompleteInput) {
  EXPECT_TRUE(EndsWithContinuation("New-Mailbox -Name x `"));
  EXPECT_TRUE(EndsWithContinuation("New-Mailbox -Name x `\r"));
  EXPECT_FALSE(EndsWithContinuation("New-Mailbox -Name x"));
  const Command c = OnlyCommand(Parse("New-ApplicationAccessPolicy -AppId x `\n  -AccessRight RestrictAccess"));
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_EQ(c.elements[3].argument.literal, "RestrictAccess");

  auto open_string = Parse("Write-Host \"abc");
  ASSERT_TRUE(open_string.error);
  EXPECT_TRUE(open_string.error->incomplete);
  EXPECT_EQ(open_string.error->error_id, "TerminatorExpectedAtEndOfString");
  auto open_hash = Parse("$h = @{a=1");
  ASSERT_TRUE(open_hash.error);
  EXPECT_TRUE(open_hash.error->incomplete);
  EXPECT_EQ(open_hash.error->error_id, "MissingEndCurlyBrace");
}

// Verifies the seed's placeholders fail as PowerShell's redirection error, and pipes are refused.
TEST(PowerShellParseTest, PlaceholdersAndPipelinesAreErrors) {
  const std::string line = "New-ServicePrincipal -AppId <APPLICATION_ID> -ServiceId <OBJECT_ID>";
  auto r = Parse(line);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->error_id, "RedirectionNotSupported");
  EXPECT_EQ(r.error->message, "The '<' operator is reserved for future use.");
  EXPECT_EQ(r.error->offset, line.find('<'));
  EXPECT_FALSE(r.error->incomplete);

  auto p = Parse("Get-Mailbox | Format-List");
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->error_id, "PipelineNotSupported");
}

// Verifies ';' separates statements and parentheses hold a command.
TEST(PowerShellParseTest, StatementsAndParenthesisedCommands) {
  auto r = Parse("Import-Module ExchangeOnlineManagement; Connect-ExchangeOnline -Credential (Get-Credential)");
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.statements.size(), 2u);
  const Expr& arg = r.statements[1].command->elements[1].argument;
  ASSERT_EQ(arg.kind, Expr::Kind::kCommand);
  EXPECT_EQ(arg.command.front().name, "Get-Credential");
}

}  // namespace
}  // namespace exo::admin
