#include "actions/log/log_enforcer.h"

#include "actions/log/log_notifier.h"

namespace budgeteer {

Status LogEnforcer::Apply(const ActionMessage& message) {
  // The same line as the log notifier, marked as an access change that was not carried out.
  out_ << LogNotifier::FormatLine(message) << " enforcement=log (no access was changed)\n";
  out_.flush();
  return Status::Ok();
}

}  // namespace budgeteer
