// The CLI's commands. Each returns the process exit code: 0 success, 1 runtime failure,
// 2 usage or config error, 3 `ingest` rejected some lines (the valid ones were applied),
// 4 not found, 5 refused by the policy (e.g. restore while over budget).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/app.h"

namespace budgeteer::cli {

int PrintError(const Status& status);

int RunIngest(App& app, const std::vector<std::string>& files, bool json);
int RunTick(App& app, bool json);
int RunBudgetsList(App& app, bool json);
int RunBudgetsShow(App& app, const std::string& principal, bool json);
int RunBudgetsSet(App& app, const std::string& principal, const SettingsPatch& patch, bool json);
enum class BudgetAction { kReset, kSuspend, kRestore, kExempt };
int RunBudgetsAction(App& app, BudgetAction action, const std::string& principal, bool flag,
                     bool json);
int RunUsage(App& app, const std::string& principal, const std::string& from, const std::string& to,
             const std::string& group_by, bool json);
int RunAudit(App& app, const std::string& principal, int64_t limit, bool json);
int RunOutbox(App& app, int64_t limit, bool json);
int RunPricesList(App& app, bool json);
int RunPricesShow(App& app, const std::string& model, bool json);

struct PricesUpdateOptions {
  std::vector<std::string> offer_files;  // --offer-file (bulk offer files)
  bool from_api = false;                 // --from-api (Price List Query API GetProducts)
  std::string region = "us-east-1";      // --region: the region whose prices are read
  bool partial = false;                  // --partial: accept offers that price few models
  bool dry_run = false;                  // --dry-run: print the diff, store nothing
};
// Builds a new catalog from the AWS Price List, prints what changed and what could not be
// used, and stores it next to the ledger (see docs/pricing.md).
int RunPricesUpdate(App& app, const PricesUpdateOptions& options);
// Runs the HTTP server and the scheduler until SIGTERM/SIGINT.
// With `demo`, also replays demo traffic (see cli/demo.h).
int RunServe(App& app, const std::string& listen_override, bool demo);

}  // namespace budgeteer::cli
