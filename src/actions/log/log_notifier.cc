#include "actions/log/log_notifier.h"

#include "actions/payload.h"

namespace budgeteer {

std::string LogNotifier::FormatLine(const ActionMessage& message) {
  std::string principal;
  std::string text;
  const auto fields = PayloadFields::Parse(message.payload);
  if (fields.ok()) {
    principal = std::string(fields->Get("qualified"));
    if (principal.empty()) principal = std::string(fields->Get("principal"));
    if (principal.empty()) principal = std::string(fields->Get("model"));
    text = std::string(fields->Get("message"));
  } else {
    text = message.payload;
  }
  std::string line =
      message.now.ToRfc3339() + " budgeteer action=" + std::to_string(message.action_id) +
      " kind=" + message.kind + " event=" + message.event +
      " principal=" + (principal.empty() ? "-" : principal) + " message=\"" + text + "\"";
  return OneLine(line);
}

Status LogNotifier::Deliver(const ActionMessage& message) {
  out_ << FormatLine(message) << '\n';
  out_.flush();
  out_.clear();  // a failed stream must not make the notifier fail
  return Status::Ok();
}

}  // namespace budgeteer
