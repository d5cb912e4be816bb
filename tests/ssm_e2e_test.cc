// `budgeteer serve` with its budget defaults in SSM Parameter Store (moto_server, SigV4
// verified): the seed's parameters apply at start-up, and a changed parameter takes effect
// without a restart, audited as defaults_changed by actor "ssm".
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/environment.h"
#include "aws/testing/moto_account.h"
#include "tests/serve_fixture.h"
#include "util/json_writer.h"

namespace budgeteer::testing {
namespace {

class SsmE2E : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
[ssm]
enabled = true
refresh_seconds = 5
)";
  }

  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    Put("/bedrock-budgeteer/global/default_user_budget_usd", "2");
    Put("/bedrock-budgeteer/global/grace_period_seconds", "60");
    // The server finds moto and the key through the standard AWS variables (the test process's
    // environment is the server's).
    moto_->ExportToChildProcesses();
    ServeFixture::SetUp();
  }

  void Put(const std::string& name, const std::string& value) {
    auto ssm = moto_->Client(aws::kSsm);
    JsonWriter w;
    w.BeginObject()
        .Field("Name", name)
        .Field("Value", value)
        .Field("Type", "String")
        .Field("Overwrite", true)
        .EndObject();
    auto put = ssm.Json("AmazonSSM", "PutParameter", w.Take());
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  std::unique_ptr<aws::testing::MotoAccount> moto_;
};

TEST_F(SsmE2E, DefaultsComeFromSsmAndFollowItsChanges) {
  ASSERT_TRUE(Ingest("r1", 4'000'000));  // $1.00 of the $2 SSM limit: 50 %
  std::string budget = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
  EXPECT_NE(budget.find(R"("limit_usd":2)"), std::string::npos) << budget;
  EXPECT_NE(budget.find(R"("status":"active")"), std::string::npos) << budget;

  Put("/bedrock-budgeteer/global/default_user_budget_usd", "1.2");  // now 83 %: warning
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         budget.find(R"("status":"warning")") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    budget = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
  }
  EXPECT_NE(budget.find(R"("limit_usd":1.2)"), std::string::npos) << budget;
  EXPECT_NE(budget.find(R"("status":"warning")"), std::string::npos) << budget;
  const std::string audit = Get("/v1/audit", "v1ewer-token");
  EXPECT_NE(audit.find(R"("actor":"ssm","kind":"defaults_changed")"), std::string::npos) << audit;
}

}  // namespace
}  // namespace budgeteer::testing
