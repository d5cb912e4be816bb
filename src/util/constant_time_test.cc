#include "util/constant_time.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

TEST(ConstantTimeTest, ComparesExactly) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cre"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cret!"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "S3cret"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace budgeteer
