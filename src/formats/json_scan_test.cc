#include "formats/json_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace budgeteer::formats_internal {
namespace {

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonScanTest, DepthLimit) {
  size_t where = 0;
  EXPECT_TRUE(DepthWithin(Nested(64), 64, &where));
  EXPECT_FALSE(DepthWithin(Nested(65), 64, &where));
  EXPECT_EQ(where, 64u);
  // Many brackets, but not deep: the exact scan takes over from the count.
  std::string wide = "[";
  for (int i = 0; i < 500; ++i) wide += "{},";
  wide += "{}]";
  EXPECT_TRUE(DepthWithin(wide, 64, &where));
  // Brackets inside strings do not nest.
  const std::string in_string = "{\"a\":\"" + std::string(200, '[') + "\\\"[[[\"}";
  EXPECT_TRUE(DepthWithin(in_string, 3, &where));
  EXPECT_FALSE(DepthWithin("{\"a\":{\"b\":{\"c\":{}}}}", 3, &where));
  EXPECT_EQ(where, 15u);
}

TEST(JsonScanTest, ScanContainerFindsTheEnd) {
  const std::string text = R"({"a":"}\"}",  "b":[1,{"c":2}]} {"next":1})";
  const auto r = ScanContainer(text, 0, 64);
  EXPECT_EQ(r.stop, ScanResult::kClosed);
  EXPECT_EQ(text.substr(r.pos), R"( {"next":1})");
  EXPECT_EQ(ScanContainer(R"({"a":[1,2)", 0, 64).stop, ScanResult::kEnd);
  EXPECT_EQ(ScanContainer(R"({"a":"unterminated)", 0, 64).stop, ScanResult::kEnd);
}

TEST(JsonScanTest, TopLevelKeysOfAPrefix) {
  const std::string body = R"({"requestId":"x","timestamp":1,"records":[{"data":"QUJD)";
  EXPECT_TRUE(HasTopLevelKey(body, {"records"}));
  EXPECT_FALSE(HasTopLevelKey(R"({"requestId":"records","input":{"records":1}})", {"records"}));
  EXPECT_TRUE(HasTopLevelKey("  {\n \"messageType\" : \"DATA_MESSAGE\"", {"messageType"}));
}

struct ErrorCase {
  const char* json;
  size_t offset;
  const char* what;
};

TEST(JsonScanTest, DescribesSyntaxErrors) {
  const ErrorCase cases[] = {
      {R"({"a" 1})", 5, "expected ':'"},
      {R"({"a":1,})", 7, "expected a quoted key after ','"},
      {R"({"a":1 "b":2})", 7, "expected ',' or '}'"},
      {R"([1,2)", 4, "ends too early"},
      {R"({"a":"abc)", 5, "unterminated string"},
      {R"({"a":tru})", 5, "invalid literal"},
      {R"({"a":012})", 5, "leading zeros"},
      {"{\"a\":\"x\ny\"}", 7, "raw line break"},
      {R"({"a":"\q"})", 6, "invalid escape"},
      {R"({"a":1}})", 7, "after the end"},
      {"{\"a\":\"\xff\"}", 6, "invalid UTF-8"},
      {"", 0, "empty"},
  };
  for (const auto& c : cases) {
    const auto err = FindJsonError(c.json);
    ASSERT_TRUE(err.has_value()) << c.json;
    EXPECT_EQ(err->offset, c.offset) << c.json << ": " << err->what;
    EXPECT_NE(err->what.find(c.what), std::string::npos) << c.json << ": " << err->what;
  }
  EXPECT_FALSE(FindJsonError(R"( {"a":[1,-2.5e+3,true,false,null,"\u00e9\n"],"b":{}} )"));
}

TEST(JsonScanTest, LineAndColumn) {
  const std::string text = "{\n  \"a\": 1,\n  \"b\" 2\n}";
  const auto lc = LineColAt(text, text.find('2'));
  EXPECT_EQ(lc.line, 3u);
  EXPECT_EQ(lc.column, 7u);
}

}  // namespace
}  // namespace budgeteer::formats_internal
