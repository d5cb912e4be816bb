// FetchParametersByPath against moto_server with SigV4 verification: String and SecureString
// parameters, more than one page, nothing outside the path.
#include <gtest/gtest.h>

#include <memory>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/testing/moto_account.h"
#include "aws/testing/moto_server.h"
#include "core/clock.h"
#include "sources/ssm_defaults.h"
#include "util/json_writer.h"

namespace budgeteer::sources {
namespace {

class SsmMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!aws::testing::MotoServer::Available()) {
      if (aws::testing::MotoRequired()) FAIL() << "moto_server is not on PATH (CI=true)";
      GTEST_SKIP() << "moto_server is not on PATH: skipping the SSM tests";
    }
    auto moto = aws::testing::MotoServer::Start(3);
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    env_.Set("AWS_ENDPOINT_URL", moto_->url());
    auto transport = aws::MakeCurlTransport();
    ASSERT_TRUE(transport.ok());
    transport_ = std::move(transport).value();
    auto key = aws::testing::CreateSigningUser(*moto_, "ssm-reader");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    creds_ = std::make_unique<aws::StaticCredentialsProvider>(*key);
  }

  aws::AwsClient Client(const aws::ServiceSpec& service, aws::CredentialsProvider* creds) {
    auto endpoint = aws::ResolveEndpoint(service, "us-east-1", env_);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    return aws::AwsClient(service, endpoint.ok() ? *endpoint : aws::Endpoint{}, creds, *transport_,
                          clock_, aws::HttpTimeouts{2000, 20000});
  }

  void Put(aws::AwsClient& ssm, const std::string& name, const std::string& value,
           const char* type = "String") {
    JsonWriter w;
    w.BeginObject()
        .Field("Name", name)
        .Field("Value", value)
        .Field("Type", type)
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

TEST_F(SsmMotoTest, ReadsTheSeedsParametersAcrossPages) {
  auto ssm = Client(aws::kSsm, creds_.get());
  Put(ssm, "/bedrock-budgeteer/global/default_user_budget_usd", "25");
  Put(ssm, "/bedrock-budgeteer/global/grace_period_seconds", "60", "SecureString");
  Put(ssm, "/bedrock-budgeteer/production/cost/budget_refresh_period_days", "7");
  for (int i = 0; i < 23; ++i) {  // more than two pages of 10
    Put(ssm, "/bedrock-budgeteer/production/misc/p" + std::to_string(i), std::to_string(i));
  }
  Put(ssm, "/elsewhere/global/default_user_budget_usd", "999");

  auto params = FetchParametersByPath(ssm, "/bedrock-budgeteer");
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  EXPECT_EQ(params->size(), 26U);
  EXPECT_EQ(params->at("/bedrock-budgeteer/global/grace_period_seconds"), "60");  // decrypted
  EXPECT_EQ(params->count("/elsewhere/global/default_user_budget_usd"), 0U);
  auto d = DefaultsFromParameters(*params, SsmDefaultsOptions{}, BudgetSettings{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->limit, Money::FromUsd(25));
  EXPECT_EQ(d->grace_seconds, 60);
  EXPECT_EQ(d->period.days, 7);

  // The cap on how many parameters a prefix may hold.
  auto capped = FetchParametersByPath(ssm, "/bedrock-budgeteer", 5);
  EXPECT_EQ(capped.status().code(), Code::kInvalidArgument);

  // A wrongly signed request is refused by moto.
  aws::StaticCredentialsProvider wrong(
      aws::Credentials{creds_->Get()->access_key_id, "wrong-secret", "", {}, "test"});
  auto bad = Client(aws::kSsm, &wrong);
  EXPECT_EQ(FetchParametersByPath(bad, "/bedrock-budgeteer").status().code(),
            Code::kUnauthenticated);
}

}  // namespace
}  // namespace budgeteer::sources
