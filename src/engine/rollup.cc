#include "engine/rollup.h"

#include <optional>
#include <vector>

#include "core/period.h"

namespace budgeteer {

int64_t HourOf(Timestamp t) {
  const int64_t sec = t.unix_seconds();
  return sec >= 0 ? sec / 3600 : -((-sec + 3599) / 3600);
}

size_t RollupBuffer::KeyHash::operator()(const Key& k) const {
  return std::hash<std::string>{}(k.model) ^
         (static_cast<size_t>(k.principal_id) * 0x9E3779B97F4A7C15ULL) ^
         static_cast<size_t>(k.hour);
}

void RollupBuffer::Add(const UsageRow& u, std::optional<Timestamp> period_end) {
  auto [it, inserted] = hourly_.try_emplace(Key{u.principal_id, HourOf(u.timestamp), u.model});
  UsageAggregate& agg = it->second;
  if (inserted) {
    agg.principal_id = it->first.principal_id;
    agg.hour = it->first.hour;
    agg.model = it->first.model;
  }
  ++agg.requests;
  agg.tokens.input += u.tokens.input;
  agg.tokens.output += u.tokens.output;
  agg.tokens.cache_read += u.tokens.cache_read;
  agg.tokens.cache_write += u.tokens.cache_write;
  agg.cost += u.cost;
  if ((u.flags & kUsageUnpriced) != 0) ++agg.unpriced_requests;
  PeriodSum& sum = period_spend_[{u.principal_id, u.period_start_ms}];
  sum.amount += u.cost;
  if (period_end) sum.end = period_end;
}

void RollupBuffer::Merge(RollupBuffer&& other) {
  if (empty()) {
    *this = std::move(other);
    return;
  }
  for (auto& [key, add] : other.hourly_) {
    auto [it, inserted] = hourly_.try_emplace(key, std::move(add));
    if (inserted) continue;
    UsageAggregate& agg = it->second;
    agg.requests += add.requests;
    agg.tokens.input += add.tokens.input;
    agg.tokens.output += add.tokens.output;
    agg.tokens.cache_read += add.tokens.cache_read;
    agg.tokens.cache_write += add.tokens.cache_write;
    agg.cost += add.cost;
    agg.unpriced_requests += add.unpriced_requests;
  }
  for (const auto& [key, add] : other.period_spend_) {
    PeriodSum& sum = period_spend_[key];
    sum.amount += add.amount;
    if (add.end) sum.end = add.end;
  }
  other.Clear();
}

void RollupBuffer::Clear() {
  hourly_.clear();
  period_spend_.clear();
}

Status RollupBuffer::WriteTo(LedgerTxn& txn, const BudgetSettings& defaults) const {
  std::vector<UsageAggregate> rows;
  rows.reserve(hourly_.size());
  for (const auto& [key, agg] : hourly_) rows.push_back(agg);
  RETURN_IF_ERROR(txn.AddAggregates(rows));
  // period_spend_ is ordered by principal: each principal whose period ends are not known is
  // read once.
  int64_t owner_id = -1;
  std::optional<PrincipalRow> owner;
  for (const auto& [key, sum] : period_spend_) {
    const Timestamp start = Timestamp::FromUnixMillis(key.second);
    Timestamp end = start;
    if (sum.end) {
      end = *sum.end;
    } else {
      if (key.first != owner_id) {
        owner_id = key.first;
        ASSIGN_OR_RETURN(owner, txn.GetPrincipal(owner_id));
      }
      if (owner) {
        end = PeriodContaining(owner->overrides.Over(defaults).period, owner->state.anchor, start)
                  .end;
      }
    }
    RETURN_IF_ERROR(txn.AddPeriodSpend(key.first, start, end, sum.amount));
  }
  return Status::Ok();
}

}  // namespace budgeteer
