#include "engine/events.h"

#include "util/json_writer.h"

namespace budgeteer {

namespace {

std::string EventName(const Transition& t) {
  if (t.access == AccessChange::kRestore) return "restored";
  if (t.to == BudgetStatus::kActive && t.trigger == Trigger::kPeriodRefresh)
    return "period_refresh";
  return std::string(BudgetStatusName(t.to));
}

}  // namespace

std::string PercentText(Money spent, Money limit) {
  if (limit.nanos() <= 0) return spent.nanos() > 0 ? "100.00" : "0.00";
  const int64_t bp = BasisPoints(spent, limit);
  std::string frac = std::to_string(bp % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return std::to_string(bp / 100) + "." + frac;
}

void WriteBudgetFields(JsonWriter& w, const PrincipalRow& row, const BudgetSettings& settings) {
  const BudgetState& st = row.state;
  w.Field("principal", row.key.name)
      .Field("account", row.key.account)
      .Field("qualified", row.key.Qualified())
      .Field("kind", PrincipalKindName(row.key.kind));
  w.Key("limit_usd").RawNumber(settings.limit.ToUsd());
  w.Key("spent_usd").RawNumber(st.spent.ToUsd());
  w.Key("percent").RawNumber(PercentText(st.spent, settings.limit));
  w.Field("status", BudgetStatusName(st.status));
  w.Field("period_start", st.period.start.ToRfc3339());
  w.Field("period_end", st.period.end.ToRfc3339());
  w.Key("grace_deadline");
  if (st.grace_deadline) {
    w.String(st.grace_deadline->ToRfc3339());
  } else {
    w.Null();
  }
  w.Field("warn_percent", settings.warn_percent)
      .Field("critical_percent", settings.critical_percent)
      .Field("grace_seconds", settings.grace_seconds)
      .Field("period", settings.period.ToString())
      .Field("manual_suspension", st.manual_suspension);
  w.Key("exempt_until");
  if (st.exempt_until && *st.exempt_until != kForever) {
    w.String(st.exempt_until->ToRfc3339());
  } else {
    w.Null();
  }
}

void WriteBudgetView(JsonWriter& w, const PrincipalRow& row, const BudgetSettings& settings) {
  w.BeginObject();
  WriteBudgetFields(w, row, settings);
  w.Field("owner_email", row.owner_email)
      .Field("created_at", row.created_at.ToRfc3339())
      .Field("last_seen", row.last_seen.ToRfc3339());
  w.EndObject();
}

std::string BudgetJson(const PrincipalRow& row, const BudgetSettings& settings) {
  JsonWriter w;
  w.BeginObject();
  WriteBudgetFields(w, row, settings);
  w.EndObject();
  return w.Take();
}

std::string TransitionMessage(const PrincipalRow& row, const BudgetSettings& settings,
                              const Transition& t) {
  const BudgetState& st = row.state;
  const std::string who = row.key.Qualified();
  const std::string figures = "spent $" + st.spent.ToUsd(2) + " of $" + settings.limit.ToUsd(2) +
                              " (" + PercentText(st.spent, settings.limit) +
                              "%) in the period ending " + st.period.end.ToRfc3339();
  const std::string raise = "budgeteer budgets set " + who + " --limit USD";
  switch (t.to) {
    case BudgetStatus::kActive:
      if (t.trigger == Trigger::kPeriodRefresh) {
        return who + ": a new budget period started; spend starts again from zero" +
               (t.access == AccessChange::kRestore ? " and Bedrock access is restored" : "") +
               ". Budget $" + settings.limit.ToUsd(2) + " until " + st.period.end.ToRfc3339() + ".";
      }
      return who + " is back under its warning threshold: " + figures +
             (t.access == AccessChange::kRestore ? ". Bedrock access is restored." : ".");
    case BudgetStatus::kWarning:
      return who + " reached its warning threshold (" + std::to_string(settings.warn_percent) +
             "%): " + figures +
             ". No action is needed yet; if more is expected, ask for a "
             "higher limit (" +
             raise + ").";
    case BudgetStatus::kCritical:
      return who + " reached its critical threshold (" + std::to_string(settings.critical_percent) +
             "%): " + figures +
             ". Bedrock access will be suspended after the budget is used up and a grace period "
             "of " +
             std::to_string(settings.grace_seconds) + " s; raise the limit to avoid it (" + raise +
             ").";
    case BudgetStatus::kGracePeriod:
      return who + " is over budget: " + figures + ". Bedrock access will be suspended at " +
             (st.grace_deadline ? st.grace_deadline->ToRfc3339() : std::string("the deadline")) +
             " unless the limit is raised (" + raise +
             ") or the spend is reset (budgeteer "
             "budgets reset " +
             who + ").";
    case BudgetStatus::kSuspended:
      if (st.manual_suspension) {
        return who +
               " was suspended by an operator: Bedrock access is denied until someone runs "
               "budgeteer budgets restore " +
               who + ". " + figures + ".";
      }
      return who + " is suspended: " + figures +
             ". Bedrock access is denied until the period "
             "ends at " +
             st.period.end.ToRfc3339() +
             " (restored automatically), the limit is "
             "raised (" +
             raise + "), or an operator runs budgeteer budgets restore " + who + ".";
    case BudgetStatus::kExempt:
      return who + " is exempt from enforcement" +
             (st.exempt_until && *st.exempt_until != kForever
                  ? " until " + st.exempt_until->ToRfc3339()
                  : std::string()) +
             ": usage is tracked but never suspended. " + figures + ".";
  }
  return who + ": " + figures;
}

AuditEntry TransitionAudit(const PrincipalRow& row, const BudgetSettings& settings,
                           const Transition& t, const std::string& actor) {
  AuditEntry e;
  e.at = t.at;
  e.principal_id = row.id;
  e.actor = actor;
  e.kind = "transition";
  e.from = t.from;
  e.to = t.to;
  e.trigger = std::string(TriggerName(t.trigger));
  e.details = BudgetJson(row, settings);
  return e;
}

std::vector<OutboxAction> TransitionActions(const PrincipalRow& row, const BudgetSettings& settings,
                                            const Transition& t, const std::string& actor) {
  JsonWriter w;
  w.BeginObject();
  w.Field("event", EventName(t))
      .Field("previous_status", BudgetStatusName(t.from))
      .Field("trigger", TriggerName(t.trigger))
      .Field("actor", actor)
      .Field("at", t.at.ToRfc3339());
  WriteBudgetFields(w, row, settings);
  w.Field("owner_email", row.owner_email);
  w.Field("message", TransitionMessage(row, settings, t));
  w.EndObject();
  const std::string payload = w.Take();

  std::vector<OutboxAction> actions;
  OutboxAction notify;
  notify.created_at = t.at;
  notify.kind = "notify";
  notify.event = EventName(t);
  notify.principal_id = row.id;
  notify.payload = payload;
  notify.next_attempt_at = t.at;
  actions.push_back(notify);
  if (t.access != AccessChange::kNone) {
    OutboxAction access = notify;
    access.kind = t.access == AccessChange::kSuspend ? "suspend_access" : "restore_access";
    actions.push_back(access);
  }
  return actions;
}

}  // namespace budgeteer
