// RollupBuffer: usage rows summed the way the ledger's derived tables hold them — per
// (principal, hour, model) for usage_hourly and per (principal, period start) for
// period_spend. The engine fills one from the rows it appends (so the live service never reads
// its own rows back) or from a scan of the usage table (after a restart, or when another
// process wrote rows), and writes it in the transaction that moves the roll-up watermark.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/money.h"
#include "core/policy.h"
#include "store/ledger.h"

namespace budgeteer {

class RollupBuffer {
 public:
  // `period_end`: the end of the period the row was attributed to, when the caller knows it
  // (the engine does as it applies a row; a scan does not, and WriteTo then reads it).
  void Add(const UsageRow& row, std::optional<Timestamp> period_end = std::nullopt);
  void Merge(RollupBuffer&& other);
  void Clear();
  bool empty() const { return hourly_.empty() && period_spend_.empty(); }
  // Distinct (principal, hour, model) keys held: what a write costs, and a memory bound.
  size_t keys() const { return hourly_.size(); }

  // Adds the sums to usage_hourly and period_spend. A period's end is informational: the one
  // given to Add, else computed from the principal's current settings (its overrides over
  // `defaults`), read from the ledger.
  Status WriteTo(LedgerTxn& txn, const BudgetSettings& defaults) const;

 private:
  struct Key {
    int64_t principal_id;
    int64_t hour;
    std::string model;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  std::unordered_map<Key, UsageAggregate, KeyHash> hourly_;
  struct PeriodSum {
    Money amount;
    std::optional<Timestamp> end;
  };
  std::map<std::pair<int64_t, int64_t>, PeriodSum> period_spend_;  // (principal, start ms)
};

// The unix hour (seconds / 3600, rounded down) of `t`.
int64_t HourOf(Timestamp t);

}  // namespace budgeteer
