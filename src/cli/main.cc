// budgeteer: the command-line entry point. Parses arguments (CLI11), builds the App (the
// composition root) and runs one command. See `budgeteer --help` and README.md.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"

namespace {

using budgeteer::Result;
using namespace budgeteer::cli;  // NOLINT(google-build-using-namespace)

// Builds the App for a command and runs `fn` on it.
template <typename Fn>
int WithApp(const GlobalOptions& global, bool with_ledger, Fn&& fn) {
  auto app = BuildApp(global, with_ledger);
  if (!app.ok()) return PrintError(app.status());
  return fn(**app);
}

Result<budgeteer::Money> ParseLimit(const std::string& text) {
  auto m = budgeteer::Money::ParseUsd(text);
  if (!m.ok()) return m.status().WithContext("--limit");
  if (m->nanos() < 0) return budgeteer::InvalidArgument("--limit must not be negative");
  return *m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "Bedrock Budgeteer: per-caller budgets for AWS Bedrock, priced exactly and "
      "enforced progressively.",
      "budgeteer"};
  cli.require_subcommand(1);
  GlobalOptions global;
  cli.add_option("--db", global.db, "SQLite ledger (default: $BUDGETEER_DB, else ./budgeteer.db)");
  cli.add_option("--config", global.config_file, "TOML config file (see docs/configuration.md)");
  cli.add_option("--now", global.now, "The clock for this command, RFC 3339 (replays and tests)");
  int exit_code = 0;

  // ingest
  auto* ingest = cli.add_subcommand("ingest", "Apply usage records from files (- for stdin)");
  std::vector<std::string> files;
  bool ingest_json = false;
  ingest
      ->add_option("FILE", files,
                   "Invocation-log JSONL, .json.gz, CloudWatch Logs or Firehose "
                   "payloads, canonical records")
      ->required();
  ingest->add_flag("--json", ingest_json, "Print the summary as JSON");
  ingest->callback([&] {
    exit_code = WithApp(global, true, [&](App& app) { return RunIngest(app, files, ingest_json); });
  });

  // serve
  auto* serve = cli.add_subcommand("serve",
                                   "Run the HTTP server (Firehose ingest, REST API) and "
                                   "the scheduler until SIGTERM/SIGINT");
  std::string listen;
  bool demo = false;
  serve->add_flag("--demo", demo, "Replay clearly labelled demo traffic (what `make run` shows)");
  serve->add_option("--listen", listen,
                    "HOST:PORT (default: server.listen, 127.0.0.1:8080; "
                    "port 0 picks a free port)");
  serve->callback([&] {
    if (!global.now.empty()) {
      exit_code = PrintError(budgeteer::InvalidArgument(
          "serve runs on the system clock; --now is for one-shot commands"));
      return;
    }
    exit_code = WithApp(global, true, [&](App& app) { return RunServe(app, listen, demo); });
  });

  // tick
  auto* tick = cli.add_subcommand("tick",
                                  "Apply what time alone changes (grace deadlines, "
                                  "period ends) as of --now");
  bool tick_json = false;
  tick->add_flag("--json", tick_json, "Print JSON");
  tick->callback([&] {
    exit_code = WithApp(global, true, [&](App& app) { return RunTick(app, tick_json); });
  });

  // budgets
  auto* budgets = cli.add_subcommand("budgets", "List, show and manage budgets");
  budgets->require_subcommand(1);
  bool json = false;
  std::string principal;
  auto* list = budgets->add_subcommand("list", "All principals with spend and status");
  list->add_flag("--json", json, "Print JSON");
  list->callback([&] {
    exit_code = WithApp(global, true, [&](App& app) { return RunBudgetsList(app, json); });
  });
  auto* show = budgets->add_subcommand("show", "One principal");
  show->add_option("PRINCIPAL", principal, "NAME or ACCOUNT:NAME")->required();
  show->add_flag("--json", json, "Print JSON");
  show->callback([&] {
    exit_code =
        WithApp(global, true, [&](App& app) { return RunBudgetsShow(app, principal, json); });
  });

  auto* set =
      budgets->add_subcommand("set", "Change a principal's limit, thresholds, grace or period");
  set->add_option("PRINCIPAL", principal, "NAME or ACCOUNT:NAME")->required();
  std::string limit_text;
  std::string period_text;
  std::optional<int> warn;
  std::optional<int> critical;
  std::optional<int64_t> grace;
  std::optional<std::string> owner_email;
  set->add_option("--limit", limit_text, "Budget in USD (exact decimal)");
  set->add_option("--warn", warn, "Warning threshold, percent");
  set->add_option("--critical", critical, "Critical threshold, percent");
  set->add_option("--grace", grace, "Grace period in seconds (0: suspend at once)");
  set->add_option("--period", period_text, "30d | 7d | Nd | monthly | weekly");
  set->add_option("--owner-email", owner_email, "Where this principal's notifications also go");
  set->add_flag("--json", json, "Print JSON");
  set->callback([&] {
    exit_code = WithApp(global, true, [&](App& app) {
      budgeteer::SettingsPatch patch;
      if (!limit_text.empty()) {
        auto limit = ParseLimit(limit_text);
        if (!limit.ok()) return PrintError(limit.status());
        patch.limit = *limit;
      }
      if (!period_text.empty()) {
        auto period = budgeteer::PeriodSpec::Parse(period_text);
        if (!period.ok()) return PrintError(period.status().WithContext("--period"));
        patch.period = *period;
      }
      patch.warn_percent = warn;
      patch.critical_percent = critical;
      patch.grace_seconds = grace;
      patch.owner_email = owner_email;
      return RunBudgetsSet(app, principal, patch, json);
    });
  });

  struct ActionSpec {
    const char* name;
    const char* help;
    BudgetAction action;
    const char* flag;
    const char* flag_help;
  };
  const ActionSpec actions[] = {
      {"reset", "Set the current period's spend to zero", BudgetAction::kReset, nullptr, nullptr},
      {"suspend", "Suspend now; stays until a person restores it", BudgetAction::kSuspend, nullptr,
       nullptr},
      {"restore", "Restore a suspended principal (refused while over budget)",
       BudgetAction::kRestore, "--force", "Restore anyway: exempt until the period ends"},
      {"exempt", "Track but never enforce", BudgetAction::kExempt, "--off",
       "Lift the exemption and re-evaluate"},
  };
  bool action_flag = false;
  for (const ActionSpec& spec : actions) {
    auto* sub = budgets->add_subcommand(spec.name, spec.help);
    sub->add_option("PRINCIPAL", principal, "NAME or ACCOUNT:NAME")->required();
    if (spec.flag != nullptr) sub->add_flag(spec.flag, action_flag, spec.flag_help);
    sub->add_flag("--json", json, "Print JSON");
    const BudgetAction action = spec.action;
    sub->callback([&, action] {
      exit_code = WithApp(global, true, [&](App& app) {
        return RunBudgetsAction(app, action, principal, action_flag, json);
      });
    });
  }

  // usage, audit, outbox
  auto* usage = cli.add_subcommand("usage", "Spend and tokens, filtered and grouped");
  std::string from;
  std::string to;
  std::string group_by;
  usage->add_option("--principal", principal, "NAME or ACCOUNT:NAME");
  usage->add_option("--from", from, "Start (RFC 3339, inclusive, rounded down to the hour)");
  usage->add_option("--to", to, "End (RFC 3339, exclusive, rounded up to the hour)");
  usage->add_option("--group-by", group_by, "model | day | hour | principal");
  usage->add_flag("--json", json, "Print JSON");
  usage->callback([&] {
    exit_code = WithApp(
        global, true, [&](App& app) { return RunUsage(app, principal, from, to, group_by, json); });
  });

  auto* audit = cli.add_subcommand("audit", "The audit trail (oldest first)");
  int64_t limit = 1000;
  audit->add_option("--principal", principal, "NAME or ACCOUNT:NAME");
  audit->add_option("--limit", limit, "At most this many entries")->check(CLI::PositiveNumber);
  audit->add_flag("--json", json, "Print JSON");
  audit->callback([&] {
    exit_code =
        WithApp(global, true, [&](App& app) { return RunAudit(app, principal, limit, json); });
  });

  auto* outbox = cli.add_subcommand("outbox", "Queued and delivered actions (newest first)");
  outbox->add_option("--limit", limit, "At most this many actions")->check(CLI::PositiveNumber);
  outbox->add_flag("--json", json, "Print JSON");
  outbox->callback([&] {
    exit_code = WithApp(global, true, [&](App& app) { return RunOutbox(app, limit, json); });
  });

  // prices
  auto* prices = cli.add_subcommand("prices", "The price catalog");
  prices->require_subcommand(1);
  auto* plist = prices->add_subcommand("list", "Every priced model");
  plist->add_flag("--json", json, "Print JSON");
  plist->callback([&] {
    exit_code = WithApp(global, false, [&](App& app) { return RunPricesList(app, json); });
  });
  auto* pshow = prices->add_subcommand("show", "One model, with the canonical id it resolves to");
  std::string model;
  pshow->add_option("MODEL_ID", model, "As Bedrock logs it (ARNs and geo prefixes accepted)")
      ->required();
  pshow->add_flag("--json", json, "Print JSON");
  pshow->callback([&] {
    exit_code = WithApp(global, false, [&](App& app) { return RunPricesShow(app, model, json); });
  });

  auto* pupdate = prices->add_subcommand(
      "update", "Build a new catalog from the AWS Price List and store it next to the ledger");
  PricesUpdateOptions update;
  auto* offer_file = pupdate->add_option(
      "--offer-file", update.offer_files,
      "Bulk offer file(s): AmazonBedrock, AmazonBedrockFoundationModels, AmazonBedrockService");
  auto* from_api = pupdate->add_flag("--from-api", update.from_api,
                                     "Read the Price List Query API (GetProducts) instead");
  offer_file->excludes(from_api);
  pupdate->add_option("--region", update.region, "The region whose prices are read")
      ->capture_default_str();
  pupdate->add_flag("--partial", update.partial,
                    "Accept offers that price fewer than half the catalog's models");
  pupdate->add_flag("--dry-run", update.dry_run, "Print what would change; store nothing");
  pupdate->callback([&] {
    exit_code = WithApp(global, false, [&](App& app) { return RunPricesUpdate(app, update); });
  });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
