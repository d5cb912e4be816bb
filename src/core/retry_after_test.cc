#include "core/retry_after.h"

#include <gtest/gtest.h>

#include "core/status.h"

namespace budgeteer {
namespace {

// Fri, 27 Nov 2026 23:00:00 GMT.
constexpr Timestamp kNow = Timestamp::FromUnixSeconds(1'795'820'400);
// RFC 9110's example instant: Sun, 06 Nov 1994 08:49:37 GMT.
constexpr Timestamp kExample = Timestamp::FromUnixSeconds(784'111'777);

TEST(HttpDateTest, ParsesTheThreeFormsOfRfc9110) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", kNow), kExample);   // IMF-fixdate
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", kNow), kExample);  // RFC 850
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994", kNow), kExample);        // asctime
  EXPECT_EQ(ParseHttpDate("Fri, 27 Nov 2026 23:00:02 GMT", kNow), kNow.PlusSeconds(2));
  EXPECT_EQ(ParseHttpDate("Thu, 29 Feb 2024 00:00:00 GMT", kNow),
            Timestamp::FromUnixSeconds(1'709'164'800));
  EXPECT_EQ(ParseHttpDate("Wed Nov 16 08:49:37 1994", kNow),
            kExample.PlusSeconds(int64_t{10} * 86'400));
}

TEST(HttpDateTest, TwoDigitYearsAreNeverMoreThanFiftyYearsAhead) {
  // From 2026: "75" is 2075 (49 years ahead), "77" is 1977 (2077 would be 51 years ahead).
  EXPECT_EQ(ParseHttpDate("Tuesday, 01-Jan-75 00:00:00 GMT", kNow)->ToRfc3339(),
            "2075-01-01T00:00:00Z");
  EXPECT_EQ(ParseHttpDate("Saturday, 01-Jan-77 00:00:00 GMT", kNow)->ToRfc3339(),
            "1977-01-01T00:00:00Z");
}

TEST(HttpDateTest, RejectsMalformedDates) {
  for (const char* bad : {
           "",
           "Sun, 06 Nov 1994 08:49:37",         // no zone
           "Sun, 06 Nov 1994 08:49:37 UTC",     // another zone
           "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing text
           "Sun, 6 Nov 1994 08:49:37 GMT",      // one-digit day in IMF-fixdate
           "Sun, 31 Nov 1994 08:49:37 GMT",     // no such day
           "Sun, 29 Feb 2025 08:49:37 GMT",     // not a leap year
           "Sun, 06 Nov 1994 24:00:00 GMT",     // hour out of range
           "Sun, 06 Nov 1994 08:60:00 GMT",     // minute out of range
           "Xyz, 06 Nov 1994 08:49:37 GMT",     // not a day name
           "Sun, 06 Foo 1994 08:49:37 GMT",     // not a month name
           "Sun, 06-Nov-94 08:49:37 GMT",       // RFC 850 wants the long day name
           "Sunday, 06-Nov-1994 08:49:37 GMT",  // and a two-digit year
           "Sun Nov 6 08:49:37 1994",           // asctime pads the day with a space
           "2026-11-27T23:00:00Z",              // RFC 3339 is not an HTTP-date
       }) {
    EXPECT_FALSE(ParseHttpDate(bad, kNow).has_value()) << bad;
  }
}

TEST(RetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(ParseRetryAfterMs("2", kNow), 2000);
  EXPECT_EQ(ParseRetryAfterMs("0", kNow), 0);
  EXPECT_EQ(ParseRetryAfterMs(" 120\t", kNow), 120'000);  // blanks around are ignored
  EXPECT_EQ(ParseRetryAfterMs("007", kNow), 7000);
}

TEST(RetryAfterTest, HugeDeltaSecondsSaturateAtTwoToTheThirtyOne) {
  EXPECT_EQ(ParseRetryAfterMs("2147483648", kNow), (int64_t{1} << 31) * 1000);
  EXPECT_EQ(ParseRetryAfterMs("99999999999999999999999999999", kNow), (int64_t{1} << 31) * 1000);
}

TEST(RetryAfterTest, HttpDates) {
  EXPECT_EQ(ParseRetryAfterMs("Fri, 27 Nov 2026 23:00:02 GMT", kNow), 2000);
  EXPECT_EQ(ParseRetryAfterMs("Friday, 27-Nov-26 23:01:00 GMT", kNow), 60'000);
  EXPECT_EQ(ParseRetryAfterMs("Fri Nov 27 23:00:30 2026", kNow), 30'000);
  // Now, or already past (a clock ahead of the server's): no wait, not "no hint".
  EXPECT_EQ(ParseRetryAfterMs("Fri, 27 Nov 2026 23:00:00 GMT", kNow), 0);
  EXPECT_EQ(ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", kNow), 0);
  EXPECT_EQ(ParseRetryAfterMs("Fri, 27 Nov 2026 23:00:02 GMT", kNow.PlusMillis(500)), 1500);
}

TEST(RetryAfterTest, GarbageGivesNoHint) {
  for (const char* bad : {"", "  ", "-5", "+5", "1.5", "5s", "soon", "0x10", "1 2",
                          "Fri, 27 Nov 2026 25:00:00 GMT", "2026-11-27T23:00:02Z"}) {
    EXPECT_FALSE(ParseRetryAfterMs(bad, kNow).has_value()) << "'" << bad << "'";
  }
}

TEST(RetryAfterTest, StatusCarriesTheHintThroughContext) {
  const Status plain = Unavailable("HTTP 503");
  EXPECT_FALSE(plain.retry_after_ms().has_value());
  const Status hinted = plain.WithRetryAfterMs(2000);
  EXPECT_EQ(hinted.retry_after_ms(), 2000);
  EXPECT_EQ(hinted.code(), Code::kUnavailable);
  EXPECT_TRUE(hinted.retryable());
  const Status wrapped = hinted.WithContext("webhook:ops");
  EXPECT_EQ(wrapped.retry_after_ms(), 2000);
  EXPECT_EQ(wrapped.message(), "webhook:ops: HTTP 503");
  EXPECT_FALSE(hinted.WithRetryAfterMs(-1).retry_after_ms().has_value());
}

}  // namespace
}  // namespace budgeteer
