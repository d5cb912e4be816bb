#include "sources/poll_target.h"

namespace budgeteer::sources {

Status PollTarget::Apply(const std::vector<UsageRecord>& records, std::string_view source,
                         const std::string& checkpoint_key, const std::string& checkpoint,
                         PollCounts& counts) {
  std::lock_guard<std::mutex> lock(engine_mu_);
  if (!records.empty()) {
    ASSIGN_OR_RETURN(const BatchOutcome outcome, engine_.ApplyBatch(records, source));
    counts.Add(outcome);
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
