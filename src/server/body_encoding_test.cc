#include "server/body_encoding.h"

#include <gtest/gtest.h>

#include <string>

#include "formats/input.h"

namespace budgeteer {
namespace {

TEST(BodyEncodingTest, IdentityIsEmptyOrIdentity) {
  EXPECT_TRUE(IsIdentityEncoding(""));
  EXPECT_TRUE(IsIdentityEncoding("identity"));
  EXPECT_FALSE(IsIdentityEncoding("gzip"));
  EXPECT_FALSE(IsIdentityEncoding("deflate"));
}

TEST(BodyEncodingTest, GzipIsInflatedWithinTheLimit) {
  const std::string text(10'000, 'x');
  const std::string gz = *Gzip(text);
  auto out = DecodeBody("gzip", gz, text.size());
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, text);
  auto over = DecodeBody("gzip", gz, text.size() - 1);
  EXPECT_EQ(over.status().code(), Code::kResourceExhausted);
}

TEST(BodyEncodingTest, EachProblemIsNamed) {
  const std::string gz = *Gzip(std::string(10'000, 'y') + "{\"a\":1}\n");
  const struct {
    std::string encoding;
    std::string body;
    std::string message;
  } cases[] = {
      {"gzip", gz.substr(0, gz.size() / 2), "gzip body cannot be inflated: gzip data is truncated"},
      {"gzip", gz.substr(0, gz.size() - 8), "truncated"},
      {"gzip", gz + "junk", "unexpected bytes after the end of a gzip member"},
      {"gzip", "{\"a\":1}", "Content-Encoding is gzip but the body is not gzip data"},
      {"gzip", "", "Content-Encoding is gzip but the body is not gzip data"},
      {"deflate", gz, "unsupported Content-Encoding 'deflate' (gzip or none)"},
  };
  for (const auto& c : cases) {
    auto out = DecodeBody(c.encoding, c.body, size_t{1} << 20);
    EXPECT_EQ(out.status().code(), Code::kInvalidArgument) << c.message;
    EXPECT_NE(out.status().message().find(c.message), std::string::npos) << out.status().message();
  }
}

}  // namespace
}  // namespace budgeteer
