// Budget periods: rolling N days (the seed's default, 30) anchored at the principal's first day,
// or calendar-aligned in UTC (monthly: the 1st 00:00; weekly: Monday 00:00). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace budgeteer {

enum class PeriodKind { kRollingDays, kMonthly, kWeekly };

struct PeriodSpec {
  PeriodKind kind = PeriodKind::kRollingDays;
  int days = 30;  // for kRollingDays

  // "30d", "7d", "1d".."3660d", "monthly", "weekly".
  static Result<PeriodSpec> Parse(std::string_view text);
  std::string ToString() const;
  // Calendar periods are equal whatever `days` holds; rolling ones compare their length.
  bool operator==(const PeriodSpec& o) const {
    return kind == o.kind && (kind != PeriodKind::kRollingDays || days == o.days);
  }
};

struct Period {
  Timestamp start;  // inclusive
  Timestamp end;    // exclusive
  bool Contains(Timestamp t) const { return start <= t && t < end; }
  auto operator<=>(const Period&) const = default;
};

// The period that contains `t`. Rolling periods are [anchor + k*days, anchor + (k+1)*days) for
// integer k (also negative: a record older than the anchor falls in an earlier period);
// calendar periods ignore the anchor.
Period PeriodContaining(const PeriodSpec& spec, Timestamp anchor, Timestamp t);

// The anchor of a new principal's rolling periods: the start of the UTC day of `first_seen`.
Timestamp AnchorFor(Timestamp first_seen);

}  // namespace budgeteer
