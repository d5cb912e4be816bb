#include <gtest/gtest.h>

#include <random>
#include <string>

#include "formats/input.h"
#include "formats/internal.h"

namespace budgeteer {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsBinary) {
  std::mt19937 rng(7);
  for (size_t len = 0; len < 200; ++len) {
    std::string bytes(len, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
    auto back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
  }
}

TEST(Base64Test, AcceptsMissingPadding) {
  auto decoded = Base64Decode("Zm9vYg");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "foob");
}

TEST(Base64Test, DecodesIntoPaddedBuffer) {
  formats_internal::PaddedBuffer buf;
  ASSERT_TRUE(formats_internal::Base64DecodeInto("eyJhIjoxfQ==", buf).ok());
  EXPECT_EQ(buf.view(), "{\"a\":1}");
  EXPECT_GE(buf.padded_size(), buf.size() + formats_internal::kJsonPadding);
}

TEST(Base64Test, RejectsInvalidCharactersWithTheirOffset) {
  auto bad = Base64Decode("Zm9v!mFy");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("offset 4"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("'!'"), std::string::npos);

  auto url_safe = Base64Decode("Zm9v-_8=");
  ASSERT_FALSE(url_safe.ok());
  EXPECT_NE(url_safe.status().message().find("standard alphabet"), std::string::npos);

  auto space = Base64Decode("Zm9v YmF");
  ASSERT_FALSE(space.ok());
  EXPECT_NE(space.status().message().find("0x20"), std::string::npos);
}

TEST(Base64Test, RejectsBadPaddingAndLength) {
  auto middle = Base64Decode("Zg==Zm9v");
  ASSERT_FALSE(middle.ok());
  EXPECT_NE(middle.status().message().find("padding"), std::string::npos);

  auto odd = Base64Decode("Zm9vY");
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.status().message().find("one character over"), std::string::npos);

  auto short_pad = Base64Decode("Zg=");
  ASSERT_FALSE(short_pad.ok());
  EXPECT_NE(short_pad.status().message().find("multiple of 4"), std::string::npos);
}

}  // namespace
}  // namespace budgeteer
