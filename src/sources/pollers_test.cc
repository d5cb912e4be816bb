// The pollers' pure parts (checkpoints: encoding, compaction, the damaged objects' bound, equal
// timestamps; the ListObjectsV2 reply), and the S3 poller over an in-memory fake S3 with a real
// engine and SQLite ledger: a damaged object put again under its key, fixed, is read again and
// counted once, above and below the floor, with and without ETags; the same good object put
// again is not counted twice.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "aws/environment.h"
#include "aws/http.h"
#include "aws/xml.h"
#include "core/clock.h"
#include "engine/engine.h"
#include "formats/input.h"
#include "pricing/catalog_file.h"
#include "sources/logs_poller.h"
#include "sources/s3_poller.h"
#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer::sources {
namespace {

constexpr char kPrefix[] = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/";

TEST(S3CheckpointTest, EncodesFrontCodedAndDecodesBack) {
  S3Checkpoint c;
  c.floor = std::string(kPrefix) + "2026/11/01/00/a.json.gz";
  c.done[std::string(kPrefix) + "2026/11/01/01/x.json.gz"] = 1000;
  c.done[std::string(kPrefix) + "2026/11/01/01/y.json.gz"] = 2000;
  c.done[std::string(kPrefix) + "2026/11/01/02/odd\tkey%\n.json.gz"] = 3000;
  const std::string text = c.Encode();
  // The second key shares all but "y.json.gz" with the first.
  EXPECT_NE(text.find("\ty.json.gz\t2000\n"), std::string::npos) << text;
  auto back = S3Checkpoint::Decode(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->floor, c.floor);
  EXPECT_EQ(back->done, c.done);

  auto empty = S3Checkpoint::Decode(S3Checkpoint{}.Encode());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->floor.empty() && empty->done.empty());
  EXPECT_EQ(S3Checkpoint::Decode("garbage\n").status().code(), Code::kDataLoss);
  EXPECT_EQ(S3Checkpoint::Decode("s3ckpt 1\n\n99\tx\t1\n").status().code(), Code::kDataLoss);
  // Empty, the magic alone, a line cut short (no newline), and the recovery named.
  for (const char* damaged : {"", "s3ckpt 1\n", "s3ckpt 1\nfloor", "s3ckpt 1\nfloor\n0\tk"}) {
    const Status st = S3Checkpoint::Decode(damaged).status();
    EXPECT_EQ(st.code(), Code::kDataLoss) << damaged;
    EXPECT_NE(st.message().find("delete its meta row"), std::string::npos) << st.ToString();
  }
}

TEST(S3CheckpointTest, FloorPassesOnlyDoneKeysOlderThanTheWindow) {
  S3Checkpoint c;
  const std::vector<S3Object> listed = {{"k1", 100, 1, ""},
                                        {"k2", 200, 1, ""},
                                        {"k3", 900, 1, ""},
                                        {"k4", 150, 1, ""},
                                        {"k5", 100, 1, ""}};
  for (const char* k : {"k1", "k3", "k4", "k5"}) c.done[k] = 0;
  // k2 is not done: nothing moves, even though k1 is old.
  EXPECT_TRUE(c.Compact(listed, 500));
  EXPECT_EQ(c.floor, "k1");
  EXPECT_EQ(c.done.count("k1"), 0U);
  c.done["k2"] = 200;
  // k3 is recent (a late object could still appear before it): the floor stops at k2.
  EXPECT_TRUE(c.Compact(listed, 500));
  EXPECT_EQ(c.floor, "k2");
  EXPECT_EQ(c.done.size(), 3U);  // k3, k4, k5
  EXPECT_FALSE(c.Compact(listed, 500));
  EXPECT_TRUE(c.Compact(listed, 1000));
  EXPECT_EQ(c.floor, "k5");
  EXPECT_TRUE(c.done.empty());
}

TEST(S3CheckpointTest, DamagedObjectsRoundTripAndOnlyThenChangeTheVersion) {
  S3Checkpoint c;
  c.floor = std::string(kPrefix) + "2026/11/01/00/a.json.gz";
  c.done[std::string(kPrefix) + "2026/11/01/01/x.json.gz"] = 1000;
  // Without damaged objects the text is version 1, which older builds read.
  EXPECT_EQ(c.Encode().rfind("s3ckpt 1\n", 0), 0U) << c.Encode();
  // One below the floor, one above it (also done); odd characters in the key and the ETag.
  c.damaged[std::string(kPrefix) + "2026/10/31/23/b\tad%.json.gz"] = {"e\t1", 10, 20, 30};
  c.damaged[std::string(kPrefix) + "2026/11/01/01/x.json.gz"] = {"9f0e-2", 1000, 7, 40};
  const std::string text = c.Encode();
  EXPECT_EQ(text.rfind("s3ckpt 2\n", 0), 0U) << text;
  auto back = S3Checkpoint::Decode(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->floor, c.floor);
  EXPECT_EQ(back->done, c.done);
  EXPECT_EQ(back->damaged, c.damaged);
  // A damaged line in version 1, a short one, a bad number: damaged, with the way out.
  for (const char* bad : {"s3ckpt 1\nf\n!\tk\te\t1\t2\t3\n", "s3ckpt 2\nf\n!\tk\te\t1\t2\n",
                          "s3ckpt 2\nf\n!\tk\te\t1\tx\t3\n"}) {
    const Status st = S3Checkpoint::Decode(bad).status();
    EXPECT_EQ(st.code(), Code::kDataLoss) << bad;
    EXPECT_NE(st.message().find("delete its meta row"), std::string::npos) << st.ToString();
  }
}

TEST(S3CheckpointTest, DamagedObjectsAreForgottenPastTheWatchAndBeyondTheLimit) {
  S3Checkpoint c;
  c.damaged["k1"] = {"e", 0, 0, 100};
  c.damaged["k2"] = {"e", 0, 0, 500};
  c.damaged["k3"] = {"e", 0, 0, 300};
  c.damaged["k4"] = {"e", 0, 0, 300};
  c.damaged["k5"] = {"e", 0, 0, 900};
  EXPECT_TRUE(c.ForgetDamaged(5, 100).empty());  // found at 100: not before it
  EXPECT_EQ(c.ForgetDamaged(5, 101), std::vector<std::string>{"k1"});
  // Over the limit of two: the oldest found go first, ties by key.
  EXPECT_EQ(c.ForgetDamaged(2, 0), (std::vector<std::string>{"k3", "k4"}));
  EXPECT_EQ(c.damaged.size(), 2U);
  EXPECT_EQ(c.damaged.count("k2") + c.damaged.count("k5"), 2U);
  // Compaction leaves them: a damaged key the floor passes is still watched.
  c.done["k2"] = 1;
  c.done["k5"] = 1;
  EXPECT_TRUE(c.Compact({{"k2", 1, 1, ""}, {"k5", 1, 1, ""}}, 1000));
  EXPECT_EQ(c.floor, "k5");
  EXPECT_EQ(c.damaged.size(), 2U);
}

TEST(S3DamagedObjectTest, SameComparesETagsElseLastModifiedAndSize) {
  const S3DamagedObject d{"abc", 1000, 42, 0};
  EXPECT_TRUE(d.Same({"k", 5, 9, "abc"}));  // same content, put again: same ETag
  EXPECT_FALSE(d.Same({"k", 1000, 42, "def"}));
  EXPECT_TRUE(d.Same({"k", 1000, 42, ""}));  // no ETag: date and size
  EXPECT_FALSE(d.Same({"k", 2000, 42, ""}));
  EXPECT_FALSE(d.Same({"k", 1000, 43, ""}));
  EXPECT_TRUE((S3DamagedObject{"", 1000, 42, 0}).Same({"k", 1000, 42, "abc"}));
}

TEST(ListObjectsV2Test, ReadsKeysDatesAndTheToken) {
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>abc</NextContinuationToken>)"
      R"(<Contents><Key>AWSLogs/a&amp;b.json.gz</Key><LastModified>2026-11-01T10:00:00.000Z</LastModified>)"
      R"(<Size>42</Size><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></Contents></ListBucketResult>)";
  std::string token;
  auto objects = ParseListObjectsV2(xml, token);
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  ASSERT_EQ(objects->size(), 1U);
  EXPECT_EQ((*objects)[0].key, "AWSLogs/a&b.json.gz");
  EXPECT_EQ((*objects)[0].size, 42);
  EXPECT_EQ((*objects)[0].etag, "9b2cf535f27731c974343645a3985328");  // without its quotes
  EXPECT_EQ((*objects)[0].last_modified_ms,
            Timestamp::Parse("2026-11-01T10:00:00Z")->unix_millis());
  EXPECT_EQ(token, "abc");
  EXPECT_EQ(ParseListObjectsV2("<Error/>", token).status().code(), Code::kUnavailable);
}

TEST(LogsCheckpointTest, EqualTimestampsAreNeitherSkippedNorReadTwice) {
  LogsCheckpoint c;
  EXPECT_FALSE(c.Covers(5, "a"));
  c.Note(5, "a");
  c.Note(5, "b");
  EXPECT_TRUE(c.Covers(5, "a"));
  EXPECT_FALSE(c.Covers(5, "c"));  // same millisecond, not read yet
  EXPECT_TRUE(c.Covers(4, "z"));
  c.Note(7, "c");
  EXPECT_EQ(c.ids_at_ts, std::set<std::string>{"c"});
  c.Note(6, "d");  // older than the newest: the checkpoint stays at 7
  EXPECT_EQ(c.timestamp_ms, 7);
  auto back = LogsCheckpoint::Decode(c.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->timestamp_ms, 7);
  EXPECT_EQ(back->ids_at_ts, c.ids_at_ts);
  EXPECT_EQ(LogsCheckpoint::Decode("cwckpt 1\nx\n").status().code(), Code::kDataLoss);
  for (const char* damaged : {"", "cwckpt 1\n", "cwckpt 1\n12", "s3ckpt 1\n12\n"}) {
    EXPECT_EQ(LogsCheckpoint::Decode(damaged).status().code(), Code::kDataLoss) << damaged;
  }
}

// ---------------------------------------------------------------------------------------------
// The S3 poller over a fake S3.

constexpr char kBucket[] = "invocation-logs";

// An in-memory bucket: what the fake S3 serves, what the test puts and how many calls it saw.
// LastModified has S3's one-second precision; the ETag changes with the content only.
struct FakeBucket {
  struct Object {
    std::string body;
    std::string etag;
    int64_t last_modified_ms = 0;
  };
  const Clock* clock = nullptr;
  bool etags = true;  // whether replies carry ETags
  std::map<std::string, Object> objects;
  std::map<std::string, int64_t> calls;  // by method

  std::string Put(const std::string& name, std::string body) {
    std::string key = std::string(kPrefix) + name;
    const int64_t ms = clock->Now().unix_millis() / 1000 * 1000;
    char etag[32];
    std::snprintf(etag, sizeof etag, "%016zx", std::hash<std::string>()(body));
    objects[key] = {std::move(body), etag, ms};
    return key;
  }
};

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string HttpDate(int64_t ms) {
  const std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[40];
  std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return out;
}

// S3 over the transport port, path-style: ListObjectsV2 (prefix, start-after, pages of
// max-keys), GetObject and HeadObject. Signatures are not checked (the moto tests do that).
class FakeS3 final : public aws::HttpTransport {
 public:
  explicit FakeS3(FakeBucket& bucket) : bucket_(bucket) {}

  Result<aws::HttpResponse> Send(const aws::HttpRequest& request,
                                 const aws::HttpTimeouts& timeouts) override {
    (void)timeouts;
    ++bucket_.calls[request.method];
    const std::string bucket_path = std::string("/") + kBucket;
    aws::HttpResponse reply;
    if (request.path == bucket_path) return List(request);
    const std::string key = PercentDecode(request.path.substr(bucket_path.size() + 1));
    const auto it = bucket_.objects.find(key);
    if (it == bucket_.objects.end()) {
      reply.status = 404;
      if (request.method == "GET") reply.body = "<Error><Code>NoSuchKey</Code></Error>";
      return reply;
    }
    reply.status = 200;
    if (bucket_.etags) reply.headers.emplace_back("ETag", "\"" + it->second.etag + "\"");
    reply.headers.emplace_back("Last-Modified", HttpDate(it->second.last_modified_ms));
    reply.headers.emplace_back("Content-Length", std::to_string(it->second.body.size()));
    if (request.method == "GET") reply.body = it->second.body;
    return reply;
  }

 private:
  aws::HttpResponse List(const aws::HttpRequest& request) const {
    std::map<std::string, std::string> q(request.query.begin(), request.query.end());
    const std::string after =
        q.count("continuation-token") > 0 ? q["continuation-token"] : q["start-after"];
    const size_t max_keys = std::stoul(q["max-keys"]);
    std::string contents;
    std::string last;
    bool truncated = false;
    size_t n = 0;
    for (auto it = bucket_.objects.upper_bound(after); it != bucket_.objects.end(); ++it) {
      if (it->first.rfind(q["prefix"], 0) != 0) continue;
      if (n == max_keys) {
        truncated = true;
        break;
      }
      ++n;
      last = it->first;
      contents += "<Contents><Key>" + aws::XmlEscape(it->first) + "</Key><LastModified>" +
                  Timestamp::FromUnixMillis(it->second.last_modified_ms).ToRfc3339() +
                  "</LastModified><Size>" + std::to_string(it->second.body.size()) + "</Size>";
      if (bucket_.etags) contents += "<ETag>&quot;" + it->second.etag + "&quot;</ETag>";
      contents += "</Contents>";
    }
    aws::HttpResponse reply;
    reply.status = 200;
    reply.body =
        "<ListBucketResult><IsTruncated>" + std::string(truncated ? "true" : "false") +
        "</IsTruncated>" +
        (truncated ? "<NextContinuationToken>" + aws::XmlEscape(last) + "</NextContinuationToken>"
                   : "") +
        contents + "</ListBucketResult>";
    return reply;
  }

  FakeBucket& bucket_;
};

class S3PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_.clock = &clock_;
    env_.Set("AWS_REGION", "us-east-1");
    env_.Set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    env_.Set("AWS_SECRET_ACCESS_KEY", "secret");
    env_.Set("AWS_ENDPOINT_URL_S3", "http://s3.fake");
    auto store = OpenSqliteLedger(":memory:", SqliteOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto catalog = LoadEmbeddedCatalog();
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::make_unique<PriceCatalog>(std::move(*catalog));
    Restart();
  }

  // A new engine (de-duplication warmed from the ledger), target and poller, as after a restart.
  void Restart() {
    poller_.reset();
    auto engine = Engine::Open(*store_, *catalog_, EngineOptions{}, clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    target_ = std::make_unique<PollTarget>(*engine_, engine_mu_, *store_);
    S3PollerOptions o;
    o.bucket = kBucket;
    o.prefix = kPrefix;
    o.max_keys = 2;  // several pages
    o.late_window_hours = 1;
    o.damaged_recheck_seconds = 600;
    auto poller = S3Poller::Create(env_, clock_, o, *target_, std::make_unique<FakeS3>(bucket_));
    ASSERT_TRUE(poller.ok()) << poller.status().ToString();
    poller_ = std::move(*poller);
  }

  // `n` Claude 3 Haiku calls "<prefix>-<i>" by alice, 4,000 input tokens each ($0.001), stamped
  // a minute ago, as JSON lines padded so that gzip cannot squeeze them much.
  std::string Lines(const std::string& prefix, int64_t n) const {
    const std::string at =
        Timestamp::FromUnixMillis(clock_.Now().unix_millis() - 60'000).ToRfc3339();
    std::string out;
    for (int64_t i = 0; i < n; ++i) {
      out += R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":")";
      out += at;
      out += R"(","accountId":"111122223333",)";
      out += R"("identity":{"arn":"arn:aws:iam::111122223333:user/alice"},"region":"us-east-1",)";
      out += R"("requestId":")";
      out += prefix + "-" + std::to_string(i);
      out += R"(","operation":"Converse","modelId":"anthropic.claude-3-haiku-20240307-v1:0",)";
      out += R"("input":{"inputTokenCount":4000},"output":{"outputTokenCount":0},)";
      out += R"("requestMetadata":{"pad":")";
      for (int64_t j = 0; j < 40; ++j) out += std::to_string((i * 7919 + j * 104729) % 100003);
      out += "\"}}\n";
    }
    return out;
  }

  PollCounts Poll() {
    auto counts = poller_->PollOnce();
    EXPECT_TRUE(counts.ok()) << counts.status().ToString();
    return counts.ok() ? *counts : PollCounts{};
  }

  // Spend in records of $0.001.
  int64_t SpentRecords() {
    std::lock_guard<std::mutex> lock(engine_mu_);
    auto view = engine_->ShowBudget("111122223333:alice");
    if (view.status().code() == Code::kNotFound) return 0;  // nothing applied yet
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? view->row.state.spent.nanos() / 1'000'000 : -1;
  }

  S3Checkpoint Checkpoint() {
    auto stored = target_->LoadCheckpoint(poller_->checkpoint_key());
    EXPECT_TRUE(stored.ok() && stored->has_value());
    auto c = S3Checkpoint::Decode(stored.ok() && *stored ? **stored : "");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : S3Checkpoint{};
  }

  FixedClock clock_{*Timestamp::Parse("2026-11-01T12:00:00Z")};
  FakeBucket bucket_;
  aws::MapEnvironment env_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<PriceCatalog> catalog_;
  std::mutex engine_mu_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<PollTarget> target_;
  std::unique_ptr<S3Poller> poller_;
};

constexpr int64_t kPerObject = 300;

TEST_F(S3PollerTest, ADamagedObjectPutAgainFixedUnderItsKeyIsReadAgainAndCountedOnce) {
  const std::string intact = *Gzip(Lines("b", kPerObject));
  bucket_.Put("2026/11/01/11/a.json.gz", *Gzip(Lines("a", kPerObject)));
  const std::string b = bucket_.Put("2026/11/01/11/b.json.gz", intact.substr(0, intact.size() / 2));
  bucket_.Put("2026/11/01/11/c.json.gz", *Gzip(Lines("c", kPerObject)));

  const PollCounts first = Poll();
  EXPECT_EQ(first.objects, 3);
  ASSERT_EQ(first.unreadable.size(), 1U);
  EXPECT_NE(first.unreadable[0].find(b), std::string::npos) << first.unreadable[0];
  EXPECT_NE(first.unreadable[0].find("same key"), std::string::npos) << first.unreadable[0];
  const int64_t before_damage = first.applied - 2 * kPerObject;
  ASSERT_GT(before_damage, 0) << "the test wants records before the damage";
  ASSERT_LT(before_damage, kPerObject);
  EXPECT_EQ(SpentRecords(), first.applied);
  ASSERT_EQ(Checkpoint().damaged.count(b), 1U);

  // Unchanged: not read again, not reported again.
  const PollCounts same = Poll();
  EXPECT_EQ(same.objects, 0);
  EXPECT_TRUE(same.unreadable.empty());

  // Put again still damaged (cut elsewhere): read, reported, still watched.
  clock_.Advance(60);
  bucket_.Put("2026/11/01/11/b.json.gz", intact.substr(0, intact.size() / 3));
  const PollCounts still = Poll();
  EXPECT_EQ(still.objects, 1);
  EXPECT_EQ(still.applied, 0);
  EXPECT_EQ(still.unreadable.size(), 1U);
  EXPECT_EQ(Checkpoint().damaged.at(b).etag, bucket_.objects[b].etag);

  // The fixed copy under the same key: only what was missing is added.
  clock_.Advance(60);
  bucket_.Put("2026/11/01/11/b.json.gz", intact);
  const PollCounts fixed = Poll();
  EXPECT_EQ(fixed.objects, 1);
  EXPECT_EQ(fixed.duplicates, before_damage);
  EXPECT_EQ(fixed.applied, kPerObject - before_damage);
  EXPECT_TRUE(fixed.unreadable.empty());
  EXPECT_EQ(SpentRecords(), 3 * kPerObject);
  EXPECT_TRUE(Checkpoint().damaged.empty());

  // Nothing more, not after a restart either.
  EXPECT_EQ(Poll().objects, 0);
  Restart();
  EXPECT_EQ(Poll().objects, 0);
  EXPECT_EQ(SpentRecords(), 3 * kPerObject);
}

TEST_F(S3PollerTest, TheSameGoodObjectPutAgainIsNotCountedTwice) {
  const std::string a = bucket_.Put("2026/11/01/11/a.json.gz", *Gzip(Lines("a", kPerObject)));
  EXPECT_EQ(Poll().applied, kPerObject);
  // Put again with the same content (a new LastModified, the same ETag): not read.
  clock_.Advance(60);
  bucket_.Put("2026/11/01/11/a.json.gz", *Gzip(Lines("a", kPerObject)));
  EXPECT_EQ(Poll().objects, 0);
  EXPECT_EQ(SpentRecords(), kPerObject);
  // Read again all the same (the checkpoint lost): de-duplication by request id drops it all.
  ASSERT_TRUE(store_
                  ->WriteTransaction([&](LedgerTxn& txn) {
                    return txn.SetMeta(poller_->checkpoint_key(), S3Checkpoint{}.Encode());
                  })
                  .ok());
  Restart();
  const PollCounts again = Poll();
  EXPECT_EQ(again.objects, 1);
  EXPECT_EQ(again.applied, 0);
  EXPECT_EQ(again.duplicates, kPerObject);
  EXPECT_EQ(SpentRecords(), kPerObject);
  EXPECT_EQ(Checkpoint().done.count(a), 1U);
}

// Once the floor has passed a damaged key it is no longer listed: HeadObject, at most every
// damaged_recheck_seconds, finds the fixed copy. With ETags, and without (date and size).
TEST_F(S3PollerTest, ADamagedKeyTheFloorHasPassedIsCheckedWithHeadObject) {
  for (const bool etags : {true, false}) {
    SCOPED_TRACE(etags ? "with ETags" : "without ETags");
    bucket_.etags = etags;
    const std::string hour = etags ? "2026/11/01/11/" : "2026/11/01/13/";
    const std::string tag = etags ? "e" : "n";
    const int64_t spent_before = SpentRecords();
    const std::string intact = *Gzip(Lines(tag, kPerObject));
    const std::string b = bucket_.Put(hour + "b.json.gz", intact.substr(0, intact.size() / 2));
    const PollCounts first = Poll();
    ASSERT_EQ(first.unreadable.size(), 1U);
    const int64_t before_damage = first.applied;
    clock_.Advance(int64_t{2} * 3600);  // past the late window: the floor passes b
    EXPECT_EQ(Poll().objects, 0);
    S3Checkpoint c = Checkpoint();
    EXPECT_EQ(c.floor, b);
    EXPECT_EQ(c.damaged.count(b), 1U);
    clock_.Advance(600);
    const int64_t unchanged_heads = bucket_.calls["HEAD"];
    EXPECT_EQ(Poll().objects, 0);  // headed and unchanged (without ETags: the dates read alike)
    EXPECT_EQ(bucket_.calls["HEAD"], unchanged_heads + 1);

    bucket_.Put(hour + "b.json.gz", intact);
    const int64_t heads = bucket_.calls["HEAD"];
    EXPECT_EQ(Poll().objects, 0);  // not checked again before damaged_recheck_seconds
    EXPECT_EQ(bucket_.calls["HEAD"], heads);
    clock_.Advance(600);
    const PollCounts fixed = Poll();
    EXPECT_EQ(bucket_.calls["HEAD"], heads + 1);
    EXPECT_EQ(fixed.objects, 1);
    EXPECT_EQ(fixed.duplicates, before_damage);
    EXPECT_EQ(fixed.applied, kPerObject - before_damage);
    EXPECT_EQ(SpentRecords(), spent_before + kPerObject);
    EXPECT_TRUE(Checkpoint().damaged.empty());
    clock_.Advance(600);
    EXPECT_EQ(Poll().objects, 0);
    EXPECT_EQ(bucket_.calls["HEAD"], heads + 1);  // nothing left to check
  }
}

// Bounded: past the watch, or beyond max_damaged_objects, a damaged object is forgotten, said
// once in the log, and a fixed copy under its key is not read.
TEST_F(S3PollerTest, DamagedObjectsAreWatchedForBoundedTimeAndNumber) {
  S3PollerOptions o;
  o.bucket = kBucket;
  o.prefix = kPrefix;
  o.max_damaged_objects = 2;
  o.damaged_watch_hours = 48;
  poller_.reset();
  auto poller = S3Poller::Create(env_, clock_, o, *target_, std::make_unique<FakeS3>(bucket_));
  ASSERT_TRUE(poller.ok()) << poller.status().ToString();
  poller_ = std::move(*poller);

  const std::string intact = *Gzip(Lines("x", kPerObject));
  const std::string cut = intact.substr(0, intact.size() / 2);
  const std::string k1 = bucket_.Put("2026/11/01/11/1.json.gz", cut + "1");
  EXPECT_EQ(Poll().unreadable.size(), 1U);
  clock_.Advance(60);
  bucket_.Put("2026/11/01/11/2.json.gz", cut + "2");
  bucket_.Put("2026/11/01/11/3.json.gz", cut + "3");
  const PollCounts over = Poll();
  ASSERT_EQ(over.unreadable.size(), 3U);  // two damaged, then the first forgotten
  EXPECT_NE(over.unreadable[2].find(k1 + ": no longer watched"), std::string::npos)
      << over.unreadable[2];
  EXPECT_EQ(Checkpoint().damaged.size(), 2U);
  EXPECT_EQ(Checkpoint().damaged.count(k1), 0U);
  bucket_.Put("2026/11/01/11/1.json.gz", intact);
  EXPECT_EQ(Poll().objects, 0);

  clock_.Advance(int64_t{48} * 3600 + 60);
  const PollCounts expired = Poll();
  EXPECT_EQ(expired.unreadable.size(), 2U);
  EXPECT_TRUE(Checkpoint().damaged.empty());
  EXPECT_TRUE(Poll().unreadable.empty());
}

}  // namespace
}  // namespace budgeteer::sources
