// Fault injection, AWS during suspension: `budgeteer serve` with enforce.mode = "iam" reaches
// moto_server (signature checks on) through a loopback proxy the test controls. The proxy can
// answer the first IAM PutUserPolicy calls itself with AWS's throttling error (400 Throttling)
// and 503, or stop listening altogether (the emulator unreachable) and come back on the same
// port. The suspension is retried with backoff (throttling and 503 are retryable) and applied
// once AWS answers again: the deny policy is on the user exactly once. (Stopping moto itself
// would lose its in-memory IAM state, so "down" is the proxy refusing connections.)
// Skipped without moto_server, unless CI=true.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/client.h"
#include "aws/testing/moto_account.h"
#include "aws/xml.h"
#include "core/clock.h"
#include "tests/restartable_server.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kIamVersion[] = "2010-05-08";
constexpr char kUser[] = "BedrockAPIKey-faults";
constexpr char kPrincipal[] = "123456789012:BedrockAPIKey-faults";

// Forwards POST / (the query protocol: IAM, STS) to moto, Host header and all, so the SigV4
// signature made for the proxy's address still verifies. Scripted faults for PutUserPolicy;
// Down()/Up() refuse connections and come back on the same port. Thread-safe.
class AwsProxy {
 public:
  explicit AwsProxy(int moto_port) : moto_port_(moto_port) {}

  // The next PutUserPolicy calls get these statuses (400 = Throttling) instead of moto.
  void FailPutUserPolicy(std::vector<int> statuses) {
    const std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(statuses);
  }
  int put_user_policy_calls() const { return put_calls_.load(); }
  int put_user_policy_forwarded() const { return put_forwarded_.load(); }

  void Down() { server_.Down(); }
  void Up() { server_.Up(); }

  std::string url() const { return server_.url(); }

 private:
  void Routes(httplib::Server& server) {
    server.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.body.find("Action=PutUserPolicy") != std::string::npos) {
        ++put_calls_;
        int status = 0;
        {
          const std::lock_guard<std::mutex> lock(mu_);
          if (!script_.empty()) {
            status = script_.front();
            script_.erase(script_.begin());
          }
        }
        if (status == 400) {
          res.status = 400;
          res.set_content(
              "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
              "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
              "</Error><RequestId>faults-1</RequestId></ErrorResponse>",
              "text/xml");
          return;
        }
        if (status != 0) {
          res.status = status;
          res.set_content("Service Unavailable", "text/plain");
          return;
        }
        ++put_forwarded_;
      }
      httplib::Client moto("127.0.0.1", moto_port_);
      moto.set_read_timeout(10, 0);
      httplib::Headers headers;
      std::string content_type = "application/x-www-form-urlencoded";
      for (const auto& [name, value] : req.headers) {
        if (name == "Content-Type") {
          content_type = value;
        } else if (name != "Content-Length" && name != "Connection" && name != "REMOTE_ADDR" &&
                   name != "REMOTE_PORT" && name != "LOCAL_ADDR" && name != "LOCAL_PORT") {
          headers.emplace(name, value);
        }
      }
      auto reply = moto.Post(req.path, headers, req.body, content_type);
      if (!reply) {
        res.status = 502;
        return;
      }
      res.status = reply->status;
      res.set_content(reply->body, reply->get_header_value("Content-Type"));
    });
  }

  const int moto_port_;
  std::mutex mu_;
  std::vector<int> script_;
  std::atomic<int> put_calls_{0};
  std::atomic<int> put_forwarded_{0};
  // Last: it starts listening once the state above exists, and stops before it goes.
  RestartableServer server_{[this](httplib::Server& server) { Routes(server); }};
};

class AwsFaultsE2E : public ServeFixture {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    ASSERT_TRUE(Iam("CreateUser", {{"UserName", kUser}}).ok());
    proxy_ = std::make_unique<AwsProxy>(moto_->server().port());

    // serve reaches AWS only through the proxy.
    moto_->ExportToChildProcesses();
    setenv("AWS_ENDPOINT_URL", proxy_->url().c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    ServeFixture::SetUp();
  }

  void TearDown() override {
    ServeFixture::TearDown();
    proxy_.reset();
  }

  std::string ConfigToml() override {
    return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[defaults]
default_user_budget_usd = 1
grace_period_seconds = 1
[enforce]
mode = "iam"
[enforce.iam]
account_id = "123456789012"
[outbox]
max_attempts = 30
base_backoff_ms = 100
max_backoff_ms = 400
)";
  }

  // An IAM query action straight to moto (not through the proxy).
  Result<std::string> Iam(const std::string& action,
                          const std::vector<std::pair<std::string, std::string>>& params) {
    return moto_->Client(aws::kIam).Query(action, kIamVersion, params);
  }

  // The user's inline policy names.
  std::vector<std::string> UserPolicies() {
    std::vector<std::string> out;
    auto reply = Iam("ListUserPolicies", {{"UserName", kUser}});
    if (!reply.ok()) return out;
    for (std::string_view m : aws::XmlElements(*reply, "member")) out.push_back(aws::XmlDecode(m));
    return out;
  }

  // $1.25 of the $1 budget: grace (1 s), then the scheduler suspends and the outbox calls IAM.
  void DriveOverBudget() {
    const std::string now = SystemClock().Now().PlusSeconds(-30).ToRfc3339();
    const std::string body = R"([{"request_id":"over-1","timestamp":")" + now +
                             R"(","principal":"arn:aws:iam::123456789012:user/)" + kUser +
                             R"(","model_id":"anthropic.claude-3-haiku-20240307-v1:0",)"
                             R"("input_tokens":5000000,"output_tokens":0}])";
    auto res = Client().Post("/v1/usage", {{"Authorization", "Bearer adm1n-token"}}, body,
                             "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  }

  std::string IamRow() {
    const std::string outbox = Get("/v1/outbox?limit=1000", "v1ewer-token");
    const size_t at = outbox.find(R"("channel":"enforce:iam")");
    if (at == std::string::npos) return "";
    const size_t start = outbox.rfind('{', at);
    return outbox.substr(start, outbox.find('}', at) - start + 1);
  }

  std::unique_ptr<aws::testing::MotoAccount> moto_;
  std::unique_ptr<AwsProxy> proxy_;
};

TEST_F(AwsFaultsE2E, ThrottledSuspensionIsRetriedAndAppliedOnce) {
  proxy_->FailPutUserPolicy({400, 503, 400});
  DriveOverBudget();
  ASSERT_TRUE(
      WaitUntil([&] { return JsonValue(IamRow(), "status") == "delivered"; }, milliseconds(20'000)))
      << IamRow() << "\n"
      << ServerLog();
  EXPECT_EQ(JsonValue(IamRow(), "attempts"), "4");
  EXPECT_EQ(proxy_->put_user_policy_calls(), 4);      // 3 refused, then moto
  EXPECT_EQ(proxy_->put_user_policy_forwarded(), 1);  // applied once
  EXPECT_EQ(UserPolicies(), std::vector<std::string>{"BedrockBudgeteerSuspension"});
  EXPECT_EQ(JsonValue(Get(std::string("/v1/budgets/") + kPrincipal, "v1ewer-token"), "status"),
            "suspended");
}

TEST_F(AwsFaultsE2E, SuspensionWhileAwsIsUnreachableIsAppliedOnceItIsBack) {
  proxy_->Down();
  DriveOverBudget();
  // Suspended in the ledger at once; the IAM call fails and is retried.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string row = IamRow();
        const std::string attempts = JsonValue(row, "attempts");
        return JsonValue(row, "status") == "failed" && !attempts.empty() &&
               std::stoi(attempts) >= 3;
      },
      milliseconds(20'000)))
      << IamRow() << "\n"
      << ServerLog();
  EXPECT_FALSE(JsonValue(IamRow(), "last_error").empty()) << IamRow();
  EXPECT_TRUE(UserPolicies().empty());
  EXPECT_EQ(JsonValue(Get(std::string("/v1/budgets/") + kPrincipal, "v1ewer-token"), "status"),
            "suspended");

  proxy_->Up();
  ASSERT_TRUE(
      WaitUntil([&] { return JsonValue(IamRow(), "status") == "delivered"; }, milliseconds(20'000)))
      << IamRow() << "\n"
      << ServerLog();
  EXPECT_EQ(proxy_->put_user_policy_forwarded(), 1);
  EXPECT_EQ(UserPolicies(), std::vector<std::string>{"BedrockBudgeteerSuspension"});
}

}  // namespace
}  // namespace budgeteer::testing
