// Dispatcher: delivers the outbox. Each due action is routed once to the channels configured
// for its event (one outbox row per channel, created in one transaction, so every channel has
// its own attempts and dead-letter state), then delivered with exponential backoff and jitter
// until it succeeds or is declared dead — which raises an operator alert. A receiver that asks
// for a pause (a failure with Status::retry_after_ms, from an HTTP Retry-After) is not tried
// again before it, up to max_backoff_ms.
//
// At-least-once: an action is marked delivered only after its channel accepted it, each outcome
// in its own transaction; a crash in between re-delivers that one action (receivers can
// de-duplicate on the action id). Network I/O happens outside the ledger lock, one lane (thread)
// per channel within a round, so a receiver that hangs until its timeout delays only its own
// channel. Not thread-safe: one dispatcher thread per process calls RunOnce.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "actions/notifier.h"
#include "core/clock.h"
#include "store/ledger.h"

namespace budgeteer {

struct DispatchPolicy {
  int max_attempts = 8;              // then the action is dead
  int64_t base_backoff_ms = 1000;    // 1 s, 2 s, 4 s, ... (plus up to 50 % jitter)
  int64_t max_backoff_ms = 300'000;  // at most 5 min between attempts
  int64_t batch = 100;               // actions worked on per round
};

// Which events go to a notifier. Empty `events`: every notification and operator alert.
struct Route {
  Notifier* notifier = nullptr;
  std::vector<std::string> events;
};

struct DispatchOutcome {
  int64_t routed = 0;
  int64_t delivered = 0;
  int64_t failed = 0;  // will be retried
  int64_t dead = 0;
};

class Dispatcher {
 public:
  // `enforcer` may be null (access actions are then recorded as delivered to "none").
  Dispatcher(LedgerStore& store, std::mutex& store_mu, const Clock& clock,
             std::vector<Route> routes, Enforcer* enforcer, DispatchPolicy policy,
             uint64_t seed = std::random_device{}());

  // One round: route what is new, deliver what is due.
  Result<DispatchOutcome> RunOnce();

  // The delay before attempt `attempts + 1` (without jitter).
  static int64_t BackoffMs(const DispatchPolicy& policy, int attempts);
  // The delay after a retryable `failure`: the backoff (with its jitter), or the receiver's
  // retry-after when that is longer, but never more of it than policy.max_backoff_ms.
  static int64_t RetryDelayMs(const DispatchPolicy& policy, int64_t backoff_ms,
                              const Status& failure);

 private:
  std::vector<std::string> ChannelsFor(const OutboxAction& action) const;
  // One attempt on the action's channel (no ledger lock held).
  Status Deliver(const OutboxAction& action, Timestamp now);
  // Records an attempt's outcome: delivered, failed (retried after a backoff) or dead (audited
  // as "dead_action" and alerted).
  Status Record(LedgerTxn& txn, OutboxAction action, const Status& result, Timestamp now,
                DispatchOutcome& outcome);

  LedgerStore& store_;
  std::mutex& store_mu_;
  const Clock& clock_;
  std::vector<Route> routes_;
  Enforcer* enforcer_;
  DispatchPolicy policy_;
  std::mt19937_64 rng_;
};

}  // namespace budgeteer
