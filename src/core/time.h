// Timestamp: a UTC instant with millisecond resolution, plus RFC 3339 parsing and formatting.
//
// Time is always a value passed in (see core/clock.h); nothing here reads the system clock.
// Values only; thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace budgeteer {

class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromUnixMillis(int64_t ms) { return Timestamp(ms); }
  static constexpr Timestamp FromUnixSeconds(int64_t s) { return Timestamp(s * 1000); }

  // Accepts RFC 3339 / ISO 8601 date-times: "2026-01-31T12:00:00Z", with optional fraction
  // (".123", up to nanoseconds, truncated to ms) and "Z" or a "+hh:mm"/"-hh:mm" offset.
  // A lower-case 't'/'z' or a space instead of 'T' is accepted as RFC 3339 allows.
  static Result<Timestamp> Parse(std::string_view text);

  constexpr int64_t unix_millis() const { return ms_; }
  // Whole seconds, rounded toward negative infinity.
  constexpr int64_t unix_seconds() const { return ms_ >= 0 ? ms_ / 1000 : -((-ms_ + 999) / 1000); }

  // "2026-01-31T12:00:00Z", or "2026-01-31T12:00:00.250Z" when there are milliseconds.
  std::string ToRfc3339() const;

  constexpr Timestamp PlusSeconds(int64_t s) const { return Timestamp(ms_ + s * 1000); }
  constexpr Timestamp PlusMillis(int64_t ms) const { return Timestamp(ms_ + ms); }
  constexpr auto operator<=>(const Timestamp&) const = default;

 private:
  constexpr explicit Timestamp(int64_t ms) : ms_(ms) {}
  int64_t ms_ = 0;
};

// Civil-date helpers (proleptic Gregorian, UTC).
struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};
int64_t DaysFromCivil(CivilDate date);
CivilDate CivilFromDays(int64_t days_since_epoch);
// 0 = Monday .. 6 = Sunday (ISO weekday minus one) for a day count since 1970-01-01.
int WeekdayFromDays(int64_t days_since_epoch);
// Floor of a timestamp to the start of its UTC day, in days since the epoch.
int64_t DayOf(Timestamp t);

}  // namespace budgeteer
