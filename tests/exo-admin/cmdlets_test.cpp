// PowerShell's parameter binding over exo-admin's cmdlet catalogue.
#include "exo/exo_admin/cmdlets.hpp"

#include <gtest/gtest.h>

namespace exo::admin {
namespace {

// Parses `line` and binds it with literal values (no variables needed here).
std::optional<ErrorRecord> BindLine(const std::string& line, BoundCommand& out) {
  const auto parsed = Parse(line);
  EXPECT_FALSE(parsed.error);
  const Command& c = *parsed.statements.at(0).command;
  std::vector<EvaluatedElement> els;
  for (const auto& e : c.elements) {
    EvaluatedElement ev;
    ev.is_parameter = e.is_parameter;
    ev.name = e.name;
    ev.offset = e.offset;
    ev.length = e.length;
    const Expr* x = e.is_parameter ? (e.colon_value ? &*e.colon_value : nullptr) : &e.argument;
    if (x) {
      ev.has_colon_value = e.is_parameter;
      if (x->kind == Expr::Kind::kArray) {
        ev.value = Value::array();
        for (const auto& i : x->items) ev.value.push_back(i.literal);
      } else {
        ev.value = x->literal;
      }
    }
    els.push_back(ev);
  }
  const CmdletSpec* spec = FindCmdlet(c.name);
  EXPECT_NE(spec, nullptr) << c.name;
  return Bind(*spec, c.name, els, out);
}

// Verifies the seed's typo gives PowerShell's exact error, pointing at the token, with a hint.
TEST(BindTest, SeedTypoIsNamedParameterNotFound) {
  const std::string line =
      "Test-ApplicationAccessPolicy -Identity \"AdeleV@7pffzj.onmicrosoft.com\" "
      "-AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad";
  BoundCommand b;
  auto e = BindLine(line, b);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "A parameter cannot be found that matches parameter name "
            "'AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad'.");
  EXPECT_EQ(e->fqid, "NamedParameterNotFound,Test-ApplicationAccessPolicy");
  EXPECT_EQ(e->category, "InvalidArgument");
  EXPECT_EQ(e->reason, "ParameterBindingException");
  EXPECT_EQ(e->offset, line.find("-AppIdad"));
  EXPECT_EQ(e->length, std::string("-AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad").size());
  ASSERT_EQ(e->hints.size(), 1u);
  EXPECT_EQ(e->hints[0], "did you mean -AppId ad9b4ca0-9ed8-4c57-bd21-8e266ca24fad?");
}

// Verifies types: switches are true, lists arrays, a scalar for a list a one-element array.
TEST(BindTest, TypesParametersAsTheModuleDoes) {
  BoundCommand b;
  ASSERT_FALSE(BindLine("New-ApplicationAccessPolicy -AppId a,b -PolicyScopeGroupId g "
                        "-AccessRight RestrictAccess -Confirm:$false -WhatIf",
                        b));
  EXPECT_EQ(b.Find("AppId")->value, Value::array({"a", "b"}));
  EXPECT_EQ(b.Find("Confirm")->value, false);
  EXPECT_EQ(b.Find("WhatIf")->value, true);
  EXPECT_TRUE(b.Find("WhatIf")->is_switch);

  BoundCommand one;
  ASSERT_FALSE(BindLine("New-ApplicationAccessPolicy -AppId a -PolicyScopeGroupId g -AccessRight DenyAccess", one));
  EXPECT_EQ(one.Find("AppId")->value, Value::array({"a"}));
}

// Verifies unambiguous prefixes bind, ambiguous ones fail as PowerShell says.
TEST(BindTest, PrefixesAndAmbiguity) {
  BoundCommand b;
  ASSERT_FALSE(BindLine("Test-ApplicationAccessPolicy -Ident x -App y", b));
  EXPECT_EQ(b.String("Identity"), "x");
  EXPECT_EQ(b.String("AppId"), "y");

  BoundCommand amb;
  auto e = BindLine("New-ServicePrincipal -AppId a -O b", amb);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "AmbiguousParameter,New-ServicePrincipal");
  EXPECT_NE(e->message.find("Possible matches include: -ObjectId -Organization -OutVariable -OutBuffer."),
            std::string::npos)
      << e->message;
}

// Verifies positional binding and the errors for extra positionals and missing arguments.
TEST(BindTest, PositionalAndMissingArguments) {
  BoundCommand b;
  ASSERT_FALSE(BindLine("Set-ExecutionPolicy RemoteSigned", b));
  EXPECT_EQ(b.String("ExecutionPolicy"), "RemoteSigned");

  BoundCommand extra;
  auto e = BindLine("Test-ApplicationAccessPolicy a b -AppId c", extra);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "PositionalParameterNotFound,Test-ApplicationAccessPolicy");
  EXPECT_EQ(e->message, "A positional parameter cannot be found that accepts argument 'b'.");

  BoundCommand missing;
  e = BindLine("Test-ApplicationAccessPolicy -Identity x -AppId", missing);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "MissingArgument,Test-ApplicationAccessPolicy");
  EXPECT_EQ(e->message,
            "Missing an argument for parameter 'AppId'. Specify a parameter of type "
            "'System.String' and try again.");

  BoundCommand mandatory;
  e = BindLine("Test-ApplicationAccessPolicy -Identity x", mandatory);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "MissingMandatoryParameter,Test-ApplicationAccessPolicy");
}

// Verifies Boolean parameters refuse strings, and [string] parameters refuse lists.
TEST(BindTest, ConversionErrors) {
  BoundCommand b;
  auto e = BindLine("Set-CASMailbox -Identity x -EwsEnabled false", b);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "ParameterArgumentTransformationError,Set-CASMailbox");
  EXPECT_NE(e->message.find("Boolean parameters accept only Boolean values and numbers"),
            std::string::npos);

  BoundCommand ok;
  ASSERT_FALSE(BindLine("Set-CASMailbox -Identity x -EwsEnabled $false", ok));
  EXPECT_EQ(ok.Find("EwsEnabled")->value, false);

  BoundCommand list;
  e = BindLine("Test-ApplicationAccessPolicy -Identity a,b -AppId c", list);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "CannotConvertArgument,Test-ApplicationAccessPolicy");
}

// Verifies open cmdlets pass unknown parameters through and closed ones refuse them.
TEST(BindTest, OpenSpecsPassUnknownParametersThrough) {
  BoundCommand b;
  ASSERT_FALSE(BindLine("Set-OrganizationConfig -EwsEnabled $true -OAuth2ClientProfileEnabled $true -AuditDisabled", b));
  EXPECT_EQ(b.Find("OAuth2ClientProfileEnabled")->value, true);
  EXPECT_EQ(b.Find("AuditDisabled")->value, true);
  EXPECT_EQ(b.Find("OAuth2ClientProfileEnabled")->spec, nullptr);
}

// Verifies a parameter given twice is refused.
TEST(BindTest, ParameterAlreadyBound) {
  BoundCommand b;
  auto e = BindLine("Get-Mailbox -Identity a -Identity b", b);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->fqid, "ParameterAlreadyBound,Get-Mailbox");
}

// Verifies objects become their identity for [string] parameters.
TEST(BindTest, ObjectsConvertToTheirIdentity) {
  EXPECT_EQ(ToPsString(Value{{"Name", "g"}, {"Identity", "EvenUsers"}}), "EvenUsers");
  EXPECT_EQ(ToPsString(Value{{"Id", "42"}}), "42");
  EXPECT_EQ(ToPsString(Value(true)), "True");
  EXPECT_EQ(ToPsString(Value::array({"a", 1})), "a 1");
}

}  // namespace
}  // namespace exo::admin
