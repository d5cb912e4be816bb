// LogsPoller: reads Bedrock model-invocation logs from a CloudWatch Logs group into the engine.
// Each event's message is one invocation-log record.
//
// Each poll calls FilterLogEvents (JSON 1.1, `Logs_20140328`) on the group from the
// checkpoint's timestamp on, following nextToken, parses each message with the InputParser and
// applies the records through PollTarget (request-id de-duplication: an event read twice, or a
// record that also came by S3 or Firehose, counts once). The checkpoint (ledger meta
// `logs_poller:<group>`, a LogsCheckpoint) is the newest event timestamp read and the ids of the
// events read at exactly that millisecond: the next poll starts at that timestamp (inclusive)
// and skips those ids, so events sharing a timestamp are neither skipped nor read twice.
// With `settle_seconds` > 0 only events older than that are read, so an event that CloudWatch
// ingests a little late, stamped before the newest one read, is still seen.
// Not thread-safe: one thread polls (it owns its AWS client).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/environment.h"
#include "core/clock.h"
#include "core/status.h"
#include "formats/input.h"
#include "sources/poll_target.h"

namespace budgeteer::sources {

struct LogsPollerOptions {
  std::string log_group;
  int64_t settle_seconds = 0;
  int64_t page_limit = 10'000;   // FilterLogEvents limit (1..10000)
  size_t batch_records = 5'000;  // records applied per ledger transaction (at most a page)
  ParseLimits limits;
};

// Pure: the poller's position.
struct LogsCheckpoint {
  int64_t timestamp_ms = 0;         // newest event read (0: none yet)
  std::set<std::string> ids_at_ts;  // ids of the events read at timestamp_ms

  std::string Encode() const;
  static Result<LogsCheckpoint> Decode(std::string_view text);
  // True when the checkpoint covers the event (older, or at its timestamp and already read).
  bool Covers(int64_t timestamp_ms, const std::string& event_id) const;
  // Records an event read.
  void Note(int64_t timestamp_ms, const std::string& event_id);
};

class LogsPoller {
 public:
  // Builds its own transport, credential chain and CloudWatch Logs client from the environment.
  // kInvalidArgument without a region or a log group.
  static Result<std::unique_ptr<LogsPoller>> Create(const aws::Environment& env, const Clock& clock,
                                                    LogsPollerOptions options, PollTarget& target);

  // One round: reads the new events, applies them, checkpoints after every page. An error stops
  // the round; what was checkpointed stays.
  Result<PollCounts> PollOnce();

  std::string checkpoint_key() const { return "logs_poller:" + options_.log_group; }

 private:
  LogsPoller() = default;

  LogsPollerOptions options_;
  const Clock* clock_ = nullptr;
  PollTarget* target_ = nullptr;
  std::unique_ptr<aws::HttpTransport> transport_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::unique_ptr<aws::AwsClient> client_;
  std::unique_ptr<InputParser> parser_;
  bool loaded_ = false;
  LogsCheckpoint checkpoint_;
};

}  // namespace budgeteer::sources
