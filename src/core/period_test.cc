#include "core/period.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

TEST(PeriodSpecTest, ParsesAndPrints) {
  for (const char* text : {"30d", "7d", "1d", "monthly", "weekly", "3660d"}) {
    auto spec = PeriodSpec::Parse(text);
    ASSERT_TRUE(spec.ok()) << text;
    EXPECT_EQ(spec->ToString(), text);
  }
  for (const char* text : {"", "0d", "d", "30", "3661d", "month", "-1d", "30D"}) {
    EXPECT_EQ(PeriodSpec::Parse(text).status().code(), Code::kInvalidArgument) << text;
  }
}

TEST(PeriodTest, RollingPeriodsCountFromTheAnchor) {
  const PeriodSpec spec{PeriodKind::kRollingDays, 30};
  const Timestamp anchor = T("2026-01-10T00:00:00Z");
  struct Case {
    const char* t;
    const char* start;
    const char* end;
  };
  const Case cases[] = {
      {"2026-01-10T00:00:00Z", "2026-01-10T00:00:00Z", "2026-02-09T00:00:00Z"},
      {"2026-02-08T23:59:59Z", "2026-01-10T00:00:00Z", "2026-02-09T00:00:00Z"},
      {"2026-02-09T00:00:00Z", "2026-02-09T00:00:00Z", "2026-03-11T00:00:00Z"},
      {"2026-01-09T23:59:59Z", "2025-12-11T00:00:00Z", "2026-01-10T00:00:00Z"},
  };
  for (const auto& c : cases) {
    const Period p = PeriodContaining(spec, anchor, T(c.t));
    EXPECT_EQ(p.start, T(c.start)) << c.t;
    EXPECT_EQ(p.end, T(c.end)) << c.t;
  }
}

TEST(PeriodTest, CalendarPeriodsAreUtcAligned) {
  const PeriodSpec monthly{PeriodKind::kMonthly, 0};
  Period p = PeriodContaining(monthly, Timestamp(), T("2026-12-31T23:59:59Z"));
  EXPECT_EQ(p.start, T("2026-12-01T00:00:00Z"));
  EXPECT_EQ(p.end, T("2027-01-01T00:00:00Z"));
  p = PeriodContaining(monthly, Timestamp(), T("2028-02-29T12:00:00Z"));
  EXPECT_EQ(p.start, T("2028-02-01T00:00:00Z"));
  EXPECT_EQ(p.end, T("2028-03-01T00:00:00Z"));

  const PeriodSpec weekly{PeriodKind::kWeekly, 0};
  p = PeriodContaining(weekly, Timestamp(), T("2026-11-29T23:00:00Z"));  // a Sunday
  EXPECT_EQ(p.start, T("2026-11-23T00:00:00Z"));                         // Monday
  EXPECT_EQ(p.end, T("2026-11-30T00:00:00Z"));
  p = PeriodContaining(weekly, Timestamp(), T("2026-11-30T00:00:00Z"));
  EXPECT_EQ(p.start, T("2026-11-30T00:00:00Z"));
}

TEST(PeriodSpecTest, CalendarSpecsIgnoreDays) {
  EXPECT_EQ((PeriodSpec{PeriodKind::kMonthly, 30}), *PeriodSpec::Parse("monthly"));
  EXPECT_NE((PeriodSpec{PeriodKind::kRollingDays, 30}), *PeriodSpec::Parse("7d"));
}

TEST(PeriodTest, AnchorIsStartOfUtcDay) {
  EXPECT_EQ(AnchorFor(T("2026-03-04T15:16:17Z")), T("2026-03-04T00:00:00Z"));
}

}  // namespace
}  // namespace budgeteer
