#include "core/money.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

TEST(MoneyTest, ParsesExactDecimals) {
  struct Case {
    const char* text;
    int64_t nanos;
  };
  const Case cases[] = {
      {"1", 1'000'000'000},
      {"0.25", 250'000'000},
      {"12.000000001", 12'000'000'001},
      {"-3.5", -3'500'000'000},
      {"0", 0},
      {"0.100000000", 100'000'000},
      {".5", 500'000'000},
      {"7.", 7'000'000'000},
  };
  for (const auto& c : cases) {
    auto m = Money::ParseUsd(c.text);
    ASSERT_TRUE(m.ok()) << c.text << ": " << m.status().ToString();
    EXPECT_EQ(m->nanos(), c.nanos) << c.text;
  }
}

TEST(MoneyTest, RejectsInexactOrMalformed) {
  for (const char* text :
       {"", "-", "1.0000000001", "1e3", "abc", "1.2.3", "99999999999999999999", "0x10", " 1"}) {
    auto m = Money::ParseUsd(text);
    EXPECT_FALSE(m.ok()) << text;
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), Code::kInvalidArgument) << text;
    }
  }
}

TEST(MoneyTest, FormatsWithFewestDecimals) {
  EXPECT_EQ(Money::FromNanos(1'500'000'000).ToUsd(), "1.5");
  EXPECT_EQ(Money::FromNanos(1'500'000'000).ToUsd(2), "1.50");
  EXPECT_EQ(Money::FromNanos(1).ToUsd(), "0.000000001");
  EXPECT_EQ(Money::FromNanos(-1).ToUsd(), "-0.000000001");
  EXPECT_EQ(Money::FromUsd(3).ToUsd(), "3");
  EXPECT_EQ(Money::FromNanos(0).ToUsd(2), "0.00");
}

TEST(MoneyTest, ScaledCostIsExactAndRoundsOnce) {
  // Nova Micro cache read: $0.00875 per million tokens = 8,750,000 nano-dollars per million.
  const RatePerMillion rate{8'750'000};
  // 1 token costs 8.75 nano-dollars: rounds half away from zero to 9.
  EXPECT_EQ(RoundScaled(ScaledCost(1, rate)).nanos(), 9);
  // 4 tokens cost exactly 35 nano-dollars.
  EXPECT_EQ(RoundScaled(ScaledCost(4, rate)).nanos(), 35);
  // Summing before rounding: 1 token twice rounds once (17.5 -> 18), not 9 + 9.
  EXPECT_EQ(RoundScaled(ScaledCost(1, rate) + ScaledCost(1, rate)).nanos(), 18);
  // A million tokens of Claude Opus output at $75/M is exactly $75.
  EXPECT_EQ(RoundScaled(ScaledCost(1'000'000, RatePerMillion{75'000'000'000})), Money::FromUsd(75));
}

TEST(MoneyTest, BasisPoints) {
  EXPECT_EQ(BasisPoints(Money::FromNanos(700'000'000), Money::FromUsd(1)), 7000);
  EXPECT_EQ(BasisPoints(Money::FromNanos(1), Money::FromUsd(1)), 0);
  EXPECT_EQ(BasisPoints(Money::FromUsd(2), Money::FromUsd(1)), 20000);
  EXPECT_EQ(BasisPoints(Money::FromUsd(2), Money::FromNanos(0)), 0);
}

}  // namespace
}  // namespace budgeteer
