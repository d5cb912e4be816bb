// The composition root of the CLI: builds the config, clock, ledger, price catalog and engine
// for one command. Nothing else creates adapters. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "engine/engine.h"
#include "pricing/pricing.h"
#include "store/ledger.h"

namespace budgeteer::cli {

struct GlobalOptions {
  std::string db;           // --db; empty: $BUDGETEER_DB, then ledger.path, then ./budgeteer.db
  std::string config_file;  // --config
  std::string now;          // --now (RFC 3339); empty: the system clock
};

// Where `prices update` stores the catalog it builds: next to the ledger, so that the CLI and
// `serve` using that ledger load it (see docs/pricing.md).
std::string UpdatedCatalogPath(const std::string& db_path);

// The file a running service watches for a new catalog: pricing.catalog_file when set, else
// the one `prices update` stores next to the ledger (which may not exist yet).
std::string WatchedCatalogPath(const Config& config, const std::string& db_path);

// The active catalog as BuildApp loads it: the base catalog with the config's overrides on top.
Result<PriceCatalog> LoadActiveCatalog(const Config& config, const std::string& db_path,
                                       std::string& origin);

struct App {
  Config config;
  std::string db_path;  // resolved even when the ledger is not opened
  std::unique_ptr<Clock> clock;
  PriceCatalog catalog;        // the active catalog, config overrides applied
  PriceCatalog base_catalog;   // the same before the overrides (what `prices update` replaces)
  std::string catalog_origin;  // "built-in", "pricing.catalog_file <path>", "prices update <path>"
  std::unique_ptr<LedgerStore> store;  // null for commands that need no ledger
  std::unique_ptr<Engine> engine;
  std::string actor;  // "cli:<user>"
};

// Loads config and catalog; opens the ledger and the engine when `with_ledger`.
Result<std::unique_ptr<App>> BuildApp(const GlobalOptions& options, bool with_ledger);

}  // namespace budgeteer::cli
