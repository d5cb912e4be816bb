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
#include "aws/testing/moto_server.h"
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
    if (!aws::testing::MotoServer::Available()) {
      if (aws::testing::MotoRequired()) FAIL() << "moto_server is not on PATH (CI=true)";
      GTEST_SKIP() << "moto_server is not on PATH: skipping the SSM end-to-end test";
    }
    auto moto = aws::testing::MotoServer::Start(3);
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    env_.Set("AWS_ENDPOINT_URL", moto_->url());
    auto transport = aws::MakeCurlTransport();
    ASSERT_TRUE(transport.ok());
    transport_ = std::move(transport).value();
    auto key = aws::testing::CreateSigningUser(*moto_, "budgeteer");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    const std::string id = key->access_key_id;
    const std::string secret = key->secret_access_key;
    creds_ = std::make_unique<aws::StaticCredentialsProvider>(*key);
    Put("/bedrock-budgeteer/global/default_user_budget_usd", "2");
    Put("/bedrock-budgeteer/global/grace_period_seconds", "60");
    // The server finds moto and the key through the standard AWS variables (the test process's
    // environment is the server's).
    setenv("AWS_ENDPOINT_URL", moto_->url().c_str(), 1);       // NOLINT(concurrency-mt-unsafe)
    setenv("AWS_REGION", "us-east-1", 1);                      // NOLINT(concurrency-mt-unsafe)
    setenv("AWS_ACCESS_KEY_ID", id.c_str(), 1);                // NOLINT(concurrency-mt-unsafe)
    setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);        // NOLINT(concurrency-mt-unsafe)
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);  // NOLINT(concurrency-mt-unsafe)
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);              // NOLINT(concurrency-mt-unsafe)
    ServeFixture::SetUp();
  }

  aws::AwsClient Client(const aws::ServiceSpec& service, aws::CredentialsProvider* creds) {
    auto endpoint = aws::ResolveEndpoint(service, "us-east-1", env_);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    return aws::AwsClient(service, endpoint.ok() ? *endpoint : aws::Endpoint{}, creds, *transport_,
                          clock_, aws::HttpTimeouts{2000, 20000});
  }

  void Put(const std::string& name, const std::string& value) {
    auto ssm = Client(aws::kSsm, creds_.get());
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

  SystemClock clock_;
  aws::MapEnvironment env_;
  std::unique_ptr<aws::testing::MotoServer> moto_;
  std::unique_ptr<aws::HttpTransport> transport_;
  std::unique_ptr<aws::CredentialsProvider> creds_;
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
