// LogEnforcer: enforcement mode "log" — records what it would do (suspend or restore a
// principal's Bedrock access) on a stream and changes nothing. For local runs and dry runs.
// Never fails. Not thread-safe: one call at a time.
#pragma once

#include <iostream>
#include <ostream>
#include <string>

#include "actions/notifier.h"

namespace budgeteer {

class LogEnforcer final : public Enforcer {
 public:
  explicit LogEnforcer(std::ostream& out = std::cerr) : out_(out) {}
  std::string name() const override { return "enforce:log"; }
  Status Apply(const ActionMessage& message) override;

 private:
  std::ostream& out_;
};

}  // namespace budgeteer
