// The words of a notification for channels that send a subject and a plain-text body (SMTP
// e-mail, SES, SNS): one composition, so every channel says the same thing. Pure; thread-safe.
#pragma once

#include <string>

#include "actions/notifier.h"

namespace budgeteer {

struct NotificationText {
  std::string subject;  // "[Bedrock Budgeteer] 123456789012:alice: budget warning", one line
  std::string body;     // lines of at most ~76 characters, each ending in "\n"
};

// From the action's payload fields (engine/events.cc): who, what happened, spend, limit,
// percent, state, deadline, period end, what to do, and the action id.
NotificationText ComposeNotificationText(const ActionMessage& message);

}  // namespace budgeteer
