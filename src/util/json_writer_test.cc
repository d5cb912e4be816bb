#include "util/json_writer.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

TEST(JsonWriterTest, WritesNestedValuesExactly) {
  JsonWriter w;
  w.BeginObject()
      .Field("name", "a\"b\\c\n\x01")
      .Key("spent_usd")
      .RawNumber("0.000000001")
      .Field("n", int64_t{-5})
      .Field("ok", true)
      .Key("none")
      .Null()
      .Key("list")
      .BeginArray()
      .Int(1)
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .EndObject();
  EXPECT_EQ(w.str(),
            R"({"name":"a\"b\\c\n\u0001","spent_usd":0.000000001,"n":-5,"ok":true,"none":null,)"
            R"("list":[1,{},[]]})");
}

TEST(JsonWriterTest, PrettyPrints) {
  JsonWriter w(true);
  w.BeginArray().BeginObject().Field("a", 1).EndObject().EndArray();
  EXPECT_EQ(w.str(), "[\n  {\n    \"a\": 1\n  }\n]");
}

}  // namespace
}  // namespace budgeteer
