#include "core/period.h"

namespace budgeteer {

namespace {
constexpr int64_t kMsPerDay = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

Result<PeriodSpec> PeriodSpec::Parse(std::string_view text) {
  if (text == "monthly") return PeriodSpec{PeriodKind::kMonthly, 0};
  if (text == "weekly") return PeriodSpec{PeriodKind::kWeekly, 0};
  if (text.size() >= 2 && text.back() == 'd') {
    int64_t days = 0;
    bool digits = true;
    for (char c : text.substr(0, text.size() - 1)) {
      if (c < '0' || c > '9' || days > 100000) {
        digits = false;
        break;
      }
      days = days * 10 + (c - '0');
    }
    if (digits && days >= 1 && days <= 3660) {
      return PeriodSpec{PeriodKind::kRollingDays, static_cast<int>(days)};
    }
  }
  return InvalidArgument("period '" + std::string(text) +
                         "' is not one of: Nd (1 to 3660 days, e.g. 30d), monthly, weekly");
}

std::string PeriodSpec::ToString() const {
  switch (kind) {
    case PeriodKind::kMonthly:
      return "monthly";
    case PeriodKind::kWeekly:
      return "weekly";
    case PeriodKind::kRollingDays:
      break;
  }
  return std::to_string(days) + "d";
}

Period PeriodContaining(const PeriodSpec& spec, Timestamp anchor, Timestamp t) {
  const int64_t day = DayOf(t);
  switch (spec.kind) {
    case PeriodKind::kMonthly: {
      const CivilDate d = CivilFromDays(day);
      const int64_t start = DaysFromCivil({d.year, d.month, 1});
      const int64_t end = d.month == 12 ? DaysFromCivil({d.year + 1, 1, 1})
                                        : DaysFromCivil({d.year, d.month + 1, 1});
      return {Timestamp::FromUnixMillis(start * kMsPerDay),
              Timestamp::FromUnixMillis(end * kMsPerDay)};
    }
    case PeriodKind::kWeekly: {
      const int64_t start = day - WeekdayFromDays(day);
      return {Timestamp::FromUnixMillis(start * kMsPerDay),
              Timestamp::FromUnixMillis((start + 7) * kMsPerDay)};
    }
    case PeriodKind::kRollingDays:
      break;
  }
  const int64_t length = static_cast<int64_t>(spec.days) * kMsPerDay;
  const int64_t k = FloorDiv(t.unix_millis() - anchor.unix_millis(), length);
  const int64_t start = anchor.unix_millis() + k * length;
  return {Timestamp::FromUnixMillis(start), Timestamp::FromUnixMillis(start + length)};
}

Timestamp AnchorFor(Timestamp first_seen) {
  return Timestamp::FromUnixMillis(DayOf(first_seen) * kMsPerDay);
}

}  // namespace budgeteer
