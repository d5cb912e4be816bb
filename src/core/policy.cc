#include "core/policy.h"

namespace budgeteer {

namespace {

constexpr std::string_view kStatusNames[] = {"active",       "warning",   "critical",
                                             "grace_period", "suspended", "exempt"};

bool IsOver(BudgetStatus s) {
  return s == BudgetStatus::kGracePeriod || s == BudgetStatus::kSuspended;
}

// Moves to `to`, recording one transition (and the access change it implies).
void Move(BudgetState& state, BudgetStatus to, Trigger trigger, Timestamp now,
          std::vector<Transition>& out) {
  const BudgetStatus from = state.status;
  if (from == to) return;
  AccessChange access = AccessChange::kNone;
  if (to == BudgetStatus::kSuspended) access = AccessChange::kSuspend;
  if (from == BudgetStatus::kSuspended) access = AccessChange::kRestore;
  state.status = to;
  if (to != BudgetStatus::kGracePeriod) state.grace_deadline.reset();
  if (to != BudgetStatus::kSuspended) state.manual_suspension = false;
  if (to != BudgetStatus::kExempt) state.exempt_until.reset();
  out.push_back(Transition{from, to, trigger, now, access});
}

// Enters the over-budget state: grace period with a deadline, or suspension when grace is 0.
void EnterOver(const BudgetSettings& settings, BudgetState& state, Trigger trigger, Timestamp now,
               std::vector<Transition>& out) {
  if (settings.grace_seconds <= 0) {
    Move(state, BudgetStatus::kSuspended, trigger, now, out);
    return;
  }
  Move(state, BudgetStatus::kGracePeriod, trigger, now, out);
  state.grace_deadline = now.PlusSeconds(settings.grace_seconds);
}

// Brings the status to the level the spend calls for, in either direction, in one transition
// (used after settings changes, resets, restorations and when an exemption ends).
void Settle(const BudgetSettings& settings, BudgetState& state, Trigger trigger, Timestamp now,
            std::vector<Transition>& out) {
  const BudgetStatus level = LevelFor(settings, state.spent);
  if (level == BudgetStatus::kGracePeriod) {
    if (!IsOver(state.status)) EnterOver(settings, state, trigger, now, out);
    return;
  }
  Move(state, level, trigger, now, out);
}

// Settle for principals the policy manages automatically (not manual, not exempt).
void Reevaluate(const BudgetSettings& settings, BudgetState& state, Trigger trigger, Timestamp now,
                std::vector<Transition>& out) {
  if (state.manual_suspension || state.status == BudgetStatus::kExempt) return;
  Settle(settings, state, trigger, now, out);
}

}  // namespace

std::string_view BudgetStatusName(BudgetStatus s) { return kStatusNames[static_cast<size_t>(s)]; }

bool ParseBudgetStatus(std::string_view text, BudgetStatus& out) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (kStatusNames[i] == text) {
      out = static_cast<BudgetStatus>(i);
      return true;
    }
  }
  return false;
}

std::string_view TriggerName(Trigger t) {
  switch (t) {
    case Trigger::kUsage:
      return "usage";
    case Trigger::kGraceExpired:
      return "grace_expired";
    case Trigger::kPeriodRefresh:
      return "period_refresh";
    case Trigger::kSettings:
      return "settings";
    case Trigger::kReset:
      return "reset";
    case Trigger::kSuspend:
      return "suspend";
    case Trigger::kRestore:
      return "restore";
    case Trigger::kExempt:
      return "exempt";
  }
  return "usage";
}

Status BudgetSettings::Validate() const {
  if (limit.nanos() < 0) return InvalidArgument("limit must not be negative");
  if (warn_percent < 1 || warn_percent > 100) {
    return InvalidArgument("warn percent must be between 1 and 100 (got " +
                           std::to_string(warn_percent) + ")");
  }
  if (critical_percent < warn_percent || critical_percent > 100) {
    return InvalidArgument("critical percent must be between the warn percent (" +
                           std::to_string(warn_percent) + ") and 100 (got " +
                           std::to_string(critical_percent) + ")");
  }
  if (grace_seconds < 0 || grace_seconds > int64_t{30} * 86400) {
    return InvalidArgument("grace seconds must be between 0 and 2592000 (30 days), got " +
                           std::to_string(grace_seconds));
  }
  if (period.kind == PeriodKind::kRollingDays && (period.days < 1 || period.days > 3660)) {
    return InvalidArgument("period days must be between 1 and 3660");
  }
  return Status::Ok();
}

BudgetStatus LevelFor(const BudgetSettings& settings, Money spent) {
  const Int128 s = spent.nanos();
  const Int128 l = settings.limit.nanos();
  if (s <= 0) return l <= 0 && s > 0 ? BudgetStatus::kGracePeriod : BudgetStatus::kActive;
  if (s >= l) return BudgetStatus::kGracePeriod;
  if (s * 100 >= l * settings.critical_percent) return BudgetStatus::kCritical;
  if (s * 100 >= l * settings.warn_percent) return BudgetStatus::kWarning;
  return BudgetStatus::kActive;
}

BudgetState NewBudgetState(const BudgetSettings& settings, Timestamp first_seen, Timestamp now) {
  BudgetState state;
  state.anchor = AnchorFor(first_seen < now ? first_seen : now);
  state.period = PeriodContaining(settings.period, state.anchor, now);
  return state;
}

void ApplySpend(const BudgetSettings& settings, BudgetState& state, Money amount, Timestamp now,
                std::vector<Transition>& out) {
  state.spent += amount;
  if (state.manual_suspension || state.status == BudgetStatus::kExempt || IsOver(state.status)) {
    return;
  }
  const BudgetStatus level = LevelFor(settings, state.spent);
  if (level == BudgetStatus::kGracePeriod) {
    EnterOver(settings, state, Trigger::kUsage, now, out);
  } else if (level > state.status) {
    Move(state, level, Trigger::kUsage, now, out);
  }
}

bool AdvanceTime(const BudgetSettings& settings, BudgetState& state, Timestamp now,
                 std::vector<Transition>& out) {
  const bool period_over = now >= state.period.end;
  // A grace deadline that passed in a period that has also ended is moot: the refresh below
  // resolves it (no suspension for a period that is already over).
  if (state.status == BudgetStatus::kGracePeriod && state.grace_deadline &&
      now >= *state.grace_deadline && !period_over) {
    Move(state, BudgetStatus::kSuspended, Trigger::kGraceExpired, now, out);
  }
  if (state.status == BudgetStatus::kExempt && state.exempt_until && now >= *state.exempt_until &&
      !period_over) {
    Settle(settings, state, Trigger::kExempt, now, out);
  }
  if (!period_over) return false;
  state.period = PeriodContaining(settings.period, state.anchor, now);
  state.spent = Money();
  const bool exempt_forever = state.status == BudgetStatus::kExempt && state.exempt_until &&
                              *state.exempt_until == kForever;
  if (!state.manual_suspension && !exempt_forever) {
    Move(state, BudgetStatus::kActive, Trigger::kPeriodRefresh, now, out);
  }
  return true;
}

Timestamp NextDue(const BudgetState& state) {
  Timestamp due = state.period.end;
  if (state.status == BudgetStatus::kGracePeriod && state.grace_deadline &&
      *state.grace_deadline < due) {
    due = *state.grace_deadline;
  }
  if (state.status == BudgetStatus::kExempt && state.exempt_until && *state.exempt_until < due) {
    due = *state.exempt_until;
  }
  return due;
}

void ChangeSettings(const BudgetSettings& before, const BudgetSettings& after, BudgetState& state,
                    Timestamp now, std::vector<Transition>& out) {
  if (before.period != after.period) {
    // A new period kind starts counting from the current period's start for rolling periods;
    // the spend of the current period carries over.
    if (after.period.kind == PeriodKind::kRollingDays) state.anchor = state.period.start;
    state.period = PeriodContaining(after.period, state.anchor, now);
  }
  if (state.status == BudgetStatus::kGracePeriod && before.grace_seconds != after.grace_seconds &&
      state.grace_deadline) {
    // Keep the deadline relative to when the grace started.
    *state.grace_deadline =
        state.grace_deadline->PlusSeconds(after.grace_seconds - before.grace_seconds);
  }
  Reevaluate(after, state, Trigger::kSettings, now, out);
}

void ResetSpend(const BudgetSettings& settings, BudgetState& state, Timestamp now,
                std::vector<Transition>& out) {
  state.spent = Money();
  Reevaluate(settings, state, Trigger::kReset, now, out);
}

Status Suspend(BudgetState& state, Timestamp now, std::vector<Transition>& out) {
  if (state.status == BudgetStatus::kSuspended && state.manual_suspension) {
    return FailedPrecondition("already suspended by an operator; use restore to lift it");
  }
  Move(state, BudgetStatus::kSuspended, Trigger::kSuspend, now, out);
  state.manual_suspension = true;
  return Status::Ok();
}

Status Restore(const BudgetSettings& settings, BudgetState& state, bool force, Timestamp now,
               std::vector<Transition>& out) {
  if (state.status != BudgetStatus::kSuspended && state.status != BudgetStatus::kGracePeriod) {
    return FailedPrecondition("nothing to restore: status is " +
                              std::string(BudgetStatusName(state.status)));
  }
  const bool over = LevelFor(settings, state.spent) == BudgetStatus::kGracePeriod;
  if (over && !force) {
    return FailedPrecondition(
        "still over budget (spent " + state.spent.ToUsd(2) + " of " + settings.limit.ToUsd(2) +
        " USD): raise the limit (budgets set --limit), reset the spend (budgets reset), or "
        "use restore --force to exempt it until the period ends");
  }
  if (over) {
    Move(state, BudgetStatus::kExempt, Trigger::kRestore, now, out);
    state.exempt_until = state.period.end;
    return Status::Ok();
  }
  state.manual_suspension = false;
  Move(state, LevelFor(settings, state.spent), Trigger::kRestore, now, out);
  return Status::Ok();
}

Status SetExempt(const BudgetSettings& settings, BudgetState& state, bool on, Timestamp now,
                 std::vector<Transition>& out) {
  if (on) {
    if (state.status == BudgetStatus::kExempt && state.exempt_until == kForever) {
      return FailedPrecondition("already exempt");
    }
    Move(state, BudgetStatus::kExempt, Trigger::kExempt, now, out);
    state.exempt_until = kForever;
    return Status::Ok();
  }
  if (state.status != BudgetStatus::kExempt) {
    return FailedPrecondition("not exempt: status is " +
                              std::string(BudgetStatusName(state.status)));
  }
  Settle(settings, state, Trigger::kExempt, now, out);
  return Status::Ok();
}

}  // namespace budgeteer
