// The IAM enforcer against moto_server with signature verification on: suspension puts the
// exact deny policy (read back with GetUserPolicy / GetRolePolicy), restoration deletes it, both
// idempotent; a suspended role session leaves the role's other sessions alone; a missing user
// is a permanent failure.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "actions/iam/iam_enforcer.h"
#include "aws/client.h"
#include "aws/testing/moto_account.h"
#include "aws/xml.h"

namespace budgeteer {
namespace {

constexpr char kIamVersion[] = "2010-05-08";
constexpr char kAccount[] = "123456789012";  // moto's default account

// IAM returns policy documents percent-encoded (RFC 3986), and so does moto.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// JSON without the blanks between tokens (moto may re-serialise the document with spaces).
std::string Compact(std::string_view json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < json.size()) {
        out += json[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out += c;
    }
  }
  return out;
}

class IamEnforcerMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    deps_ =
        AwsDeps{&moto_->env(), moto_->credentials(), &moto_->transport(), &clock_, "us-east-1", {}};
    auto enforcer = IamEnforcer::Create(IamEnforcerConfig{kAccount}, deps_);
    ASSERT_TRUE(enforcer.ok()) << enforcer.status().ToString();
    enforcer_ = std::move(enforcer).value();
  }

  aws::AwsClient Iam(aws::CredentialsProvider* credentials) {
    return moto_->Client(aws::kIam, credentials);
  }
  aws::AwsClient Admin() { return moto_->Client(aws::kIam); }

  void CreateUser(const std::string& name) {
    ASSERT_TRUE(Admin().Query("CreateUser", kIamVersion, {{"UserName", name}}).ok());
  }
  void CreateRole(const std::string& name) {
    const std::string trust =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":)"
        R"({"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
    ASSERT_TRUE(Admin()
                    .Query("CreateRole", kIamVersion,
                           {{"RoleName", name}, {"AssumeRolePolicyDocument", trust}})
                    .ok());
  }

  // The document of an inline policy as IAM returns it, compacted; NotFound when absent.
  Result<std::string> PolicyOf(std::string_view entity, const std::string& name,
                               const std::string& policy) {
    const std::string word(entity);
    ASSIGN_OR_RETURN(const std::string reply,
                     Admin().Query("Get" + word + "Policy", kIamVersion,
                                   {{word + "Name", name}, {"PolicyName", policy}}));
    return Compact(PercentDecode(aws::XmlText(reply, "PolicyDocument").value_or("")));
  }

  std::vector<std::string> RolePolicies(const std::string& role) {
    auto reply = Admin().Query("ListRolePolicies", kIamVersion, {{"RoleName", role}});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    std::vector<std::string> out;
    if (!reply.ok()) return out;
    for (std::string_view m : aws::XmlElements(*reply, "member")) out.push_back(aws::XmlDecode(m));
    return out;
  }

  static ActionMessage Action(const std::string& kind, const std::string& principal_kind,
                              const std::string& name) {
    ActionMessage m;
    m.kind = kind;
    m.event = kind == "suspend_access" ? "suspended" : "restored";
    m.payload = R"({"principal":")" + name + R"(","account":")" + kAccount + R"(","kind":")" +
                principal_kind + R"("})";
    return m;
  }

  SystemClock clock_;
  std::unique_ptr<aws::testing::MotoAccount> moto_;
  AwsDeps deps_;
  std::unique_ptr<IamEnforcer> enforcer_;
};

TEST_F(IamEnforcerMotoTest, SuspendPutsTheExactUserPolicyAndRestoreDeletesItIdempotently) {
  const std::string user = "BedrockAPIKey-moto1";
  CreateUser(user);
  const ActionMessage suspend = Action("suspend_access", "user", user);
  ASSERT_TRUE(enforcer_->Apply(suspend).ok());
  const Status again = enforcer_->Apply(suspend);  // already there: success
  ASSERT_TRUE(again.ok()) << again.ToString();
  auto doc = PolicyOf("User", user, "BedrockBudgeteerSuspension");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, DenyPolicyDocument(""));

  const ActionMessage restore = Action("restore_access", "user", user);
  ASSERT_TRUE(enforcer_->Apply(restore).ok());
  const Status gone = enforcer_->Apply(restore);  // already gone: success
  ASSERT_TRUE(gone.ok()) << gone.ToString();
  EXPECT_EQ(PolicyOf("User", user, "BedrockBudgeteerSuspension").status().code(), Code::kNotFound);
}

TEST_F(IamEnforcerMotoTest, RolePrincipalGetsTheRolePolicy) {
  CreateRole("DataScience");
  ASSERT_TRUE(enforcer_->Apply(Action("suspend_access", "role", "DataScience")).ok());
  auto doc = PolicyOf("Role", "DataScience", "BedrockBudgeteerSuspension");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(*doc, DenyPolicyDocument(""));
  ASSERT_TRUE(enforcer_->Apply(Action("restore_access", "role", "DataScience")).ok());
  EXPECT_TRUE(RolePolicies("DataScience").empty());
}

TEST_F(IamEnforcerMotoTest, ASessionsSuspensionLeavesOtherSessionsAlone) {
  const std::string role = "AWSReservedSSO_Dev_0123abcd";
  CreateRole(role);
  ASSERT_TRUE(enforcer_->Apply(Action("suspend_access", "role_session", role + "/alice")).ok());
  ASSERT_TRUE(enforcer_->Apply(Action("suspend_access", "role_session", role + "/bob")).ok());
  EXPECT_EQ(RolePolicies(role).size(), 2u);
  auto alice = PolicyOf("Role", role, SessionPolicyName("alice"));
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(*alice, DenyPolicyDocument("alice"));

  ASSERT_TRUE(enforcer_->Apply(Action("restore_access", "role_session", role + "/alice")).ok());
  EXPECT_EQ(RolePolicies(role), std::vector<std::string>{SessionPolicyName("bob")});
  auto bob = PolicyOf("Role", role, SessionPolicyName("bob"));
  ASSERT_TRUE(bob.ok());
  EXPECT_NE(bob->find(R"({"StringLike":{"aws:userid":"*:bob"}})"), std::string::npos) << *bob;
}

TEST_F(IamEnforcerMotoTest, AMissingUserIsAPermanentFailure) {
  const Status suspend = enforcer_->Apply(Action("suspend_access", "user", "nobody"));
  EXPECT_EQ(suspend.code(), Code::kNotFound) << suspend.ToString();
  EXPECT_FALSE(suspend.retryable());
  EXPECT_NE(suspend.message().find("NoSuchEntity"), std::string::npos) << suspend.ToString();
  const Status restore = enforcer_->Apply(Action("restore_access", "user", "nobody"));
  EXPECT_EQ(restore.code(), Code::kNotFound) << restore.ToString();
  EXPECT_FALSE(restore.retryable());
  EXPECT_NE(restore.message().find("IAM user nobody does not exist"), std::string::npos)
      << restore.ToString();
}

TEST_F(IamEnforcerMotoTest, CredentialsWithoutIamRightsArePermanentlyDenied) {
  // A second user with no policy at all: moto evaluates its (empty) permissions.
  CreateUser("powerless");
  auto key = Admin().Query("CreateAccessKey", kIamVersion, {{"UserName", "powerless"}});
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  aws::StaticCredentialsProvider powerless(
      aws::Credentials{aws::XmlText(*key, "AccessKeyId").value_or(""),
                       aws::XmlText(*key, "SecretAccessKey").value_or(""),
                       "",
                       {},
                       "moto"});
  AwsDeps deps = deps_;
  deps.credentials = &powerless;
  // account_id set: GetCallerIdentity needs no permission, and the check passes.
  auto enforcer = IamEnforcer::Create(IamEnforcerConfig{kAccount}, deps);
  ASSERT_TRUE(enforcer.ok());
  CreateUser("target");
  const Status denied = (*enforcer)->Apply(Action("suspend_access", "user", "target"));
  EXPECT_EQ(denied.code(), Code::kPermissionDenied) << denied.ToString();
  EXPECT_FALSE(denied.retryable());
}

}  // namespace
}  // namespace budgeteer
