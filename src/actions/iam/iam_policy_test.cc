#include "actions/iam/iam_policy.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

PrincipalKey Key(PrincipalKind kind, std::string name) {
  return PrincipalKey{"123456789012", kind, std::move(name)};
}

TEST(IamPolicyTest, UserGetsTheDocumentedPolicy) {
  auto t = SuspensionTargetFor(Key(PrincipalKind::kUser, "BedrockAPIKey-abc12"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->entity, IamEntityKind::kUser);
  EXPECT_EQ(t->entity_name, "BedrockAPIKey-abc12");
  EXPECT_EQ(t->policy_name, "BedrockBudgeteerSuspension");
  EXPECT_EQ(t->session, "");
  // The exact document docs/aws.md shows.
  EXPECT_EQ(t->policy_document,
            R"({"Version":"2012-10-17","Statement":[{"Sid":"BedrockBudgeteerSuspension",)"
            R"("Effect":"Deny","Action":["bedrock:InvokeModel",)"
            R"("bedrock:InvokeModelWithResponseStream","bedrock:Converse",)"
            R"("bedrock:ConverseStream","bedrock:CallWithBearerToken",)"
            R"("bedrock-mantle:CallWithBearerToken"],"Resource":"*"}]})");
}

TEST(IamPolicyTest, RoleGetsThePolicyOnTheRole) {
  auto t = SuspensionTargetFor(Key(PrincipalKind::kRole, "DataScience"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->entity, IamEntityKind::kRole);
  EXPECT_EQ(t->entity_name, "DataScience");
  EXPECT_EQ(t->policy_name, "BedrockBudgeteerSuspension");
  EXPECT_EQ(t->policy_document, DenyPolicyDocument(""));
}

TEST(IamPolicyTest, SessionGetsItsOwnConditionedPolicyOnTheRole) {
  auto t = SuspensionTargetFor(
      Key(PrincipalKind::kRoleSession, "AWSReservedSSO_Dev_0123abcd/alice@example.com"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->entity, IamEntityKind::kRole);
  EXPECT_EQ(t->entity_name, "AWSReservedSSO_Dev_0123abcd");
  EXPECT_EQ(t->session, "alice@example.com");
  EXPECT_TRUE(t->policy_name.starts_with("BedrockBudgeteerSuspension-alice@example.com-"))
      << t->policy_name;
  EXPECT_EQ(t->policy_name.size(),
            std::string("BedrockBudgeteerSuspension-alice@example.com-").size() + 8);
  EXPECT_NE(
      t->policy_document.find(R"("Condition":{"StringLike":{"aws:userid":"*:alice@example.com"}})"),
      std::string::npos)
      << t->policy_document;
}

TEST(IamPolicyTest, SessionPolicyNamesDifferByCaseAndStayWithinIamLimits) {
  EXPECT_NE(SessionPolicyName("Alice"), SessionPolicyName("alice"));
  EXPECT_NE(SessionPolicyName("Alice").substr(SessionPolicyName("Alice").size() - 8),
            SessionPolicyName("alice").substr(SessionPolicyName("alice").size() - 8));
  const std::string longest(64, 's');
  EXPECT_LE(SessionPolicyName(longest).size(), 128u);
  EXPECT_EQ(SessionPolicyName("bob"), SessionPolicyName("bob"));  // stable across restarts
}

TEST(IamPolicyTest, PrincipalsIamCannotSuspendAreRefused) {
  auto other = SuspensionTargetFor(
      Key(PrincipalKind::kOther, "arn:aws:sts::123456789012:federated-user/contractor"));
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument);
  EXPECT_NE(other.status().message().find("neither an IAM user nor an assumed role"),
            std::string::npos);
  EXPECT_EQ(SuspensionTargetFor(Key(PrincipalKind::kUser, "bad name")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SuspensionTargetFor(Key(PrincipalKind::kRoleSession, "RoleOnly")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SuspensionTargetFor(Key(PrincipalKind::kUser, std::string(65, 'u'))).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace budgeteer
