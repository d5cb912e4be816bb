#include "sources/ssm_defaults.h"

#include <gtest/gtest.h>

namespace budgeteer::sources {
namespace {

TEST(SsmDefaultsTest, AppliesTheSeedsParameters) {
  const std::map<std::string, std::string> params = {
      {"/bedrock-budgeteer/global/default_user_budget_usd", "25.50"},
      {"/bedrock-budgeteer/global/thresholds_percent_warn", "60"},
      {"/bedrock-budgeteer/global/thresholds_percent_critical", "85"},
      {"/bedrock-budgeteer/global/grace_period_seconds", "60"},
      {"/bedrock-budgeteer/global/budget_refresh_period_days", "14"},
      {"/bedrock-budgeteer/production/cost/budget_refresh_period_days", "7"},
      {"/bedrock-budgeteer/production/application/log_level", "DEBUG"},  // not ours: ignored
  };
  auto d = DefaultsFromParameters(params, SsmDefaultsOptions{}, BudgetSettings{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->limit, *Money::ParseUsd("25.5"));
  EXPECT_EQ(d->warn_percent, 60);
  EXPECT_EQ(d->critical_percent, 85);
  EXPECT_EQ(d->grace_seconds, 60);
  EXPECT_EQ(d->period.kind, PeriodKind::kRollingDays);
  EXPECT_EQ(d->period.days, 7);  // the environment's path wins over global
}

TEST(SsmDefaultsTest, MissingParametersKeepTheBase) {
  BudgetSettings base;
  base.grace_seconds = 42;
  auto d = DefaultsFromParameters({{"/x/global/thresholds_percent_warn", "50"}},
                                  SsmDefaultsOptions{"/x", "staging"}, base);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->warn_percent, 50);
  EXPECT_EQ(d->grace_seconds, 42);
  EXPECT_EQ(d->limit, base.limit);
}

TEST(SsmDefaultsTest, BadValuesNameTheParameter) {
  const std::string g = "/bedrock-budgeteer/global/";
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{g + "default_user_budget_usd", "lots"},
                                                        {g + "default_user_budget_usd", "-1"},
                                                        {g + "thresholds_percent_warn", "70.5"},
                                                        {g + "thresholds_percent_critical", "101"},
                                                        {g + "grace_period_seconds", "soon"},
                                                        {g + "budget_refresh_period_days", "0"}}) {
    auto d = DefaultsFromParameters({{name, value}}, SsmDefaultsOptions{}, BudgetSettings{});
    ASSERT_FALSE(d.ok()) << name << "=" << value;
    EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
    EXPECT_NE(d.status().message().find(name), std::string::npos) << d.status().message();
  }
  // Each valid alone, inconsistent together.
  auto d = DefaultsFromParameters(
      {{g + "thresholds_percent_warn", "95"}, {g + "thresholds_percent_critical", "80"}},
      SsmDefaultsOptions{}, BudgetSettings{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("thresholds_percent_critical"), std::string::npos);
}

}  // namespace
}  // namespace budgeteer::sources
