// The embedded ledger: LedgerStore on one SQLite file (WAL journal, versioned schema, cached
// prepared statements). Several processes may open the same file; write transactions are
// exclusive across them (BEGIN IMMEDIATE). A store is used by one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/ledger.h"

namespace budgeteer {

struct SqliteOptions {
  // FULL: every commit is on disk when WriteTransaction returns. NORMAL: a power loss may lose
  // the last commits (never corrupts); an application crash loses nothing.
  bool synchronous_full = true;
  // How long a write transaction waits for another process's write lock before kUnavailable.
  int busy_timeout_ms = 10000;
  // SQLite page cache of the connection. The principals and roll-up pages a batch touches
  // should fit: 64 MiB covers ~100,000 principals with room to spare.
  int cache_mib = 64;
};

// Opens (creating when missing) the ledger at `path` and migrates its schema to the latest
// version. ":memory:" gives a private in-memory ledger (tests). Errors name the path and say
// what to do: kInvalidArgument when the file cannot be opened or created, kDataLoss when it is
// not a SQLite database (or is damaged), kFailedPrecondition when it belongs to another
// application or has a schema newer than this binary knows.
Result<std::unique_ptr<LedgerStore>> OpenSqliteLedger(const std::string& path,
                                                      const SqliteOptions& opts = {});

}  // namespace budgeteer
