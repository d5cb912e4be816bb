#include "actions/payload.h"

#include <gtest/gtest.h>

#include "actions/http_client.h"
#include "actions/testing/sample.h"

namespace budgeteer {
namespace {

TEST(PayloadFields, ReadsStringsNumbersAndBooleansSkipsNull) {
  const auto f = PayloadFields::Parse(testing::SamplePayload());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->Get("qualified"), "123456789012/alice");
  EXPECT_EQ(f->Get("spent_usd"), "100.456789");
  EXPECT_EQ(f->Get("percent"), "100.45");
  EXPECT_EQ(f->Get("manual_suspension"), "false");
  EXPECT_FALSE(f->Has("exempt_until"));
  EXPECT_EQ(f->Get("missing"), "");
}

TEST(PayloadFields, RejectsNonObjects) {
  EXPECT_EQ(PayloadFields::Parse("[1]").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PayloadFields::Parse("{").status().code(), Code::kInvalidArgument);
}

TEST(UsdCents, RoundsHalfUp) {
  EXPECT_EQ(UsdCents("100.456789"), "100.46");
  EXPECT_EQ(UsdCents("100"), "100.00");
  EXPECT_EQ(UsdCents("0.004999999"), "0.00");
  EXPECT_EQ(UsdCents("abc"), "abc");
}

TEST(RedactUrl, KeepsOnlySchemeAndHost) {
  EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…");
  EXPECT_EQ(RedactUrl("https://user:pw@example.com:8443/x?token=y"), "https://example.com:8443/…");
  EXPECT_EQ(RedactUrl("smtps://mail.example.com"), "smtps://mail.example.com/…");
  EXPECT_EQ(RedactUrl("nonsense"), "<url>");
}

TEST(OneLine, ReplacesControlCharacters) { EXPECT_EQ(OneLine("a\r\nb\tc"), "a  b c"); }

}  // namespace
}  // namespace budgeteer
