// Money: exact integer amounts of US dollars in nano-dollars (1e-9 USD), never a double.
//
// Token rates are kept as nano-dollars per million tokens (RatePerMillion), so every published
// Bedrock price (at most 9 decimals per million tokens) is an exact integer. The cost of a token
// count is computed in 128-bit arithmetic and rounded once, half away from zero, to a nano-dollar.
// Values only; thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace budgeteer {

// 128-bit intermediate for exact products (a GCC/Clang extension; -Wpedantic-clean here).
__extension__ typedef __int128 Int128;  // NOLINT(modernize-use-using)

class Money {
 public:
  static constexpr int64_t kNanosPerUsd = 1'000'000'000;

  constexpr Money() = default;
  static constexpr Money FromNanos(int64_t nanos) { return Money(nanos); }
  static constexpr Money FromUsd(int64_t usd) { return Money(usd * kNanosPerUsd); }

  // Parses an exact decimal amount of USD: "1", "0.25", "12.000000001", "-3.5".
  // More than 9 significant decimals, exponents, or out-of-range values are errors.
  static Result<Money> ParseUsd(std::string_view text);

  constexpr int64_t nanos() const { return nanos_; }

  // Exact decimal USD with the fewest decimals that represent it, at least `min_decimals`
  // (0..9): ToUsd(0) of 1.5 USD is "1.5", ToUsd(2) is "1.50".
  std::string ToUsd(int min_decimals = 0) const;

  constexpr Money operator+(Money o) const { return Money(nanos_ + o.nanos_); }
  constexpr Money operator-(Money o) const { return Money(nanos_ - o.nanos_); }
  constexpr Money& operator+=(Money o) {
    nanos_ += o.nanos_;
    return *this;
  }
  constexpr Money& operator-=(Money o) {
    nanos_ -= o.nanos_;
    return *this;
  }
  constexpr auto operator<=>(const Money&) const = default;

 private:
  constexpr explicit Money(int64_t nanos) : nanos_(nanos) {}
  int64_t nanos_ = 0;
};

// A price per one million tokens (or per unit, for images), in nano-dollars.
struct RatePerMillion {
  int64_t nanos = 0;
  static Result<RatePerMillion> ParseUsd(std::string_view text);
  std::string ToUsd() const { return Money::FromNanos(nanos).ToUsd(); }
  constexpr auto operator<=>(const RatePerMillion&) const = default;
};

// Exact cost of `tokens` at `rate`, as a fraction of nano-dollars scaled by 1e6 (so a sum of
// several components can be rounded once). Use RoundScaled to turn it into Money.
Int128 ScaledCost(int64_t tokens, RatePerMillion rate);
// Rounds a sum of ScaledCost values half away from zero to a whole nano-dollar.
Money RoundScaled(Int128 scaled);

// Percent of `part` in `whole`, with two decimals, as an integer of basis points (1/100 %).
// Returns 0 when `whole` is not positive.
int64_t BasisPoints(Money part, Money whole);

}  // namespace budgeteer
