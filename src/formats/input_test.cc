// ParseStream / ParseFirehose: layouts, envelopes, gzip, locations and rejections.
#include "formats/input.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "formats/internal.h"
#include "formats/test_util.h"

namespace budgeteer {
namespace {

using testing::FailingSource;
using testing::FixturePath;
using testing::Lines;
using testing::ReadFixture;
using testing::RecordingSink;
using testing::TrickleSource;

bool Has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

RecordingSink ParseText(const std::string& text, const std::string& name = "input.jsonl",
                        ParseLimits limits = {}, Status* status = nullptr) {
  InputParser parser(limits);
  RecordingSink sink;
  auto src = MemorySource(text);
  Status s = parser.ParseStream(*src, name, sink);
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return sink;
}

RecordingSink ParseFile(const std::string& fixture, ParseLimits limits = {}) {
  InputParser parser(limits);
  RecordingSink sink;
  auto src = OpenFileSource(FixturePath(fixture));
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  if (!src.ok()) return sink;
  Status s = parser.ParseStream(**src, fixture, sink);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return sink;
}

TEST(LocationTest, ToString) {
  EXPECT_EQ((Location{"file", 12, 0}).ToString(), "file:12");
  EXPECT_EQ((Location{"file", 12, 3}).ToString(), "file:12 record 3");
  EXPECT_EQ((Location{"POST /v1/firehose", 0, 7}).ToString(), "POST /v1/firehose record 7");
  EXPECT_EQ((Location{"-", 0, 0}).ToString(), "-");
}

TEST(ParseStreamTest, InvocationLogJsonLines) {
  const RecordingSink sink = ParseFile("invocation_logs.jsonl");
  EXPECT_TRUE(sink.rejects.empty()) << sink.Dump();
  ASSERT_EQ(sink.records.size(), 8u);
  for (size_t i = 0; i < sink.records.size(); ++i) {
    EXPECT_EQ(sink.records[i].where, "invocation_logs.jsonl:" + std::to_string(i + 1));
  }
  EXPECT_EQ(sink.records[1].record.tokens, (TokenCounts{214, 377, 3072, 512}));
  EXPECT_EQ(sink.records[6].record.media.images, 2);
  EXPECT_EQ(sink.records[7].record.media.video_seconds, 6);
}

TEST(ParseStreamTest, GzipObjectWithTwoMembers) {
  const RecordingSink sink = ParseFile("s3_object.json.gz");
  EXPECT_TRUE(sink.rejects.empty()) << sink.Dump();
  ASSERT_EQ(sink.records.size(), 5u);
  EXPECT_EQ(sink.records[0].where, "s3_object.json.gz:1");
  EXPECT_EQ(sink.records[4].where, "s3_object.json.gz:5");
  EXPECT_EQ(sink.records[4].record.error_code, "ValidationException");
}

// The mixed fixture with a 10 MiB line inserted as line 12 and a good record after it.
std::string MixedWithHugeLine() {
  const std::string mixed = ReadFixture("mixed_bad.jsonl");
  std::string huge =
      R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2025-06-03T15:00:06Z",)"
      R"("identity":{"arn":"arn:aws:iam::111122223333:user/BedrockAPIKey-abc"},)"
      R"("requestId":"a0000000-0000-4000-8000-0000000000ff","modelId":"m",)"
      R"("input":{"inputBodyJson":{"text":")";
  const std::string tail = R"("},"inputTokenCount":1}})";
  huge += std::string(size_t{10} * 1024 * 1024 - huge.size() - tail.size(), 'x') + tail;
  EXPECT_EQ(huge.size(), 10485760u);
  const std::string after =
      R"({"request_id":"after-the-big-line","timestamp":"2025-06-03T15:00:07Z",)"
      R"("principal":"111122223333:tail","model_id":"m","input_tokens":7})";
  return mixed + huge + "\n" + after + "\n";
}

void ExpectMixedResults(const RecordingSink& sink) {
  EXPECT_EQ(sink.RequestIds(),
            (std::vector<std::string>{
                "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002",
                "a0000000-0000-4000-8000-000000000003", "after-the-big-line"}));
  std::vector<int64_t> lines;
  for (const auto& d : sink.records) lines.push_back(d.line);
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 7, 11, 13}));

  ASSERT_EQ(sink.rejects.size(), 7u) << sink.Dump();
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {2, "input.inputTokenCount is -5: token counts cannot be negative"},
      {4, "invalid JSON at column "},
      {5,
       "output.outputTokenCount is 5000000000, above the 100000000 limit "
       "(ingest.max_tokens_per_counter)"},
      {6, "missing requestId"},
      {9, "timestamp '03/06/2025 15:00' is not RFC 3339"},
      {10, "schemaType is 'SomethingElse', not ModelInvocationLog"},
      {12, "line is 10485760 bytes, longer than the 1048576-byte limit (ingest.max_line_bytes)"},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(sink.rejects[i].line, expected[i].first) << sink.Dump();
    EXPECT_TRUE(Has(sink.rejects[i].reason, expected[i].second))
        << "line " << expected[i].first << ": " << sink.rejects[i].reason;
  }
  EXPECT_TRUE(Has(sink.rejects[1].reason, "unterminated string")) << sink.rejects[1].reason;
}

TEST(ParseStreamTest, MixedFileRejectsBadLinesAndKeepsTheRest) {
  const std::string text = MixedWithHugeLine();
  ExpectMixedResults(ParseText(text, "mixed.jsonl"));
  // The same through gzip, through a file, and through tiny reads.
  ExpectMixedResults(ParseText(*Gzip(text), "mixed.jsonl.gz"));
  const std::string path = ::testing::TempDir() + "/mixed_with_huge_line.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  InputParser parser;
  RecordingSink from_file;
  auto file = OpenFileSource(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(parser.ParseStream(**file, path, from_file).ok());
  ExpectMixedResults(from_file);
  std::remove(path.c_str());

  RecordingSink trickled;
  TrickleSource trickle(text, 4093);
  ASSERT_TRUE(parser.ParseStream(trickle, "mixed.jsonl", trickled).ok());
  ExpectMixedResults(trickled);
}

TEST(ParseStreamTest, LongLineLimitIsConfigurable) {
  ParseLimits limits;
  limits.max_line_bytes = 100;
  const std::string good =
      R"({"request_id":"r1","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})";
  const std::string text = good + "\n" + std::string(5000, ' ') + "x\n" + good + "\r\n";
  const RecordingSink sink = ParseText(text, "in", limits);
  EXPECT_EQ(sink.records.size(), 2u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, "in:2");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "line is 5001 bytes, longer than the 100-byte limit"));
}

TEST(ParseStreamTest, CorruptOrTruncatedGzipFailsAfterDeliveringWhatCameBefore) {
  // Enough records that the damage is past the first read chunk of inflated data.
  std::string lines;
  const auto fixture = Lines(ReadFixture("invocation_logs.jsonl"));
  for (int i = 0; i < 2000; ++i) lines += fixture[static_cast<size_t>(i) % fixture.size()] + "\n";
  const std::string gz = *Gzip(lines);

  Status status;
  RecordingSink truncated = ParseText(gz.substr(0, gz.size() * 3 / 4), "logs.json.gz", {}, &status);
  EXPECT_EQ(status.code(), Code::kDataLoss);
  EXPECT_TRUE(Has(status.message(), "logs.json.gz: gzip data is truncated")) << status.message();
  EXPECT_TRUE(Has(status.message(), "fetch or copy it again"));
  EXPECT_TRUE(Has(status.message(), "records before this point were delivered"));
  EXPECT_GT(truncated.records.size(), 0u);
  EXPECT_LT(truncated.records.size(), 2000u);
  EXPECT_TRUE(truncated.rejects.empty()) << truncated.Dump();

  std::string bad = gz;
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 200; ++i) bad[i] = static_cast<char>(i);
  RecordingSink corrupt = ParseText(bad, "logs.json.gz", {}, &status);
  EXPECT_EQ(status.code(), Code::kDataLoss);
  EXPECT_TRUE(Has(status.message(), "logs.json.gz: corrupt gzip data")) << status.message();
  EXPECT_LT(corrupt.records.size(), 2000u);

  ParseLimits small;
  small.max_decompressed_bytes = 100000;
  ParseText(gz, "logs.json.gz", small, &status);
  EXPECT_EQ(status.code(), Code::kResourceExhausted);
  EXPECT_TRUE(Has(status.message(), "ingest.max_decompressed_bytes"));
}

TEST(ParseStreamTest, ReadErrorsAreReturnedWithTheSourceName) {
  const std::string text = ReadFixture("invocation_logs.jsonl");
  InputParser parser;
  RecordingSink sink;
  FailingSource src(text);
  Status s = parser.ParseStream(src, "s3://bucket/key", sink);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_TRUE(Has(s.message(), "s3://bucket/key: disk on fire"));
}

TEST(ParseStreamTest, CloudWatchPayloadPrettyPrinted) {
  const RecordingSink sink = ParseFile("cloudwatch_data_message.json");
  ASSERT_EQ(sink.records.size(), 2u) << sink.Dump();
  EXPECT_EQ(sink.records[0].where, "cloudwatch_data_message.json:1 record 1");
  EXPECT_EQ(sink.records[0].record.request_id.str(), "7b6c0a52-3f0e-4d6a-9a61-2a7c1f4e9d10");
  EXPECT_EQ(sink.records[1].where, "cloudwatch_data_message.json:1 record 3");
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, "cloudwatch_data_message.json:1 record 2");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "missing modelId")) << sink.rejects[0].reason;
}

TEST(ParseStreamTest, CloudWatchPayloadsBase64GzipAndControlMessages) {
  // Line 1: base64(gzip(CONTROL_MESSAGE)); line 2: base64(gzip(DATA_MESSAGE)); line 3: a plain
  // CONTROL_MESSAGE.
  const RecordingSink sink = ParseFile("cloudwatch_payloads.b64");
  EXPECT_EQ(sink.skipped,
            (std::vector<std::string>{"cloudwatch_payloads.b64:1", "cloudwatch_payloads.b64:3"}));
  ASSERT_EQ(sink.records.size(), 2u) << sink.Dump();
  EXPECT_EQ(sink.records[0].where, "cloudwatch_payloads.b64:2 record 1");
  EXPECT_EQ(sink.records[1].where, "cloudwatch_payloads.b64:2 record 3");
  EXPECT_EQ(sink.records[1].record.tokens, (TokenCounts{98231, 4096, 0, 0}));
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, "cloudwatch_payloads.b64:2 record 2");
}

TEST(ParseStreamTest, CloudWatchEnvelopeProblems) {
  const std::string rec =
      R"({\"request_id\":\"r\",\"timestamp\":\"2025-06-03T15:00:07Z\",\"principal\":\"1:a\",\"model_id\":\"m\"})";
  const std::string text =
      R"({"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":")" + rec +
      R"("},{"id":"2","timestamp":2},{"id":"3","message":"not json"},7]})"
      "\n"
      R"({"messageType":"SOMETHING","logEvents":[]})"
      "\n"
      R"({"logEvents":[{"timestamp":2,"message":"x"}],"messageType":"CONTROL_MESSAGE"})"
      "\n";
  const RecordingSink sink = ParseText(text, "cw");
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].where, "cw:1 record 1");
  ASSERT_EQ(sink.rejects.size(), 4u) << sink.Dump();
  EXPECT_EQ(sink.rejects[0].where, "cw:1 record 2");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "log event has no message"));
  EXPECT_TRUE(Has(sink.rejects[1].reason, "log event message is not a JSON record"));
  EXPECT_EQ(sink.rejects[2].where, "cw:1 record 4");
  EXPECT_TRUE(Has(sink.rejects[2].reason, "log event is not an object"));
  EXPECT_TRUE(Has(sink.rejects[3].reason, "messageType is 'SOMETHING'"));
  EXPECT_EQ(sink.skipped, (std::vector<std::string>{"cw:3"}));
}

TEST(ParseStreamTest, TooManyEventsInOneEnvelope) {
  ParseLimits limits;
  limits.max_records_per_envelope = 2;
  const std::string rec =
      R"({\"request_id\":\"r\",\"timestamp\":\"2025-06-03T15:00:07Z\",\"principal\":\"1:a\",\"model_id\":\"m\"})";
  std::string text = R"({"messageType":"DATA_MESSAGE","logEvents":[)";
  for (int i = 0; i < 4; ++i) text += std::string(i ? "," : "") + R"({"message":")" + rec + "\"}";
  text += "]}\n";
  const RecordingSink sink = ParseText(text, "cw", limits);
  EXPECT_EQ(sink.records.size(), 2u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, "cw:1 record 3");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "ingest.max_records_per_envelope"));
}

void ExpectFirehoseFixture(const RecordingSink& sink, const std::string& prefix) {
  ASSERT_EQ(sink.records.size(), 4u) << sink.Dump();
  // Record 1: two raw records, newline-separated; record 2: gzip of a CloudWatch payload.
  EXPECT_EQ(sink.records[0].where, prefix + "record 1");
  EXPECT_EQ(sink.records[0].record.operation, Operation::kConverseStream);
  EXPECT_EQ(sink.records[1].where, prefix + "record 1");
  EXPECT_EQ(sink.records[1].record.model_id.str(), "amazon.titan-embed-text-v2:0");
  EXPECT_EQ(sink.records[2].where, prefix + "record 2");
  EXPECT_EQ(sink.records[2].record.operation, Operation::kInvokeModelWithResponseStream);
  EXPECT_EQ(sink.records[3].where, prefix + "record 2");
  EXPECT_EQ(sink.records[3].record.media.images, 2);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, prefix + "record 3");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "Firehose record data: invalid base64"))
      << sink.rejects[0].reason;
  EXPECT_EQ(sink.skipped, (std::vector<std::string>{prefix + "record 4"}));
}

TEST(FirehoseTest, ParseFirehoseDelivery) {
  const std::string body = ReadFixture("firehose_delivery.json");
  InputParser parser;
  RecordingSink sink;
  auto delivery = parser.ParseFirehose(body, "POST /ingest/firehose", sink);
  ASSERT_TRUE(delivery.ok()) << delivery.status().ToString();
  EXPECT_EQ(delivery->request_id, "ed4acda5-034f-9f42-bba1-f29aea6d7d8f");
  EXPECT_EQ(delivery->timestamp_ms, 1748959700000);
  EXPECT_EQ(delivery->record_count, 4u);
  ExpectFirehoseFixture(sink, "POST /ingest/firehose ");
}

TEST(FirehoseTest, FileHoldingAFirehoseBody) {
  ExpectFirehoseFixture(ParseFile("firehose_delivery.json"), "firehose_delivery.json:1 ");
  // Even when the one-line body is longer than a line may be.
  ParseLimits limits;
  limits.max_line_bytes = 1024;
  ExpectFirehoseFixture(ParseFile("firehose_delivery.json", limits), "firehose_delivery.json:1 ");
}

TEST(FirehoseTest, RefusesMalformedDeliveriesWithoutDeliveringAnything) {
  const std::string rec = Base64Encode(
      R"({"request_id":"r","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})");
  struct Case {
    std::string body;
    Code code;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {R"({"timestamp":1,"records":[{"data":")" + rec + R"("}]})", Code::kInvalidArgument,
       "without a requestId"},
      {R"({"requestId":"","timestamp":1,"records":[]})", Code::kInvalidArgument,
       "without a requestId"},
      {R"({"requestId":"x","records":[{"data":")" + rec + R"("}]})", Code::kInvalidArgument,
       "without a timestamp"},
      {R"({"requestId":"x","timestamp":1,"records":{"data":"eA=="}})", Code::kInvalidArgument,
       "without a records array"},
      {R"({"requestId":"x","timestamp":1,"records":[{"data":")" + rec + R"("},]})",
       Code::kInvalidArgument, "invalid JSON at column"},
      {R"({"requestId":"x","timestamp":1,"records":[{"data":")" + rec + R"("}]} extra)",
       Code::kInvalidArgument, "unexpected content after the end"},
      {R"([{"requestId":"x"}])", Code::kInvalidArgument, "must be a JSON object"},
      {"", Code::kInvalidArgument, "must be a JSON object"},
  };
  InputParser parser;
  for (const auto& c : cases) {
    RecordingSink sink;
    auto r = parser.ParseFirehose(c.body, "fh", sink);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), c.code) << c.body;
    EXPECT_TRUE(Has(r.status().message(), c.reason)) << c.body << "\n" << r.status().message();
    EXPECT_TRUE(sink.records.empty());
  }
  ParseLimits limits;
  limits.max_records_per_envelope = 1;
  limits.max_document_bytes = 400;
  InputParser strict(limits);
  {
    RecordingSink sink;
    auto big = strict.ParseFirehose(ReadFixture("firehose_delivery.json"), "fh", sink);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.status().code(), Code::kResourceExhausted);
    EXPECT_TRUE(Has(big.status().message(), "ingest.max_document_bytes"));
  }
  RecordingSink sink;
  auto r = strict.ParseFirehose(R"({"requestId":"x","timestamp":1,"records":[{"data":")" + rec +
                                    R"("},{"data":")" + rec + R"("}]})",
                                "fh", sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  EXPECT_TRUE(sink.records.empty());
}

TEST(FirehoseTest, BadRecordsInsideAreRejections) {
  const std::string rec = Base64Encode(
      R"({"request_id":"r","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})");
  const std::string body = R"({"requestId":"x","timestamp":1700000000000,"records":[)"
                           R"({"data":")" +
                           rec + R"("},{"nodata":1},{"data":")" + Base64Encode("not json at all") +
                           R"("},{"data":")" + Base64Encode(*Gzip("{\"broken\":")) + R"("},"x"]})";
  InputParser parser;
  RecordingSink sink;
  auto r = parser.ParseFirehose(body, "fh", sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->record_count, 5u);
  EXPECT_EQ(sink.records.size(), 1u);
  ASSERT_EQ(sink.rejects.size(), 4u) << sink.Dump();
  EXPECT_EQ(sink.rejects[0].where, "fh record 2");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "without a data string"));
  EXPECT_EQ(sink.rejects[1].where, "fh record 3");
  EXPECT_TRUE(Has(sink.rejects[1].reason, "decodes to neither gzip nor JSON"));
  EXPECT_EQ(sink.rejects[2].where, "fh record 4");
  EXPECT_TRUE(Has(sink.rejects[2].reason, "ends too early")) << sink.rejects[2].reason;
  EXPECT_EQ(sink.rejects[3].where, "fh record 5");
}

TEST(FirehoseTest, NestedPositionsAndInflateLimits) {
  const std::string rec =
      R"({"request_id":"r","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})";
  const std::string cw = R"({"messageType":"DATA_MESSAGE","logEvents":[{"message":"{}"}]})";
  ParseLimits limits;
  limits.max_document_bytes = 1 << 20;
  // A small gzip that inflates past the document limit.
  const std::string bomb = *Gzip("[" + std::string(size_t{2} << 20, ' ') + "]");
  const std::string body = R"({"requestId":"x","timestamp":1,"records":[)"
                           R"({"data":")" +
                           Base64Encode(rec + "\n" + rec + "\n{\"a\":1}\n") + R"("},{"data":")" +
                           Base64Encode(*Gzip(cw)) + R"("},{"data":")" + Base64Encode(bomb) +
                           R"("}]})";
  InputParser parser(limits);
  RecordingSink sink;
  auto r = parser.ParseFirehose(body, "fh", sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(sink.records.size(), 2u);
  ASSERT_EQ(sink.rejects.size(), 3u) << sink.Dump();
  EXPECT_EQ(sink.rejects[0].where, "fh record 1");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "line 3 of the decoded data: not a usage record"))
      << sink.rejects[0].reason;
  EXPECT_EQ(sink.rejects[1].where, "fh record 2");
  EXPECT_TRUE(Has(sink.rejects[1].reason, "log event 1: not a usage record"))
      << sink.rejects[1].reason;
  EXPECT_EQ(sink.rejects[2].where, "fh record 3");
  EXPECT_TRUE(Has(sink.rejects[2].reason, "cannot be inflated"));
  EXPECT_TRUE(Has(sink.rejects[2].reason, "ingest.max_document_bytes"));
}

TEST(ParseStreamTest, CanonicalRecords) {
  const RecordingSink sink = ParseFile("canonical.jsonl");
  EXPECT_EQ(sink.records.size(), 3u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, "canonical.jsonl:4");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "principal 'nobody'"));
}

TEST(ParseStreamTest, JsonArrayDocument) {
  const RecordingSink sink = ParseFile("records_array.json");
  ASSERT_EQ(sink.records.size(), 3u) << sink.Dump();
  EXPECT_EQ(sink.records[0].where, "records_array.json:2 record 1");
  EXPECT_EQ(sink.records[0].record.request_id.str(), "gw-2025-06-03-000001");
  EXPECT_EQ(sink.records[1].record.model_id.str(), "amazon.titan-embed-text-v2:0");
  EXPECT_EQ(sink.records[1].index, 2);
  EXPECT_EQ(sink.records[2].index, 4);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].index, 3);
  EXPECT_GT(sink.rejects[0].line, sink.records[1].line);
  EXPECT_TRUE(Has(sink.rejects[0].reason, "missing request_id"));
}

TEST(ParseStreamTest, ArraysInline) {
  const std::string rec =
      R"({"request_id":"r","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})";
  const RecordingSink sink = ParseText("[" + rec + "," + rec + ", 5]\n[" + rec + ",", "a.json");
  // The unclosed array on line 2 is refused as a whole.
  ASSERT_EQ(sink.records.size(), 2u) << sink.Dump();
  EXPECT_EQ(sink.records[1].where, "a.json:1 record 2");
  ASSERT_EQ(sink.rejects.size(), 2u) << sink.Dump();
  EXPECT_EQ(sink.rejects[0].where, "a.json:1 record 3");
  EXPECT_TRUE(Has(sink.rejects[0].reason, "array element is a number, not a record object"));
  EXPECT_EQ(sink.rejects[1].where, "a.json:2");
  EXPECT_TRUE(Has(sink.rejects[1].reason, "the JSON ends too early (truncated?): expected ']'"))
      << sink.rejects[1].reason;
}

TEST(ParseStreamTest, ArraysOverSeveralLinesOrOneLongLine) {
  const std::string rec =
      R"({"request_id":"r","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})";
  // One element per line, as some exporters write arrays.
  const RecordingSink compact = ParseText("[" + rec + ",\n" + rec + ",\n" + rec + "]\n", "c.json");
  ASSERT_EQ(compact.records.size(), 3u) << compact.Dump();
  EXPECT_EQ(compact.records[2].where, "c.json:3 record 3");
  // A single-line array longer than a line may be is read as a document.
  ParseLimits limits;
  limits.max_line_bytes = 200;
  std::string big = "[";
  for (int i = 0; i < 50; ++i) big += (i ? "," : "") + rec;
  const RecordingSink one_line = ParseText(big + "]", "big.json", limits);
  EXPECT_EQ(one_line.records.size(), 50u) << one_line.Dump();
}

TEST(ParseStreamTest, PrettyPrintedDocuments) {
  const RecordingSink one = ParseFile("pretty_record.json");
  ASSERT_EQ(one.records.size(), 1u) << one.Dump();
  EXPECT_EQ(one.records[0].where, "pretty_record.json:1");
  // Concatenated pretty documents, as `jq . < file.jsonl` prints them.
  const std::string pretty = ReadFixture("pretty_record.json");
  const RecordingSink two = ParseText(pretty + pretty + "{\n  \"requestId\": 5\n}\n", "jq.json");
  ASSERT_EQ(two.records.size(), 2u) << two.Dump();
  EXPECT_EQ(two.records[0].line, 1);
  EXPECT_EQ(two.records[1].line, static_cast<int64_t>(Lines(pretty).size()) + 1);
  ASSERT_EQ(two.rejects.size(), 1u);
  EXPECT_EQ(two.rejects[0].line, 2 * static_cast<int64_t>(Lines(pretty).size()) + 1);
  EXPECT_TRUE(Has(two.rejects[0].reason, "requestId must be a string"));
  // A syntax error inside a pretty document names its line.
  std::string broken = pretty;
  broken.replace(broken.find("\"region\": "), 10, "\"region\" ");
  const RecordingSink bad = ParseText(broken, "broken.json");
  ASSERT_EQ(bad.rejects.size(), 1u);
  EXPECT_TRUE(Has(bad.rejects[0].reason, "invalid JSON at line ")) << bad.rejects[0].reason;
  EXPECT_TRUE(Has(bad.rejects[0].reason, "expected ':' after an object key"));
}

TEST(ParseStreamTest, BrokenFirstLineOfJsonLinesIsNotADocument) {
  const auto lines = Lines(ReadFixture("invocation_logs.jsonl"));
  const std::string text = lines[0].substr(0, 100) + "\n" + lines[1] + "\n" + lines[2] + "\n";
  const RecordingSink sink = ParseText(text, "x.jsonl");
  EXPECT_EQ(sink.records.size(), 2u);
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_EQ(sink.rejects[0].where, "x.jsonl:1");
}

TEST(ParseStreamTest, DocumentSizeLimit) {
  ParseLimits limits;
  limits.max_document_bytes = 1000;
  const RecordingSink sink = ParseFile("records_array.json", limits);
  EXPECT_TRUE(sink.records.empty());
  ASSERT_EQ(sink.rejects.size(), 1u);
  EXPECT_TRUE(Has(sink.rejects[0].reason,
                  "whole JSON document (not one record per line) of more than 1000 bytes "
                  "(ingest.max_document_bytes)"));
}

// Found by fuzz/input_fuzzer (fuzz/regressions/input/): a damaged .json.gz whose content is one
// document over ingest.max_document_bytes was refused as DATA_LOSS when read in large chunks,
// but read a few bytes at a time the parser stopped at the limit and never reached the broken
// gzip trailer: one rejection and OK. The rest of the input is now read (not kept) either way.
TEST(ParseStreamTest, DamagedGzipPastAnOversizedDocumentIsReportedWhateverTheReads) {
  ParseLimits limits;
  limits.max_document_bytes = 1000;
  const std::string document = ReadFixture("records_array.json");
  ASSERT_GT(document.size(), limits.max_document_bytes);
  auto gz = Gzip(document);
  ASSERT_TRUE(gz.ok());
  std::string damaged = *gz;
  damaged[damaged.size() - 6] = static_cast<char>(damaged[damaged.size() - 6] ^ 0x5a);  // CRC
  for (size_t step : {size_t{3}, size_t{64}, damaged.size()}) {
    InputParser parser(limits);
    RecordingSink sink;
    TrickleSource source(damaged, step);
    const Status s = parser.ParseStream(source, "d.json.gz", sink);
    EXPECT_EQ(s.code(), Code::kDataLoss) << "step " << step << ": " << s.ToString();
    EXPECT_TRUE(sink.rejects.empty()) << "step " << step;
  }
  // Intact, the oversized document is rejected by name at any step, and the status is OK.
  for (size_t step : {size_t{3}, gz->size()}) {
    InputParser parser(limits);
    RecordingSink sink;
    TrickleSource source(*gz, step);
    EXPECT_TRUE(parser.ParseStream(source, "d.json.gz", sink).ok());
    ASSERT_EQ(sink.rejects.size(), 1u);
    EXPECT_TRUE(Has(sink.rejects[0].reason, "ingest.max_document_bytes"));
  }
}

TEST(ParseStreamTest, OddLines) {
  const std::string rec =
      R"({"request_id":"r","timestamp":"2025-06-03T15:00:07Z","principal":"1:a","model_id":"m"})";
  const std::string text = "\xEF\xBB\xBF" + rec + "\n" +               // BOM
                           "hello world\n" +                           // garbage
                           Base64Encode(rec) + "\n" +                  // base64 of a record
                           Base64Encode("just text") + "\n" +          // base64 of garbage
                           "{\"a\":" + std::string(100, '[') + "\n" +  // too deep
                           "\n\n" + rec;                               // no final newline
  const RecordingSink sink = ParseText(text, "odd");
  std::vector<std::string> where;
  for (const auto& d : sink.records) where.push_back(d.where);
  EXPECT_EQ(where, (std::vector<std::string>{"odd:1", "odd:3", "odd:8"}));
  ASSERT_EQ(sink.rejects.size(), 3u) << sink.Dump();
  EXPECT_TRUE(Has(sink.rejects[0].reason, "neither JSON nor base64"));
  EXPECT_TRUE(Has(sink.rejects[1].reason, "decodes to neither gzip nor JSON"));
  EXPECT_TRUE(Has(sink.rejects[2].reason, "ingest.max_json_depth"));
}

TEST(ParseStreamTest, SurvivesMutatedInput) {
  // Random damage to every fixture: nothing may crash, and plain text never fails the stream.
  std::mt19937 rng(20250603);
  const char* const fixtures[] = {"invocation_logs.jsonl",   "cloudwatch_data_message.json",
                                  "cloudwatch_payloads.b64", "firehose_delivery.json",
                                  "records_array.json",      "s3_object.json.gz"};
  const std::string alphabet = "{}[]\",:\\ \n0-9eE.a";
  InputParser parser;
  for (const char* name : fixtures) {
    const std::string original = ReadFixture(name);
    for (int round = 0; round < 150; ++round) {
      std::string text = original;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits && !text.empty(); ++k) {
        const size_t at = rng() % text.size();
        switch (rng() % 3) {
          case 0:
            text[at] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            text.erase(at, 1 + rng() % 16);
            break;
          default:
            text.resize(at);
            break;
        }
      }
      RecordingSink sink;
      auto src = MemorySource(text);
      const Status s = parser.ParseStream(*src, name, sink);
      if (!formats_internal::IsGzip(text)) {
        EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
      }
      RecordingSink fh;
      (void)parser.ParseFirehose(text, name, fh);
      (void)parser.ParseRecord(text);
    }
  }
}

TEST(ParseStreamTest, EmptyInputs) {
  EXPECT_TRUE(ParseText("").records.empty());
  EXPECT_TRUE(ParseText("\n\n  \r\n").rejects.empty());
  EXPECT_TRUE(ParseText(*Gzip("")).records.empty());
}

TEST(OpenFileSourceTest, Errors) {
  auto missing = OpenFileSource("/nonexistent/file.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_TRUE(Has(missing.status().message(), "/nonexistent/file.jsonl"));
  auto dir = OpenFileSource(std::string(BUDGETEER_SOURCE_DIR));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace budgeteer
