// ParseRecord: invocation-log and canonical records, field by field, and every rejection.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/input.h"
#include "formats/test_util.h"

namespace budgeteer {
namespace {

using testing::Lines;
using testing::ReadFixture;

std::vector<std::string> InvocationLogLines() {
  return Lines(ReadFixture("invocation_logs.jsonl"));
}

UsageRecord MustParse(InputParser& parser, const std::string& json) {
  auto r = parser.ParseRecord(json);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << json.substr(0, 300);
  return r.ok() ? std::move(r).value() : UsageRecord{};
}

// A minimal valid invocation-log record with `extra` appended inside the top-level object.
std::string Log(const std::string& extra = "", const std::string& input = R"("inputTokenCount":10)",
                const std::string& output = R"("outputTokenCount":5)") {
  return R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0",)"
         R"("timestamp":"2025-06-03T14:07:21Z","accountId":"111122223333",)"
         R"("identity":{"arn":"arn:aws:iam::111122223333:user/BedrockAPIKey-abc"},)"
         R"("region":"us-east-1","requestId":"7b6c0a52-3f0e-4d6a-9a61-2a7c1f4e9d10",)"
         R"("operation":"InvokeModel","modelId":"us.anthropic.claude-3-5-haiku-20241022-v1:0",)"
         R"("input":{)" +
         input + R"(},"output":{)" + output + "}" + extra + "}";
}

TEST(InvocationLogTest, ConverseWithBodiesAndMetadata) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[0]);
  EXPECT_EQ(r.request_id.str(), "7b6c0a52-3f0e-4d6a-9a61-2a7c1f4e9d10");
  EXPECT_EQ(r.timestamp.ToRfc3339(), "2025-06-03T14:07:21Z");
  EXPECT_EQ(r.caller, "arn:aws:sts::111122223333:assumed-role/TeamRole/session-4f2a");
  EXPECT_EQ(r.account_id, "111122223333");
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.inference_region, "us-east-2");
  EXPECT_EQ(r.operation, Operation::kConverse);
  EXPECT_EQ(r.model_id.str(), "us.anthropic.claude-3-5-haiku-20241022-v1:0");
  EXPECT_EQ(r.tokens, (TokenCounts{1432, 96, 0, 0}));
  EXPECT_EQ(r.media, MediaCounts{});
  EXPECT_TRUE(r.error_code.empty());
  EXPECT_FALSE(r.batch);
  const std::vector<std::pair<std::string, std::string>> tags = {{"team", "sre"},
                                                                 {"app", "incident-bot"}};
  EXPECT_EQ(r.tags, tags);
}

TEST(InvocationLogTest, ConverseStreamWithEventArrayBodyAndCacheTokens) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[1]);
  EXPECT_EQ(r.operation, Operation::kConverseStream);
  EXPECT_EQ(r.tokens, (TokenCounts{214, 377, 3072, 512}));
  EXPECT_EQ(r.timestamp.ToRfc3339(), "2025-06-03T14:07:45.318Z");
  EXPECT_EQ(r.caller,
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_DataScience_5e8a1c2b3d4f6a7b/"
            "maria.lopez@example.com");
  EXPECT_EQ(r.inference_region, "us-west-2");
}

TEST(InvocationLogTest, InvokeModelWithResponseStreamChunks) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[2]);
  EXPECT_EQ(r.operation, Operation::kInvokeModelWithResponseStream);
  EXPECT_EQ(r.tokens, (TokenCounts{18, 21, 0, 0}));
  EXPECT_EQ(r.caller, "arn:aws:iam::111122223333:user/BedrockAPIKey-abc");
  EXPECT_TRUE(r.inference_region.empty());
  EXPECT_TRUE(r.tags.empty());
}

TEST(InvocationLogTest, BodiesDeliveredToS3) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[3]);
  EXPECT_EQ(r.operation, Operation::kInvokeModel);
  EXPECT_EQ(r.tokens, (TokenCounts{98231, 4096, 0, 0}));
}

TEST(InvocationLogTest, ErrorRecordIsStillARecord) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[4]);
  EXPECT_EQ(r.error_code, "ValidationException");
  EXPECT_EQ(r.tokens, TokenCounts{});
}

TEST(InvocationLogTest, EmbeddingWithoutOutputCount) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[5]);
  EXPECT_EQ(r.model_id.str(), "amazon.titan-embed-text-v2:0");
  EXPECT_EQ(r.tokens, (TokenCounts{6, 0, 0, 0}));
}

TEST(InvocationLogTest, ImageModelCountsImagesOfTheResponseBody) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[6]);
  EXPECT_EQ(r.model_id.str(), "amazon.nova-canvas-v1:0");
  EXPECT_EQ(r.media.images, 2);
  EXPECT_EQ(r.tokens, TokenCounts{});
}

TEST(InvocationLogTest, VideoModelUsesOutputVideoDurationSeconds) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, InvocationLogLines()[7]);
  EXPECT_EQ(r.model_id.str(), "amazon.nova-reel-v1:1");
  EXPECT_EQ(r.operation, Operation::kOther);  // StartAsyncInvoke
  EXPECT_EQ(r.media.video_seconds, 6);
  EXPECT_EQ(r.media.images, 0);
  // Fractional seconds are billed as whole seconds, rounded up.
  const UsageRecord frac = MustParse(parser, Log("", "", R"("outputVideoDurationSeconds":5.2)"));
  EXPECT_EQ(frac.media.video_seconds, 6);
}

TEST(InvocationLogTest, CountsComeFromCountFieldsNeverFromBodies) {
  InputParser parser;
  const std::string json =
      Log("", R"("inputBodyJson":{"usage":{"inputTokens":99999}},"inputTokenCount":10)",
          R"("outputBodyJson":[{"metadata":{"usage":{"outputTokens":77777}}},"]}{["],)"
          R"("outputTokenCount":5,"outputBodyS3Path":"s3://b/k")");
  const UsageRecord r = MustParse(parser, json);
  EXPECT_EQ(r.tokens, (TokenCounts{10, 5, 0, 0}));
  // A body that is a string (e.g. a non-JSON content type) is skipped as well.
  const UsageRecord s =
      MustParse(parser, Log("", R"("inputBodyJson":"plain text","inputTokenCount":3)"));
  EXPECT_EQ(s.tokens.input, 3);
}

TEST(InvocationLogTest, MissingOrNullCountersAreZero) {
  InputParser parser;
  const UsageRecord r = MustParse(parser, Log("", R"("inputTokenCount":null)", ""));
  EXPECT_EQ(r.tokens, TokenCounts{});
  const std::string no_io =
      R"({"schemaType":"ModelInvocationLog","timestamp":"2025-06-03T14:07:21Z",)"
      R"("identity":{"arn":"arn:aws:iam::111122223333:user/u"},"requestId":"r-1","modelId":"m"})";
  const UsageRecord bare = MustParse(parser, no_io);
  EXPECT_EQ(bare.tokens, TokenCounts{});
  EXPECT_TRUE(bare.account_id.empty());
}

TEST(InvocationLogTest, UnknownOperationsAndFieldsAreAccepted) {
  InputParser parser;
  std::string json = Log(R"(,"performanceConfig":{"latency":"optimized"},"status":"x")");
  const std::string from = R"("operation":"InvokeModel")";
  json.replace(json.find(from), from.size(), R"("operation":"ApplyGuardrail")");
  EXPECT_EQ(MustParse(parser, json).operation, Operation::kOther);
}

TEST(InvocationLogTest, TagsAreCappedAndNeverChooseWhoPays) {
  ParseLimits limits;
  InputParser parser(limits);
  std::string meta = R"(,"requestMetadata":{"identity":"arn:aws:iam::999999999999:user/mallory",)";
  meta += R"("long":")" + std::string(300, 'v') + R"(",)";
  // A 2-byte UTF-8 character straddling byte 256 is not split.
  meta += R"("utf8":")" + std::string(255, 'a') + "\xc3\xa9" + R"(",)";
  meta += R"("number":42,)";
  for (int i = 0; i < 60; ++i) meta += "\"k" + std::to_string(i) + "\":\"v\",";
  meta += R"("last":"v"})";
  const UsageRecord r = MustParse(parser, Log(meta));
  EXPECT_EQ(r.caller, "arn:aws:iam::111122223333:user/BedrockAPIKey-abc");
  ASSERT_EQ(r.tags.size(), limits.max_tags);
  EXPECT_EQ(r.tags[0], (std::pair<std::string, std::string>{
                           "identity", "arn:aws:iam::999999999999:user/mallory"}));
  EXPECT_EQ(r.tags[1].second, std::string(256, 'v'));
  EXPECT_EQ(r.tags[2].second, std::string(255, 'a'));
  EXPECT_EQ(r.tags[3].first, "k0");  // the number was skipped
  // Not an object: ignored, the record is kept.
  EXPECT_TRUE(MustParse(parser, Log(R"(,"requestMetadata":["a"])")).tags.empty());
}

struct Rejection {
  std::string name;
  std::string json;
  Code code;
  std::string reason;  // a part of the message
};

TEST(InvocationLogTest, RejectsWithReasonsThatNameTheFieldAndTheFix) {
  const std::string rid = R"("requestId":"7b6c0a52-3f0e-4d6a-9a61-2a7c1f4e9d10",)";
  auto without = [](std::string json, const std::string& part) {
    json.erase(json.find(part), part.size());
    return json;
  };
  auto with = [](std::string json, const std::string& from, const std::string& to) {
    json.replace(json.find(from), from.size(), to);
    return json;
  };
  const std::string ok = Log();
  const std::vector<Rejection> cases = {
      {"missing requestId", without(ok, rid), Code::kInvalidArgument,
       "missing requestId: every record needs the Bedrock request id"},
      {"empty requestId", with(ok, rid, R"("requestId":"",)"), Code::kInvalidArgument,
       "missing requestId"},
      {"long requestId", with(ok, rid, R"("requestId":")" + std::string(257, 'x') + "\","),
       Code::kInvalidArgument, "requestId is 257 bytes, longer than the 256-byte limit"},
      {"requestId type", with(ok, rid, R"("requestId":12,)"), Code::kInvalidArgument,
       "requestId must be a string, not a number"},
      {"missing timestamp", without(ok, R"("timestamp":"2025-06-03T14:07:21Z",)"),
       Code::kInvalidArgument, "missing timestamp: expected an RFC 3339 date-time"},
      {"bad timestamp", with(ok, "2025-06-03T14:07:21Z", "03/06/2025 14:07"),
       Code::kInvalidArgument, "timestamp '03/06/2025 14:07' is not RFC 3339"},
      {"missing arn",
       with(ok, R"("identity":{"arn":"arn:aws:iam::111122223333:user/BedrockAPIKey-abc"},)",
            R"("identity":{},)"),
       Code::kInvalidArgument, "missing identity.arn"},
      {"identity type",
       with(ok, R"("identity":{"arn":"arn:aws:iam::111122223333:user/BedrockAPIKey-abc"},)",
            R"("identity":"bob",)"),
       Code::kInvalidArgument, "identity must be an object, not a string"},
      {"missing modelId",
       without(ok, R"("modelId":"us.anthropic.claude-3-5-haiku-20241022-v1:0",)"),
       Code::kInvalidArgument, "missing modelId"},
      {"negative", Log("", R"("inputTokenCount":-5)"), Code::kInvalidArgument,
       "input.inputTokenCount is -5: token counts cannot be negative"},
      {"absurd", Log("", R"("inputTokenCount":10)", R"("outputTokenCount":5000000000)"),
       Code::kInvalidArgument,
       "output.outputTokenCount is 5000000000, above the 100000000 limit "
       "(ingest.max_tokens_per_counter)"},
      {"beyond 64 bits", Log("", R"("cacheReadInputTokenCount":99999999999999999999)"),
       Code::kInvalidArgument, "input.cacheReadInputTokenCount is 99999999999999999999, above"},
      {"fraction", Log("", R"("cacheWriteInputTokenCount":12.5)"), Code::kInvalidArgument,
       "input.cacheWriteInputTokenCount is 12.5: token counts must be whole numbers"},
      {"string count", Log("", R"("inputTokenCount":"12")"), Code::kInvalidArgument,
       "input.inputTokenCount must be a whole number, not a string"},
      {"schemaType", with(ok, "ModelInvocationLog", "AgentInvocationLog"), Code::kInvalidArgument,
       "schemaType is 'AgentInvocationLog', not ModelInvocationLog"},
      {"schemaVersion", with(ok, R"("schemaVersion":"1.0")", R"("schemaVersion":"2.0")"),
       Code::kInvalidArgument, "schemaVersion is '2.0'"},
      {"syntax", with(ok, R"("region":"us-east-1",)", R"("region" "us-east-1",)"),
       Code::kInvalidArgument, "invalid JSON at column "},
      {"truncated in a string", ok.substr(0, ok.size() - 30), Code::kInvalidArgument,
       "unterminated string"},
      {"truncated", ok.substr(0, ok.size() - 1), Code::kInvalidArgument,
       "the JSON ends too early (truncated?): expected '}' to close an object"},
      {"trailing", ok + " {}", Code::kInvalidArgument, "unexpected content after the end"},
      {"depth", Log(R"(,"x":)" + std::string(70, '[') + std::string(70, ']')),
       Code::kResourceExhausted, "JSON nests deeper than 64 levels (ingest.max_json_depth)"},
      {"not a record", R"({"hello":"world"})", Code::kInvalidArgument, "not a usage record"},
      {"mixed", Log(R"(,"input_tokens":5)"), Code::kInvalidArgument,
       "mixes invocation-log fields (schemaType) with canonical-record fields (input_tokens)"},
      {"array", "[" + ok + "]", Code::kInvalidArgument, "a JSON array, not one record"},
      {"envelope", R"({"messageType":"DATA_MESSAGE","logEvents":[]})", Code::kInvalidArgument,
       "not one record"},
      {"empty", "  \n", Code::kInvalidArgument, "empty input"},
      {"not json", "hello", Code::kInvalidArgument, "not a JSON record"},
  };
  InputParser parser;
  for (const auto& c : cases) {
    auto r = parser.ParseRecord(c.json);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

TEST(InvocationLogTest, LimitsAreConfigurable) {
  ParseLimits limits;
  limits.max_tokens_per_counter = 1000;
  limits.max_request_id_bytes = 8;
  InputParser parser(limits);
  auto big = parser.ParseRecord(Log("", R"("inputTokenCount":1001)"));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("above the 1000 limit"), std::string::npos);
  auto id = parser.ParseRecord(Log());
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("longer than the 8-byte limit"), std::string::npos);
  limits.max_document_bytes = 100;
  InputParser small(limits);
  auto doc = small.ParseRecord(Log());
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), Code::kResourceExhausted);
  EXPECT_NE(doc.status().message().find("ingest.max_document_bytes"), std::string::npos);
}

TEST(CanonicalRecordTest, ParsesFixture) {
  InputParser parser;
  const auto lines = Lines(ReadFixture("canonical.jsonl"));
  ASSERT_EQ(lines.size(), 4u);

  const UsageRecord a = MustParse(parser, lines[0]);
  EXPECT_EQ(a.request_id.str(), "gw-2025-06-03-000001");
  EXPECT_EQ(a.caller, "arn:aws:iam::111122223333:user/BedrockAPIKey-abc");
  EXPECT_EQ(a.model_id.str(), "us.anthropic.claude-3-5-haiku-20241022-v1:0");
  EXPECT_EQ(a.region, "us-east-1");
  EXPECT_EQ(a.tokens, (TokenCounts{1200, 300, 800, 100}));
  EXPECT_EQ(a.tags.size(), 2u);
  EXPECT_FALSE(a.batch);
  EXPECT_EQ(a.operation, Operation::kOther);

  const UsageRecord b = MustParse(parser, lines[1]);
  EXPECT_EQ(b.caller, "444455556666:nightly-etl");
  EXPECT_EQ(b.account_id, "444455556666");
  EXPECT_TRUE(b.batch);
  EXPECT_EQ(b.timestamp.ToRfc3339(), "2025-06-03T14:00:00.250Z");
  EXPECT_EQ(b.tokens, (TokenCounts{5000, 750, 0, 0}));

  const UsageRecord c = MustParse(parser, lines[2]);
  EXPECT_EQ(c.media.images, 4);

  auto d = parser.ParseRecord(lines[3]);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("principal 'nobody' is neither an IAM/STS ARN nor "
                                      "ACCOUNT:NAME"),
            std::string::npos)
      << d.status().message();
}

TEST(CanonicalRecordTest, Validation) {
  InputParser parser;
  const std::vector<Rejection> cases = {
      {"no request_id", R"({"timestamp":"2025-06-03T16:00:00Z","principal":"1:a","model_id":"m"})",
       Code::kInvalidArgument, "missing request_id"},
      {"no principal", R"({"request_id":"r","timestamp":"2025-06-03T16:00:00Z","model_id":"m"})",
       Code::kInvalidArgument, "missing principal"},
      {"no model", R"({"request_id":"r","timestamp":"2025-06-03T16:00:00Z","principal":"1:a"})",
       Code::kInvalidArgument, "missing model_id"},
      {"negative",
       R"({"request_id":"r","timestamp":"2025-06-03T16:00:00Z","principal":"1:a",)"
       R"("model_id":"m","output_tokens":-1})",
       Code::kInvalidArgument, "output_tokens is -1"},
      {"batch type",
       R"({"request_id":"r","timestamp":"2025-06-03T16:00:00Z","principal":"1:a",)"
       R"("model_id":"m","batch":"yes"})",
       Code::kInvalidArgument, "batch must be true or false, not a string"},
      {"images",
       R"({"request_id":"r","timestamp":"2025-06-03T16:00:00Z","principal":"1:a",)"
       R"("model_id":"m","images":5000000})",
       Code::kInvalidArgument,
       "images is 5000000, above the 1000000 limit "
       "(ingest.max_media_per_record)"},
      {"epoch timestamp",
       R"({"request_id":"r","timestamp":1748959700,"principal":"1:a",)"
       R"("model_id":"m"})",
       Code::kInvalidArgument, "timestamp must be a string, not a number"},
  };
  for (const auto& c : cases) {
    auto r = parser.ParseRecord(c.json);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name;
    EXPECT_NE(r.status().message().find(c.reason), std::string::npos)
        << c.name << ": " << r.status().message();
  }
  const UsageRecord v =
      MustParse(parser, R"({"request_id":"r","timestamp":"2025-06-03T16:00:00Z","principal":"1:a",)"
                        R"("model_id":"amazon.nova-reel-v1:1","video_seconds":12})");
  EXPECT_EQ(v.media.video_seconds, 12);
}

}  // namespace
}  // namespace budgeteer
