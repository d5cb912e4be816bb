// The budget policy (PRODUCT §5) as a pure state machine.
//
//   active -> warning (>= warn%) -> critical (>= critical%) -> grace_period (>= 100%, a deadline
//   is set) -> suspended (deadline passed, still >= 100%)
//
// plus `exempt` (tracked, never enforced). Each function takes the settings, the state and the
// time, mutates the state and appends the Transitions it caused; each Transition becomes one
// audit entry and one notification, plus an access action where Transition::access says so.
// Nothing here does I/O or reads a clock. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/period.h"
#include "core/status.h"
#include "core/time.h"

namespace budgeteer {

enum class BudgetStatus { kActive, kWarning, kCritical, kGracePeriod, kSuspended, kExempt };

std::string_view BudgetStatusName(BudgetStatus s);  // "active", ..., "grace_period", ...
bool ParseBudgetStatus(std::string_view text, BudgetStatus& out);

struct BudgetSettings {
  Money limit = Money::FromUsd(1);
  int warn_percent = 70;
  int critical_percent = 90;
  int64_t grace_seconds = 300;
  PeriodSpec period;

  // Names the offending field: limit >= 0, 1 <= warn <= critical <= 100, 0 <= grace <= 30 days.
  Status Validate() const;
  // Equality only: PeriodSpec has no order (clang: a defaulted <=> here is deleted).
  bool operator==(const BudgetSettings&) const = default;
};

// Sentinel for "exempt until further notice".
inline constexpr Timestamp kForever = Timestamp::FromUnixMillis(INT64_MAX);

struct BudgetState {
  BudgetStatus status = BudgetStatus::kActive;
  Timestamp anchor;                         // rolling periods are counted from here
  Period period;                            // the current period
  Money spent;                              // counted against the limit in the current period
  std::optional<Timestamp> grace_deadline;  // set iff status == kGracePeriod
  bool manual_suspension = false;           // suspended by a person: survives refresh and limits
  std::optional<Timestamp> exempt_until;    // set iff status == kExempt (kForever or period end)
  auto operator<=>(const BudgetState&) const = default;
};

enum class Trigger {
  kUsage,          // a usage record crossed a threshold
  kGraceExpired,   // the grace deadline passed while still over budget
  kPeriodRefresh,  // a new period started
  kSettings,       // limit, thresholds, grace or period changed
  kReset,          // spend reset by a person
  kSuspend,        // manual suspension
  kRestore,        // manual restoration
  kExempt,         // exempted / exemption lifted by a person
};
std::string_view TriggerName(Trigger t);

enum class AccessChange { kNone, kSuspend, kRestore };

struct Transition {
  BudgetStatus from;
  BudgetStatus to;
  Trigger trigger;
  Timestamp at;
  AccessChange access = AccessChange::kNone;
};

// The level the spend alone calls for: active, warning, critical or (at >= 100%) grace_period.
BudgetStatus LevelFor(const BudgetSettings& settings, Money spent);

// A new principal's state: active, in the period containing `now`, anchored at `first_seen`.
BudgetState NewBudgetState(const BudgetSettings& settings, Timestamp first_seen, Timestamp now);

// Adds spend that belongs to the current period, at time `now`. Escalates only.
void ApplySpend(const BudgetSettings& settings, BudgetState& state, Money amount, Timestamp now,
                std::vector<Transition>& out);

// Acts on what time alone changes: an expired grace deadline, then period ends (spend starts
// from zero, automatic suspensions and end-of-period exemptions end). Returns true when the
// period changed (the caller records the refresh even when no status changed).
bool AdvanceTime(const BudgetSettings& settings, BudgetState& state, Timestamp now,
                 std::vector<Transition>& out);

// The earliest time at which AdvanceTime would change something (grace deadline or period end).
Timestamp NextDue(const BudgetState& state);

// Re-evaluates after the settings changed from `before` to `after` (limit raised: grace is
// cancelled and suspensions lifted; limit lowered: thresholds may be crossed at once; period
// kind changed: the current period is recomputed).
void ChangeSettings(const BudgetSettings& before, const BudgetSettings& after, BudgetState& state,
                    Timestamp now, std::vector<Transition>& out);

// Sets the current period's spend to zero and re-evaluates.
void ResetSpend(const BudgetSettings& settings, BudgetState& state, Timestamp now,
                std::vector<Transition>& out);

// Manual suspension; stays until a person restores it, across refreshes and limit changes.
Status Suspend(BudgetState& state, Timestamp now, std::vector<Transition>& out);

// Manual restoration of a suspended (or in-grace) principal. Refuses while still over budget
// unless `force`, which exempts the principal until the end of the current period.
Status Restore(const BudgetSettings& settings, BudgetState& state, bool force, Timestamp now,
               std::vector<Transition>& out);

// Exempts the principal until further notice (`on`), or lifts the exemption and re-evaluates.
Status SetExempt(const BudgetSettings& settings, BudgetState& state, bool on, Timestamp now,
                 std::vector<Transition>& out);

}  // namespace budgeteer
