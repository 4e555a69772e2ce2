// PowerShell's default views, value rendering and error records as exo-admin prints them.
#include "exo/exo_admin/format.hpp"

#include <gtest/gtest.h>

namespace exo::admin {
namespace {

// Verifies Format-List pads names and renders booleans, nulls and collections PowerShell's way.
TEST(FormatTest, ListPadsNamesAndRendersValues) {
  const Value policy = {{"ScopeName", "EvenUsers"},
                        {"AppId", "ad9b4ca0-9ed8-4c57-bd21-8e266ca24fad"},
                        {"IsValid", true},
                        {"Description", nullptr},
                        {"Tags", Value::array({"a", "b", "c", "d", "e"})}};
  EXPECT_EQ(FormatList({policy}),
            "\n"
            "ScopeName   : EvenUsers\n"
            "AppId       : ad9b4ca0-9ed8-4c57-bd21-8e266ca24fad\n"
            "IsValid     : True\n"
            "Description :\n"
            "Tags        : {a, b, c, d...}\n"
            "\n\n");
}

// Verifies multi-line values continue under the value column.
TEST(FormatTest, ListIndentsContinuationLines) {
  const Value o = {{"AppId", "x"}, {"Description", "AppId: x;\n ScopeIdentitySid: S-1"}};
  EXPECT_EQ(FormatList({o}),
            "\nAppId       : x\nDescription : AppId: x;\n               ScopeIdentitySid: S-1\n\n\n");
}

// Verifies Format-Table: header, ruler, columns as wide as their widest value, last unpadded.
TEST(FormatTest, TableAlignsColumns) {
  const std::vector<Value> rows = {
      {{"DisplayName", "Bizagi"}, {"ObjectId", "b5754b80"}, {"AppId", "ad9b4ca0"}},
      {{"DisplayName", "x"}, {"ObjectId", "1"}, {"AppId", "2"}}};
  EXPECT_EQ(FormatTable(rows, {"DisplayName", "ObjectId", "AppId"}),
            "\n"
            "DisplayName ObjectId AppId\n"
            "----------- -------- -----\n"
            "Bizagi      b5754b80 ad9b4ca0\n"
            "x           1        2\n"
            "\n");
}

// Verifies a table wider than the console is cut with "..." in its widest column.
TEST(FormatTest, TableTruncatesToWidth) {
  const std::vector<Value> rows = {{{"Name", std::string(50, 'n')}, {"Role", std::string(50, 'r')}}};
  const std::string t = FormatTable(rows, {"Name", "Role"}, 60);
  EXPECT_NE(t.find("..."), std::string::npos);
  for (std::size_t start = 0, nl; (nl = t.find('\n', start)) != std::string::npos; start = nl + 1) {
    EXPECT_LE(nl - start, 60u);
  }
}

// Verifies the default views: Test-ApplicationAccessPolicy is a list, New-ServicePrincipal a
// table of its three columns, unknown cmdlets PowerShell's 4-property rule.
TEST(FormatTest, DefaultViews) {
  EXPECT_EQ(DefaultView("Test-ApplicationAccessPolicy").kind, ViewKind::kList);
  const View sp = DefaultView("new-serviceprincipal");
  EXPECT_EQ(sp.kind, ViewKind::kTable);
  EXPECT_EQ(sp.columns, (std::vector<std::string>{"DisplayName", "ObjectId", "AppId"}));
  EXPECT_EQ(DefaultView("Get-Unknown").kind, ViewKind::kAuto);

  const Value check = {{"AppId", "a"},
                       {"Mailbox", "AdeleV"},
                       {"MailboxId", "m"},
                       {"MailboxSid", "S-1-5"},
                       {"AccessCheckResult", "Granted"}};
  const std::string out = FormatOutput({check}, DefaultView("Test-ApplicationAccessPolicy"));
  EXPECT_NE(out.find("AccessCheckResult : Granted\n"), std::string::npos) << out;
  EXPECT_NE(out.find("AppId             : a\n"), std::string::npos) << out;

  // Small objects without a view are tables, bigger ones lists.
  EXPECT_EQ(FormatOutput({Value{{"A", 1}, {"B", 2}}}, View{}), "\nA B\n- -\n1 2\n\n");
  EXPECT_EQ(FormatOutput({Value{{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}, {"E", 5}}}, View{}).substr(0, 6),
            "\nA : 1");
}

// Verifies OData annotations never reach the console, and view columns missing everywhere drop.
TEST(FormatTest, AnnotationsAndMissingColumns) {
  const Value wire = {{"DisplayName@odata.type", "#String"},
                      {"DisplayName", "d"},
                      {"ObjectId", "o"},
                      {"AppId", "a"},
                      {"@exo.type", "New-ServicePrincipal"}};
  EXPECT_EQ(StripAnnotations(wire), (Value{{"DisplayName", "d"}, {"ObjectId", "o"}, {"AppId", "a"}}));
  const std::string t = FormatOutput({wire}, View{ViewKind::kTable, {"DisplayName", "Absent", "AppId"}});
  EXPECT_EQ(t, "\nDisplayName AppId\n----------- -----\nd           a\n\n");
}

// Verifies ISO timestamps print as an en-US console shows a DateTime.
TEST(FormatTest, RendersDatesLikeTheConsole) {
  EXPECT_EQ(RenderValue("2026-11-02T09:05:07Z"), "11/2/2026 9:05:07 AM");
  EXPECT_EQ(RenderValue("2027-01-31T23:00:00.1234567+00:00"), "1/31/2027 11:00:00 PM");
  EXPECT_EQ(RenderValue("2026-11-02"), "2026-11-02");
  EXPECT_EQ(RenderValue(Value{{"DisplayName", "ci"}}), "@{DisplayName=ci}");
}

// Verifies a binding error prints as Windows PowerShell 5.1 prints it in a script.
TEST(FormatTest, ErrorRecordInAScript) {
  ErrorRecord e;
  e.command = "Test-ApplicationAccessPolicy";
  e.message = "A parameter cannot be found that matches parameter name 'AppIdx'.";
  e.category = "InvalidArgument";
  e.reason = "ParameterBindingException";
  e.fqid = "NamedParameterNotFound,Test-ApplicationAccessPolicy";
  e.has_position = true;
  const std::string chunk = "Test-ApplicationAccessPolicy -Identity a -AppIdx";
  e.offset = chunk.find("-AppIdx");
  e.length = 7;
  e.hints = {"did you mean -AppId x?"};
  EXPECT_EQ(FormatErrorRecord(e, SourceContext{chunk, "steps.ps1", 12}),
            "Test-ApplicationAccessPolicy : A parameter cannot be found that matches parameter "
            "name 'AppIdx'.\n"
            "At steps.ps1:12 char:42\n"
            "+ Test-ApplicationAccessPolicy -Identity a -AppIdx\n"
            "+                                          ~~~~~~~\n"
            "    + CategoryInfo          : InvalidArgument: (:) [Test-ApplicationAccessPolicy], "
            "ParameterBindingException\n"
            "    + FullyQualifiedErrorId : NamedParameterNotFound,Test-ApplicationAccessPolicy\n"
            " \n"
            "exo-admin: did you mean -AppId x?\n");
}

// Verifies a position on a continuation line reports that physical line.
TEST(FormatTest, ErrorRecordOnAContinuationLine) {
  ErrorRecord e;
  e.command = "X";
  e.message = "m";
  e.has_position = true;
  const std::string chunk = "New-X -A 1 `\n  -Bad 2";
  e.offset = chunk.find("-Bad");
  e.length = 4;
  const std::string out = FormatErrorRecord(e, SourceContext{chunk, "", 3});
  EXPECT_NE(out.find("At line:4 char:3\n+   -Bad 2\n+   ~~~~\n"), std::string::npos) << out;
}

// Verifies a server error prints in the module's Write-ErrorMessage form.
TEST(FormatTest, WriteErrorMessageForm) {
  ErrorRecord e;
  e.command = "Write-ErrorMessage";
  e.message = "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|"
              "The operation couldn't be performed because object 'x' couldn't be found on 'DC'.";
  e.invocation_location = "/tmp/tmpEXO_abcdefgh.ijk/tmpEXO_abcdefgh.ijk.psm1:1121 char:13";
  e.invocation_line = "            Write-ErrorMessage $ErrorObject";
  e.invocation_column = 13;
  e.invocation_length = 31;
  e.category = "NotSpecified";
  e.activity = "Get-Recipient";
  e.reason = "ManagementObjectNotFoundException";
  e.fqid = "[Server=AM8PR01,RequestId=r,TimeStamp=t],Write-ErrorMessage";
  const std::string out = FormatErrorRecord(e, SourceContext{});
  EXPECT_EQ(out,
            "Write-ErrorMessage : " + e.message +
                "\nAt /tmp/tmpEXO_abcdefgh.ijk/tmpEXO_abcdefgh.ijk.psm1:1121 char:13\n"
                "+             Write-ErrorMessage $ErrorObject\n"
                "+             ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
                "    + CategoryInfo          : NotSpecified: (:) [Get-Recipient], "
                "ManagementObjectNotFoundException\n"
                "    + FullyQualifiedErrorId : [Server=AM8PR01,RequestId=r,TimeStamp=t],"
                "Write-ErrorMessage\n \n");
}

// Verifies the Connect-ExchangeOnline banner: 88-hyphen rulers, a blank line before.
TEST(FormatTest, Banner) {
  const std::string b = ExchangeBanner();
  EXPECT_EQ(b.substr(0, 90), "\n" + std::string(88, '-') + "\n");
  EXPECT_NE(b.find("For more information check https://aka.ms/exov3-module\n"), std::string::npos);
}

}  // namespace
}  // namespace exo::admin
