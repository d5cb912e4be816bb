// PollTarget: where the AWS pollers (S3, CloudWatch Logs) put what they read. Records go to
// Engine::ApplyBatch, the exactly-once path every source shares (request-id de-duplication, so
// a record that also arrives through Firehose or another poller counts once); checkpoints go to
// the ledger's meta table under the poller's own key.
//
// The engine has no way to add a meta write to a batch's transaction, so a checkpoint is
// written in the transaction right after the batch, both under the engine mutex. A crash
// between the two re-reads what the batch held on the next poll, and de-duplication drops all
// of it: the worst case is a little extra reading, never double counting.
// Thread-safe: every use of the engine and the store happens under `engine_mu`.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/usage.h"
#include "engine/engine.h"
#include "store/ledger.h"

namespace budgeteer::sources {

// What one poll did.
struct PollCounts {
  int64_t objects = 0;          // S3 objects or CloudWatch Logs events read
  int64_t applied = 0;          // records applied
  int64_t duplicates = 0;       // records already applied (by this or another source)
  int64_t rejected = 0;         // records refused by the parser or the engine
  std::string first_rejection;  // "where: why" of the first, for the log
  // One "object: why, and what to do" per object that could not be read at all (a damaged
  // gzip), and one per damaged object the S3 poller stops watching for a fixed copy, each for
  // the log.
  std::vector<std::string> unreadable;

  void Add(const BatchOutcome& outcome) {
    applied += outcome.applied;
    duplicates += outcome.duplicates;
    rejected += static_cast<int64_t>(outcome.rejected.size());
    if (first_rejection.empty() && !outcome.rejected.empty()) {
      first_rejection = outcome.rejected.front().reason;
    }
  }
  void Reject(std::string why) {
    ++rejected;
    if (first_rejection.empty()) first_rejection = std::move(why);
  }
};

// The lines of a checkpoint written as "<magic>\n<line>\n...\n", after the magic line: every
// line must end with '\n' and the first must be `magic`. Otherwise DataLoss with `damaged`
// (which should say how to recover). The views point into `text`.
Result<std::vector<std::string_view>> CheckpointLines(std::string_view text, std::string_view magic,
                                                      std::string_view damaged);

class PollTarget {
 public:
  // Everything must outlive the target; `store` is the engine's.
  PollTarget(Engine& engine, std::mutex& engine_mu, LedgerStore& store)
      : engine_(engine), engine_mu_(engine_mu), store_(store) {}

  // Applies `records` (possibly none) as one batch, then stores `checkpoint` under
  // `checkpoint_key`. An error of either is returned; the checkpoint is not written when the
  // batch failed.
  Status Apply(const std::vector<UsageRecord>& records, std::string_view source,
               const std::string& checkpoint_key, const std::string& checkpoint,
               PollCounts& counts);

  // The stored checkpoint, nullopt before the first.
  Result<std::optional<std::string>> LoadCheckpoint(const std::string& key);

 private:
  Engine& engine_;
  std::mutex& engine_mu_;
  LedgerStore& store_;
};

}  // namespace budgeteer::sources
