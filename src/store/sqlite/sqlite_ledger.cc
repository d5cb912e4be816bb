#include "store/sqlite/sqlite_ledger.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_schema.h"

namespace budgeteer {
namespace {

constexpr int64_t kMsPerHour = 3'600'000;

// SQLITE_TRANSIENT without its old-style cast: SQLite copies the bound text.
const sqlite3_destructor_type kTransient =
    reinterpret_cast<sqlite3_destructor_type>(static_cast<intptr_t>(-1));

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
int64_t CeilDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a > 0) ? q + 1 : q;
}

// ---------------------------------------------------------------------------------------------
// Errors: every SQLite failure becomes a Status naming the operation.
// ---------------------------------------------------------------------------------------------

Code CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_INTERRUPT:
    case SQLITE_PROTOCOL:
      return Code::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Code::kDataLoss;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return Code::kInvalidArgument;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Code::kFailedPrecondition;
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return Code::kResourceExhausted;
    default:
      return Code::kInternal;
  }
}

// Whether the last failed write or sync of the ledger or its write-ahead log met a read-only
// filesystem (EROFS). SQLite reports that as SQLITE_IOERR, and sqlite3_system_errno cannot tell:
// it holds errno as it was after the rollback, so this asks each file for its own last error.
bool MetReadOnlyFilesystem(sqlite3* db) {
  if (db == nullptr) return false;
  int main_errno = 0;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &main_errno) == SQLITE_OK &&
      main_errno == EROFS) {
    return true;
  }
  sqlite3_file* journal = nullptr;  // the write-ahead log in WAL mode
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal) != SQLITE_OK ||
      journal == nullptr || journal->pMethods == nullptr) {
    return false;
  }
  int journal_errno = 0;
  return journal->pMethods->xFileControl(journal, SQLITE_FCNTL_LAST_ERRNO, &journal_errno) ==
             SQLITE_OK &&
         journal_errno == EROFS;
}

std::string_view HintFor(sqlite3* db, int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " (another process holds the ledger; retry)";
    case SQLITE_FULL:
      return " (free disk space, then retry)";
    case SQLITE_IOERR:
      // The same code covers a failing disk and a filesystem that turned read-only under the
      // open ledger (ext4's errors=remount-ro after a disk error): the operating system's error
      // tells them apart, and only the first needs no restart.
      if (MetReadOnlyFilesystem(db)) {
        return " (the filesystem holding the ledger turned read-only, as after a disk error: "
               "repair it (fsck), mount it writable again, then restart the service)";
      }
      return " (the disk reported an I/O error; check it, then retry)";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return " (the ledger file is damaged: restore it from a backup)";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return " (make the ledger file and its directory writable by this user)";
    default:
      return "";
  }
}

// The message of the failed call when `db` still holds it, else SQLite's text for `rc`.
std::string SqliteMessage(sqlite3* db, int rc) {
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) return sqlite3_errmsg(db);
  return sqlite3_errstr(rc);
}

Status SqliteError(sqlite3* db, int rc, std::string_view op) {
  const Code code = CodeFor(rc);
  std::string m = "ledger: ";
  m += op;
  m += ": ";
  m += SqliteMessage(db, rc);
  m += HintFor(db, rc);
  return {code, std::move(m), code == Code::kUnavailable};
}

Status Corrupt(std::string_view what) {
  return DataLoss("ledger: " + std::string(what) +
                  " (the ledger file holds a value this binary cannot read: restore it from a "
                  "backup)");
}

// ---------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct DbDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;

// One use of a prepared statement: binds parameters in order, steps, reads columns, and resets
// the statement when it goes out of scope (which also ends any read it started).
class Use {
 public:
  Use(sqlite3* db, sqlite3_stmt* stmt, std::string_view op) : db_(db), stmt_(stmt), op_(op) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& Int(int64_t v) {
    Check(sqlite3_bind_int64(stmt_, next_++, v));
    return *this;
  }
  Use& Text(std::string_view v) {
    if (v.size() > INT_MAX) {
      Check(SQLITE_TOOBIG);
      ++next_;
      return *this;
    }
    Check(sqlite3_bind_text(stmt_, next_++, v.data(), static_cast<int>(v.size()), kTransient));
    return *this;
  }
  Use& Null() {
    Check(sqlite3_bind_null(stmt_, next_++));
    return *this;
  }
  Use& OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  Use& OptMs(const std::optional<Timestamp>& v) { return v ? Int(v->unix_millis()) : Null(); }
  Use& At(int index) {
    next_ = index;
    return *this;
  }

  // True when a row is available, false when the statement is done.
  Result<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, op_);
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, op_);
  }
  // Runs a statement to completion, ignoring any rows.
  Status Run() {
    for (;;) {
      ASSIGN_OR_RETURN(const bool row, Step());
      if (!row) return Status::Ok();
    }
  }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t ColInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<int64_t> ColOptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return ColInt(col);
  }
  std::optional<Timestamp> ColOptMs(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Timestamp::FromUnixMillis(ColInt(col));
  }
  Timestamp ColMs(int col) const { return Timestamp::FromUnixMillis(ColInt(col)); }
  Money ColMoney(int col) const { return Money::FromNanos(ColInt(col)); }
  std::string_view ColView(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    if (p == nullptr) return {};
    return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }
  std::string ColText(int col) const { return std::string(ColView(col)); }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string_view op_;
  int next_ = 1;
  int bind_rc_ = SQLITE_OK;
};

// A connection and its prepared statements (prepared once, reused for every call).
class Connection {
 public:
  Connection(DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  ~Connection() {
    stmts_.clear();  // finalize before the connection closes
  }
  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = delete;

  sqlite3* db() const { return db_.get(); }
  const std::string& path() const { return path_; }

  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::string_view op) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db(), rc, std::string(op) + " (prepare)");
    if (stmt == nullptr) return Internal("ledger: " + std::string(op) + ": empty statement");
    sqlite3_stmt* out = stmt.get();
    stmts_.emplace(std::string(sql), std::move(stmt));
    return out;
  }

  // Runs one statement (cached), ignoring rows.
  Status Exec(std::string_view sql, std::string_view op) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql, op));
    return Use(db(), s, op).Run();
  }

  // Runs a script of statements (migrations). Not cached.
  Status ExecScript(const char* sql, std::string_view op) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db(), sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string m = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    const Code code = CodeFor(rc);
    return {code, "ledger: " + std::string(op) + ": " + m + std::string(HintFor(db(), rc)),
            code == Code::kUnavailable};
  }

  Result<int64_t> QueryInt(std::string_view sql, std::string_view op) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql, op));
    Use u(db(), s, op);
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row) return Internal("ledger: " + std::string(op) + ": no result");
    return u.ColInt(0);
  }

  int64_t LastRowId() const { return sqlite3_last_insert_rowid(db()); }
  int64_t Changes() const { return sqlite3_changes64(db()); }

 private:
  DbPtr db_;
  std::string path_;
  // Transparent hashing: look-ups by string_view build no string.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, StmtPtr, SqlHash, std::equal_to<>> stmts_;
};

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

#define BUDGETEER_PRINCIPAL_COLUMNS                                                             \
  "id, account, kind, name, limit_nanos, warn_percent, critical_percent, grace_seconds, "       \
  "period, status, anchor_ms, period_start_ms, period_end_ms, spent_nanos, grace_deadline_ms, " \
  "manual_suspension, exempt_until_ms, created_at_ms, last_seen_ms, owner_email, version"

constexpr std::string_view kSelectPrincipalById =
    "SELECT " BUDGETEER_PRINCIPAL_COLUMNS " FROM principals WHERE id = ?1";
constexpr std::string_view kSelectPrincipalByKey = "SELECT " BUDGETEER_PRINCIPAL_COLUMNS
                                                   " FROM principals WHERE account = ?1 AND "
                                                   "kind = ?2 AND name = ?3";
constexpr std::string_view kSelectPrincipalsByName =
    "SELECT " BUDGETEER_PRINCIPAL_COLUMNS
    " FROM principals WHERE name = ?1 ORDER BY account, kind, id";
constexpr std::string_view kSelectAllPrincipals =
    "SELECT " BUDGETEER_PRINCIPAL_COLUMNS " FROM principals ORDER BY account, name, kind, id";
constexpr std::string_view kSelectPrincipalsDue =
    "SELECT " BUDGETEER_PRINCIPAL_COLUMNS
    " FROM principals WHERE next_due_ms <= ?1 ORDER BY next_due_ms, id";

#undef BUDGETEER_PRINCIPAL_COLUMNS

// Parameters ?1..?21 of both statements below.
constexpr std::string_view kInsertPrincipal =
    "INSERT INTO principals (account, kind, name, limit_nanos, warn_percent, critical_percent, "
    "grace_seconds, period, status, anchor_ms, period_start_ms, period_end_ms, spent_nanos, "
    "grace_deadline_ms, manual_suspension, exempt_until_ms, created_at_ms, last_seen_ms, "
    "owner_email, version, next_due_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21)";
// The key (?1..?3) and created_at (?17) never change; ?22 is the id.
constexpr std::string_view kUpdatePrincipal =
    "UPDATE principals SET limit_nanos = ?4, warn_percent = ?5, critical_percent = ?6, "
    "grace_seconds = ?7, period = ?8, status = ?9, anchor_ms = ?10, period_start_ms = ?11, "
    "period_end_ms = ?12, spent_nanos = ?13, grace_deadline_ms = ?14, manual_suspension = ?15, "
    "exempt_until_ms = ?16, last_seen_ms = ?18, owner_email = ?19, version = ?20 + 1, "
    "next_due_ms = ?21 WHERE id = ?22 AND version = ?20";

void BindPrincipal(Use& u, const PrincipalRow& r) {
  const SettingsOverrides& o = r.overrides;
  const BudgetState& s = r.state;
  u.At(1).Text(r.key.account).Text(PrincipalKindName(r.key.kind)).Text(r.key.name);
  if (o.limit) {
    u.Int(o.limit->nanos());
  } else {
    u.Null();
  }
  u.OptInt(o.warn_percent ? std::optional<int64_t>(*o.warn_percent) : std::nullopt);
  u.OptInt(o.critical_percent ? std::optional<int64_t>(*o.critical_percent) : std::nullopt);
  u.OptInt(o.grace_seconds);
  if (o.period) {
    u.Text(o.period->ToString());
  } else {
    u.Null();
  }
  u.Text(BudgetStatusName(s.status))
      .Int(s.anchor.unix_millis())
      .Int(s.period.start.unix_millis())
      .Int(s.period.end.unix_millis())
      .Int(s.spent.nanos())
      .OptMs(s.grace_deadline)
      .Int(s.manual_suspension ? 1 : 0)
      .OptMs(s.exempt_until)
      .Int(r.created_at.unix_millis())
      .Int(r.last_seen.unix_millis())
      .Text(r.owner_email)
      .Int(r.version)
      .Int(NextDue(s).unix_millis());
}

Result<PrincipalRow> ReadPrincipal(const Use& u) {
  PrincipalRow r;
  r.id = u.ColInt(0);
  r.key.account = u.ColText(1);
  if (!ParsePrincipalKind(u.ColView(2), r.key.kind)) {
    return Corrupt("principal " + std::to_string(r.id) + " has an unknown kind '" + u.ColText(2) +
                   "'");
  }
  r.key.name = u.ColText(3);
  SettingsOverrides& o = r.overrides;
  if (!u.IsNull(4)) o.limit = u.ColMoney(4);
  if (!u.IsNull(5)) o.warn_percent = static_cast<int>(u.ColInt(5));
  if (!u.IsNull(6)) o.critical_percent = static_cast<int>(u.ColInt(6));
  o.grace_seconds = u.ColOptInt(7);
  if (!u.IsNull(8)) {
    Result<PeriodSpec> period = PeriodSpec::Parse(u.ColView(8));
    if (!period.ok()) {
      return Corrupt("principal " + std::to_string(r.id) + " has an unreadable period '" +
                     u.ColText(8) + "'");
    }
    o.period = *period;
  }
  BudgetState& s = r.state;
  if (!ParseBudgetStatus(u.ColView(9), s.status)) {
    return Corrupt("principal " + std::to_string(r.id) + " has an unknown status '" + u.ColText(9) +
                   "'");
  }
  s.anchor = u.ColMs(10);
  s.period.start = u.ColMs(11);
  s.period.end = u.ColMs(12);
  s.spent = u.ColMoney(13);
  s.grace_deadline = u.ColOptMs(14);
  s.manual_suspension = u.ColInt(15) != 0;
  s.exempt_until = u.ColOptMs(16);
  r.created_at = u.ColMs(17);
  r.last_seen = u.ColMs(18);
  r.owner_email = u.ColText(19);
  r.version = u.ColInt(20);
  return r;
}

Result<std::vector<PrincipalRow>> ReadPrincipals(Use& u) {
  std::vector<PrincipalRow> out;
  for (;;) {
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row) return out;
    ASSIGN_OR_RETURN(PrincipalRow p, ReadPrincipal(u));
    out.push_back(std::move(p));
  }
}

Result<std::optional<PrincipalRow>> ReadOptionalPrincipal(Use& u) {
  ASSIGN_OR_RETURN(const bool row, u.Step());
  if (!row) return std::optional<PrincipalRow>();
  ASSIGN_OR_RETURN(PrincipalRow p, ReadPrincipal(u));
  return std::optional<PrincipalRow>(std::move(p));
}

Result<std::optional<PrincipalRow>> FindPrincipalIn(Connection& c, const PrincipalKey& key) {
  constexpr std::string_view kOp = "find principal";
  ASSIGN_OR_RETURN(sqlite3_stmt * s, c.Prepare(kSelectPrincipalByKey, kOp));
  Use u(c.db(), s, kOp);
  u.Text(key.account).Text(PrincipalKindName(key.kind)).Text(key.name);
  return ReadOptionalPrincipal(u);
}

Result<std::optional<PrincipalRow>> GetPrincipalIn(Connection& c, int64_t id) {
  constexpr std::string_view kOp = "get principal";
  ASSIGN_OR_RETURN(sqlite3_stmt * s, c.Prepare(kSelectPrincipalById, kOp));
  Use u(c.db(), s, kOp);
  u.Int(id);
  return ReadOptionalPrincipal(u);
}

Status ScanRequestIdsFrom(Connection& c, int64_t first_id,
                          const std::function<void(std::string_view)>& fn, int64_t& max_id) {
  constexpr std::string_view kOp = "scan request ids";
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   c.Prepare("SELECT id, request_id FROM usage WHERE id >= ?1 ORDER BY id", kOp));
  Use u(c.db(), s, kOp);
  u.Int(first_id);
  for (;;) {
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row) return Status::Ok();
    fn(u.ColView(1));
    max_id = std::max(max_id, u.ColInt(0));
  }
}

// Reads outbox rows (id, created_at_ms, kind, event, principal_id, audit_id, payload, status,
// attempts, next_attempt_at_ms, last_error, channel) from a prepared statement.
Result<std::vector<OutboxAction>> ReadOutbox(Use& u) {
  std::vector<OutboxAction> out;
  for (;;) {
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row) return out;
    OutboxAction a;
    a.id = u.ColInt(0);
    a.created_at = u.ColMs(1);
    a.kind = u.ColText(2);
    a.event = u.ColText(3);
    a.principal_id = u.ColOptInt(4);
    a.audit_id = u.ColOptInt(5);
    a.payload = u.ColText(6);
    if (!ParseOutboxStatus(u.ColView(7), a.status)) {
      return Corrupt("outbox action " + std::to_string(a.id) + " has an unknown status '" +
                     u.ColText(7) + "'");
    }
    a.attempts = static_cast<int>(u.ColInt(8));
    a.next_attempt_at = u.ColMs(9);
    a.last_error = u.ColText(10);
    a.channel = u.ColText(11);
    out.push_back(std::move(a));
  }
}

// ---------------------------------------------------------------------------------------------
// The write transaction's view.
// ---------------------------------------------------------------------------------------------

class SqliteTxn final : public LedgerTxn {
 public:
  // `unseen_change` is the store's flag that another connection committed since a transaction
  // last asked; asking clears it (so a transaction that never asks does not swallow it).
  SqliteTxn(Connection& c, bool& unseen_change) : c_(c), unseen_change_(unseen_change) {}

  bool ChangedByOthers() override { return std::exchange(unseen_change_, false); }

  Status UpdatePrincipalSpend(PrincipalRow& row) override {
    constexpr std::string_view kOp = "update principal spend";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("UPDATE principals SET spent_nanos = ?1, last_seen_ms = ?2, "
                                "version = ?3 + 1 WHERE id = ?4 AND version = ?3",
                                kOp));
    {
      Use u(c_.db(), s, kOp);
      u.Int(row.state.spent.nanos()).Int(row.last_seen.unix_millis()).Int(row.version).Int(row.id);
      RETURN_IF_ERROR(u.Run());
    }
    if (c_.Changes() == 1) {
      ++row.version;
      return Status::Ok();
    }
    return FailedPrecondition("ledger: update principal spend: " + row.key.Qualified() +
                              " was changed by another writer; read it again and redo the change");
  }

  Status ScanUsage(int64_t after_id, int64_t limit,
                   const std::function<void(int64_t id, const UsageRow&)>& fn,
                   int64_t& last_id) override {
    constexpr std::string_view kOp = "scan usage";
    ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        c_.Prepare("SELECT id, request_id, ts_ms, received_at_ms, principal_id, model, region, "
                   "operation, input_tokens, output_tokens, cache_read_tokens, "
                   "cache_write_tokens, images, video_seconds, cost_nanos, flags, source, "
                   "period_start_ms FROM usage WHERE id > ?1 ORDER BY id LIMIT ?2",
                   kOp));
    Use u(c_.db(), s, kOp);
    u.Int(after_id).Int(limit);
    last_id = after_id;
    UsageRow r;
    for (;;) {
      ASSIGN_OR_RETURN(const bool row, u.Step());
      if (!row) return Status::Ok();
      const int64_t id = u.ColInt(0);
      r.request_id.assign(u.ColView(1));
      r.timestamp = Timestamp::FromUnixMillis(u.ColInt(2));
      r.received_at = Timestamp::FromUnixMillis(u.ColInt(3));
      r.principal_id = u.ColInt(4);
      r.model.assign(u.ColView(5));
      r.region.assign(u.ColView(6));
      r.operation = static_cast<Operation>(u.ColInt(7));
      r.tokens = TokenCounts{u.ColInt(8), u.ColInt(9), u.ColInt(10), u.ColInt(11)};
      r.media = MediaCounts{u.ColInt(12), u.ColInt(13)};
      r.cost = Money::FromNanos(u.ColInt(14));
      r.flags = static_cast<uint32_t>(u.ColInt(15));
      r.source = static_cast<int16_t>(u.ColInt(16));
      r.period_start_ms = u.ColInt(17);
      fn(id, r);
      last_id = id;
    }
  }

  Result<std::optional<PrincipalRow>> FindPrincipal(const PrincipalKey& key) override {
    return FindPrincipalIn(c_, key);
  }

  Result<std::optional<PrincipalRow>> GetPrincipal(int64_t id) override {
    return GetPrincipalIn(c_, id);
  }

  Status InsertPrincipal(PrincipalRow& row) override {
    constexpr std::string_view kOp = "insert principal";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(kInsertPrincipal, kOp));
    Use u(c_.db(), s, kOp);
    BindPrincipal(u, row);
    Status st = u.Run();
    if (!st.ok()) {
      if (sqlite3_extended_errcode(c_.db()) == SQLITE_CONSTRAINT_UNIQUE) {
        return {Code::kAlreadyExists,
                "ledger: insert principal: " + std::string(PrincipalKindName(row.key.kind)) + " " +
                    row.key.Qualified() + " already exists"};
      }
      return st;
    }
    row.id = c_.LastRowId();
    return Status::Ok();
  }

  Status UpdatePrincipal(PrincipalRow& row) override {
    constexpr std::string_view kOp = "update principal";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(kUpdatePrincipal, kOp));
    {
      Use u(c_.db(), s, kOp);
      BindPrincipal(u, row);
      u.At(22).Int(row.id);
      RETURN_IF_ERROR(u.Run());
    }
    if (c_.Changes() == 1) {
      ++row.version;
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::optional<PrincipalRow> stored, GetPrincipalIn(c_, row.id));
    if (!stored) {
      return NotFound("ledger: update principal: no principal with id " + std::to_string(row.id));
    }
    return FailedPrecondition("ledger: update principal: " + row.key.Qualified() +
                              " was changed by another writer (stored version " +
                              std::to_string(stored->version) + ", expected " +
                              std::to_string(row.version) + "); read it again and redo the change");
  }

  Result<std::vector<PrincipalRow>> PrincipalsDueBy(Timestamp due) override {
    constexpr std::string_view kOp = "list principals due";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(kSelectPrincipalsDue, kOp));
    Use u(c_.db(), s, kOp);
    u.Int(due.unix_millis());
    return ReadPrincipals(u);
  }

  Result<int64_t> AppendUsage(const std::vector<UsageRow>& rows) override {
    if (rows.empty()) return int64_t{0};
    constexpr std::string_view kOp = "insert usage";
    ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        c_.Prepare("INSERT INTO usage (request_id, ts_ms, received_at_ms, principal_id, model, "
                   "region, operation, input_tokens, output_tokens, cache_read_tokens, "
                   "cache_write_tokens, images, video_seconds, cost_nanos, flags, source, "
                   "period_start_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                   "?13, ?14, ?15, ?16, ?17)",
                   kOp));
    sqlite3* db = c_.db();
    int64_t first = 0;
    // The hot path: bind, step, reset. Text is bound without a copy (it outlives the step).
    for (size_t i = 0; i < rows.size(); ++i) {
      const UsageRow& r = rows[i];
      if (r.request_id.size() > INT_MAX || r.model.size() > INT_MAX || r.region.size() > INT_MAX) {
        return SqliteError(nullptr, SQLITE_TOOBIG, kOp);
      }
      int rc = sqlite3_bind_text(s, 1, r.request_id.data(), static_cast<int>(r.request_id.size()),
                                 nullptr);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 2, r.timestamp.unix_millis());
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 3, r.received_at.unix_millis());
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 4, r.principal_id);
      if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 5, r.model.data(), static_cast<int>(r.model.size()), nullptr);
      }
      if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 6, r.region.data(), static_cast<int>(r.region.size()), nullptr);
      }
      if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 7, static_cast<int>(r.operation));
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 8, r.tokens.input);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 9, r.tokens.output);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 10, r.tokens.cache_read);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 11, r.tokens.cache_write);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 12, r.media.images);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 13, r.media.video_seconds);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 14, r.cost.nanos());
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 15, r.flags);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 16, r.source);
      if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 17, r.period_start_ms);
      if (rc == SQLITE_OK) rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) {
        Status st = SqliteError(db, rc, kOp);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return st;
      }
      sqlite3_reset(s);
      const int64_t id = sqlite3_last_insert_rowid(db);
      if (i == 0) {
        first = id;
      } else if (id != first + static_cast<int64_t>(i)) {
        // Cannot happen while the write transaction is exclusive; refuse to return a wrong id.
        sqlite3_clear_bindings(s);
        return Internal("ledger: insert usage: row " + std::to_string(i) + " got id " +
                        std::to_string(id) + ", expected " +
                        std::to_string(first + static_cast<int64_t>(i)) +
                        " (usage ids must be consecutive within a write transaction)");
      }
    }
    sqlite3_clear_bindings(s);  // drop the pointers into `rows`
    return first;
  }

  Status AddAggregates(const std::vector<UsageAggregate>& rows) override {
    constexpr std::string_view kOp = "add hourly usage";
    ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        c_.Prepare("INSERT INTO usage_hourly (principal_id, hour, model, requests, input_tokens, "
                   "output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, "
                   "unpriced_requests) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                   "ON CONFLICT (principal_id, hour, model) DO UPDATE SET "
                   "requests = requests + excluded.requests, "
                   "input_tokens = input_tokens + excluded.input_tokens, "
                   "output_tokens = output_tokens + excluded.output_tokens, "
                   "cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, "
                   "cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, "
                   "cost_nanos = cost_nanos + excluded.cost_nanos, "
                   "unpriced_requests = unpriced_requests + excluded.unpriced_requests",
                   kOp));
    for (const UsageAggregate& a : rows) {
      Use u(c_.db(), s, kOp);
      u.Int(a.principal_id)
          .Int(a.hour)
          .Text(a.model)
          .Int(a.requests)
          .Int(a.tokens.input)
          .Int(a.tokens.output)
          .Int(a.tokens.cache_read)
          .Int(a.tokens.cache_write)
          .Int(a.cost.nanos())
          .Int(a.unpriced_requests);
      RETURN_IF_ERROR(u.Run());
    }
    return Status::Ok();
  }

  Status AddPeriodSpend(int64_t principal_id, Timestamp period_start, Timestamp period_end,
                        Money amount) override {
    constexpr std::string_view kOp = "add period spend";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("INSERT INTO period_spend (principal_id, period_start_ms, "
                                "period_end_ms, spent_nanos) VALUES (?1, ?2, ?3, ?4) "
                                "ON CONFLICT (principal_id, period_start_ms) DO UPDATE SET "
                                "period_end_ms = excluded.period_end_ms, "
                                "spent_nanos = spent_nanos + excluded.spent_nanos",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(principal_id)
        .Int(period_start.unix_millis())
        .Int(period_end.unix_millis())
        .Int(amount.nanos());
    return u.Run();
  }

  Status ScanRequestIds(int64_t after_id, const std::function<void(std::string_view)>& fn,
                        int64_t& max_id) override {
    max_id = after_id;
    if (after_id == INT64_MAX) return Status::Ok();
    return ScanRequestIdsFrom(c_, after_id + 1, fn, max_id);
  }

  Result<int64_t> AppendAudit(const AuditEntry& e) override {
    constexpr std::string_view kOp = "append audit entry";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("INSERT INTO audit (at_ms, principal_id, actor, kind, "
                                "from_status, to_status, trigger_name, details) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(e.at.unix_millis()).OptInt(e.principal_id).Text(e.actor).Text(e.kind);
    if (e.from) {
      u.Text(BudgetStatusName(*e.from));
    } else {
      u.Null();
    }
    if (e.to) {
      u.Text(BudgetStatusName(*e.to));
    } else {
      u.Null();
    }
    u.Text(e.trigger).Text(e.details);
    RETURN_IF_ERROR(u.Run());
    return c_.LastRowId();
  }

  Result<int64_t> AppendOutbox(const OutboxAction& a) override {
    constexpr std::string_view kOp = "append outbox action";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("INSERT INTO outbox (created_at_ms, kind, event, principal_id, "
                                "audit_id, payload, status, attempts, next_attempt_at_ms, "
                                "last_error, channel) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(a.created_at.unix_millis())
        .Text(a.kind)
        .Text(a.event)
        .OptInt(a.principal_id)
        .OptInt(a.audit_id)
        .Text(a.payload)
        .Text(OutboxStatusName(a.status))
        .Int(a.attempts)
        .Int(a.next_attempt_at.unix_millis())
        .Text(a.last_error)
        .Text(a.channel);
    RETURN_IF_ERROR(u.Run());
    return c_.LastRowId();
  }

  Result<std::vector<OutboxAction>> DueOutbox(Timestamp now, int64_t limit) override {
    constexpr std::string_view kOp = "list due outbox actions";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("SELECT id, created_at_ms, kind, event, principal_id, audit_id, "
                                "payload, status, attempts, next_attempt_at_ms, last_error, "
                                "channel FROM outbox WHERE status IN ('pending', 'failed') AND "
                                "next_attempt_at_ms <= ?1 ORDER BY id LIMIT ?2",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(now.unix_millis()).Int(limit > 0 ? limit : -1);
    return ReadOutbox(u);
  }

  Status UpdateOutbox(const OutboxAction& a) override {
    constexpr std::string_view kOp = "update outbox action";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("UPDATE outbox SET status = ?1, attempts = ?2, "
                                "next_attempt_at_ms = ?3, last_error = ?4, channel = ?5 "
                                "WHERE id = ?6",
                                kOp));
    {
      Use u(c_.db(), s, kOp);
      u.Text(OutboxStatusName(a.status))
          .Int(a.attempts)
          .Int(a.next_attempt_at.unix_millis())
          .Text(a.last_error)
          .Text(a.channel)
          .Int(a.id);
      RETURN_IF_ERROR(u.Run());
    }
    if (c_.Changes() == 0) {
      return NotFound("ledger: update outbox action: no action with id " + std::to_string(a.id));
    }
    return Status::Ok();
  }

  Status RecordBatch(IngestBatchRow& b) override {
    constexpr std::string_view kOp = "record ingest batch";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("INSERT INTO ingest_batches (received_at_ms, source, "
                                "first_usage_id, last_usage_id, read, applied, duplicates, "
                                "rejected, cost_nanos) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(b.received_at.unix_millis())
        .Text(b.source)
        .Int(b.first_usage_id)
        .Int(b.last_usage_id)
        .Int(b.read)
        .Int(b.applied)
        .Int(b.duplicates)
        .Int(b.rejected)
        .Int(b.cost.nanos());
    RETURN_IF_ERROR(u.Run());
    b.id = c_.LastRowId();
    return Status::Ok();
  }

  Result<bool> NoteUnpricedModel(const std::string& model, Timestamp at) override {
    constexpr std::string_view kOp = "note unpriced model";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("INSERT INTO unpriced_models (model, first_seen_ms, requests) "
                                "VALUES (?1, ?2, 1) ON CONFLICT (model) DO UPDATE SET "
                                "requests = requests + 1 RETURNING requests",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Text(model).Int(at.unix_millis());
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row) return Internal("ledger: note unpriced model: no row returned");
    const bool first = u.ColInt(0) == 1;
    RETURN_IF_ERROR(u.Run());
    return first;
  }

  Result<std::optional<std::string>> GetMeta(const std::string& key) override {
    constexpr std::string_view kOp = "get meta";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare("SELECT value FROM meta WHERE key = ?1", kOp));
    Use u(c_.db(), s, kOp);
    u.Text(key);
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(u.ColText(0));
  }

  Status SetMeta(const std::string& key, const std::string& value) override {
    constexpr std::string_view kOp = "set meta";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Text(key).Text(value);
    return u.Run();
  }

 private:
  Connection& c_;
  bool& unseen_change_;
};

// ---------------------------------------------------------------------------------------------
// The store.
// ---------------------------------------------------------------------------------------------

class SqliteLedger final : public LedgerStore {
 public:
  explicit SqliteLedger(Connection c) : c_(std::move(c)) {}

  Status WriteTransaction(const std::function<Status(LedgerTxn&)>& fn) override {
    if (in_txn_) {
      return FailedPrecondition(
          "ledger: WriteTransaction called inside another WriteTransaction (nested write "
          "transactions are not supported; do the work in the outer one)");
    }
    RETURN_IF_ERROR(c_.Exec("BEGIN IMMEDIATE", "begin write transaction"));
    in_txn_ = true;
    // data_version changes only when another connection commits (never for our own commits).
    Result<int64_t> data_version = c_.QueryInt("PRAGMA data_version", "read data version");
    if (!data_version.ok()) {
      Rollback();
      in_txn_ = false;
      return data_version.status();
    }
    if (*data_version != last_data_version_) unseen_change_ = true;
    last_data_version_ = *data_version;
    SqliteTxn txn(c_, unseen_change_);
    // Rolls back unless committed, also when `fn` throws.
    struct Guard {
      SqliteLedger& self;
      bool done = false;
      ~Guard() {
        if (!done) self.Rollback();
        self.in_txn_ = false;
      }
    } guard{*this};

    Status st = fn(txn);
    if (!st.ok()) return st;  // the guard rolls back
    Status commit = c_.Exec("COMMIT", "commit");
    if (!commit.ok()) return commit;  // the guard rolls back what is left
    guard.done = true;
    return Status::Ok();
  }

  Result<std::vector<PrincipalRow>> ListPrincipals() override {
    constexpr std::string_view kOp = "list principals";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(kSelectAllPrincipals, kOp));
    Use u(c_.db(), s, kOp);
    return ReadPrincipals(u);
  }

  Result<std::optional<PrincipalRow>> FindPrincipal(const PrincipalKey& key) override {
    return FindPrincipalIn(c_, key);
  }

  Result<std::vector<PrincipalRow>> FindPrincipalsByName(const std::string& name) override {
    constexpr std::string_view kOp = "find principals by name";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(kSelectPrincipalsByName, kOp));
    Use u(c_.db(), s, kOp);
    u.Text(name);
    return ReadPrincipals(u);
  }

  Result<std::optional<PrincipalRow>> GetPrincipal(int64_t id) override {
    return GetPrincipalIn(c_, id);
  }

  Result<std::vector<UsageQueryRow>> QueryUsage(const UsageQuery& q) override {
    constexpr std::string_view kOp = "query usage";
    std::string key;
    std::string group;
    std::string order;
    switch (q.group_by) {
      case UsageQuery::GroupBy::kNone:
        key = "'total'";
        break;
      case UsageQuery::GroupBy::kModel:
        key = "model";
        group = " GROUP BY model";
        order = " ORDER BY 7 DESC, 1";
        break;
      case UsageQuery::GroupBy::kDay:
        key = "strftime('%Y-%m-%d', hour * 3600, 'unixepoch')";
        group = " GROUP BY 1";
        order = " ORDER BY 1";
        break;
      case UsageQuery::GroupBy::kHour:
        key = "strftime('%Y-%m-%dT%H:00:00Z', hour * 3600, 'unixepoch')";
        group = " GROUP BY hour";
        order = " ORDER BY hour";
        break;
      case UsageQuery::GroupBy::kPrincipal:
        key = "CAST(principal_id AS TEXT)";
        group = " GROUP BY principal_id";
        order = " ORDER BY 7 DESC, principal_id";
        break;
    }
    const std::string sql =
        "SELECT " + key +
        ", COALESCE(SUM(requests), 0), COALESCE(SUM(input_tokens), 0), "
        "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cache_read_tokens), 0), "
        "COALESCE(SUM(cache_write_tokens), 0), COALESCE(SUM(cost_nanos), 0), "
        "COALESCE(SUM(unpriced_requests), 0) FROM usage_hourly WHERE hour >= ?1 AND hour < ?2" +
        (q.principal_id ? " AND principal_id = ?3" : "") + group + order;
    // "ORDER BY 7" is the cost column: keep it in step with the list above.
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(sql, kOp));
    Use u(c_.db(), s, kOp);
    u.Int(q.from ? FloorDiv(q.from->unix_millis(), kMsPerHour) : INT64_MIN)
        .Int(q.to ? CeilDiv(q.to->unix_millis(), kMsPerHour) : INT64_MAX);
    if (q.principal_id) u.Int(*q.principal_id);
    std::vector<UsageQueryRow> out;
    for (;;) {
      ASSIGN_OR_RETURN(const bool row, u.Step());
      if (!row) return out;
      UsageQueryRow r;
      r.key = u.ColText(0);
      r.requests = u.ColInt(1);
      r.tokens.input = u.ColInt(2);
      r.tokens.output = u.ColInt(3);
      r.tokens.cache_read = u.ColInt(4);
      r.tokens.cache_write = u.ColInt(5);
      r.cost = u.ColMoney(6);
      r.unpriced_requests = u.ColInt(7);
      out.push_back(std::move(r));
    }
  }

  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override {
    constexpr std::string_view kOp = "query audit";
    const std::string sql =
        std::string(
            "SELECT id, at_ms, principal_id, actor, kind, from_status, to_status, "
            "trigger_name, details FROM audit WHERE id > ?1") +
        (q.principal_id ? " AND principal_id = ?2" : "") + " ORDER BY id LIMIT ?3";
    ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Prepare(sql, kOp));
    Use u(c_.db(), s, kOp);
    u.Int(q.after_id.value_or(INT64_MIN));
    if (q.principal_id) u.Int(*q.principal_id);
    u.At(3).Int(q.limit > 0 ? q.limit : -1);
    std::vector<AuditEntry> out;
    for (;;) {
      ASSIGN_OR_RETURN(const bool row, u.Step());
      if (!row) return out;
      AuditEntry e;
      e.id = u.ColInt(0);
      e.at = u.ColMs(1);
      e.principal_id = u.ColOptInt(2);
      e.actor = u.ColText(3);
      e.kind = u.ColText(4);
      for (int col : {5, 6}) {
        if (u.IsNull(col)) continue;
        BudgetStatus status;
        if (!ParseBudgetStatus(u.ColView(col), status)) {
          return Corrupt("audit entry " + std::to_string(e.id) + " has an unknown status '" +
                         u.ColText(col) + "'");
        }
        (col == 5 ? e.from : e.to) = status;
      }
      e.trigger = u.ColText(7);
      e.details = u.ColText(8);
      out.push_back(std::move(e));
    }
  }

  Result<std::vector<OutboxCount>> CountOutbox() override {
    constexpr std::string_view kOp = "count outbox";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("SELECT channel, status, count(*) FROM outbox "
                                "GROUP BY channel, status ORDER BY channel, status",
                                kOp));
    Use u(c_.db(), s, kOp);
    std::vector<OutboxCount> out;
    for (;;) {
      ASSIGN_OR_RETURN(const bool row, u.Step());
      if (!row) return out;
      OutboxCount c;
      c.channel = u.ColText(0);
      if (!ParseOutboxStatus(u.ColView(1), c.status)) {
        return Corrupt("outbox has an unknown status '" + u.ColText(1) + "'");
      }
      c.count = u.ColInt(2);
      out.push_back(std::move(c));
    }
  }

  Result<std::vector<OutboxAction>> ListOutbox(int64_t limit) override {
    constexpr std::string_view kOp = "list outbox";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("SELECT id, created_at_ms, kind, event, principal_id, audit_id, "
                                "payload, status, attempts, next_attempt_at_ms, last_error, "
                                "channel FROM outbox ORDER BY id DESC LIMIT ?1",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(limit > 0 ? limit : -1);
    return ReadOutbox(u);
  }

  Result<std::vector<UnpricedModelRow>> ListUnpricedModels() override {
    constexpr std::string_view kOp = "list unpriced models";
    ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        c_.Prepare("SELECT model, first_seen_ms, requests FROM unpriced_models ORDER BY model",
                   kOp));
    Use u(c_.db(), s, kOp);
    std::vector<UnpricedModelRow> out;
    for (;;) {
      ASSIGN_OR_RETURN(const bool row, u.Step());
      if (!row) return out;
      out.push_back({u.ColText(0), u.ColMs(1), u.ColInt(2)});
    }
  }

  Status ScanRequestIdsSince(Timestamp since, const std::function<void(std::string_view)>& fn,
                             int64_t& max_id) override {
    return InSnapshot([&]() -> Status {
      constexpr std::string_view kOp = "scan request ids since";
      // The first usage id of the batches received since `since`, and everything after the
      // last batch received before it (rows written without a batch row are included too:
      // warming with too many ids is harmless, too few would double-count).
      ASSIGN_OR_RETURN(const int64_t first_in_window,
                       FirstUsageIdReceivedSince(since.unix_millis(), kOp));
      ASSIGN_OR_RETURN(const int64_t last_before,
                       LastUsageIdReceivedBefore(since.unix_millis(), kOp));
      const int64_t start = std::min(first_in_window, last_before + 1);
      ASSIGN_OR_RETURN(max_id, c_.QueryInt("SELECT COALESCE(MAX(id), 0) FROM usage", kOp));
      int64_t scanned_max = 0;
      return ScanRequestIdsFrom(c_, start, fn, scanned_max);
    });
  }

  Result<Money> PeriodSpend(int64_t principal_id, Timestamp period_start) override {
    constexpr std::string_view kOp = "read period spend";
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("SELECT spent_nanos FROM period_spend WHERE principal_id = ?1 "
                                "AND period_start_ms = ?2",
                                kOp));
    Use u(c_.db(), s, kOp);
    u.Int(principal_id).Int(period_start.unix_millis());
    ASSIGN_OR_RETURN(const bool row, u.Step());
    return row ? u.ColMoney(0) : Money();
  }

 private:
  Result<int64_t> FirstUsageIdReceivedSince(int64_t since_ms, std::string_view op) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("SELECT MIN(first_usage_id) FROM ingest_batches "
                                "WHERE received_at_ms >= ?1 AND last_usage_id > 0",
                                op));
    Use u(c_.db(), s, op);
    u.Int(since_ms);
    ASSIGN_OR_RETURN(const bool row, u.Step());
    if (!row || u.IsNull(0)) return INT64_MAX;
    return u.ColInt(0);
  }

  Result<int64_t> LastUsageIdReceivedBefore(int64_t since_ms, std::string_view op) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     c_.Prepare("SELECT last_usage_id FROM ingest_batches WHERE received_at_ms "
                                "< ?1 AND last_usage_id > 0 ORDER BY received_at_ms DESC, id DESC "
                                "LIMIT 1",
                                op));
    Use u(c_.db(), s, op);
    u.Int(since_ms);
    ASSIGN_OR_RETURN(const bool row, u.Step());
    return row ? u.ColInt(0) : int64_t{0};
  }

  // Runs several reads against one snapshot (nested in the write transaction when one is open).
  template <typename Fn>
  Status InSnapshot(Fn&& fn) {
    RETURN_IF_ERROR(c_.Exec("SAVEPOINT ledger_read", "begin read"));
    Status st = fn();
    Status release = c_.Exec("RELEASE ledger_read", "end read");
    return st.ok() ? release : st;
  }

  void Rollback() {
    if (sqlite3_get_autocommit(c_.db()) != 0) return;  // SQLite already rolled back
    // A failed ROLLBACK leaves nothing to do: SQLite rolls back when the connection closes.
    (void)c_.Exec("ROLLBACK", "roll back");
  }

  Connection c_;
  bool in_txn_ = false;
  int64_t last_data_version_ = -1;
  bool unseen_change_ = false;  // another connection committed since a transaction last asked
};

// ---------------------------------------------------------------------------------------------
// Opening and migrating.
// ---------------------------------------------------------------------------------------------

bool IsMemory(const std::string& path) { return path.empty() || path == ":memory:"; }

// Errors of the first reads of a file: the file is not ours or is damaged.
Status OpenError(const std::string& path, const Status& st, int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return DataLoss("ledger: '" + path +
                      "' is not a SQLite database (file is not a database): point --db at a "
                      "budgeteer ledger file, or move this file away to start a new ledger");
    case SQLITE_CORRUPT:
      return DataLoss("ledger: '" + path +
                      "' is damaged (database disk image is malformed): restore it from a "
                      "backup, or move it away to start a new ledger");
    default: {
      std::string_view m = st.message();
      if (m.starts_with("ledger: ")) m.remove_prefix(8);
      return {st.code(), "ledger: open '" + path + "': " + std::string(m), st.retryable()};
    }
  }
}

Status Migrate(Connection& c) {
  const std::string& path = c.path();
  for (const sqlite_schema::Migration& m : sqlite_schema::Migrations()) {
    const std::string op = "migrate '" + path + "' to schema version " + std::to_string(m.version) +
                           " (" + m.description + ")";
    RETURN_IF_ERROR(c.Exec("BEGIN IMMEDIATE", op));
    // Re-read inside the transaction: another process may have migrated meanwhile.
    Result<int64_t> current = c.QueryInt("PRAGMA user_version", op);
    Status st = current.status();
    if (st.ok() && *current < m.version) {
      if (*current != m.version - 1) {
        st = Internal("ledger: " + op + ": found schema version " + std::to_string(*current));
      }
      if (st.ok()) st = c.ExecScript(m.sql, op);
      if (st.ok()) {
        st = c.ExecScript(("PRAGMA user_version = " + std::to_string(m.version)).c_str(), op);
      }
    }
    if (st.ok()) st = c.Exec("COMMIT", op);
    if (!st.ok()) {
      if (sqlite3_get_autocommit(c.db()) == 0) (void)c.Exec("ROLLBACK", op);
      return st;
    }
  }
  return Status::Ok();
}

Status Configure(Connection& c, const SqliteOptions& opts) {
  const std::string& path = c.path();
  sqlite3* db = c.db();
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, std::max(0, opts.busy_timeout_ms));

  // The first statements read the file header: this is where a foreign file shows.
  // Returns the first column of the first row ("" when none).
  auto first_read = [&](std::string_view sql, std::string_view op) -> Result<std::string> {
    Result<sqlite3_stmt*> s = c.Prepare(sql, op);
    if (!s.ok()) return OpenError(path, s.status(), sqlite3_extended_errcode(db));
    Use u(db, *s, op);
    Result<bool> row = u.Step();
    if (!row.ok()) return OpenError(path, row.status(), sqlite3_extended_errcode(db));
    return *row ? u.ColText(0) : std::string();
  };
  // 16 KiB pages for new ledgers (a no-op for existing ones): measured ~25% faster appends than
  // 4 KiB pages, and the WAL is checkpointed every 16 MiB instead of every 4 MiB.
  RETURN_IF_ERROR(first_read("PRAGMA page_size = 16384", "set page size").status());
  ASSIGN_OR_RETURN(const std::string mode,
                   first_read("PRAGMA journal_mode = WAL", "set WAL journal mode"));
  if (!IsMemory(path) && mode != "wal") {
    return FailedPrecondition("ledger: '" + path + "' could not use WAL journal mode (got '" +
                              mode +
                              "'): put the ledger on a local file system that supports shared "
                              "memory");
  }
  RETURN_IF_ERROR(c.ExecScript(
      opts.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "set synchronous"));
  RETURN_IF_ERROR(c.ExecScript("PRAGMA foreign_keys = ON", "enable foreign keys"));
  RETURN_IF_ERROR(c.ExecScript(
      ("PRAGMA cache_size = -" + std::to_string(std::max(1, opts.cache_mib) * 1024)).c_str(),
      "set cache size"));

  // Is it ours, and do we understand its schema?
  constexpr std::string_view kOp = "read schema version";
  ASSIGN_OR_RETURN(const int64_t app_id, c.QueryInt("PRAGMA application_id", kOp));
  ASSIGN_OR_RETURN(const int64_t version, c.QueryInt("PRAGMA user_version", kOp));
  ASSIGN_OR_RETURN(const int64_t objects, c.QueryInt("SELECT count(*) FROM sqlite_schema", kOp));
  const bool foreign = (app_id != 0 && app_id != sqlite_schema::kApplicationId) ||
                       (version > 0 && app_id != sqlite_schema::kApplicationId) ||
                       (version == 0 && objects > 0);
  if (foreign) {
    return FailedPrecondition("ledger: '" + path +
                              "' is a SQLite database of another application, not a budgeteer "
                              "ledger: point --db at a ledger file or at a new file");
  }
  if (version > sqlite_schema::LatestVersion()) {
    return FailedPrecondition("ledger: '" + path + "' has schema version " +
                              std::to_string(version) + ", newer than this budgeteer knows (" +
                              std::to_string(sqlite_schema::LatestVersion()) +
                              "): upgrade budgeteer, or point --db at another file");
  }
  return Migrate(c);
}

}  // namespace

Result<std::unique_ptr<LedgerStore>> OpenSqliteLedger(const std::string& path,
                                                      const SqliteOptions& opts) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);  // closed on every path, also when the open failed
  if (rc != SQLITE_OK) {
    return InvalidArgument("ledger: cannot open or create '" + path +
                           "': " + SqliteMessage(raw, rc) +
                           ": check that its directory exists and is writable, or choose "
                           "another file with --db");
  }
  Connection c(std::move(db), path);
  RETURN_IF_ERROR(Configure(c, opts));
  return std::unique_ptr<LedgerStore>(new SqliteLedger(std::move(c)));
}

}  // namespace budgeteer
