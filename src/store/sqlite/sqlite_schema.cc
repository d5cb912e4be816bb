#include "store/sqlite/sqlite_schema.h"

namespace budgeteer::sqlite_schema {

namespace {

// Version 1: the tables. Money is integer nano-dollars (*_nanos), time integer unix
// milliseconds (*_ms). STRICT tables refuse values of the wrong type.
constexpr const char* kV1 = R"sql(
PRAGMA application_id = 1111639892;

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per principal: identity, per-principal overrides (NULL = follow the defaults) and the
-- whole BudgetState. next_due_ms = NextDue(state), kept by every write, so the scheduler's
-- "who is due" is an index range scan.
CREATE TABLE principals (
  id                INTEGER PRIMARY KEY,
  account           TEXT NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('user', 'role', 'role_session', 'other')),
  name              TEXT NOT NULL,
  limit_nanos       INTEGER,
  warn_percent      INTEGER,
  critical_percent  INTEGER,
  grace_seconds     INTEGER,
  period            TEXT,
  status            TEXT NOT NULL CHECK (status IN ('active', 'warning', 'critical',
                                                    'grace_period', 'suspended', 'exempt')),
  anchor_ms         INTEGER NOT NULL,
  period_start_ms   INTEGER NOT NULL,
  period_end_ms     INTEGER NOT NULL,
  spent_nanos       INTEGER NOT NULL,
  grace_deadline_ms INTEGER,
  manual_suspension INTEGER NOT NULL CHECK (manual_suspension IN (0, 1)),
  exempt_until_ms   INTEGER,
  created_at_ms     INTEGER NOT NULL,
  last_seen_ms      INTEGER NOT NULL,
  owner_email       TEXT NOT NULL DEFAULT '',
  version           INTEGER NOT NULL,
  next_due_ms       INTEGER NOT NULL,
  UNIQUE (account, kind, name)
) STRICT;
CREATE INDEX principals_by_next_due ON principals (next_due_ms);
CREATE INDEX principals_by_name ON principals (name);

-- Every applied usage record. The hot path: a rowid table with no secondary index (appends
-- only touch the right edge of one b-tree). principal_id has no foreign key for the same
-- reason. operation is core Operation (0 InvokeModel, 1 InvokeModelWithResponseStream,
-- 2 Converse, 3 ConverseStream, 4 other); source is core SourceKind; flags are UsageFlags.
CREATE TABLE usage (
  id                 INTEGER PRIMARY KEY,
  request_id         TEXT NOT NULL,
  ts_ms              INTEGER NOT NULL,
  received_at_ms     INTEGER NOT NULL,
  principal_id       INTEGER NOT NULL,
  model              TEXT NOT NULL,
  region             TEXT NOT NULL,
  operation          INTEGER NOT NULL,
  input_tokens       INTEGER NOT NULL,
  output_tokens      INTEGER NOT NULL,
  cache_read_tokens  INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  images             INTEGER NOT NULL,
  video_seconds      INTEGER NOT NULL,
  cost_nanos         INTEGER NOT NULL,
  flags              INTEGER NOT NULL,
  source             INTEGER NOT NULL,
  period_start_ms    INTEGER NOT NULL
) STRICT;

-- Hourly roll-ups (hour = unix seconds / 3600 of the record's timestamp).
CREATE TABLE usage_hourly (
  principal_id       INTEGER NOT NULL REFERENCES principals (id),
  hour               INTEGER NOT NULL,
  model              TEXT NOT NULL,
  requests           INTEGER NOT NULL,
  input_tokens       INTEGER NOT NULL,
  output_tokens      INTEGER NOT NULL,
  cache_read_tokens  INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cost_nanos         INTEGER NOT NULL,
  unpriced_requests  INTEGER NOT NULL,
  PRIMARY KEY (principal_id, hour, model)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_hourly_by_hour ON usage_hourly (hour);

-- Spend per principal and period, late records included (history).
CREATE TABLE period_spend (
  principal_id    INTEGER NOT NULL REFERENCES principals (id),
  period_start_ms INTEGER NOT NULL,
  period_end_ms   INTEGER NOT NULL,
  spent_nanos     INTEGER NOT NULL,
  PRIMARY KEY (principal_id, period_start_ms)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit (
  id           INTEGER PRIMARY KEY,
  at_ms        INTEGER NOT NULL,
  principal_id INTEGER REFERENCES principals (id),
  actor        TEXT NOT NULL,
  kind         TEXT NOT NULL,
  from_status  TEXT,
  to_status    TEXT,
  trigger_name TEXT NOT NULL DEFAULT '',
  details      TEXT NOT NULL DEFAULT '' CHECK (details = '' OR json_valid(details))
) STRICT;

CREATE TABLE outbox (
  id                 INTEGER PRIMARY KEY,
  created_at_ms      INTEGER NOT NULL,
  kind               TEXT NOT NULL,
  event              TEXT NOT NULL,
  principal_id       INTEGER REFERENCES principals (id),
  audit_id           INTEGER REFERENCES audit (id),
  payload            TEXT NOT NULL CHECK (payload = '' OR json_valid(payload)),
  status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts           INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error         TEXT NOT NULL DEFAULT '',
  channel            TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_by_status_next_attempt ON outbox (status, next_attempt_at_ms);

-- One row per applied batch; usage ids first..last (inclusive, 0 when nothing was applied).
-- Finds the usage rows received since a time without an index on usage.
CREATE TABLE ingest_batches (
  id             INTEGER PRIMARY KEY,
  received_at_ms INTEGER NOT NULL,
  source         TEXT NOT NULL,
  first_usage_id INTEGER NOT NULL,
  last_usage_id  INTEGER NOT NULL,
  read           INTEGER NOT NULL,
  applied        INTEGER NOT NULL,
  duplicates     INTEGER NOT NULL,
  rejected       INTEGER NOT NULL,
  cost_nanos     INTEGER NOT NULL
) STRICT;
CREATE INDEX ingest_batches_by_received_at ON ingest_batches (received_at_ms);

CREATE TABLE unpriced_models (
  model         TEXT PRIMARY KEY,
  first_seen_ms INTEGER NOT NULL,
  requests      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

// Version 2: the audit trail becomes append-only, and per-principal audit reads use an index.
constexpr const char* kV2 = R"sql(
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
  SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
  SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE INDEX audit_by_principal ON audit (principal_id, id);
)sql";

constexpr Migration kMigrations[] = {
    {1, "ledger tables", kV1},
    {2, "append-only audit", kV2},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

}  // namespace budgeteer::sqlite_schema
