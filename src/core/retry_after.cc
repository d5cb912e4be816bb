#include "core/retry_after.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace budgeteer {

namespace {

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// RFC 9111 section 1.2.2: a delta-seconds too large to represent counts as 2^31.
constexpr int64_t kMaxDeltaSeconds = int64_t{1} << 31;

// Reads a fixed-width, fixed-format text left to right; any mismatch sets it failed for good.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : rest_(text) {}

  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }

  void Literal(std::string_view expected) {
    if (ok_ && rest_.starts_with(expected)) {
      rest_.remove_prefix(expected.size());
    } else {
      ok_ = false;
    }
  }

  // Exactly `count` digits.
  int64_t Digits(size_t count) {
    int64_t v = 0;
    if (!ok_ || rest_.size() < count) {
      ok_ = false;
      return 0;
    }
    for (size_t i = 0; i < count; ++i) {
      const char c = rest_[i];
      if (c < '0' || c > '9') {
        ok_ = false;
        return 0;
      }
      v = v * 10 + (c - '0');
    }
    rest_.remove_prefix(count);
    return v;
  }

  // asctime's day of month: two digits, or a space and one digit.
  int64_t PaddedDay() {
    if (ok_ && rest_.starts_with(' ')) {
      rest_.remove_prefix(1);
      return Digits(1);
    }
    return Digits(2);
  }

  // One of `names` (none is a prefix of another); returns its index.
  template <size_t N>
  int OneOf(const std::array<std::string_view, N>& names) {
    for (size_t i = 0; ok_ && i < N; ++i) {
      if (rest_.starts_with(names[i])) {
        rest_.remove_prefix(names[i].size());
        return static_cast<int>(i);
      }
    }
    ok_ = false;
    return 0;
  }

  // "hh:mm:ss" as seconds of the day.
  int64_t TimeOfDay() {
    const int64_t h = Digits(2);
    Literal(":");
    const int64_t m = Digits(2);
    Literal(":");
    const int64_t s = Digits(2);
    if (h > 23 || m > 59 || s > 60) ok_ = false;  // 60: a leap second
    return h * 3600 + m * 60 + s;
  }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

// What an HTTP-date says, before it is checked to be a real date.
struct DateFields {
  int64_t year = 0;
  int month = 0;  // 1..12
  int64_t day = 0;
  int64_t seconds_of_day = 0;
};

std::optional<Timestamp> Make(const DateFields& f) {
  if (f.day < 1 || f.day > 31) return std::nullopt;
  const CivilDate date{f.year, f.month, static_cast<int>(f.day)};
  const int64_t days = DaysFromCivil(date);
  const CivilDate check = CivilFromDays(days);
  if (check.year != f.year || check.month != f.month || check.day != f.day) return std::nullopt;
  return Timestamp::FromUnixSeconds(days * 86'400 + f.seconds_of_day);
}

// "<day-name>, DD<sep>Mon<sep>YY[YY] hh:mm:ss GMT": IMF-fixdate ("Sun", ' ', four-digit year)
// and RFC 850 ("Sunday", '-', two-digit year) differ only in those three.
std::optional<DateFields> DayFirst(std::string_view text,
                                   const std::array<std::string_view, 7>& day_names,
                                   std::string_view separator, size_t year_digits) {
  Cursor c(text);
  DateFields f;
  c.OneOf(day_names);
  c.Literal(", ");
  f.day = c.Digits(2);
  c.Literal(separator);
  f.month = c.OneOf(kMonths) + 1;
  c.Literal(separator);
  f.year = c.Digits(year_digits);
  c.Literal(" ");
  f.seconds_of_day = c.TimeOfDay();
  c.Literal(" GMT");
  if (!c.done()) return std::nullopt;
  return f;
}

// asctime: "Sun Nov  6 08:49:37 1994".
std::optional<DateFields> Asctime(std::string_view text) {
  Cursor c(text);
  DateFields f;
  c.OneOf(kDays);
  c.Literal(" ");
  f.month = c.OneOf(kMonths) + 1;
  c.Literal(" ");
  f.day = c.PaddedDay();
  c.Literal(" ");
  f.seconds_of_day = c.TimeOfDay();
  c.Literal(" ");
  f.year = c.Digits(4);
  if (!c.done()) return std::nullopt;
  return f;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Timestamp> ParseHttpDate(std::string_view text, Timestamp now) {
  if (auto f = DayFirst(text, kDays, " ", 4)) return Make(*f);  // IMF-fixdate
  if (auto f = DayFirst(text, kLongDays, "-", 2)) {             // RFC 850
    const int64_t this_year = CivilFromDays(DayOf(now)).year;
    f->year += this_year - this_year % 100;
    if (f->year > this_year + 50) f->year -= 100;
    return Make(*f);
  }
  if (auto f = Asctime(text)) return Make(*f);
  return std::nullopt;
}

std::optional<int64_t> ParseRetryAfterMs(std::string_view value, Timestamp now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    int64_t seconds = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      seconds = std::min(kMaxDeltaSeconds, seconds * 10 + (c - '0'));
    }
    return seconds * 1000;
  }
  const std::optional<Timestamp> at = ParseHttpDate(value, now);
  if (!at) return std::nullopt;
  return std::max<int64_t>(0, at->unix_millis() - now.unix_millis());
}

}  // namespace budgeteer
