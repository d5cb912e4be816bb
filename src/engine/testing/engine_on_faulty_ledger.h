// EngineOnFaultyLedger: an Engine over an in-memory SQLite ledger wrapped in a
// testing::FaultyLedger, with the embedded price catalog and a FixedClock, for the fault
// injection tests of the engine and of what is built on it (the ingest service). Tests switch
// faults through `faulty`, move `clock`, and read what was kept through `sqlite`, behind the
// faults. Thread-safety: as the Engine (one caller at a time, or under the caller's mutex).
#pragma once

#include <memory>
#include <utility>

#include "core/clock.h"
#include "engine/engine.h"
#include "pricing/catalog_file.h"
#include "store/sqlite/sqlite_ledger.h"
#include "store/testing/faulty_ledger.h"

namespace budgeteer::testing {

struct EngineOnFaultyLedger {
  explicit EngineOnFaultyLedger(Timestamp now) : clock(now) {}

  // Opens the ledger, loads the catalog and opens the engine on them. Call once, first.
  Status Open(EngineOptions options = {}) {
    ASSIGN_OR_RETURN(sqlite, OpenSqliteLedger(":memory:", SqliteOptions{}));
    faulty = std::make_unique<FaultyLedger>(*sqlite);
    ASSIGN_OR_RETURN(catalog, LoadEmbeddedCatalog());
    ASSIGN_OR_RETURN(engine, Engine::Open(*faulty, catalog, std::move(options), clock));
    return Status::Ok();
  }

  FixedClock clock;
  std::unique_ptr<LedgerStore> sqlite;   // the real ledger
  std::unique_ptr<FaultyLedger> faulty;  // what the engine writes through
  PriceCatalog catalog;
  std::unique_ptr<Engine> engine;
};

}  // namespace budgeteer::testing
