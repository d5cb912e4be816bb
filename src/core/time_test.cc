#include "core/time.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

TEST(TimestampTest, ParsesRfc3339Forms) {
  struct Case {
    const char* text;
    int64_t ms;
  };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2026-01-31T12:00:00Z", 1769860800000},
      {"2026-01-31T12:00:00.250Z", 1769860800250},
      {"2026-01-31T12:00:00.123456789Z", 1769860800123},
      {"2026-01-31T14:00:00+02:00", 1769860800000},
      {"2026-01-31 12:00:00z", 1769860800000},
      {"2024-02-29T00:00:00Z", 1709164800000},
  };
  for (const auto& c : cases) {
    auto t = Timestamp::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    EXPECT_EQ(t->unix_millis(), c.ms) << c.text;
  }
}

TEST(TimestampTest, RejectsMalformed) {
  for (const char* text :
       {"", "2026-01-31", "2026-01-31T12:00:00", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-01-31T12:00:00Zjunk", "yesterday", "2026-01-31T25:00:00Z", "2026-01-31T12:00:00.Z"}) {
    auto t = Timestamp::Parse(text);
    EXPECT_FALSE(t.ok()) << text;
  }
}

TEST(TimestampTest, FormatsRoundTrip) {
  EXPECT_EQ(Timestamp::FromUnixSeconds(1769860800).ToRfc3339(), "2026-01-31T12:00:00Z");
  EXPECT_EQ(Timestamp::FromUnixMillis(1769860800250).ToRfc3339(), "2026-01-31T12:00:00.250Z");
  EXPECT_EQ(Timestamp::FromUnixSeconds(-1).ToRfc3339(), "1969-12-31T23:59:59Z");
}

TEST(CivilTest, DaysAndWeekdays) {
  EXPECT_EQ(DaysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(WeekdayFromDays(0), 3);                              // Thursday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil({2026, 11, 30})), 0);  // a Monday
  const CivilDate d = CivilFromDays(DaysFromCivil({2000, 2, 29}));
  EXPECT_EQ(d.year, 2000);
  EXPECT_EQ(d.month, 2);
  EXPECT_EQ(d.day, 29);
}

}  // namespace
}  // namespace budgeteer
