// S3Poller: reads Bedrock model-invocation logs from S3 (`AWSLogs/<account>/
// BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/*.json.gz`) into the engine.
//
// Each poll lists the objects under the prefix (ListObjectsV2, paginated), reads every object it
// has not read yet (GetObject; gzip is detected by content), parses the JSON lines with the
// InputParser and applies the records through PollTarget (request-id de-duplication, so an
// object read twice, or a record that also came by another source, counts once).
//
// The checkpoint (ledger meta `s3_poller:<bucket>/<prefix>`, an S3Checkpoint) keeps a floor key
// and the keys done above it. Keys are time-ordered, but an object can appear late in an older
// hour, so listing starts after the floor, not after the newest key; the floor moves past a key
// only once that key and every key before it are done and were last modified more than
// `late_window_hours` ago. A restart lists from the floor and skips the keys done: nothing is
// skipped and nothing is read twice (a crash between a batch and its checkpoint re-reads that
// batch's objects, which de-duplication makes harmless).
//
// A damaged object (a broken gzip) is applied up to the damage and remembered with its ETag
// (`S3Checkpoint::damaged`). When the key later holds another ETag (the producer or an operator
// put a fixed copy under the same key) it is read again: the records read the first time are
// duplicates, the rest count. Damaged keys still above the floor are compared in each listing;
// those the floor has passed with HeadObject, at most every `damaged_recheck_seconds`. At most
// `max_damaged_objects` are remembered, each for `damaged_watch_hours`, which must stay below
// the engine's de-duplication window (a re-read after it would count the first records twice).
// Not thread-safe: one thread polls (it owns its AWS client).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/environment.h"
#include "core/clock.h"
#include "core/status.h"
#include "formats/input.h"
#include "sources/poll_target.h"

namespace budgeteer::sources {

struct S3PollerOptions {
  std::string bucket;
  std::string prefix;  // e.g. "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/"
  int64_t late_window_hours = 24;
  int64_t max_keys = 1000;       // ListObjectsV2 page size
  size_t batch_records = 5'000;  // records applied per ledger transaction (at least)
  ParseLimits limits;
  // Damaged objects watched for a fixed copy under the same key: how many (the oldest found
  // are forgotten first), for how long after they were found damaged (keep it below
  // ingest.dedup_window_hours; serve sets it one hour below), and how often those the floor has
  // passed are checked with HeadObject.
  size_t max_damaged_objects = 100;
  int64_t damaged_watch_hours = 167;
  int64_t damaged_recheck_seconds = 600;
};

struct S3Object {
  std::string key;
  int64_t last_modified_ms = 0;
  int64_t size = 0;
  std::string etag;  // without its quotes; empty when the reply had none
};

// A damaged object as it was when read, and when it was first found damaged.
struct S3DamagedObject {
  std::string etag;
  int64_t last_modified_ms = 0;
  int64_t size = 0;
  int64_t found_ms = 0;

  // Whether `object` (listed or headed now) still holds what was read: the same ETag, or,
  // when either has no ETag, the same LastModified and size.
  bool Same(const S3Object& object) const;
  bool operator==(const S3DamagedObject&) const = default;
};

// Pure: the poller's position. Keys at or below `floor` are done; `done` holds the keys above
// it that are done, with their LastModified; `damaged` the done keys (above or below the floor)
// that were damaged when read and are watched for a fixed copy.
struct S3Checkpoint {
  std::string floor;
  std::map<std::string, int64_t> done;
  std::map<std::string, S3DamagedObject> damaged;

  // Compact text for the ledger: keys front-coded (length shared with the previous key, then
  // the rest), so a day of keys under one prefix takes little room. Without damaged objects it
  // is the version-1 text older builds read; with them, version 2.
  std::string Encode() const;
  static Result<S3Checkpoint> Decode(std::string_view text);

  // Moves the floor over the longest run of `listed` (sorted by key, all above the floor) that
  // is done and older than `cutoff_ms`, and forgets those keys. Returns true when it moved.
  bool Compact(const std::vector<S3Object>& listed, int64_t cutoff_ms);

  // Forgets the damaged objects found before `found_before_ms`, then the oldest found beyond
  // `max_objects` (ties by key). Returns the keys forgotten, in key order.
  std::vector<std::string> ForgetDamaged(size_t max_objects, int64_t found_before_ms);
};

// Pure: parses a ListObjectsV2 reply: objects, and the continuation token ("" when the listing
// is complete).
Result<std::vector<S3Object>> ParseListObjectsV2(std::string_view xml, std::string& next_token);

class S3Poller {
 public:
  // Builds its own transport, credential chain and S3 client from the environment (region,
  // endpoint overrides). kInvalidArgument without a region, bucket or prefix.
  static Result<std::unique_ptr<S3Poller>> Create(const aws::Environment& env, const Clock& clock,
                                                  S3PollerOptions options, PollTarget& target);
  // The same over a given transport (tests: a fake S3).
  static Result<std::unique_ptr<S3Poller>> Create(const aws::Environment& env, const Clock& clock,
                                                  S3PollerOptions options, PollTarget& target,
                                                  std::unique_ptr<aws::HttpTransport> transport);

  // One round: lists, reads what is new, applies it, checkpoints. A retryable error (network,
  // throttling) stops the round; what was checkpointed stays, the rest is read next time.
  Result<PollCounts> PollOnce();

  std::string checkpoint_key() const {
    return "s3_poller:" + options_.bucket + "/" + options_.prefix;
  }

 private:
  S3Poller() = default;
  Result<std::vector<S3Object>> List(const std::string& start_after);
  // HeadObject: nullopt when the key is gone.
  Result<std::optional<S3Object>> Head(const std::string& key);
  std::string ObjectPath(const std::string& key) const;

  S3PollerOptions options_;
  const Clock* clock_ = nullptr;
  PollTarget* target_ = nullptr;
  std::unique_ptr<aws::HttpTransport> transport_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::unique_ptr<aws::AwsClient> client_;
  std::unique_ptr<InputParser> parser_;
  bool loaded_ = false;
  S3Checkpoint checkpoint_;
  int64_t next_damaged_check_ms_ = 0;  // HeadObject of the damaged keys below the floor
};

}  // namespace budgeteer::sources
