// The actions port: where the outbox's actions go. A Notifier delivers a notification (an
// outbox action of kind "notify" or "operator_alert") on one channel; an Enforcer changes a
// principal's access ("suspend_access" / "restore_access"). Implementations live in one folder
// per channel (log, webhook, slack, email, sns, ses; iam for enforcement) and report whether a
// failure is worth retrying.
// Each instance is called by one thread at a time (its channel's lane in the dispatcher), but
// different instances are called at the same time: they must share nothing unsynchronised.
#pragma once

#include <string>

#include "core/status.h"
#include "core/time.h"

namespace budgeteer {

// What a channel needs to deliver one action: the outbox row's identity and its JSON payload
// (see engine/events.cc: principal, account, spent_usd, limit_usd, percent, status,
// previous_status, period_end, grace_deadline, message, owner_email, ...).
struct ActionMessage {
  int64_t action_id = 0;  // the outbox id: receivers can de-duplicate on it
  std::string kind;       // "notify", "operator_alert", "suspend_access", "restore_access"
  std::string event;      // "warning", "critical", "grace_period", "suspended", "restored", ...
  std::string payload;    // JSON object
  Timestamp now;          // the dispatcher's clock, for signatures and timestamps
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  // A short name for logs, metrics and the outbox row ("webhook:ops", "slack", "email:smtp").
  virtual std::string name() const = 0;
  // OK once the receiver accepted the message. A failure's Status::retryable() says whether
  // the dispatcher should try again later (network, timeouts, 5xx, 429) or give up (4xx,
  // authentication, a malformed address).
  virtual Status Deliver(const ActionMessage& message) = 0;
};

class Enforcer {
 public:
  virtual ~Enforcer() = default;
  virtual std::string name() const = 0;
  // Idempotent: suspending a suspended principal, or restoring a restored one, is success.
  virtual Status Apply(const ActionMessage& message) = 0;
};

}  // namespace budgeteer
