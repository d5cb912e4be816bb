// `budgeteer serve` with the S3 and CloudWatch Logs pollers on (moto_server, SigV4 verified) and
// the Firehose endpoint: invocation-log objects in several hours (gzip, a record in two objects),
// CloudWatch Logs events and a Firehose delivery that share records with each other are counted
// once, and after a kill -9 and a restart only the new object is read.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/testing/moto_account.h"
#include "formats/input.h"
#include "tests/serve_fixture.h"
#include "util/json_writer.h"

namespace budgeteer::testing {
namespace {

constexpr char kBucket[] = "invocation-logs";
constexpr char kGroup[] = "/aws/bedrock/modelinvocations";
constexpr char kKeyPrefix[] = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/";

class PollersE2E : public ServeFixture {
 protected:
  // The S3 prefix is "AWSLogs": moto refuses correct signatures for query values holding '/'
  // (docs/aws.md); the keys have Bedrock's full layout.
  std::string ConfigToml() override {
    return std::string(R"(
[auth]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
[ingest.s3]
enabled = true
bucket = ")") +
           kBucket +
           R"("
prefix = "AWSLogs"
poll_seconds = 1
[ingest.cloudwatch]
enabled = true
log_group = ")" +
           kGroup + R"("
poll_seconds = 1
settle_seconds = 0
)";
  }

  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();

    auto s3 = moto_->Client(aws::kS3);
    ASSERT_TRUE(s3.Rest("CreateBucket", "PUT", std::string("/") + kBucket, {}, {}, "",
                        aws::Protocol::kRestXml)
                    .ok());
    auto logs = moto_->Client(aws::kLogs);
    JsonWriter g;
    g.BeginObject().Field("logGroupName", kGroup).EndObject();
    ASSERT_TRUE(logs.Json("Logs_20140328", "CreateLogGroup", g.Take()).ok());
    JsonWriter s;
    s.BeginObject().Field("logGroupName", kGroup).Field("logStreamName", "aws/bedrock/1");
    s.EndObject();
    ASSERT_TRUE(logs.Json("Logs_20140328", "CreateLogStream", s.Take()).ok());

    // $0.10 a record (400,000 Claude 3 Haiku input tokens). r2 is in two objects; r3 is in S3
    // and CloudWatch Logs; r4 in CloudWatch Logs and a Firehose delivery.
    PutObject("2026/11/01/00/a.json.gz", {"r1", "r2"});
    PutObject("2026/11/01/01/b.json.gz", {"r2", "r3"});
    const int64_t t = clock_.Now().unix_millis() - 60'000;
    JsonWriter w;
    w.BeginObject().Field("logGroupName", kGroup).Field("logStreamName", "aws/bedrock/1");
    w.Key("logEvents").BeginArray();
    w.BeginObject().Field("timestamp", t).Field("message", Record("r3", 400'000)).EndObject();
    w.BeginObject().Field("timestamp", t + 1).Field("message", Record("r4", 400'000)).EndObject();
    w.EndArray().EndObject();
    ASSERT_TRUE(logs.Json("Logs_20140328", "PutLogEvents", w.Take()).ok());

    // The server finds moto and the key through the standard AWS variables (the test process's
    // environment is the server's).
    moto_->ExportToChildProcesses();
    ServeFixture::SetUp();
  }

  void PutObject(const std::string& name, const std::vector<std::string>& ids) {
    std::string lines;
    for (const std::string& id : ids) lines += Record(id, 400'000) + "\n";
    auto s3 = moto_->Client(aws::kS3);
    const std::string key = std::string(kKeyPrefix) + name;
    auto put =
        s3.Rest("PutObject", "PUT", std::string("/") + kBucket + "/" + aws::UriEncode(key, true),
                {}, {}, *Gzip(lines), aws::Protocol::kRestXml);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  // Waits until the principal's spend is `usd`, then a little longer to see it stay there.
  void ExpectSpent(const std::string& usd) {
    const std::string want = R"("spent_usd":)" + usd;
    std::string budget;
    WaitUntil(
        [&] {
          budget = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
          return budget.find(want + ",") != std::string::npos;
        },
        std::chrono::seconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more polls
    budget = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
    EXPECT_NE(budget.find(want + ","), std::string::npos) << budget << "\n" << ServerLog();
  }

  SystemClock clock_;
  std::unique_ptr<aws::testing::MotoAccount> moto_;
};

TEST_F(PollersE2E, S3CloudWatchAndFirehoseCountEachRecordOnceAcrossARestart) {
  ASSERT_TRUE(Ingest("r4", 400'000));  // also in CloudWatch Logs
  ExpectSpent("0.4");                  // r1..r4

  KillHard();
  PutObject("2026/11/01/00/late.json.gz", {"r1", "r5"});  // late, in an older hour; r1 again
  Start();
  ExpectSpent("0.5");
}

}  // namespace
}  // namespace budgeteer::testing
