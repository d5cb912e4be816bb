// Constant-time comparison of secrets (tokens, access keys): the time taken does not depend on
// where the inputs differ. Pure; thread-safe.
#pragma once

#include <string_view>

namespace budgeteer {

bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace budgeteer
