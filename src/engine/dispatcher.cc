#include "engine/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "util/json_writer.h"

namespace budgeteer {

namespace {
constexpr char kNoChannel[] = "none";
// How long one channel's lane keeps taking rows in a round (see RunOnce).
constexpr std::chrono::milliseconds kLaneBudget{1000};

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

int64_t Dispatcher::RetryDelayMs(const DispatchPolicy& policy, int64_t backoff_ms,
                                 const Status& failure) {
  if (!failure.retry_after_ms()) return backoff_ms;
  return std::max(backoff_ms, std::min(*failure.retry_after_ms(), policy.max_backoff_ms));
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

  // Deliver outside the lock (channels talk to the network), one lane per channel running at
  // the same time: a receiver that hangs until its timeout holds up its own channel only, not
  // the enforcer or the other channels. Within a lane, deliveries go in order, and each outcome
  // is recorded as soon as it is known, in its own transaction: a crash then re-sends at most
  // the one action per channel whose delivery was in flight. A lane stops taking new rows after
  // kLaneBudget, so a round (and the routing of new actions) never waits for more than that plus
  // one delivery; what is left is due again next round.
  std::map<std::string, std::vector<OutboxAction*>> lanes;
  for (OutboxAction& a : due) lanes[a.channel].push_back(&a);
  Status failure = Status::Ok();  // the first failure to record an outcome; under store_mu_
  auto run_lane = [&](const std::vector<OutboxAction*>& rows) {
    const auto started = std::chrono::steady_clock::now();
    for (OutboxAction* a : rows) {
      if (std::chrono::steady_clock::now() - started > kLaneBudget) return;
      const Timestamp attempt_at = clock_.Now();
      const Status result = Deliver(*a, attempt_at);
      std::lock_guard<std::mutex> lock(store_mu_);
      const Status recorded = store_.WriteTransaction(
          [&](LedgerTxn& txn) -> Status { return Record(txn, *a, result, attempt_at, outcome); });
      if (!recorded.ok()) {
        if (failure.ok()) failure = recorded;
        return;
      }
    }
  };
  if (lanes.size() == 1) {
    run_lane(lanes.begin()->second);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(lanes.size());
    for (const auto& [channel, rows] : lanes) threads.emplace_back(run_lane, std::cref(rows));
    for (std::thread& t : threads) t.join();
  }
  RETURN_IF_ERROR(failure);
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
    const int64_t backoff = BackoffMs(policy_, a.attempts);
    std::uniform_int_distribution<int64_t> jitter(0, backoff / 2);
    a.status = OutboxStatus::kFailed;
    a.next_attempt_at = now.PlusMillis(RetryDelayMs(policy_, backoff + jitter(rng_), result));
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
