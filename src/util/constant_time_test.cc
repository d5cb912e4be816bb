#include "util/constant_time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

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

// The fastest of `runs` calls of `fn`, in nanoseconds (the minimum filters out a busy machine).
int64_t FastestNanos(const std::function<bool()>& fn, int runs = 40) {
  int64_t best = std::numeric_limits<int64_t>::max();
  bool sink = false;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    sink ^= fn();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min<int64_t>(best,
                             std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  EXPECT_FALSE(sink && runs < 0);  // keeps the calls from being optimised away
  return best;
}

// A difference in the first byte costs as much as one in the last byte and as a match. A
// comparison that stops at the first difference (==, memcmp) answers the first case thousands
// of times faster on 1 MiB; the test checks that it would notice one.
TEST(ConstantTimeTest, TimeDoesNotDependOnWhereTheInputsDiffer) {
  const std::string secret(size_t{1} << 20, 's');
  const std::string same = secret;  // another buffer: no pointer-equality shortcut
  std::string first = secret;
  first.front() = 'x';
  std::string last = secret;
  last.back() = 'x';
  const int64_t match = FastestNanos([&] { return ConstantTimeEquals(secret, same); });
  const int64_t early = FastestNanos([&] { return ConstantTimeEquals(secret, first); });
  const int64_t late = FastestNanos([&] { return ConstantTimeEquals(secret, last); });
  EXPECT_GT(early * 3, match) << "early " << early << " ns, match " << match << " ns";
  EXPECT_GT(early * 3, late) << "early " << early << " ns, late " << late << " ns";
  const int64_t naive = FastestNanos([&] { return secret == first; });
  EXPECT_LT(naive * 20, early) << "naive " << naive << " ns: the measurement cannot tell";
}

}  // namespace
}  // namespace budgeteer
