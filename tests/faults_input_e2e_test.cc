// Fault injection, damaged input: invocation-log `.json.gz` files that are truncated, corrupt
// (a flipped byte), followed by garbage, or empty, through `budgeteer ingest`, the Firehose
// endpoint and the S3 poller (moto_server). Each damaged file or object gets one clear error
// that names it and says what to do; the other files and objects of the same run are counted;
// the records read before the damage stay applied once, and when the intact copy arrives
// later (under a new key, or for S3 under the same key) only the records not yet counted are
// added.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/testing/moto_account.h"
#include "core/money.h"
#include "formats/input.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kTokens = 4'000;  // Claude 3 Haiku input: $0.001 a record
constexpr int64_t kNanosPerRecord = 1'000'000;

// `n` invocation-log records "<prefix>-<i>" of BedrockAPIKey-abc, stamped `at`, as JSON lines.
std::string Lines(const std::string& prefix, int64_t n, const std::string& at) {
  std::string out;
  for (int64_t i = 0; i < n; ++i) {
    LogRecord r;
    r.request_id = prefix + "-" + std::to_string(i);
    r.timestamp = at;
    r.input = kTokens;
    r.extra = R"(,"requestMetadata":{"pad":")" + std::string(200, static_cast<char>('a' + i % 26)) +
              R"("})";
    out += r.Json() + "\n";
  }
  return out;
}

std::string GzipOf(const std::string& text) { return *Gzip(text); }

// The ways a gzip file arrives damaged.
std::string Truncated(const std::string& gz) { return gz.substr(0, gz.size() / 2); }
std::string Corrupt(const std::string& gz) {
  std::string out = gz;
  out[out.size() * 2 / 3] = static_cast<char>(out[out.size() * 2 / 3] ^ 0x55);
  return out;
}
std::string TrailingGarbage(const std::string& gz) { return gz + "this is not gzip\n"; }

std::string Usd(int64_t records) { return Money::FromNanos(records * kNanosPerRecord).ToUsd(); }

// ---------------------------------------------------------------------------------------------
// budgeteer ingest

TEST(DamagedGzipCliE2E, EachDamagedFileIsNamedOnceOthersCountAndTheIntactCopyAddsTheRest) {
  CliHarness h;
  const std::string at = "2026-03-01T10:00:00Z";
  constexpr int64_t kPerFile = 300;
  std::map<std::string, std::string> intact;  // name -> gzip
  for (const char* name : {"good1", "trunc", "corrupt", "trailing", "good2"}) {
    intact[name] = GzipOf(Lines(name, kPerFile, at));
  }
  const std::string good1 = h.Write("good1.json.gz", intact["good1"]);
  const std::string trunc = h.Write("trunc.json.gz", Truncated(intact["trunc"]));
  const std::string corrupt = h.Write("corrupt.json.gz", Corrupt(intact["corrupt"]));
  const std::string trailing = h.Write("trailing.json.gz", TrailingGarbage(intact["trailing"]));
  const std::string empty = h.Write("empty.json.gz", "");
  const std::string good2 = h.Write("good2.json.gz", intact["good2"]);

  const std::string now = "2026-03-01T12:00:00Z";
  RunResult run = h.Run({"ingest", good1, trunc, corrupt, trailing, empty, good2}, now);
  EXPECT_EQ(run.exit_code, 3) << run.err;  // partial: something was rejected
  // One line per damaged file, naming it once, with the way out.
  for (const std::string& bad : {trunc, corrupt, trailing}) {
    const size_t line_start = run.err.find(bad + ": ");
    ASSERT_NE(line_start, std::string::npos) << run.err;
    const std::string line =
        run.err.substr(line_start, run.err.find('\n', line_start) - line_start);
    EXPECT_EQ(Count(line, bad), 1U) << line;
    EXPECT_NE(line.find("records before this point were delivered"), std::string::npos) << line;
  }
  EXPECT_NE(run.err.find("fetch or copy it again"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("unexpected bytes after the end of a gzip member"), std::string::npos);
  EXPECT_EQ(Count(run.err, "\n"), 3U) << run.err;  // nothing about the empty file

  // Both good files and the whole member before the garbage count; of the truncated and the
  // corrupt file, the records before the damage.
  const std::string budget = h.Run({"budgets", "show", "BedrockAPIKey-abc", "--json"}, now).out;
  const Money first = *Money::ParseUsd(JsonValue(budget, "spent_usd"));
  EXPECT_GE(first.nanos(), 3 * kPerFile * kNanosPerRecord) << budget;
  EXPECT_LT(first.nanos(), 5 * kPerFile * kNanosPerRecord) << budget;

  // The intact copies arrive: only what was not yet counted is added, whatever the order.
  const std::string trunc_ok = h.Write("trunc-ok.json.gz", intact["trunc"]);
  const std::string corrupt_ok = h.Write("corrupt-ok.json.gz", intact["corrupt"]);
  RunResult again = h.Run({"ingest", corrupt_ok, good1, trunc_ok, trailing}, now);
  EXPECT_EQ(again.exit_code, 3) << again.err;  // the trailing garbage is still there
  const std::string after = h.Run({"budgets", "show", "BedrockAPIKey-abc", "--json"}, now).out;
  EXPECT_EQ(JsonValue(after, "spent_usd"), Usd(5 * kPerFile)) << after;
}

// ---------------------------------------------------------------------------------------------
// POST /v1/ingest/firehose

class DamagedFirehoseE2E : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return R"(
[auth]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
)";
  }

  std::string Spent() {
    return JsonValue(Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token"), "spent_usd");
  }

  httplib::Result PostRaw(const std::string& payload) {
    return Client().Post("/v1/ingest/firehose",
                         {{"X-Amz-Firehose-Access-Key", kAccessKey}, {"Content-Encoding", "gzip"}},
                         payload, "application/json");
  }
};

TEST_F(DamagedFirehoseE2E, DamagedGzipBodiesAreRefusedWholeAndNothingIsApplied) {
  const std::string now = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
  std::vector<std::string> datas;
  for (int i = 0; i < 50; ++i) {
    LogRecord r;
    r.request_id = "fh-" + std::to_string(i);
    r.timestamp = now;
    r.input = kTokens;
    datas.push_back(r.Json());
  }
  const std::string gz = GzipOf(Delivery("del-1", datas));
  // The route inflates the body itself (cpp-httplib's inflater would hand a stream cut short
  // to the handler as shorter JSON, reported as "invalid JSON at column N"): each damage is
  // named.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Truncated(gz), "gzip body cannot be inflated: gzip data is truncated: it ends after"},
      {Corrupt(gz), "gzip body cannot be inflated: corrupt gzip data near compressed byte"},
      {TrailingGarbage(gz), "unexpected bytes after the end of a gzip member"},
      {Delivery("del-1", datas), "Content-Encoding is gzip but the body is not gzip data"}};
  for (const auto& [damaged, why] : cases) {
    auto res = PostRaw(damaged);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_NE(res->body.find("errorMessage"), std::string::npos) << res->body;
    EXPECT_NE(res->body.find(why), std::string::npos) << res->body;
    EXPECT_EQ(res->body.find("invalid JSON"), std::string::npos) << res->body;
  }
  // Cut just before its 8-byte trailer (CRC-32 and length): every record inflates, only the end
  // of the stream is missing; still refused, since its integrity cannot be checked.
  {
    auto res = PostRaw(gz.substr(0, gz.size() - 8));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_NE(res->body.find("truncated"), std::string::npos) << res->body;
  }
  auto empty = PostRaw("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;
  int status = 0;
  Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token", &status);
  EXPECT_EQ(status, 404) << "a damaged delivery was partly applied";

  // Firehose sends it again, intact: counted once.
  auto res = PostRaw(gz);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Spent(), Usd(50));
}

// POST /v1/usage decodes its body itself too: a damaged gzip body is refused whole (400 naming
// the damage), another Content-Encoding is refused by name, the intact body counts once.
class DamagedUsageBodyE2E : public DamagedFirehoseE2E {
 protected:
  std::string ConfigToml() override {
    return "[auth]\nadmin_tokens = [\"adm1n-token\"]\nviewer_tokens = [\"v1ewer-token\"]\n";
  }
  httplib::Result PostUsage(const std::string& body, const std::string& encoding) {
    httplib::Headers headers = {{"Authorization", "Bearer adm1n-token"}};
    if (!encoding.empty()) headers.emplace("Content-Encoding", encoding);
    return Client().Post("/v1/usage", headers, body, "application/x-ndjson");
  }
};

TEST_F(DamagedUsageBodyE2E, DamagedGzipBodiesAreNamedAndNothingIsApplied) {
  const std::string at = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
  const std::string lines = Lines("api", 40, at);
  const std::string gz = GzipOf(lines);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {Truncated(gz), "gzip", "gzip body cannot be inflated: gzip data is truncated"},
      {gz.substr(0, gz.size() - 8), "gzip", "truncated"},
      {Corrupt(gz), "gzip", "gzip body cannot be inflated: corrupt gzip data"},
      {TrailingGarbage(gz), "gzip", "unexpected bytes after the end of a gzip member"},
      {lines, "gzip", "Content-Encoding is gzip but the body is not gzip data"},
      {gz, "br", "unsupported Content-Encoding 'br' (gzip or none)"}};
  for (const auto& [body, encoding, why] : cases) {
    auto res = PostUsage(body, encoding);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_NE(res->body.find("INVALID_ARGUMENT"), std::string::npos) << res->body;
    EXPECT_NE(res->body.find(why), std::string::npos) << res->body;
    EXPECT_EQ(res->body.find("invalid JSON"), std::string::npos) << res->body;
  }
  int status = 0;
  Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token", &status);
  EXPECT_EQ(status, 404) << "a damaged body was partly applied";

  auto res = PostUsage(gz, "gzip");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "applied"), "40") << res->body;
  res = PostUsage(lines, "");  // the same records, plain: all duplicates
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "duplicates"), "40") << res->body;
  EXPECT_EQ(Spent(), Usd(40));
}

TEST_F(DamagedFirehoseE2E, DamagedCloudWatchPayloadInADeliveryIsRejectedAndTheOthersCount) {
  // A delivery of three records: a plain record, a CloudWatch Logs payload cut short, and a
  // whole CloudWatch Logs payload.
  auto whole = Base64Decode(CloudWatchPayload({Record("cw-1", kTokens), Record("cw-2", kTokens)}));
  auto cut = Base64Decode(CloudWatchPayload({Record("cut-1", kTokens)}));
  ASSERT_TRUE(whole.ok() && cut.ok());
  const std::string body =
      Delivery("del-cw", {Record("plain-1", kTokens), cut->substr(0, cut->size() / 2), *whole});
  auto res = PostFirehose(body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Spent(), Usd(3));
  // The rejection is counted and logged, naming the record of the delivery and the damage.
  const std::string metrics = Get("/metrics", "");
  EXPECT_NE(metrics.find(R"(budgeteer_records_total{source="firehose",outcome="rejected"} 1)"),
            std::string::npos)
      << metrics;
  const std::string log = ServerLog();
  EXPECT_NE(log.find("firehose: delivery del-cw: rejected 1 (of 4 usage records read"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("firehose record 2: Firehose record data holds gzip data that cannot be "
                     "inflated: gzip data is truncated"),
            std::string::npos)
      << log;
  // Re-sent: nothing is counted twice.
  ASSERT_EQ(PostFirehose(body)->status, 200);
  EXPECT_EQ(Spent(), Usd(3));
}

// ---------------------------------------------------------------------------------------------
// The S3 poller (moto_server)

constexpr char kBucket[] = "invocation-logs";
constexpr char kKeyPrefix[] = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/";

class DamagedS3E2E : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return std::string(R"(
[auth]
viewer_tokens = ["v1ewer-token"]
[ingest.s3]
enabled = true
bucket = ")") +
           kBucket + R"("
prefix = "AWSLogs"
poll_seconds = 1
)";
  }

  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    ASSERT_TRUE(S3().Rest("CreateBucket", "PUT", std::string("/") + kBucket, {}, {}, "",
                          aws::Protocol::kRestXml)
                    .ok());
    moto_->ExportToChildProcesses();
  }

  aws::AwsClient S3() { return moto_->Client(aws::kS3); }

  std::string Put(const std::string& name, const std::string& body) {
    std::string key = std::string(kKeyPrefix) + name;
    auto put =
        S3().Rest("PutObject", "PUT", std::string("/") + kBucket + "/" + aws::UriEncode(key, true),
                  {}, {}, body, aws::Protocol::kRestXml);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return key;
  }

  std::string Spent() {
    return JsonValue(Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token"), "spent_usd");
  }

  // The server starts once the test has put its objects (SetUp prepares moto only).
  void StartServer() { ServeFixture::SetUp(); }

  std::unique_ptr<aws::testing::MotoAccount> moto_;
};

TEST_F(DamagedS3E2E, DamagedObjectsAreNamedInTheLogSkippedOnceAndTheOthersCount) {
  const std::string at = SystemClock().Now().PlusSeconds(-600).ToRfc3339();
  constexpr int64_t kPerObject = 200;
  const std::string trunc_gz = GzipOf(Lines("trunc", kPerObject, at));
  const std::string corrupt_gz = GzipOf(Lines("corrupt", kPerObject, at));
  const std::string hour = "2026/11/01/00/";
  Put(hour + "a-good.json.gz", GzipOf(Lines("good1", kPerObject, at)));
  const std::string trunc_key = Put(hour + "b-trunc.json.gz", Truncated(trunc_gz));
  const std::string corrupt_key = Put(hour + "c-corrupt.json.gz", Corrupt(corrupt_gz));
  const std::string trailing_key =
      Put(hour + "d-trailing.json.gz", TrailingGarbage(GzipOf(Lines("trailing", kPerObject, at))));
  Put(hour + "e-empty.json.gz", "");
  Put(hour + "f-good.json.gz", GzipOf(Lines("good2", kPerObject, at)));
  StartServer();

  // The good objects and the member before the garbage count; each damaged object is named.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string log = ServerLog();
        return log.find(trunc_key) != std::string::npos &&
               log.find(corrupt_key) != std::string::npos &&
               log.find(trailing_key) != std::string::npos;
      },
      milliseconds(20'000)))
      << ServerLog();
  std::this_thread::sleep_for(milliseconds(2500));  // two more polls: nothing is read again
  const std::string log = ServerLog();
  for (const std::string& key : {trunc_key, corrupt_key, trailing_key}) {
    EXPECT_EQ(Count(log, key + ":"), 1U) << key << " reported more than once:\n" << log;
  }
  EXPECT_NE(log.find("new key"), std::string::npos) << log;  // the way out
  const Money first = *Money::ParseUsd(Spent());
  EXPECT_GE(first.nanos(), 3 * kPerObject * kNanosPerRecord);
  EXPECT_LT(first.nanos(), 5 * kPerObject * kNanosPerRecord);

  // The way out: the intact copies under new keys. Only what was not yet counted is added.
  Put(hour + "g-trunc-again.json.gz", trunc_gz);
  Put(hour + "h-corrupt-again.json.gz", corrupt_gz);
  const std::string want = Usd(5 * kPerObject);
  ASSERT_TRUE(WaitUntil([&] { return Spent() == want; }, milliseconds(20'000)))
      << Spent() << " != " << want << "\n"
      << ServerLog();
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_EQ(Spent(), want);
}

// The producer (or an operator) puts the intact copy under the damaged object's own key: the
// poller sees another ETag, reads it again, and only what was missing is added; a good object
// put again with the same bytes is not read.
TEST_F(DamagedS3E2E, AFixedCopyUnderTheSameKeyAddsOnlyWhatWasMissing) {
  const std::string at = SystemClock().Now().PlusSeconds(-600).ToRfc3339();
  constexpr int64_t kPerObject = 200;
  const std::string good_gz = GzipOf(Lines("same-good", kPerObject, at));
  const std::string trunc_gz = GzipOf(Lines("same-trunc", kPerObject, at));
  const std::string hour = "2026/11/02/00/";
  Put(hour + "a-good.json.gz", good_gz);
  const std::string trunc_key = Put(hour + "b-trunc.json.gz", Truncated(trunc_gz));
  StartServer();

  ASSERT_TRUE(WaitUntil([&] { return ServerLog().find(trunc_key) != std::string::npos; },
                        milliseconds(20'000)))
      << ServerLog();
  std::this_thread::sleep_for(milliseconds(2500));  // two more polls: nothing is read again
  EXPECT_EQ(Count(ServerLog(), trunc_key + ":"), 1U) << ServerLog();
  EXPECT_NE(ServerLog().find("same key"), std::string::npos) << ServerLog();
  const Money first = *Money::ParseUsd(Spent());
  EXPECT_GT(first.nanos(), kPerObject * kNanosPerRecord);  // records before the damage
  EXPECT_LT(first.nanos(), 2 * kPerObject * kNanosPerRecord);

  Put(hour + "a-good.json.gz", good_gz);
  Put(hour + "b-trunc.json.gz", trunc_gz);
  const std::string want = Usd(2 * kPerObject);
  ASSERT_TRUE(WaitUntil([&] { return Spent() == want; }, milliseconds(20'000)))
      << Spent() << " != " << want << "\n"
      << ServerLog();
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_EQ(Spent(), want);
  EXPECT_EQ(Count(ServerLog(), trunc_key + ":"), 1U) << ServerLog();  // not reported again
}

}  // namespace
}  // namespace budgeteer::testing
