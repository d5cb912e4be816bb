// LogNotifier: writes one line per action to a stream (std::cerr by default) — for local runs
// and as a last-resort channel. Never fails. Not thread-safe: one call at a time.
#pragma once

#include <iostream>
#include <ostream>
#include <string>

#include "actions/notifier.h"

namespace budgeteer {

// Line format (one line, control characters replaced by spaces):
//   2026-01-31T12:00:00Z budgeteer action=42 kind=notify event=warning principal=123456789012/alice
//   message="..."
class LogNotifier final : public Notifier {
 public:
  explicit LogNotifier(std::ostream& out = std::cerr) : out_(out) {}

  std::string name() const override { return "log"; }
  Status Deliver(const ActionMessage& message) override;

  // The line Deliver writes (without the trailing newline).
  static std::string FormatLine(const ActionMessage& message);

 private:
  std::ostream& out_;
};

}  // namespace budgeteer
