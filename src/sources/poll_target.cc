#include "sources/poll_target.h"

namespace budgeteer::sources {

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
