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

std::optional<Timestamp> Make(int64_t year, int month, int64_t day, int64_t seconds_of_day) {
  if (day < 1 || day > 31) return std::nullopt;
  const CivilDate date{year, month, static_cast<int>(day)};
  const int64_t days = DaysFromCivil(date);
  const CivilDate check = CivilFromDays(days);
  if (check.year != year || check.month != month || check.day != day) return std::nullopt;
  return Timestamp::FromUnixSeconds(days * 86'400 + seconds_of_day);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Timestamp> ParseHttpDate(std::string_view text, Timestamp now) {
  {  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    Cursor c(text);
    c.OneOf(kDays);
    c.Literal(", ");
    const int64_t day = c.Digits(2);
    c.Literal(" ");
    const int month = c.OneOf(kMonths) + 1;
    c.Literal(" ");
    const int64_t year = c.Digits(4);
    c.Literal(" ");
    const int64_t seconds = c.TimeOfDay();
    c.Literal(" GMT");
    if (c.done()) return Make(year, month, day, seconds);
  }
  {  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    Cursor c(text);
    c.OneOf(kLongDays);
    c.Literal(", ");
    const int64_t day = c.Digits(2);
    c.Literal("-");
    const int month = c.OneOf(kMonths) + 1;
    c.Literal("-");
    const int64_t yy = c.Digits(2);
    c.Literal(" ");
    const int64_t seconds = c.TimeOfDay();
    c.Literal(" GMT");
    if (c.done()) {
      const int64_t this_year = CivilFromDays(DayOf(now)).year;
      int64_t year = this_year - this_year % 100 + yy;
      if (year > this_year + 50) year -= 100;
      return Make(year, month, day, seconds);
    }
  }
  {  // asctime: "Sun Nov  6 08:49:37 1994"
    Cursor c(text);
    c.OneOf(kDays);
    c.Literal(" ");
    const int month = c.OneOf(kMonths) + 1;
    c.Literal(" ");
    const int64_t day = c.PaddedDay();
    c.Literal(" ");
    const int64_t seconds = c.TimeOfDay();
    c.Literal(" ");
    const int64_t year = c.Digits(4);
    if (c.done()) return Make(year, month, day, seconds);
  }
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
