#include "util/constant_time.h"

#include <cstddef>

namespace budgeteer {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer input is visited; a length mismatch is folded into the result.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  // Keep the compiler from short-circuiting the loop on an early difference.
  volatile unsigned sink = diff;
  return sink == 0U;
}

}  // namespace budgeteer
