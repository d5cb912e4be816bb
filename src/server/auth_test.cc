#include "server/auth.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

namespace budgeteer {
namespace {

TEST(TokenAuthTest, RolesAndNames) {
  const TokenAuth auth({"alice:adm1n"}, {"v1ewer", "dash:d4sh"});
  auto admin = auth.Check("Bearer adm1n", Role::kAdmin);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->name, "alice");
  EXPECT_TRUE(auth.Check("Bearer adm1n", Role::kViewer).ok());
  auto viewer = auth.Check("Bearer v1ewer", Role::kViewer);
  ASSERT_TRUE(viewer.ok());
  EXPECT_EQ(viewer->name, "viewer-1");
  EXPECT_EQ(auth.Check("Bearer d4sh", Role::kViewer)->name, "dash");
  EXPECT_EQ(auth.Check("Bearer v1ewer", Role::kAdmin).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(auth.Check("", Role::kViewer).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer nope", Role::kViewer).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Check("Basic adm1n", Role::kViewer).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer alice:adm1n", Role::kViewer).status().code(),
            Code::kUnauthenticated);
}

// TokenAuth compares with util/constant_time: a presented token that differs from the
// configured one in its first byte takes as long to refuse as one that differs in its last.
TEST(TokenAuthTest, RefusalTimeDoesNotTellWhereTheTokenDiffers) {
  const std::string token(size_t{1} << 20, 't');
  const TokenAuth auth({"ops:" + token}, {});
  std::string first = token;
  first.front() = 'x';
  std::string last = token;
  last.back() = 'x';
  auto fastest = [&](const std::string& presented) {
    const std::string header = "Bearer " + presented;
    int64_t best = std::numeric_limits<int64_t>::max();
    for (int i = 0; i < 40; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const bool ok = auth.Check(header, Role::kViewer).ok();
      const auto t1 = std::chrono::steady_clock::now();
      EXPECT_FALSE(ok);
      best = std::min<int64_t>(
          best, std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    return best;
  };
  const int64_t early = fastest(first);
  const int64_t late = fastest(last);
  EXPECT_GT(early * 3, late) << "early " << early << " ns, late " << late << " ns";
}

}  // namespace
}  // namespace budgeteer
