// Events: turns policy transitions into the ledger's audit entries and outbox actions, with
// the figures of the moment and a message that says what the person can do. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/policy.h"
#include "store/ledger.h"

namespace budgeteer {

class JsonWriter;

// The JSON object describing a principal's budget at this moment (the payload of notifications,
// the details of audit entries, and the `--json` of `budgets show`): principal, account, kind,
// limit_usd, spent_usd, percent, status, period_start, period_end, grace_deadline, ...
std::string BudgetJson(const PrincipalRow& row, const BudgetSettings& settings);
// The budget as the CLI's --json and the REST API show it: the fields above plus owner_email,
// created_at and last_seen, as one JSON object.
void WriteBudgetView(JsonWriter& w, const PrincipalRow& row, const BudgetSettings& settings);
// Writes the same fields into an open JsonWriter object.
void WriteBudgetFields(JsonWriter& w, const PrincipalRow& row, const BudgetSettings& settings);

// A one-paragraph human message for a transition: what happened, the figures, what to do next.
std::string TransitionMessage(const PrincipalRow& row, const BudgetSettings& settings,
                              const Transition& t);

// The audit entry and the outbox actions (one notification, plus an access action when access
// changes) for one transition. `audit_id` links the actions to the entry once it is written.
AuditEntry TransitionAudit(const PrincipalRow& row, const BudgetSettings& settings,
                           const Transition& t, const std::string& actor);
std::vector<OutboxAction> TransitionActions(const PrincipalRow& row, const BudgetSettings& settings,
                                            const Transition& t, const std::string& actor);

// Percent of the limit spent, exact to two decimals ("83.25").
std::string PercentText(Money spent, Money limit);

}  // namespace budgeteer
