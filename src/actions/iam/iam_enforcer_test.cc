// The IAM enforcer against a scripted transport: which calls it makes for each kind of
// principal, and how each AWS answer is classified (the outbox retries or dead-letters on it).
// The same behaviour against moto_server is in iam_enforcer_moto_test.cc.
#include "actions/iam/iam_enforcer.h"

#include <gtest/gtest.h>

#include <deque>

#include "aws/client.h"

namespace budgeteer {
namespace {

constexpr char kCallerIdentity[] =
    "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/"
    "budgeteer</Arn><UserId>AIDA</UserId><Account>123456789012</Account>"
    "</GetCallerIdentityResult></GetCallerIdentityResponse>";

std::string ErrorXml(std::string_view code) {
  return "<ErrorResponse><Error><Type>Sender</Type><Code>" + std::string(code) +
         "</Code><Message>scripted</Message></Error></ErrorResponse>";
}

// Answers each request with the next scripted reply (or a network failure) and keeps the
// requests, decoded form parameters included.
class ScriptedTransport final : public aws::HttpTransport {
 public:
  void Reply(int64_t status, std::string body) {
    replies_.push_back(aws::HttpResponse{status, {}, std::move(body)});
  }
  void FailNetwork() { replies_.push_back(std::nullopt); }

  Result<aws::HttpResponse> Send(const aws::HttpRequest& request,
                                 const aws::HttpTimeouts& /*timeouts*/) override {
    requests.push_back(request);
    if (replies_.empty()) return Internal("unscripted request " + request.body);
    auto next = replies_.front();
    replies_.pop_front();
    if (!next) return Unavailable("connection refused");
    return *next;
  }

  // The request bodies' Action parameters, in order.
  std::vector<std::string> Actions() const {
    std::vector<std::string> out;
    for (const auto& r : requests) {
      const size_t start = r.body.find("Action=") + 7;
      out.push_back(r.body.substr(start, r.body.find('&', start) - start));
    }
    return out;
  }

  std::vector<aws::HttpRequest> requests;

 private:
  std::deque<std::optional<aws::HttpResponse>> replies_;
};

class IamEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
    deps_.env = &env_;
    deps_.credentials = &credentials_;
    deps_.transport = &transport_;
    deps_.clock = &clock_;
    deps_.region = "us-east-1";
  }

  std::unique_ptr<IamEnforcer> Make(std::string account = "") {
    auto e = IamEnforcer::Create(IamEnforcerConfig{std::move(account)}, deps_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }

  static ActionMessage Action(std::string kind, const std::string& principal_kind,
                              const std::string& name,
                              const std::string& account = "123456789012") {
    ActionMessage m;
    m.action_id = 7;
    m.kind = std::move(kind);
    m.event = m.kind == "suspend_access" ? "suspended" : "restored";
    m.payload = R"({"principal":")" + name + R"(","account":")" + account + R"(","kind":")" +
                principal_kind + R"("})";
    return m;
  }

  aws::MapEnvironment env_;
  aws::StaticCredentialsProvider credentials_{
      aws::Credentials{"AKIDEXAMPLE", "secret", "", {}, "test"}};
  ScriptedTransport transport_;
  FixedClock clock_{Timestamp::FromUnixMillis(1'790'000'000'000)};
  AwsDeps deps_;
};

TEST_F(IamEnforcerTest, SuspendsAUserWithPutUserPolicy) {
  transport_.Reply(200, kCallerIdentity);
  transport_.Reply(200, "<PutUserPolicyResponse/>");
  auto e = Make();
  ASSERT_TRUE(e->Apply(Action("suspend_access", "user", "BedrockAPIKey-x1")).ok());
  EXPECT_EQ(transport_.Actions(), (std::vector<std::string>{"GetCallerIdentity", "PutUserPolicy"}));
  const std::string& body = transport_.requests[1].body;
  EXPECT_NE(body.find("UserName=BedrockAPIKey-x1"), std::string::npos) << body;
  EXPECT_NE(body.find("PolicyName=BedrockBudgeteerSuspension"), std::string::npos) << body;
  EXPECT_NE(body.find("PolicyDocument=" + aws::UriEncode(DenyPolicyDocument(""), false)),
            std::string::npos)
      << body;
  // The caller's account is read once.
  transport_.Reply(200, "<PutUserPolicyResponse/>");
  ASSERT_TRUE(e->Apply(Action("suspend_access", "user", "BedrockAPIKey-x1")).ok());
  EXPECT_EQ(transport_.requests.size(), 3u);
}

TEST_F(IamEnforcerTest, RolesAndSessionsUseTheRoleCalls) {
  transport_.Reply(200, kCallerIdentity);
  transport_.Reply(200, "<PutRolePolicyResponse/>");
  transport_.Reply(200, "<DeleteRolePolicyResponse/>");
  auto e = Make("123456789012");
  ASSERT_TRUE(e->Apply(Action("suspend_access", "role_session", "Dev/alice")).ok());
  ASSERT_TRUE(e->Apply(Action("restore_access", "role", "Dev")).ok());
  EXPECT_EQ(transport_.Actions(),
            (std::vector<std::string>{"GetCallerIdentity", "PutRolePolicy", "DeleteRolePolicy"}));
  EXPECT_NE(transport_.requests[1].body.find("PolicyName=" +
                                             aws::UriEncode(SessionPolicyName("alice"), false)),
            std::string::npos);
  EXPECT_TRUE(transport_.requests[2].body.ends_with("&PolicyName=BedrockBudgeteerSuspension"))
      << transport_.requests[2].body;
}

TEST_F(IamEnforcerTest, RestoringWhatIsGoneSucceedsButAMissingUserIsPermanent) {
  transport_.Reply(200, kCallerIdentity);
  transport_.Reply(404, ErrorXml("NoSuchEntity"));  // the policy is gone...
  transport_.Reply(200, "<GetUserResponse/>");      // ...and the user is there: done
  auto e = Make();
  EXPECT_TRUE(e->Apply(Action("restore_access", "user", "alice")).ok());

  transport_.Reply(404, ErrorXml("NoSuchEntity"));
  transport_.Reply(404, ErrorXml("NoSuchEntity"));  // the user itself is missing
  const Status missing = e->Apply(Action("restore_access", "user", "ghost"));
  EXPECT_EQ(missing.code(), Code::kNotFound) << missing.ToString();
  EXPECT_FALSE(missing.retryable());
  EXPECT_NE(missing.message().find("IAM user ghost does not exist"), std::string::npos)
      << missing.ToString();
  EXPECT_EQ(transport_.Actions().back(), "GetUser");
}

TEST_F(IamEnforcerTest, ErrorsAreClassifiedRetryableOrPermanent) {
  transport_.Reply(200, kCallerIdentity);
  auto e = Make();
  const ActionMessage suspend = Action("suspend_access", "user", "alice");
  struct Case {
    int64_t status;
    const char* code;
    Code want;
    bool retryable;
  };
  for (const Case& c : {Case{400, "Throttling", Code::kResourceExhausted, true},
                        Case{500, "ServiceFailure", Code::kUnavailable, true},
                        Case{503, "ServiceUnavailable", Code::kUnavailable, true},
                        Case{403, "AccessDenied", Code::kPermissionDenied, false},
                        Case{404, "NoSuchEntity", Code::kNotFound, false},
                        Case{409, "LimitExceeded", Code::kFailedPrecondition, false}}) {
    transport_.Reply(c.status, ErrorXml(c.code));
    const Status s = e->Apply(suspend);
    EXPECT_EQ(s.retryable(), c.retryable) << c.code << ": " << s.ToString();
    if (c.want != Code::kFailedPrecondition) {
      EXPECT_EQ(s.code(), c.want) << s.ToString();
    }
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("suspend 123456789012:alice"), std::string::npos) << s.ToString();
  }
  transport_.FailNetwork();
  const Status network = e->Apply(suspend);
  EXPECT_TRUE(network.retryable()) << network.ToString();
}

TEST_F(IamEnforcerTest, PrincipalsOfAnotherAccountAreRefused) {
  transport_.Reply(200, kCallerIdentity);
  auto e = Make();
  const Status s = e->Apply(Action("suspend_access", "user", "alice", "999999999999"));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(s.retryable());
  EXPECT_NE(s.message().find("acts only in account 123456789012"), std::string::npos);
  EXPECT_EQ(transport_.requests.size(), 1u);  // nothing was written
}

TEST_F(IamEnforcerTest, CredentialsOfAnotherAccountThanConfiguredAreRefused) {
  transport_.Reply(200, kCallerIdentity);
  auto e = Make("210987654321");
  const Status s = e->Apply(Action("suspend_access", "user", "alice", "210987654321"));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("belong to account 123456789012"), std::string::npos);
}

TEST_F(IamEnforcerTest, RefusesWhatIamCannotDo) {
  auto e = Make();
  transport_.Reply(200, kCallerIdentity);
  const Status other =
      e->Apply(Action("suspend_access", "other", "arn:aws:sts::123456789012:federated-user/bob"));
  EXPECT_EQ(other.code(), Code::kInvalidArgument);
  EXPECT_FALSE(other.retryable());
  EXPECT_EQ(e->Apply(Action("notify", "user", "alice")).code(), Code::kInvalidArgument);
  EXPECT_EQ(IamEnforcer::Create(IamEnforcerConfig{"12345"}, deps_).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace budgeteer
