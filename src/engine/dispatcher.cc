#include "engine/dispatcher.h"

#include <algorithm>

#include "util/json_writer.h"

namespace budgeteer {

namespace {
constexpr char kNoChannel[] = "none";

bool IsAccessAction(const std::string& kind) {
  return kind == "suspend_access" || kind == "restore_access";
}
}  // namespace

Dispatcher::Dispatcher(LedgerStore& store, std::mutex& store_mu, const Clock& clock,
                       std::vector<Route> routes, Enforcer* enforcer, DispatchPolicy policy,
                       uint64_t seed)
    : store_(store),
      store_mu_(store_mu),
      clock_(clock),
      routes_(std::move(routes)),
      enforcer_(enforcer),
      policy_(policy),
      rng_(seed) {}

int64_t Dispatcher::BackoffMs(const DispatchPolicy& policy, int attempts) {
  int64_t delay = policy.base_backoff_ms;
  for (int i = 1; i < attempts && delay < policy.max_backoff_ms; ++i) delay *= 2;
  return std::min(delay, policy.max_backoff_ms);
}

std::vector<std::string> Dispatcher::ChannelsFor(const OutboxAction& action) const {
  std::vector<std::string> channels;
  if (IsAccessAction(action.kind)) {
    channels.push_back(enforcer_ != nullptr ? enforcer_->name() : kNoChannel);
    return channels;
  }
  for (const Route& r : routes_) {
    if (r.events.empty() ||
        std::find(r.events.begin(), r.events.end(), action.event) != r.events.end()) {
      channels.push_back(r.notifier->name());
    }
  }
  if (channels.empty()) channels.emplace_back(kNoChannel);
  return channels;
}

Result<DispatchOutcome> Dispatcher::RunOnce() {
  DispatchOutcome outcome;
  const Timestamp now = clock_.Now();
  std::vector<OutboxAction> due;
  {
    std::lock_guard<std::mutex> lock(store_mu_);
    RETURN_IF_ERROR(store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
      outcome = DispatchOutcome();
      due.clear();
      ASSIGN_OR_RETURN(std::vector<OutboxAction> rows, txn.DueOutbox(now, policy_.batch));
      for (OutboxAction& a : rows) {
        if (!a.channel.empty()) {
          due.push_back(std::move(a));
          continue;
        }
        // Route: one row per channel, all in this transaction; the original is done.
        const std::vector<std::string> channels = ChannelsFor(a);
        for (const std::string& channel : channels) {
          OutboxAction copy = a;
          copy.id = 0;
          copy.channel = channel;
          copy.status = channel == kNoChannel ? OutboxStatus::kDelivered : OutboxStatus::kPending;
          copy.next_attempt_at = now;
          RETURN_IF_ERROR(txn.AppendOutbox(copy).status());
          ++outcome.routed;
        }
        a.status = OutboxStatus::kDelivered;
        a.channel = "routed:" + std::to_string(channels.size());
        RETURN_IF_ERROR(txn.UpdateOutbox(a));
      }
      return Status::Ok();
    }));
  }

  // Deliver outside the lock (channels talk to the network), and record each outcome as soon
  // as it is known, in its own transaction: a crash then re-sends at most the one action whose
  // delivery was in flight, never the ones already accepted earlier in the round.
  for (OutboxAction& a : due) {
    const Timestamp attempt_at = clock_.Now();
    const Status result = Deliver(a, attempt_at);
    std::lock_guard<std::mutex> lock(store_mu_);
    RETURN_IF_ERROR(store_.WriteTransaction(
        [&](LedgerTxn& txn) -> Status { return Record(txn, a, result, attempt_at, outcome); }));
  }
  return outcome;
}

Status Dispatcher::Deliver(const OutboxAction& a, Timestamp now) {
  const ActionMessage message{a.id, a.kind, a.event, a.payload, now};
  if (IsAccessAction(a.kind)) {
    if (enforcer_ != nullptr && enforcer_->name() == a.channel) return enforcer_->Apply(message);
  } else {
    for (const Route& r : routes_) {
      if (r.notifier->name() == a.channel) return r.notifier->Deliver(message);
    }
  }
  return Internal("no channel named '" + a.channel + "' is configured any more");
}

Status Dispatcher::Record(LedgerTxn& txn, OutboxAction a, const Status& result, Timestamp now,
                          DispatchOutcome& outcome) {
  ++a.attempts;
  if (result.ok()) {
    a.status = OutboxStatus::kDelivered;
    a.last_error.clear();
    ++outcome.delivered;
    return txn.UpdateOutbox(a);
  }
  a.last_error = result.message();
  if (result.retryable() && a.attempts < policy_.max_attempts) {
    const int64_t delay = BackoffMs(policy_, a.attempts);
    std::uniform_int_distribution<int64_t> jitter(0, delay / 2);
    a.status = OutboxStatus::kFailed;
    a.next_attempt_at = now.PlusMillis(delay + jitter(rng_));
    ++outcome.failed;
    return txn.UpdateOutbox(a);
  }
  a.status = OutboxStatus::kDead;
  ++outcome.dead;
  RETURN_IF_ERROR(txn.UpdateOutbox(a));
  if (a.kind == "operator_alert") return Status::Ok();  // never an alert about an alert

  // Tell the operators (on every channel routed for dead_action), and keep it in the audit.
  JsonWriter w;
  w.BeginObject()
      .Field("dead_action_id", a.id)
      .Field("kind", a.kind)
      .Field("event", a.event)
      .Field("channel", a.channel)
      .Field("attempts", a.attempts)
      .Field("error", a.last_error)
      .Field("message", "outbox action " + std::to_string(a.id) + " (" + a.kind + " " + a.event +
                            " on " + a.channel + ") is dead after " + std::to_string(a.attempts) +
                            " attempts: " + a.last_error +
                            ". Check the channel's configuration and the receiver.")
      .EndObject();
  const std::string details = w.Take();
  AuditEntry audit;
  audit.at = now;
  audit.principal_id = a.principal_id;
  audit.actor = "system";
  audit.kind = "dead_action";
  audit.details = details;
  ASSIGN_OR_RETURN(const int64_t audit_id, txn.AppendAudit(audit));
  OutboxAction alert;
  alert.created_at = now;
  alert.kind = "operator_alert";
  alert.event = "dead_action";
  alert.principal_id = a.principal_id;
  alert.audit_id = audit_id;
  alert.payload = details;
  alert.next_attempt_at = now;
  return txn.AppendOutbox(alert).status();
}

}  // namespace budgeteer
