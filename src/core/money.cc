#include "core/money.h"

#include <limits>

namespace budgeteer {

namespace {

// Parses an unsigned decimal with at most `max_decimals` significant fractional digits into
// an integer scaled by 10^max_decimals.
Result<int64_t> ParseScaledDecimal(std::string_view text, int max_decimals, std::string_view what) {
  const std::string shown(text);
  if (text.empty()) return InvalidArgument(std::string(what) + " is empty");
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return InvalidArgument(std::string(what) + " '" + shown + "' has no digits");
  Int128 value = 0;
  int decimals = -1;  // -1 until the decimal point is seen
  bool any_digit = false;
  constexpr Int128 kMax = std::numeric_limits<int64_t>::max();
  for (char c : text) {
    if (c == '.') {
      if (decimals >= 0) {
        return InvalidArgument(std::string(what) + " '" + shown + "' has two decimal points");
      }
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9') {
      return InvalidArgument(std::string(what) + " '" + shown +
                             "' is not a plain decimal number (digits and one '.')");
    }
    any_digit = true;
    if (decimals >= 0) {
      if (decimals == max_decimals) {
        if (c != '0') {
          return InvalidArgument(std::string(what) + " '" + shown + "' has more than " +
                                 std::to_string(max_decimals) + " decimals");
        }
        continue;
      }
      ++decimals;
    }
    value = value * 10 + (c - '0');
    if (value > kMax) return InvalidArgument(std::string(what) + " '" + shown + "' is too large");
  }
  if (!any_digit) return InvalidArgument(std::string(what) + " '" + shown + "' has no digits");
  for (int d = decimals < 0 ? 0 : decimals; d < max_decimals; ++d) {
    value *= 10;
    if (value > kMax) return InvalidArgument(std::string(what) + " '" + shown + "' is too large");
  }
  return static_cast<int64_t>(negative ? -value : value);
}

}  // namespace

Result<Money> Money::ParseUsd(std::string_view text) {
  ASSIGN_OR_RETURN(int64_t nanos, ParseScaledDecimal(text, 9, "amount"));
  return Money::FromNanos(nanos);
}

Result<RatePerMillion> RatePerMillion::ParseUsd(std::string_view text) {
  ASSIGN_OR_RETURN(int64_t nanos, ParseScaledDecimal(text, 9, "price"));
  if (nanos < 0) return InvalidArgument("price '" + std::string(text) + "' is negative");
  return RatePerMillion{nanos};
}

std::string Money::ToUsd(int min_decimals) const {
  const bool negative = nanos_ < 0;
  // Work in unsigned to handle INT64_MIN.
  const uint64_t magnitude =
      negative ? (~static_cast<uint64_t>(nanos_) + 1U) : static_cast<uint64_t>(nanos_);
  const uint64_t whole = magnitude / static_cast<uint64_t>(kNanosPerUsd);
  uint64_t frac = magnitude % static_cast<uint64_t>(kNanosPerUsd);
  std::string digits(9, '0');
  for (int i = 8; i >= 0; --i) {
    digits[static_cast<size_t>(i)] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  size_t keep = 9;
  const size_t min_keep =
      static_cast<size_t>(min_decimals < 0 ? 0 : (min_decimals > 9 ? 9 : min_decimals));
  while (keep > min_keep && digits[keep - 1] == '0') --keep;
  std::string out = negative ? "-" : "";
  out += std::to_string(whole);
  if (keep > 0) {
    out += '.';
    out.append(digits, 0, keep);
  }
  return out;
}

Int128 ScaledCost(int64_t tokens, RatePerMillion rate) {
  return static_cast<Int128>(tokens) * static_cast<Int128>(rate.nanos);
}

Money RoundScaled(Int128 scaled) {
  constexpr Int128 kScale = 1'000'000;
  const bool negative = scaled < 0;
  Int128 magnitude = negative ? -scaled : scaled;
  Int128 nanos = (magnitude + kScale / 2) / kScale;
  constexpr Int128 kMax = std::numeric_limits<int64_t>::max();
  if (nanos > kMax) nanos = kMax;  // callers bound token counts; saturate rather than wrap
  return Money::FromNanos(static_cast<int64_t>(negative ? -nanos : nanos));
}

int64_t BasisPoints(Money part, Money whole) {
  if (whole.nanos() <= 0) return 0;
  const Int128 bp = static_cast<Int128>(part.nanos()) * 10'000 / whole.nanos();
  constexpr Int128 kMax = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(bp > kMax ? kMax : bp);
}

}  // namespace budgeteer
