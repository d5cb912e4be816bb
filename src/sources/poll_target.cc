#include "sources/poll_target.h"

namespace budgeteer::sources {

Result<std::vector<std::string_view>> CheckpointLines(std::string_view text, std::string_view magic,
                                                      std::string_view damaged) {
  std::vector<std::string_view> lines;
  bool first = true;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return Status(Code::kDataLoss, std::string(damaged));
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (first) {
      if (line != magic) return Status(Code::kDataLoss, std::string(damaged));
      first = false;
    } else {
      lines.push_back(line);
    }
  }
  if (first) return Status(Code::kDataLoss, std::string(damaged));
  return lines;
}

Status PollTarget::Apply(const std::vector<UsageRecord>& records, std::string_view source,
                         const std::string& checkpoint_key, const std::string& checkpoint,
                         PollCounts& counts) {
  std::lock_guard<std::mutex> lock(engine_mu_);
  if (!records.empty()) {
    ASSIGN_OR_RETURN(const BatchOutcome outcome, engine_.ApplyBatch(records, source));
    counts.Add(outcome);
    if (!outcome.deferred_indices.empty()) {
      // Over the new-principal cap: keep the checkpoint where it is, so the next poll reads
      // these records again (what was applied now is then a duplicate).
      return Status(Code::kResourceExhausted,
                    std::to_string(outcome.deferred_indices.size()) +
                        " records would create more new principals than "
                        "identity.max_new_principals_per_minute allows; read again next poll",
                    /*retryable=*/true);
    }
  }
  return store_.WriteTransaction(
      [&](LedgerTxn& txn) { return txn.SetMeta(checkpoint_key, checkpoint); });
}

Result<std::optional<std::string>> PollTarget::LoadCheckpoint(const std::string& key) {
  std::lock_guard<std::mutex> lock(engine_mu_);
  std::optional<std::string> value;
  RETURN_IF_ERROR(store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    ASSIGN_OR_RETURN(value, txn.GetMeta(key));
    return Status::Ok();
  }));
  return value;
}

}  // namespace budgeteer::sources
