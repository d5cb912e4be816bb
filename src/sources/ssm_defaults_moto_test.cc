// FetchParametersByPath against moto_server with SigV4 verification: String and SecureString
// parameters, more than one page, nothing outside the path.
#include <gtest/gtest.h>

#include <memory>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/testing/moto_account.h"
#include "core/clock.h"
#include "sources/ssm_defaults.h"
#include "util/json_writer.h"

namespace budgeteer::sources {
namespace {

class SsmMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("ssm-reader");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
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

  std::unique_ptr<aws::testing::MotoAccount> moto_;
};

TEST_F(SsmMotoTest, ReadsTheSeedsParametersAcrossPages) {
  auto ssm = moto_->Client(aws::kSsm);
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
      aws::Credentials{moto_->keys().access_key_id, "wrong-secret", "", {}, "test"});
  auto bad = moto_->Client(aws::kSsm, &wrong);
  EXPECT_EQ(FetchParametersByPath(bad, "/bedrock-budgeteer").status().code(),
            Code::kUnauthenticated);
}

}  // namespace
}  // namespace budgeteer::sources
