#include "server/auth.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace budgeteer
