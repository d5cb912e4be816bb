#include "core/principal.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

struct Case {
  const char* caller;
  const char* record_account;
  PrincipalKind kind;
  const char* account;
  const char* name;
};

TEST(PrincipalTest, ResolvesCallersPerProductRules) {
  IdentityRules rules;
  rules.per_session_roles = {"AWSReservedSSO_*"};
  const Case cases[] = {
      {"arn:aws:iam::111122223333:user/BedrockAPIKey-abc", "111122223333", PrincipalKind::kUser,
       "111122223333", "BedrockAPIKey-abc"},
      {"arn:aws:iam::111122223333:user/division/team/alice", "", PrincipalKind::kUser,
       "111122223333", "alice"},
      {"arn:aws:sts::111122223333:assumed-role/TeamRole/build-42", "", PrincipalKind::kRole,
       "111122223333", "TeamRole"},
      {"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_1a2b/alice@example.com", "",
       PrincipalKind::kRoleSession, "111122223333", "AWSReservedSSO_Dev_1a2b/alice@example.com"},
      {"arn:aws:sts::444455556666:federated-user/bob", "", PrincipalKind::kOther, "444455556666",
       "arn:aws:sts::444455556666:federated-user/bob"},
      {"arn:aws:iam::111122223333:root", "", PrincipalKind::kOther, "111122223333",
       "arn:aws:iam::111122223333:root"},
      {"arn:aws-us-gov:iam::111122223333:user/gov", "", PrincipalKind::kUser, "111122223333",
       "gov"},
      {"123456789012:gateway-team", "", PrincipalKind::kOther, "123456789012", "gateway-team"},
  };
  for (const auto& c : cases) {
    auto key = ResolvePrincipal(c.caller, c.record_account, rules);
    ASSERT_TRUE(key.ok()) << c.caller << ": " << key.status().ToString();
    EXPECT_EQ(key->kind, c.kind) << c.caller;
    EXPECT_EQ(key->account, c.account) << c.caller;
    EXPECT_EQ(key->name, c.name) << c.caller;
  }
}

TEST(PrincipalTest, SameNameInTwoAccountsIsTwoPrincipals) {
  auto a = ResolvePrincipal("arn:aws:iam::111122223333:user/alice", "", {});
  auto b = ResolvePrincipal("arn:aws:iam::444455556666:user/alice", "", {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(PrincipalTest, RejectsUnusableCallers) {
  EXPECT_EQ(ResolvePrincipal("", "111122223333", {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ResolvePrincipal("no-colon", "", {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ResolvePrincipal("arn:aws:iam:::user/x", "", {}).status().code(),
            Code::kInvalidArgument);
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(GlobMatch("AWSReservedSSO_*", "AWSReservedSSO_Admin_123"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b", "ac"));
  EXPECT_FALSE(GlobMatch("Team", "TeamRole"));
}

}  // namespace
}  // namespace budgeteer
