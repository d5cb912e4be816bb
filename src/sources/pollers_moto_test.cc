// The S3 and CloudWatch Logs pollers against moto_server with SigV4 verification: exact totals,
// nothing new on a second poll, a late object in an older hour, restarts (a new engine and a
// new poller on the same ledger) that re-apply nothing, a damaged object put again fixed under
// its key (read again, counted once; moto's ETags) and a good one put again unchanged (not read),
// equal timestamps in CloudWatch Logs, and the same records through both sources counted once.
//
// moto refuses correct signatures for query values holding '/' (docs/aws.md), so the S3 tests
// list under the prefix "AWSLogs" while the keys have Bedrock's full layout
// (AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/...).
#include <gtest/gtest.h>

#include <memory>
#include <mutex>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/testing/moto_account.h"
#include "core/clock.h"
#include "formats/input.h"
#include "pricing/catalog_file.h"
#include "sources/logs_poller.h"
#include "sources/s3_poller.h"
#include "store/sqlite/sqlite_ledger.h"
#include "util/json_writer.h"

namespace budgeteer::sources {
namespace {

constexpr char kBucket[] = "invocation-logs";
constexpr char kGroup[] = "/aws/bedrock/modelinvocations";
constexpr char kKeyPrefix[] = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/";

class PollersMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("poller");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();

    auto store = OpenSqliteLedger(":memory:", SqliteOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto catalog = LoadEmbeddedCatalog();
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::make_unique<PriceCatalog>(std::move(*catalog));
    Restart();
  }

  // A new engine (de-duplication set warmed from the ledger) and target, as after a restart.
  void Restart() {
    auto engine = Engine::Open(*store_, *catalog_, EngineOptions{}, clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    target_ = std::make_unique<PollTarget>(*engine_, engine_mu_, *store_);
  }

  // One invocation-log line: a Claude 3 Haiku call by `user` with `input` tokens
  // ($0.25 per million input tokens), stamped a minute ago.
  std::string Line(const std::string& request_id, int64_t input, const std::string& user) const {
    const std::string at =
        Timestamp::FromUnixMillis(clock_.Now().unix_millis() - 60'000).ToRfc3339();
    return R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":")" + at +
           R"(","accountId":"111122223333","identity":{"arn":"arn:aws:iam::111122223333:user/)" +
           user + R"("},"region":"us-east-1","requestId":")" + request_id +
           R"(","operation":"Converse","modelId":"anthropic.claude-3-haiku-20240307-v1:0",)"
           R"("input":{"inputTokenCount":)" +
           std::to_string(input) + R"(},"output":{"outputTokenCount":0}})";
  }

  void PutObject(const std::string& hour_path, const std::string& name, const std::string& body) {
    auto s3 = moto_->Client(aws::kS3);
    const std::string key = std::string(kKeyPrefix) + hour_path + "/" + name;
    auto put =
        s3.Rest("PutObject", "PUT", std::string("/") + kBucket + "/" + aws::UriEncode(key, true),
                {}, {}, body, aws::Protocol::kRestXml);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  void CreateBucket() {
    auto s3 = moto_->Client(aws::kS3);
    auto created = s3.Rest("CreateBucket", "PUT", std::string("/") + kBucket, {}, {}, "",
                           aws::Protocol::kRestXml);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void CreateGroup() {
    auto logs = moto_->Client(aws::kLogs);
    JsonWriter g;
    g.BeginObject().Field("logGroupName", kGroup).EndObject();
    ASSERT_TRUE(logs.Json("Logs_20140328", "CreateLogGroup", g.Take()).ok());
    JsonWriter s;
    s.BeginObject().Field("logGroupName", kGroup).Field("logStreamName", "aws/bedrock/1");
    s.EndObject();
    ASSERT_TRUE(logs.Json("Logs_20140328", "CreateLogStream", s.Take()).ok());
  }

  void PutEvents(const std::vector<std::pair<int64_t, std::string>>& events) {
    auto logs = moto_->Client(aws::kLogs);
    JsonWriter w;
    w.BeginObject().Field("logGroupName", kGroup).Field("logStreamName", "aws/bedrock/1");
    w.Key("logEvents").BeginArray();
    for (const auto& [ts, message] : events) {
      w.BeginObject().Field("timestamp", ts).Field("message", message).EndObject();
    }
    w.EndArray().EndObject();
    auto put = logs.Json("Logs_20140328", "PutLogEvents", w.Take());
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  std::unique_ptr<S3Poller> NewS3Poller() {
    S3PollerOptions o;
    o.bucket = kBucket;
    o.prefix = "AWSLogs";  // see the note at the top
    o.max_keys = 2;        // several pages
    auto poller = S3Poller::Create(moto_->env(), clock_, o, *target_);
    EXPECT_TRUE(poller.ok()) << poller.status().ToString();
    return poller.ok() ? std::move(*poller) : nullptr;
  }

  std::unique_ptr<LogsPoller> NewLogsPoller() {
    LogsPollerOptions o;
    o.log_group = kGroup;
    o.page_limit = 2;  // several pages
    auto poller = LogsPoller::Create(moto_->env(), clock_, o, *target_);
    EXPECT_TRUE(poller.ok()) << poller.status().ToString();
    return poller.ok() ? std::move(*poller) : nullptr;
  }

  // A restart (new engine, a new poller from `make`, same ledger), after which the first poll
  // reads nothing again.
  template <typename Poller, typename Make>
  void RestartAndExpectNothingNew(std::unique_ptr<Poller>& poller, Make make) {
    poller.reset();
    Restart();
    poller = make();
    ASSERT_NE(poller, nullptr);
    auto restarted = poller->PollOnce();
    ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
    EXPECT_EQ(restarted->objects, 0);
    EXPECT_EQ(restarted->applied, 0);
  }

  Money Spent(const std::string& user) {
    std::lock_guard<std::mutex> lock(engine_mu_);
    auto view = engine_->ShowBudget("111122223333:" + user);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? view->row.state.spent : Money();
  }

  SystemClock clock_;
  std::unique_ptr<aws::testing::MotoAccount> moto_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<PriceCatalog> catalog_;
  std::mutex engine_mu_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<PollTarget> target_;
};

TEST_F(PollersMotoTest, S3ObjectsAreIngestedOnceAcrossPollsLateObjectsAndRestarts) {
  CreateBucket();
  // Three hours; gzip as Bedrock writes them, and one plain object; "r2" is in two objects.
  PutObject("2026/11/01/00", "a.json.gz",
            *Gzip(Line("r1", 1'000'000, "alice") + "\n" + Line("r2", 1'000'000, "alice") + "\n"));
  PutObject("2026/11/01/01", "b.json.gz",
            *Gzip(Line("r2", 1'000'000, "alice") + "\n" + Line("r3", 2'000'000, "bob") + "\n"));
  PutObject("2026/11/01/02", "c.json", Line("r4", 4'000'000, "bob") + "\nnot json\n");

  auto poller = NewS3Poller();
  ASSERT_NE(poller, nullptr);
  auto first = poller->PollOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects, 3);
  EXPECT_EQ(first->applied, 4);
  EXPECT_EQ(first->duplicates, 1);
  EXPECT_EQ(first->rejected, 1);
  EXPECT_NE(first->first_rejection.find("c.json:2"), std::string::npos) << first->first_rejection;
  EXPECT_EQ(Spent("alice"), *Money::ParseUsd("0.50"));
  EXPECT_EQ(Spent("bob"), *Money::ParseUsd("1.50"));

  auto again = poller->PollOnce();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->objects, 0);
  EXPECT_EQ(again->applied, 0);

  // A late object in an older hour (its key sorts before the newest one read).
  PutObject("2026/11/01/00", "late.json.gz", *Gzip(Line("r5", 4'000'000, "alice") + "\n"));
  auto late = poller->PollOnce();
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(late->objects, 1);
  EXPECT_EQ(late->applied, 1);
  EXPECT_EQ(Spent("alice"), *Money::ParseUsd("1.50"));

  // A restart: new engine, new poller, same ledger: nothing is read again.
  ASSERT_NO_FATAL_FAILURE(RestartAndExpectNothingNew(poller, [&] { return NewS3Poller(); }));
  PutObject("2026/11/01/03", "d.json.gz", *Gzip(Line("r6", 4'000'000, "bob") + "\n"));
  auto after = poller->PollOnce();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->objects, 1);
  EXPECT_EQ(after->applied, 1);
  EXPECT_EQ(Spent("alice"), *Money::ParseUsd("1.50"));
  EXPECT_EQ(Spent("bob"), *Money::ParseUsd("2.50"));
}

TEST_F(PollersMotoTest, S3DamagedObjectPutAgainFixedUnderItsKeyCountsOnce) {
  CreateBucket();
  std::string lines;
  for (int i = 0; i < 200; ++i) {
    // $0.01 each.
    lines += Line("fix-" + std::to_string(i), 40'000, "erin") + "\n";
  }
  const std::string intact = *Gzip(lines);
  PutObject("2026/11/01/00", "a.json.gz", *Gzip(Line("good-1", 4'000'000, "erin") + "\n"));
  PutObject("2026/11/01/00", "b.json.gz", intact.substr(0, intact.size() / 2));

  auto poller = NewS3Poller();
  ASSERT_NE(poller, nullptr);
  auto first = poller->PollOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects, 2);
  ASSERT_EQ(first->unreadable.size(), 1U);
  const int64_t before_damage = first->applied - 1;
  EXPECT_GT(before_damage, 0);  // records before the damage, read twice below
  EXPECT_LT(before_damage, 200);
  auto unchanged = poller->PollOnce();
  ASSERT_TRUE(unchanged.ok()) << unchanged.status().ToString();
  EXPECT_EQ(unchanged->objects, 0);

  // The good object put again, the same bytes: the same ETag, not read. The damaged one fixed.
  PutObject("2026/11/01/00", "a.json.gz", *Gzip(Line("good-1", 4'000'000, "erin") + "\n"));
  PutObject("2026/11/01/00", "b.json.gz", intact);
  auto fixed = poller->PollOnce();
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->objects, 1);
  EXPECT_EQ(fixed->duplicates, before_damage);
  EXPECT_EQ(fixed->applied, 200 - before_damage);
  EXPECT_TRUE(fixed->unreadable.empty());
  EXPECT_EQ(Spent("erin"), *Money::ParseUsd("3.00"));  // $1 + 200 x $0.01

  ASSERT_NO_FATAL_FAILURE(RestartAndExpectNothingNew(poller, [&] { return NewS3Poller(); }));
  EXPECT_EQ(Spent("erin"), *Money::ParseUsd("3.00"));
}

TEST_F(PollersMotoTest, S3RefusesAWrongSignature) {
  CreateBucket();
  moto_->env().Set("AWS_SECRET_ACCESS_KEY", "wrong-secret");
  auto poller = NewS3Poller();
  ASSERT_NE(poller, nullptr);
  EXPECT_EQ(poller->PollOnce().status().code(), Code::kUnauthenticated);
}

TEST_F(PollersMotoTest, CloudWatchEventsAreIngestedOnceWithEqualTimestampsAndRestarts) {
  CreateGroup();
  const int64_t t = clock_.Now().unix_millis() - 120'000;
  PutEvents({{t, Line("c1", 1'000'000, "carol")},
             {t + 1, Line("c2", 1'000'000, "carol")},
             {t + 1, Line("c3", 1'000'000, "carol")}});
  auto poller = NewLogsPoller();
  ASSERT_NE(poller, nullptr);
  auto first = poller->PollOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->objects, 3);
  EXPECT_EQ(first->applied, 3);
  EXPECT_EQ(Spent("carol"), *Money::ParseUsd("0.75"));

  auto again = poller->PollOnce();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->objects, 0);

  // More events, one at the same millisecond as the newest already read, one bad.
  PutEvents({{t + 1, Line("c4", 1'000'000, "carol")},
             {t + 2, Line("c5", 1'000'000, "carol")},
             {t + 2, "not an invocation log"}});
  auto more = poller->PollOnce();
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_EQ(more->objects, 3);
  EXPECT_EQ(more->applied, 2);
  EXPECT_EQ(more->duplicates, 0);
  EXPECT_EQ(more->rejected, 1);
  EXPECT_EQ(Spent("carol"), *Money::ParseUsd("1.25"));

  ASSERT_NO_FATAL_FAILURE(RestartAndExpectNothingNew(poller, [&] { return NewLogsPoller(); }));
  EXPECT_EQ(Spent("carol"), *Money::ParseUsd("1.25"));
}

TEST_F(PollersMotoTest, TheSameRecordsThroughS3AndCloudWatchCountOnce) {
  CreateBucket();
  CreateGroup();
  const int64_t t = clock_.Now().unix_millis() - 60'000;
  std::string object;
  std::vector<std::pair<int64_t, std::string>> events;
  for (int i = 0; i < 5; ++i) {
    const std::string line = Line("both-" + std::to_string(i), 1'000'000, "dave");
    object += line + "\n";
    events.emplace_back(t + i, line);
  }
  PutObject("2026/11/01/00", "both.json.gz", *Gzip(object));
  PutEvents(events);

  auto s3 = NewS3Poller();
  auto logs = NewLogsPoller();
  ASSERT_NE(s3, nullptr);
  ASSERT_NE(logs, nullptr);
  auto from_logs = logs->PollOnce();
  ASSERT_TRUE(from_logs.ok()) << from_logs.status().ToString();
  auto from_s3 = s3->PollOnce();
  ASSERT_TRUE(from_s3.ok()) << from_s3.status().ToString();
  EXPECT_EQ(from_logs->applied, 5);
  EXPECT_EQ(from_s3->applied, 0);
  EXPECT_EQ(from_s3->duplicates, 5);
  EXPECT_EQ(Spent("dave"), *Money::ParseUsd("1.25"));
}

}  // namespace
}  // namespace budgeteer::sources
