#include "engine/request_id_set.h"

#include <gtest/gtest.h>

#include <string>

namespace budgeteer {
namespace {

TEST(RequestIdSetTest, InsertsOnceAndGrows) {
  RequestIdSet set;
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(set.Insert("req-" + std::to_string(i)));
  }
  EXPECT_EQ(set.size(), 100000U);
  for (int i = 0; i < 100000; i += 997) {
    EXPECT_FALSE(set.Insert("req-" + std::to_string(i)));
    EXPECT_TRUE(set.Contains("req-" + std::to_string(i)));
  }
  EXPECT_FALSE(set.Contains("req-100000"));
  EXPECT_TRUE(set.Insert(""));
  EXPECT_FALSE(set.Insert(""));
  set.Clear();
  EXPECT_EQ(set.size(), 0U);
  EXPECT_TRUE(set.Insert("req-1"));
}

}  // namespace
}  // namespace budgeteer
