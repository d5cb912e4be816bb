// The pollers' pure parts: checkpoints (encoding, compaction, equal timestamps) and the
// ListObjectsV2 reply.
#include <gtest/gtest.h>

#include "sources/logs_poller.h"
#include "sources/s3_poller.h"

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
  const std::vector<S3Object> listed = {
      {"k1", 100, 1}, {"k2", 200, 1}, {"k3", 900, 1}, {"k4", 150, 1}, {"k5", 100, 1}};
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

TEST(ListObjectsV2Test, ReadsKeysDatesAndTheToken) {
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>abc</NextContinuationToken>)"
      R"(<Contents><Key>AWSLogs/a&amp;b.json.gz</Key><LastModified>2026-11-01T10:00:00.000Z</LastModified>)"
      R"(<Size>42</Size></Contents></ListBucketResult>)";
  std::string token;
  auto objects = ParseListObjectsV2(xml, token);
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  ASSERT_EQ(objects->size(), 1U);
  EXPECT_EQ((*objects)[0].key, "AWSLogs/a&b.json.gz");
  EXPECT_EQ((*objects)[0].size, 42);
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

}  // namespace
}  // namespace budgeteer::sources
