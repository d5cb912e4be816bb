// The ledger port: everything the engine persists, behind one small interface.
//
// The engine sees only LedgerStore/LedgerTxn; the embedded implementation is SQLite
// (store/sqlite/), a DynamoDB one comes later. All writes happen inside WriteTransaction: the
// callback's writes commit together or not at all (a crash mid-batch leaves the ledger as if
// the batch never started). Reads outside a transaction see the last committed state.
//
// Thread-safety: a LedgerStore is used by one thread at a time (the engine serialises
// writes); open one per process and share it through the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/money.h"
#include "core/policy.h"
#include "core/status.h"
#include "core/time.h"
#include "core/usage.h"

namespace budgeteer {

// Per-principal overrides of the configured defaults; unset fields follow the defaults.
struct SettingsOverrides {
  std::optional<Money> limit;
  std::optional<int> warn_percent;
  std::optional<int> critical_percent;
  std::optional<int64_t> grace_seconds;
  std::optional<PeriodSpec> period;

  BudgetSettings Over(const BudgetSettings& defaults) const {
    BudgetSettings s = defaults;
    if (limit) s.limit = *limit;
    if (warn_percent) s.warn_percent = *warn_percent;
    if (critical_percent) s.critical_percent = *critical_percent;
    if (grace_seconds) s.grace_seconds = *grace_seconds;
    if (period) s.period = *period;
    return s;
  }
  // Equality only: PeriodSpec has no order (clang: a defaulted <=> here is deleted).
  bool operator==(const SettingsOverrides&) const = default;
};

struct PrincipalRow {
  int64_t id = 0;  // assigned by InsertPrincipal
  PrincipalKey key;
  SettingsOverrides overrides;
  BudgetState state;
  Timestamp created_at;
  Timestamp last_seen;      // timestamp of the latest usage record
  std::string owner_email;  // optional per-principal notification address
  int64_t version = 0;      // bumped on every update (optimistic concurrency across processes)
};

// Flags on a usage row.
enum UsageFlags : uint32_t {
  kUsageUnpriced = 1U << 0,  // priced by the unknown-model rule
  kUsageLate = 1U << 1,      // belongs to a closed period: history only
  kUsageError = 1U << 2,     // the call ended with an errorCode
  kUsageBatch = 1U << 3,
};

struct UsageRow {
  std::string request_id;
  Timestamp timestamp;    // when the call happened (from the record)
  Timestamp received_at;  // when we applied it
  int64_t principal_id = 0;
  std::string model;  // canonical model id
  std::string region;
  Operation operation = Operation::kOther;
  TokenCounts tokens;
  MediaCounts media;
  Money cost;
  uint32_t flags = 0;
  int16_t source = 0;           // SourceKind
  int64_t period_start_ms = 0;  // start of the period the record was attributed to
};

// Hourly roll-up per principal and model; the usage queries and charts read these.
struct UsageAggregate {
  int64_t principal_id = 0;
  int64_t hour = 0;  // unix hour (seconds / 3600) of the record timestamp
  std::string model;
  int64_t requests = 0;
  TokenCounts tokens;
  Money cost;
  int64_t unpriced_requests = 0;
};

struct AuditEntry {
  int64_t id = 0;
  Timestamp at;
  std::optional<int64_t> principal_id;
  std::string actor;  // "system", "cli:<user>", or an API token's name
  std::string kind;   // "transition", "principal_created", "settings_changed", "spend_reset",
                      // "period_refreshed", "unpriced_model", "exempt", ...
  std::optional<BudgetStatus> from;
  std::optional<BudgetStatus> to;
  std::string trigger;  // TriggerName(), empty when not a transition
  std::string details;  // a JSON object with the figures of the moment
};

enum class OutboxStatus { kPending, kDelivered, kFailed, kDead };
std::string_view OutboxStatusName(OutboxStatus s);  // "pending", "delivered", "failed", "dead"
bool ParseOutboxStatus(std::string_view text, OutboxStatus& out);

struct OutboxAction {
  int64_t id = 0;
  Timestamp created_at;
  std::string kind;   // "notify", "suspend_access", "restore_access", "operator_alert"
  std::string event;  // "warning", "critical", "grace_period", "suspended", "restored", ...
  std::optional<int64_t> principal_id;
  std::optional<int64_t> audit_id;
  std::string payload;  // a JSON object: principal, account, spent, limit, percent, status, ...
  OutboxStatus status = OutboxStatus::kPending;
  int attempts = 0;
  Timestamp next_attempt_at;
  std::string last_error;
  std::string channel;  // set by the dispatcher once routed; empty while pending
};

struct IngestBatchRow {
  int64_t id = 0;
  Timestamp received_at;
  std::string source;  // "file:<name>", "firehose", ...
  int64_t first_usage_id = 0;
  int64_t last_usage_id = 0;  // inclusive; 0 when the batch applied nothing
  int64_t read = 0;
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  Money cost;
};

struct UsageQuery {
  std::optional<int64_t> principal_id;
  std::optional<Timestamp> from;  // inclusive, rounded down to the hour
  std::optional<Timestamp> to;    // exclusive, rounded up to the hour
  enum class GroupBy { kNone, kModel, kDay, kHour, kPrincipal } group_by = GroupBy::kNone;
};

struct UsageQueryRow {
  std::string key;  // the model, the day (YYYY-MM-DD), the hour, or the principal id as text
  int64_t requests = 0;
  TokenCounts tokens;
  Money cost;
  int64_t unpriced_requests = 0;
};

struct AuditQuery {
  std::optional<int64_t> principal_id;
  std::optional<int64_t> after_id;
  int64_t limit = 1000;  // <= 0: no limit
};

// Writes inside one transaction.
class LedgerTxn {
 public:
  virtual ~LedgerTxn() = default;

  virtual Result<std::optional<PrincipalRow>> FindPrincipal(const PrincipalKey& key) = 0;
  virtual Result<std::optional<PrincipalRow>> GetPrincipal(int64_t id) = 0;
  // Assigns row.id; the key must be new.
  virtual Status InsertPrincipal(PrincipalRow& row) = 0;
  // Writes state, overrides, owner and last_seen; bumps row.version. Fails with
  // kFailedPrecondition when the stored version is not row.version (another process changed the
  // principal since it was read: read it again and redo the change), kNotFound for an unknown id.
  virtual Status UpdatePrincipal(PrincipalRow& row) = 0;
  // Writes only spent and last_seen (the hot path: nothing else changed); bumps row.version.
  virtual Status UpdatePrincipalSpend(PrincipalRow& row) = 0;
  // True when another connection (another process) committed since a transaction of this
  // store last asked: anything cached from the ledger must be read again. Asking clears it, so
  // transactions that do not care (roll-ups, ticks) cannot swallow the news.
  virtual bool ChangedByOthers() = 0;
  // All principals whose NextDue is at or before `due` (grace deadlines, period ends).
  virtual Result<std::vector<PrincipalRow>> PrincipalsDueBy(Timestamp due) = 0;

  // Appends usage rows; returns the id of the first one (ids are consecutive), 0 for no rows.
  virtual Result<int64_t> AppendUsage(const std::vector<UsageRow>& rows) = 0;
  // Adds to the hourly roll-ups and to each principal's per-period totals.
  virtual Status AddAggregates(const std::vector<UsageAggregate>& rows) = 0;
  virtual Status AddPeriodSpend(int64_t principal_id, Timestamp period_start, Timestamp period_end,
                                Money amount) = 0;
  // Usage rows with after_id < id, in id order, at most `limit`; `last_id` is set to the id of
  // the last row delivered (after_id when none).
  virtual Status ScanUsage(int64_t after_id, int64_t limit,
                           const std::function<void(int64_t id, const UsageRow&)>& fn,
                           int64_t& last_id) = 0;
  // Request ids of usage rows with id > after_id (rows written by other processes), and the
  // highest id seen.
  virtual Status ScanRequestIds(int64_t after_id, const std::function<void(std::string_view)>& fn,
                                int64_t& max_id) = 0;

  virtual Result<int64_t> AppendAudit(const AuditEntry& entry) = 0;
  virtual Result<int64_t> AppendOutbox(const OutboxAction& action) = 0;
  // Writes the delivery fields (status, attempts, next_attempt_at, last_error, channel) of the
  // action with this id; kNotFound when there is none.
  virtual Status UpdateOutbox(const OutboxAction& action) = 0;
  // Actions to work on now: pending or failed with next_attempt_at <= now, oldest first.
  virtual Result<std::vector<OutboxAction>> DueOutbox(Timestamp now, int64_t limit) = 0;
  virtual Status RecordBatch(IngestBatchRow& batch) = 0;

  // Unknown models: returns true the first time `model` is noted.
  virtual Result<bool> NoteUnpricedModel(const std::string& model, Timestamp at) = 0;

  virtual Result<std::optional<std::string>> GetMeta(const std::string& key) = 0;
  virtual Status SetMeta(const std::string& key, const std::string& value) = 0;
};

struct UnpricedModelRow {
  std::string model;
  Timestamp first_seen;
  int64_t requests = 0;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Runs `fn` in one write transaction (exclusive across processes); commits when it returns
  // OK, rolls back otherwise. Busy databases are waited for up to the store's busy timeout.
  virtual Status WriteTransaction(const std::function<Status(LedgerTxn&)>& fn) = 0;

  // Reads (each a consistent snapshot).
  virtual Result<std::vector<PrincipalRow>> ListPrincipals() = 0;
  virtual Result<std::optional<PrincipalRow>> FindPrincipal(const PrincipalKey& key) = 0;
  // Principals in any account whose name is `name` (for the CLI's unqualified names).
  virtual Result<std::vector<PrincipalRow>> FindPrincipalsByName(const std::string& name) = 0;
  virtual Result<std::optional<PrincipalRow>> GetPrincipal(int64_t id) = 0;
  virtual Result<std::vector<UsageQueryRow>> QueryUsage(const UsageQuery& q) = 0;
  virtual Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) = 0;
  virtual Result<std::vector<OutboxAction>> ListOutbox(int64_t limit) = 0;
  // Number of outbox actions per (channel, status); unrouted actions have channel "".
  struct OutboxCount {
    std::string channel;
    OutboxStatus status = OutboxStatus::kPending;
    int64_t count = 0;
  };
  virtual Result<std::vector<OutboxCount>> CountOutbox() = 0;
  virtual Result<std::vector<UnpricedModelRow>> ListUnpricedModels() = 0;
  // Request ids received at or after `since` (to warm the de-duplication set), and the
  // highest usage id.
  virtual Status ScanRequestIdsSince(Timestamp since,
                                     const std::function<void(std::string_view)>& fn,
                                     int64_t& max_id) = 0;
  // Spend of one principal in one period (history, including late records).
  virtual Result<Money> PeriodSpend(int64_t principal_id, Timestamp period_start) = 0;
};

}  // namespace budgeteer
