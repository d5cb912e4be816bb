#include "cli/commands.h"

#include <iostream>
#include <map>

#include "cli/output.h"
#include "engine/events.h"

namespace budgeteer::cli {

int PrintError(const Status& status) {
  std::cerr << "budgeteer: error: " << status.message() << '\n';
  return ExitCodeFor(status);
}

namespace {

std::string Deadline(const BudgetState& st) {
  return st.grace_deadline ? st.grace_deadline->ToRfc3339() : "-";
}

void PrintBudgetTable(const std::vector<BudgetView>& views) {
  // Unqualified names when unique, ACCOUNT:NAME otherwise.
  std::map<std::string, int> name_count;
  for (const auto& v : views) ++name_count[v.row.key.name];
  Table t({"PRINCIPAL", "ACCOUNT", "KIND", "SPENT", "LIMIT", "PERCENT", "STATUS", "PERIOD END",
           "GRACE DEADLINE"});
  for (const auto& v : views) {
    t.Add({name_count[v.row.key.name] > 1 ? v.row.key.Qualified() : v.row.key.name,
           v.row.key.account, std::string(PrincipalKindName(v.row.key.kind)),
           Dollars(v.row.state.spent), Dollars(v.settings.limit),
           PercentText(v.row.state.spent, v.settings.limit) + "%",
           std::string(BudgetStatusName(v.row.state.status)), v.row.state.period.end.ToRfc3339(),
           Deadline(v.row.state)});
  }
  t.Print(std::cout);
}

void PrintBudget(const BudgetView& v, bool json) {
  if (json) {
    JsonWriter w(true);
    WriteBudget(w, v);
    std::cout << w.str() << '\n';
    return;
  }
  const BudgetState& st = v.row.state;
  Table t({"FIELD", "VALUE"});
  t.Add({"principal", v.row.key.Qualified()});
  t.Add({"kind", std::string(PrincipalKindName(v.row.key.kind))});
  t.Add({"status", std::string(BudgetStatusName(st.status)) +
                       (st.manual_suspension ? " (by an operator)" : "")});
  t.Add({"spent", Dollars(st.spent) + " of " + Dollars(v.settings.limit) + " (" +
                      PercentText(st.spent, v.settings.limit) + "%)"});
  t.Add({"thresholds", "warn " + std::to_string(v.settings.warn_percent) + "%, critical " +
                           std::to_string(v.settings.critical_percent) + "%"});
  t.Add({"grace", std::to_string(v.settings.grace_seconds) + " s"});
  t.Add({"period", v.settings.period.ToString() + ": " + st.period.start.ToRfc3339() + " .. " +
                       st.period.end.ToRfc3339()});
  t.Add({"grace deadline", Deadline(st)});
  if (st.exempt_until) {
    t.Add({"exempt until",
           *st.exempt_until == kForever ? "further notice" : st.exempt_until->ToRfc3339()});
  }
  if (!v.row.owner_email.empty()) t.Add({"owner e-mail", v.row.owner_email});
  t.Add({"last seen", v.row.last_seen.ToRfc3339()});
  t.Print(std::cout);
}

// "ACCOUNT:NAME" of a principal id ("" for none, the id itself when unknown).
std::string NameOf(const std::map<int64_t, std::string>& names, const std::optional<int64_t>& id) {
  if (!id) return "";
  auto it = names.find(*id);
  return it == names.end() ? std::to_string(*id) : it->second;
}

// principal id -> "ACCOUNT:NAME", for reports.
std::map<int64_t, std::string> PrincipalNames(App& app) {
  std::map<int64_t, std::string> names;
  auto rows = app.store->ListPrincipals();
  if (rows.ok()) {
    for (const auto& r : *rows) names[r.id] = r.key.Qualified();
  }
  return names;
}

}  // namespace

int RunTick(App& app, bool json) {
  Status st = app.engine->ApplyDefaultsIfChanged(app.actor);
  if (!st.ok()) return PrintError(st);
  auto outcome = app.engine->Tick();
  if (!outcome.ok()) return PrintError(outcome.status());
  if (json) {
    JsonWriter w(true);
    w.BeginObject()
        .Field("now", app.clock->Now().ToRfc3339())
        .Field("principals_checked", outcome->principals_checked)
        .Field("transitions", outcome->transitions)
        .Field("refreshed", outcome->refreshed)
        .EndObject();
    std::cout << w.str() << '\n';
  } else {
    std::cout << "tick at " << app.clock->Now().ToRfc3339() << ": " << outcome->principals_checked
              << " principals due, " << outcome->transitions << " transitions, "
              << outcome->refreshed << " periods refreshed\n";
  }
  return 0;
}

int RunBudgetsList(App& app, bool json) {
  auto views = app.engine->ListBudgets();
  if (!views.ok()) return PrintError(views.status());
  if (json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const auto& v : *views) WriteBudget(w, v);
    w.EndArray();
    std::cout << w.str() << '\n';
    return 0;
  }
  if (views->empty()) {
    std::cout << "no principals yet: ingest usage records with `budgeteer ingest FILE`\n";
    return 0;
  }
  PrintBudgetTable(*views);
  return 0;
}

int RunBudgetsShow(App& app, const std::string& principal, bool json) {
  auto view = app.engine->ShowBudget(principal);
  if (!view.ok()) return PrintError(view.status());
  PrintBudget(*view, json);
  return 0;
}

int RunBudgetsSet(App& app, const std::string& principal, const SettingsPatch& patch, bool json) {
  if (!patch.limit && !patch.warn_percent && !patch.critical_percent && !patch.grace_seconds &&
      !patch.period && !patch.owner_email) {
    return PrintError(InvalidArgument(
        "budgets set needs at least one of --limit, --warn, --critical, --grace, --period, "
        "--owner-email"));
  }
  Status st = app.engine->ApplyDefaultsIfChanged(app.actor);
  if (!st.ok()) return PrintError(st);
  auto view = app.engine->UpdateSettings(principal, patch, app.actor);
  if (!view.ok()) return PrintError(view.status());
  PrintBudget(*view, json);
  return 0;
}

int RunBudgetsAction(App& app, BudgetAction action, const std::string& principal, bool flag,
                     bool json) {
  Status st = app.engine->ApplyDefaultsIfChanged(app.actor);
  if (!st.ok()) return PrintError(st);
  Result<BudgetView> view = Status(Code::kInternal, "unknown action");
  switch (action) {
    case BudgetAction::kReset:
      view = app.engine->ResetSpend(principal, app.actor);
      break;
    case BudgetAction::kSuspend:
      view = app.engine->Suspend(principal, app.actor);
      break;
    case BudgetAction::kRestore:
      view = app.engine->Restore(principal, flag, app.actor);
      break;
    case BudgetAction::kExempt:
      view = app.engine->SetExempt(principal, !flag, app.actor);
      break;
  }
  if (!view.ok()) return PrintError(view.status());
  PrintBudget(*view, json);
  return 0;
}

int RunUsage(App& app, const std::string& principal, const std::string& from, const std::string& to,
             const std::string& group_by, bool json) {
  auto report = app.engine->Usage(UsageRequest{principal, from, to, group_by});
  if (!report.ok()) return PrintError(report.status());
  if (json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const auto& [key, r] : report->rows) WriteUsageRow(w, report->key_name, key, r);
    w.EndArray();
    std::cout << w.str() << '\n';
    return 0;
  }
  Table t({report->key_name, "REQUESTS", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "COST",
           "UNPRICED"});
  for (const auto& [key, r] : report->rows) {
    t.Add({key, std::to_string(r.requests), std::to_string(r.tokens.input),
           std::to_string(r.tokens.output), std::to_string(r.tokens.cache_read),
           std::to_string(r.tokens.cache_write), Dollars(r.cost),
           std::to_string(r.unpriced_requests)});
  }
  t.Print(std::cout);
  return 0;
}

int RunAudit(App& app, const std::string& principal, int64_t limit, bool json) {
  AuditQuery q;
  q.limit = limit;
  if (!principal.empty()) {
    auto row = app.engine->FindPrincipal(principal);
    if (!row.ok()) return PrintError(row.status());
    q.principal_id = row->id;
  }
  auto entries = app.store->QueryAudit(q);
  if (!entries.ok()) return PrintError(entries.status());
  const auto names = PrincipalNames(app);
  auto name_of = [&](const std::optional<int64_t>& id) { return NameOf(names, id); };
  if (json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const auto& e : *entries) WriteAudit(w, e, name_of(e.principal_id));
    w.EndArray();
    std::cout << w.str() << '\n';
    return 0;
  }
  Table t({"ID", "AT", "PRINCIPAL", "ACTOR", "KIND", "CHANGE", "TRIGGER"});
  for (const auto& e : *entries) {
    std::string change;
    if (e.from && e.to) {
      change =
          std::string(BudgetStatusName(*e.from)) + " -> " + std::string(BudgetStatusName(*e.to));
    }
    const std::string who = name_of(e.principal_id);
    t.Add({std::to_string(e.id), e.at.ToRfc3339(), who.empty() ? "-" : who, e.actor, e.kind,
           change.empty() ? "-" : change, e.trigger.empty() ? "-" : e.trigger});
  }
  t.Print(std::cout);
  return 0;
}

int RunOutbox(App& app, int64_t limit, bool json) {
  auto actions = app.store->ListOutbox(limit);
  if (!actions.ok()) return PrintError(actions.status());
  const auto names = PrincipalNames(app);
  auto name_of = [&](const std::optional<int64_t>& id) { return NameOf(names, id); };
  if (json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const auto& a : *actions) WriteOutbox(w, a, name_of(a.principal_id));
    w.EndArray();
    std::cout << w.str() << '\n';
    return 0;
  }
  Table t({"ID", "CREATED", "KIND", "EVENT", "PRINCIPAL", "STATUS", "ATTEMPTS"});
  for (const auto& a : *actions) {
    const std::string who = name_of(a.principal_id);
    t.Add({std::to_string(a.id), a.created_at.ToRfc3339(), a.kind, a.event, who.empty() ? "-" : who,
           std::string(OutboxStatusName(a.status)), std::to_string(a.attempts)});
  }
  t.Print(std::cout);
  return 0;
}

int RunPricesList(App& app, bool json) {
  const PriceCatalog& c = app.catalog;
  if (json) {
    JsonWriter w(true);
    w.BeginArray();
    for (const auto& p : c.models()) WritePrice(w, p);
    w.EndArray();
    std::cout << w.str() << '\n';
    return 0;
  }
  std::cout << "catalog " << c.version() << " (effective " << c.effective_date() << ", "
            << c.source() << "; " << app.catalog_origin << "); USD per million tokens\n";
  Table t({"MODEL", "NAME", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "BATCH", "GEO+"});
  auto opt = [](const std::optional<RatePerMillion>& r) { return r ? r->ToUsd() : "-"; };
  for (const auto& p : c.models()) {
    t.Add({p.id, p.name, p.input.ToUsd(), p.output.ToUsd(), opt(p.cache_read), opt(p.cache_write),
           p.batch_discount_percent ? "-" + std::to_string(p.batch_discount_percent) + "%" : "-",
           p.geo_premium_percent ? "+" + std::to_string(p.geo_premium_percent) + "%" : "-"});
  }
  t.Print(std::cout);
  return 0;
}

int RunPricesShow(App& app, const std::string& model, bool json) {
  const NormalizedModel n = NormalizeModelId(model);
  const ModelPrice* p = app.catalog.Find(n.canonical);
  if (p == nullptr) {
    return PrintError(NotFound("model '" + model + "' (canonical '" + n.canonical.str() +
                               "') is not in the price catalog; usage of it is priced by the "
                               "unknown-model rule and flagged unpriced"));
  }
  const char* routing = n.routing == Routing::kGlobal ? "global"
                        : n.routing == Routing::kGeo  ? "geo"
                                                      : "in_region";
  if (json) {
    JsonWriter w(true);
    w.BeginObject();
    WritePriceFields(w, *p);
    w.Field("requested", model).Field("routing", routing).Field("geo_prefix", n.geo_prefix);
    w.EndObject();
    std::cout << w.str() << '\n';
    return 0;
  }
  Table t({"FIELD", "VALUE"});
  t.Add({"requested", model});
  t.Add({"canonical", n.canonical.str() + " (" + p->name + ")"});
  t.Add({"routing", std::string(routing) +
                        (p->geo_premium_percent && n.routing != Routing::kGlobal
                             ? " (+" + std::to_string(p->geo_premium_percent) + "% over global)"
                             : "")});
  t.Add({"input / 1M", "$" + p->input.ToUsd()});
  t.Add({"output / 1M", "$" + p->output.ToUsd()});
  t.Add({"cache read / 1M", p->cache_read ? "$" + p->cache_read->ToUsd() : "-"});
  t.Add({"cache write / 1M", p->cache_write ? "$" + p->cache_write->ToUsd() : "-"});
  t.Add({"batch discount", std::to_string(p->batch_discount_percent) + "%"});
  t.Add({"source", p->source});
  t.Print(std::cout);
  return 0;
}

}  // namespace budgeteer::cli
