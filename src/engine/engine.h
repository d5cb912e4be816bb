// The engine: ingest -> price -> apply once -> evaluate the policy -> audit + outbox, in one
// ledger transaction per batch; plus what time alone changes (Tick) and the operators' actions.
//
// Exactly-once: a record whose request id was applied within the de-duplication window is a
// duplicate. The window's ids live in memory (RequestIdSet), rebuilt from the ledger at Open and
// caught up from rows other processes wrote at the start of every batch, inside the same
// exclusive transaction that applies the batch.
//
// Thread-safety: not thread-safe; one thread (or a caller-held mutex) drives an Engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/policy.h"
#include "core/principal.h"
#include "core/usage.h"
#include "engine/request_id_set.h"
#include "engine/rollup.h"
#include "pricing/pricing.h"
#include "store/ledger.h"

namespace budgeteer {

struct EngineOptions {
  BudgetSettings defaults;  // the seed's: $1, 70 %, 90 %, 300 s, 30 days
  IdentityRules identity;
  // How long a request id is remembered (by arrival time). At least 48 h; default 7 days.
  int64_t dedup_window_seconds = int64_t{7} * 86400;
  // Records stamped further than this in the future are rejected (clock skew allowance).
  int64_t max_future_skew_seconds = 300;
  // Rates for models missing from the catalog; unset: UnknownModelRule::FromCatalog.
  std::optional<UnknownModelRule> unknown_model;
};

struct BatchRejection {
  size_t index;  // position of the record in the batch
  std::string reason;
};

struct BatchOutcome {
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t late = 0;      // applied to a closed period's history
  int64_t unpriced = 0;  // priced by the unknown-model rule
  Money cost;            // total cost of the applied records
  std::vector<BatchRejection> rejected;
  std::vector<size_t> duplicate_indices;  // positions of the duplicates in the batch
  // Records not applied because they would have created more new principals than the cap
  // allows (SetNewPrincipalCap): nothing of them was recorded, not even their request id, so
  // the same records sent again later are applied then. Positions in the batch.
  std::vector<size_t> deferred_indices;
  int64_t transitions = 0;
};

struct TickOutcome {
  int64_t principals_checked = 0;
  int64_t transitions = 0;
  int64_t refreshed = 0;
};

// A change to a principal's settings; unset fields are left as they are. `clear_*` return a
// field to the configured default.
struct SettingsPatch {
  std::optional<Money> limit;
  std::optional<int> warn_percent;
  std::optional<int> critical_percent;
  std::optional<int64_t> grace_seconds;
  std::optional<PeriodSpec> period;
  std::optional<std::string> owner_email;
};

// A usage report as `budgeteer usage` and GET /v1/usage ask for it (all fields optional).
struct UsageRequest {
  std::string principal;  // NAME or ACCOUNT:NAME
  std::string from;       // RFC 3339, inclusive (rounded down to the hour)
  std::string to;         // RFC 3339, exclusive (rounded up to the hour)
  std::string group_by;   // model | day | hour | principal | none
};

struct UsageReport {
  const char* key_name = "total";  // the grouping: "model", "day", "hour", "principal", "total"
  std::vector<std::pair<std::string, UsageQueryRow>> rows;  // key (principals by name), figures
};

// A principal with its effective settings, as the CLI and API show it.
struct BudgetView {
  PrincipalRow row;
  BudgetSettings settings;
};

class Engine {
 public:
  // Warms the de-duplication set from the ledger. `catalog` must outlive the engine.
  static Result<std::unique_ptr<Engine>> Open(LedgerStore& store, const PriceCatalog& catalog,
                                              EngineOptions options, const Clock& clock);

  // Applies a batch of records in one transaction: all of it, or (on a ledger failure)
  // nothing. Bad records are rejected individually and do not affect the others.
  Result<BatchOutcome> ApplyBatch(const std::vector<UsageRecord>& records, std::string_view source);

  // Caps the principals ApplyBatch creates (first sightings of an identity) to `per_minute` in
  // any 60 s of the clock; 0 (the default) means no cap. Beyond it, records of identities not
  // yet in the ledger are deferred (BatchOutcome::deferred_indices), while records of known
  // principals are applied as usual: a flood of fresh identities (random role-session or API
  // key names) can neither grow the ledger and the principal cache without bound nor crowd out
  // known callers, and no money is dropped, as long as the producer sends deferred records
  // again (Firehose retries a delivery that was not acknowledged).
  void SetNewPrincipalCap(int64_t per_minute) { new_principal_cap_ = per_minute; }

  // Acts on grace deadlines and period ends due at the clock's now.
  Result<TickOutcome> Tick();

  // Brings the derived tables (hourly roll-ups per principal and model, spend per period) up
  // to date with the usage rows applied since the last roll-up. They are derived data, kept off
  // the ingest transaction: once a roll-up has caught up, the engine sums the rows it applies
  // in memory and the next roll-up writes the sums; otherwise (a new engine, another writer)
  // it reads the rows past the watermark back, at most `max_rows` of them (callers that hold a
  // lock others wait on pass a small number and call again). Either way the watermark in the
  // ledger's meta moves in the same transaction as the sums. Returns the rows rolled up.
  Result<int64_t> RollUp(int64_t max_rows = std::numeric_limits<int64_t>::max());
  // True while the engine sums the rows it applies in memory (a roll-up then writes the sums in
  // one transaction, whatever `max_rows`); false until a roll-up has caught up with the ledger.
  bool rollup_is_incremental() const { return pending_.valid; }

  // When the configured defaults differ from the ones the ledger last applied, re-evaluates
  // every principal that follows them (audited). Call before mutating commands.
  Status ApplyDefaultsIfChanged(const std::string& actor);
  // Replaces the defaults at run time (a config source such as SSM changed them) and applies
  // them as ApplyDefaultsIfChanged does, audited with `actor`. Invalid settings are refused and
  // the defaults in force stay.
  Status SetDefaults(const BudgetSettings& defaults, const std::string& actor);

  // Operators' actions (each audited with `actor`). `principal` is a reference as the CLI and
  // API accept it: "NAME" when unambiguous, or "ACCOUNT:NAME".
  Result<BudgetView> UpdateSettings(const std::string& principal, const SettingsPatch& patch,
                                    const std::string& actor);
  Result<BudgetView> ResetSpend(const std::string& principal, const std::string& actor);
  Result<BudgetView> Suspend(const std::string& principal, const std::string& actor);
  Result<BudgetView> Restore(const std::string& principal, bool force, const std::string& actor);
  Result<BudgetView> SetExempt(const std::string& principal, bool on, const std::string& actor);

  // Reads.
  // Rolls up first (the roll-ups are derived from the usage rows), then queries.
  Result<UsageReport> Usage(const UsageRequest& request);
  Result<std::vector<BudgetView>> ListBudgets();
  Result<BudgetView> ShowBudget(const std::string& principal);
  // Resolves a principal reference to its ledger row (errors name the candidates).
  Result<PrincipalRow> FindPrincipal(const std::string& principal);

  const BudgetSettings& defaults() const { return options_.defaults; }
  const PriceCatalog& catalog() const { return *catalog_.load(); }
  // Replaces the price catalog at run time (`prices update` stored a new one): records applied
  // from now on are priced with it, usage already applied keeps its cost. The unknown-model
  // rule follows the new catalog unless the options fixed it. Audited (catalog_changed) with
  // `actor`. `catalog` must outlive the engine; readers of catalog() may still hold the old one,
  // so the caller keeps that alive too.
  Status SetCatalog(const PriceCatalog& catalog, const std::string& actor);
  size_t dedup_entries() const { return seen_.size(); }
  size_t dedup_memory_bytes() const { return seen_.memory_bytes(); }

 private:
  Engine(LedgerStore& store, const PriceCatalog& catalog, EngineOptions options,
         const Clock& clock);
  Status WarmDedup();
  // Roll-up helpers (see RollUp): record a committed batch's rows; write the pending sums (and
  // invalidate them when the ledger shows another writer); or scan the usage table.
  void NotePendingRollup(int64_t first_id, int64_t count, RollupBuffer&& rows);
  Result<int64_t> FlushPendingRollup();
  Result<int64_t> ScanRollUp(int64_t max_rows);
  BudgetSettings SettingsOf(const PrincipalRow& row) const {
    return row.overrides.Over(options_.defaults);
  }
  // Runs an operator action on one principal inside a transaction.
  template <typename Fn>
  Result<BudgetView> Mutate(const std::string& principal, const std::string& actor, Fn&& fn);

  LedgerStore& store_;
  std::atomic<const PriceCatalog*> catalog_;  // swapped by SetCatalog; read without the lock
  UnknownModelRule unknown_rule_;
  EngineOptions options_;
  const Clock& clock_;
  RequestIdSet seen_;
  // Sums of the usage rows (from_id, to_id] this engine appended since the roll-up watermark,
  // written by the next RollUp without reading the rows back. Valid only from a roll-up that
  // caught up, and while the rows stay contiguous (another writer's rows invalidate it, and the
  // scan takes over); dropped beyond kMaxPendingRollupKeys keys to bound memory.
  struct PendingRollup {
    bool valid = false;
    int64_t from_id = 0;
    int64_t to_id = 0;
    RollupBuffer rows;
  };
  static constexpr size_t kMaxPendingRollupKeys = 500'000;
  static constexpr char kRollupWatermarkKey[] = "rollup_usage_id";
  PendingRollup pending_;
  int64_t max_usage_id_ = 0;
  // A principal as this engine last wrote it, with its effective settings and the scratch of
  // the batch that is touching it. Valid while no other process commits to the ledger
  // (LedgerTxn::ChangedByOthers); dropped otherwise, after operator actions and after a failed
  // batch (which modified entries in place).
  struct CachedPrincipal {
    PrincipalRow row;
    BudgetSettings settings;
    uint64_t batch = 0;  // the batch that last touched it
    // Set when more than spent/last_seen changed (new, refreshed, or a transition).
    bool needs_full_write = false;
    std::vector<Transition> transitions;
    std::vector<BudgetState> states;  // the state right after each of `transitions`
  };
  std::unordered_map<PrincipalKey, CachedPrincipal, PrincipalKeyHash> principals_;
  uint64_t batch_counter_ = 0;
  // The new-principal cap (0: none) and the creation times (unix ms) of the principals created
  // within the last minute, oldest first (at most new_principal_cap_ entries).
  int64_t new_principal_cap_ = 0;
  std::deque<int64_t> created_ms_;
};

}  // namespace budgeteer
