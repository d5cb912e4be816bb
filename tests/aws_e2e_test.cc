// End to end on AWS, emulated: moto_server (signature verification on) and the real
// `budgeteer serve` with enforce.mode = "iam" and an SNS topic channel, pointed at moto with
// AWS_ENDPOINT_URL and test credentials. A principal driven over budget through POST /v1/usage
// gets the deny policy on its IAM user once the grace period ends (and the topic gets the
// notifications); a reset of its spend deletes it, and so does a forced restore after a second
// suspension. The policy is read back with the AWS CLI (botocore's own signer and parser), not
// only with our client. A principal whose IAM user does not exist ends as a dead action with an
// operator alert. Skipped without moto_server (or the AWS CLI), unless CI=true.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "actions/iam/iam_policy.h"
#include "aws/client.h"
#include "aws/testing/moto_account.h"
#include "aws/xml.h"
#include "core/clock.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

constexpr char kIamVersion[] = "2010-05-08";
constexpr char kAccount[] = "123456789012";  // moto's default account
constexpr char kUser[] = "BedrockAPIKey-e2e";
constexpr char kRole[] = "DataScience";
constexpr char kSsoRole[] = "AWSReservedSSO_Dev_0123abcd";  // budgeted per session
constexpr char kTopic[] = "arn:aws:sns:us-east-1:123456789012:budget-alerts";

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

class AwsE2E : public ServeFixture {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    if (std::system("aws --version >/dev/null 2>&1") != 0) {  // NOLINT(cert-env33-c)
      if (aws::testing::MotoRequired()) FAIL() << "the AWS CLI (aws) is not on PATH";
      GTEST_SKIP() << "the AWS CLI (aws) is not on PATH";
    }
    // The service's identity, from moto's three unsigned actions; everything after is signed
    // and checked.
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    ASSERT_TRUE(
        moto_->Client(aws::kIam).Query("CreateUser", kIamVersion, {{"UserName", kUser}}).ok());
    const std::string trust =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":)"
        R"({"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
    for (const char* role : {kRole, kSsoRole}) {
      ASSERT_TRUE(moto_->Client(aws::kIam)
                      .Query("CreateRole", kIamVersion,
                             {{"RoleName", role}, {"AssumeRolePolicyDocument", trust}})
                      .ok());
    }
    auto topic =
        moto_->Client(aws::kSns).Query("CreateTopic", "2010-03-31", {{"Name", "budget-alerts"}});
    ASSERT_TRUE(topic.ok()) << topic.status().ToString();
    ASSERT_EQ(aws::XmlText(*topic, "TopicArn"), kTopic);

    // What `serve` inherits: the emulator's endpoint and the service's keys, nothing else.
    moto_->ExportToChildProcesses();
    ServeFixture::SetUp();
  }

  std::string ConfigToml() override {
    return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[identity]
per_session_roles = ["AWSReservedSSO_*"]
[defaults]
default_user_budget_usd = 1
grace_period_seconds = 1
[enforce]
mode = "iam"
[enforce.iam]
account_id = "123456789012"
[outbox]
max_attempts = 3
base_backoff_ms = 50
max_backoff_ms = 200
[[notify.sns]]
name = "ops"
topic_arn = ")" +
           std::string(kTopic) +
           R"("
)";
  }

  // GetUserPolicy for the suspension policy: its document, or the error.
  Result<std::string> SuspensionPolicy(const std::string& user) {
    ASSIGN_OR_RETURN(const std::string reply,
                     moto_->Client(aws::kIam).Query(
                         "GetUserPolicy", kIamVersion,
                         {{"UserName", user}, {"PolicyName", "BedrockBudgeteerSuspension"}}));
    return aws::XmlText(reply, "PolicyDocument").value_or("");
  }

  // Runs `aws <args>` against moto with the service's keys (inherited from the environment set
  // in SetUp); returns its exit code, stdout in `out`.
  int AwsCli(const std::string& args, std::string* out) {
    const std::string command = "aws --endpoint-url " + moto_->url() +
                                " --region us-east-1 --output text " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");  // NOLINT(cert-env33-c): test-only, fixed command
    if (pipe == nullptr) return -1;
    std::array<char, 4096> buffer{};
    out->clear();
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out->append(buffer.data(), n);
    const int status = pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The suspension policy on `user` as the AWS CLI sees it: "<Effect> <actions...>" of its one
  // statement, or "NoSuchEntity" when there is none.
  std::string CliSuspensionPolicy(const std::string& user) {
    std::string out;
    const int rc = AwsCli("iam get-user-policy --user-name " + user +
                              " --policy-name BedrockBudgeteerSuspension --query "
                              "'[PolicyDocument.Statement[0].Effect, "
                              "join(`,`, PolicyDocument.Statement[0].Action)]'",
                          &out);
    if (rc != 0) return out.find("NoSuchEntity") != std::string::npos ? "NoSuchEntity" : out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  // What CliSuspensionPolicy must print while the user is suspended.
  static std::string ExpectedCliPolicy() {
    std::string actions;
    for (std::string_view a : DeniedBedrockActions()) {
      actions += (actions.empty() ? "" : ",") + std::string(a);
    }
    return "Deny\t" + actions;
  }

  // The names of the role's inline policies.
  std::vector<std::string> RolePolicies(const std::string& role) {
    auto reply =
        moto_->Client(aws::kIam).Query("ListRolePolicies", kIamVersion, {{"RoleName", role}});
    std::vector<std::string> out;
    if (!reply.ok()) return out;
    for (std::string_view m : aws::XmlElements(*reply, "member")) out.push_back(aws::XmlDecode(m));
    return out;
  }

  // Spends $1.25 of the $1 default (5M input tokens of Claude 3 Haiku) for the IAM user `user`;
  // Spend() does the same (or `input_tokens` at $0.25 per million) for any caller ARN.
  // `round` makes the request ids of a second drive distinct.
  void DriveOverBudget(const std::string& user, int round = 0) {
    Spend("arn:aws:iam::123456789012:user/" + user, 5'000'000, round);
  }
  void Spend(const std::string& arn, int64_t input_tokens = 5'000'000, int round = 0) {
    const std::string now = SystemClock().Now().PlusSeconds(-30).ToRfc3339();
    const std::string body =
        R"([{"request_id":"over-)" + std::to_string(round) + "-" + arn + R"(","timestamp":")" +
        now + R"(","principal":")" + arn +
        R"(","model_id":"anthropic.claude-3-haiku-20240307-v1:0","region":"us-east-1",)"
        R"("input_tokens":)" +
        std::to_string(input_tokens) + R"(,"output_tokens":0}])";
    auto res = Client().Post("/v1/usage", {{"Authorization", "Bearer adm1n-token"}}, body,
                             "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(JsonValue(res->body, "applied"), "1") << res->body;
  }

  std::unique_ptr<aws::testing::MotoAccount> moto_;
};

TEST_F(AwsE2E, OverBudgetUserGetsTheDenyPolicyAndAResetOrAForcedRestoreRemovesIt) {
  EXPECT_EQ(CliSuspensionPolicy(kUser), "NoSuchEntity");
  DriveOverBudget(kUser);
  // Grace (1 s) ends, the scheduler suspends, the dispatcher calls IAM.
  Result<std::string> policy = NotFound("not yet");
  ASSERT_TRUE(WaitUntil(
      [&] {
        policy = SuspensionPolicy(kUser);
        return policy.ok();
      },
      std::chrono::seconds(30)))
      << policy.status().ToString() << "\n"
      << ServerLog();
  EXPECT_EQ(PercentDecode(*policy), DenyPolicyDocument(""));
  EXPECT_EQ(CliSuspensionPolicy(kUser), ExpectedCliPolicy());
  const std::string path = std::string("/v1/budgets/") + kAccount + ":" + kUser;
  EXPECT_EQ(JsonValue(Get(path, "v1ewer-token"), "status"), "suspended");

  // A reset of the spend restores access at once: the policy goes.
  auto res = Client().Post(path + "/reset", {{"Authorization", "Bearer adm1n-token"}}, "{}",
                           "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  ASSERT_TRUE(WaitUntil([&] { return CliSuspensionPolicy(kUser) == "NoSuchEntity"; },
                        std::chrono::seconds(30)))
      << CliSuspensionPolicy(kUser) << "\n"
      << ServerLog();
  EXPECT_EQ(JsonValue(Get(path, "v1ewer-token"), "status"), "active");

  // Over budget again: suspended again; a forced restore (still over budget) removes it too.
  DriveOverBudget(kUser, 1);
  ASSERT_TRUE(WaitUntil([&] { return CliSuspensionPolicy(kUser) == ExpectedCliPolicy(); },
                        std::chrono::seconds(30)))
      << CliSuspensionPolicy(kUser) << "\n"
      << ServerLog();
  res = Client().Post(path + "/restore", {{"Authorization", "Bearer adm1n-token"}},
                      R"({"force": true})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  ASSERT_TRUE(WaitUntil([&] { return CliSuspensionPolicy(kUser) == "NoSuchEntity"; },
                        std::chrono::seconds(30)))
      << ServerLog();

  // Every access action was delivered through IAM, and the topic got the notifications.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string outbox = Get("/v1/outbox", "v1ewer-token");
        return Count(outbox, R"("channel":"enforce:iam")") == 4 &&
               Count(outbox, R"("status":"delivered","attempts":1,)") >= 4 &&
               outbox.find(R"("status":"pending")") == std::string::npos;
      },
      std::chrono::seconds(30)))
      << Get("/v1/outbox", "v1ewer-token");
  const std::string data = moto_->Data();
  EXPECT_NE(data.find("Bedrock access suspended"), std::string::npos) << data.substr(0, 2000);
  EXPECT_NE(data.find("Bedrock access restored"), std::string::npos);
}

TEST_F(AwsE2E, RolesAndRoleSessionsGetTheirPoliciesOnTheRole) {
  Spend(std::string("arn:aws:sts::123456789012:assumed-role/") + kRole + "/batch-7");
  Spend(std::string("arn:aws:sts::123456789012:assumed-role/") + kSsoRole + "/alice@example.com");
  // Another session of the SSO role spends within its budget: its role policy must not change.
  Spend(std::string("arn:aws:sts::123456789012:assumed-role/") + kSsoRole + "/bob", 1000);
  const std::vector<std::string> role_policy = {"BedrockBudgeteerSuspension"};
  const std::vector<std::string> session_policy = {SessionPolicyName("alice@example.com")};
  ASSERT_TRUE(WaitUntil(
      [&] {
        return RolePolicies(kRole) == role_policy && RolePolicies(kSsoRole) == session_policy;
      },
      std::chrono::seconds(30)))
      << Get("/v1/outbox", "v1ewer-token") << "\n"
      << ServerLog();
  // Sessions are budgeted one by one; the role itself is not a principal.
  const std::string budgets = Get("/v1/budgets", "v1ewer-token");
  EXPECT_NE(budgets.find(std::string(kSsoRole) + "/alice@example.com"), std::string::npos)
      << budgets;
  EXPECT_NE(budgets.find(std::string(kSsoRole) + "/bob"), std::string::npos);
}

TEST_F(AwsE2E, AMissingIamUserIsADeadActionWithAnOperatorAlert) {
  DriveOverBudget("BedrockAPIKey-ghost");
  std::string outbox;
  ASSERT_TRUE(WaitUntil(
      [&] {
        outbox = Get("/v1/outbox", "v1ewer-token");
        return outbox.find(R"("event":"dead_action")") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << outbox << "\n"
      << ServerLog();
  // The suspension is dead after one attempt (permanent), with IAM's reason...
  const size_t dead = outbox.find(R"("status":"dead")");
  ASSERT_NE(dead, std::string::npos) << outbox;
  EXPECT_NE(outbox.find("NoSuchEntity"), std::string::npos) << outbox;
  EXPECT_NE(outbox.find(R"("kind":"suspend_access")"), std::string::npos);
  // ...and audited.
  const std::string audit = Get("/v1/audit", "v1ewer-token");
  EXPECT_NE(audit.find("dead_action"), std::string::npos) << audit;
}

}  // namespace
}  // namespace budgeteer::testing
