#include "store/ledger.h"

#include <iterator>

namespace budgeteer {

namespace {
constexpr std::string_view kOutboxStatusNames[] = {"pending", "delivered", "failed", "dead"};
}  // namespace

std::string_view OutboxStatusName(OutboxStatus s) {
  return kOutboxStatusNames[static_cast<size_t>(s)];
}

bool ParseOutboxStatus(std::string_view text, OutboxStatus& out) {
  for (size_t i = 0; i < std::size(kOutboxStatusNames); ++i) {
    if (kOutboxStatusNames[i] == text) {
      out = static_cast<OutboxStatus>(i);
      return true;
    }
  }
  return false;
}

}  // namespace budgeteer
