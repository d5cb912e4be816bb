#include <gtest/gtest.h>

#include <random>
#include <string>

#include "formats/input.h"
#include "formats/internal.h"
#include "formats/test_util.h"

namespace budgeteer {
namespace {

using testing::ReadFixture;
using testing::TrickleSource;

std::string SomeText(size_t n) {
  std::string s;
  std::mt19937 rng(3);
  while (s.size() < n) s += "line " + std::to_string(rng() % 1000) + " of usage\n";
  s.resize(n);
  return s;
}

bool Contains(const Status& s, std::string_view part) {
  return s.message().find(part) != std::string::npos;
}

TEST(GzipTest, RoundTrips) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{3} << 20}) {
    const std::string text = SomeText(n);
    auto gz = Gzip(text);
    ASSERT_TRUE(gz.ok());
    EXPECT_TRUE(formats_internal::IsGzip(*gz));
    auto back = GunzipAll(*gz, size_t{1} << 30);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, text);
  }
}

TEST(GzipTest, ReadsConcatenatedMembers) {
  auto a = Gzip("first member\n");
  auto b = Gzip("second member\n");
  ASSERT_TRUE(a.ok() && b.ok());
  auto both = GunzipAll(*a + *b, 1000);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(*both, "first member\nsecond member\n");
}

TEST(GzipTest, ReadsFixtureWrittenByGnuGzip) {
  // Two members written by `gzip -9`, as `cat a.gz b.gz` would make.
  auto text = GunzipAll(ReadFixture("s3_object.json.gz"), size_t{1} << 20);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(testing::Lines(*text).size(), 5u);
}

TEST(GzipTest, TruncatedDataIsDataLoss) {
  auto gz = Gzip(SomeText(100000));
  ASSERT_TRUE(gz.ok());
  auto cut = GunzipAll(gz->substr(0, gz->size() / 2), size_t{1} << 30);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), Code::kDataLoss);
  EXPECT_TRUE(Contains(cut.status(), "truncated")) << cut.status().message();
  // Only the trailer missing.
  auto no_trailer = GunzipAll(gz->substr(0, gz->size() - 4), size_t{1} << 30);
  ASSERT_FALSE(no_trailer.ok());
  EXPECT_EQ(no_trailer.status().code(), Code::kDataLoss);
  // Data in memory is not a file: the caller says where it came from and what to do.
  EXPECT_EQ(cut.status().message().find("file"), std::string::npos) << cut.status().message();
}

TEST(GzipTest, CorruptDataIsDataLoss) {
  auto gz = Gzip(SomeText(100000));
  ASSERT_TRUE(gz.ok());
  std::string bad = *gz;
  for (size_t i = bad.size() / 3; i < bad.size() / 3 + 64; ++i) bad[i] = static_cast<char>(~bad[i]);
  auto out = GunzipAll(bad, size_t{1} << 30);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kDataLoss);
  EXPECT_TRUE(Contains(out.status(), "gzip data")) << out.status().message();
}

TEST(GzipTest, TrailingGarbageIsDataLoss) {
  auto gz = Gzip("hello\n");
  ASSERT_TRUE(gz.ok());
  auto out = GunzipAll(*gz + "garbage", 1000);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kDataLoss);
  EXPECT_TRUE(Contains(out.status(), "after the end of a gzip member")) << out.status().message();
}

TEST(GzipTest, CapsTheOutput) {
  const std::string zeros(size_t{10} << 20, '\0');  // a small zip bomb
  auto gz = Gzip(zeros);
  ASSERT_TRUE(gz.ok());
  EXPECT_LT(gz->size(), size_t{64} << 10);
  auto out = GunzipAll(*gz, size_t{1} << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kResourceExhausted);
  EXPECT_TRUE(Contains(out.status(), "ingest.max_decompressed_bytes"));
  auto exact = GunzipAll(*gz, zeros.size());
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), zeros.size());
}

TEST(GzipTest, NotGzipIsDataLoss) {
  auto out = GunzipAll("plain text", 1000);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kDataLoss);
}

std::string Drain(ByteSource& src, Status& status, size_t chunk) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    auto n = src.Read(buf.data(), buf.size());
    if (!n.ok()) {
      status = n.status();
      return out;
    }
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST(GunzipSourceTest, StreamsMembersAcrossTinyReads) {
  const std::string text1 = SomeText(70000);
  const std::string text2 = SomeText(5000);
  const std::string gz = *Gzip(text1) + *Gzip(text2) + *Gzip("");
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}}) {
    TrickleSource trickle(gz, step);
    auto src = formats_internal::NewGunzipSource(trickle, size_t{1} << 30);
    Status status;
    EXPECT_EQ(Drain(*src, status, 333), text1 + text2) << "step " << step;
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
}

TEST(GunzipSourceTest, ReportsTruncationCorruptionAndCap) {
  const std::string text = SomeText(200000);
  const std::string gz = *Gzip(text);
  {
    TrickleSource trickle(std::string_view(gz).substr(0, gz.size() - 100), 1000);
    auto src = formats_internal::NewGunzipSource(trickle, size_t{1} << 30);
    Status status;
    const std::string got = Drain(*src, status, 4096);
    EXPECT_EQ(status.code(), Code::kDataLoss);
    EXPECT_TRUE(Contains(status, "truncated")) << status.message();
    EXPECT_EQ(got, text.substr(0, got.size()));  // what came out before the cut is right
  }
  {
    std::string bad = gz;
    for (size_t i = 5000; i < 5100; ++i) bad[i] = 'x';
    TrickleSource trickle(bad, 1000);
    auto src = formats_internal::NewGunzipSource(trickle, size_t{1} << 30);
    Status status;
    Drain(*src, status, 4096);
    EXPECT_EQ(status.code(), Code::kDataLoss);
    EXPECT_TRUE(Contains(status, "corrupt")) << status.message();
  }
  {
    TrickleSource trickle(gz, 1 << 20);
    auto src = formats_internal::NewGunzipSource(trickle, 1000);
    Status status;
    const std::string got = Drain(*src, status, 4096);
    EXPECT_EQ(status.code(), Code::kResourceExhausted);
    EXPECT_LE(got.size(), 1000u);
  }
}

}  // namespace
}  // namespace budgeteer
