#include "store/sqlite/sqlite_ledger.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_schema.h"

namespace budgeteer {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

// The status has `code` and its message contains `text`.
::testing::AssertionResult StatusIs(const Status& s, Code code, std::string_view text = "") {
  if (s.code() == code && s.message().find(text) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected " << CodeName(code) << " containing '" << text << "', got " << s.ToString();
}

Timestamp T(const char* text) { return *Timestamp::Parse(text); }
Money Usd(const char* text) { return *Money::ParseUsd(text); }

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "store_sqlite_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A plain SQLite connection, to look at (or tamper with) the file behind the store.
class Raw {
 public:
  explicit Raw(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~Raw() { sqlite3_close(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  // "" on success, else SQLite's message.
  std::string Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    std::string out = rc == SQLITE_OK ? "" : (err != nullptr ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return out;
  }
  // The first column of the first row as text ("" when none).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      return std::string("error: ") + sqlite3_errmsg(db_);
    }
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<LedgerStore> MustOpen(const std::string& path, SqliteOptions opts = {}) {
  auto store = OpenSqliteLedger(path, opts);
  EXPECT_TRUE(IsOk(store));
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

const Timestamp kT0 = T("2026-03-10T00:00:00Z");

PrincipalRow MakePrincipal(const std::string& account, PrincipalKind kind,
                           const std::string& name) {
  PrincipalRow p;
  p.key = {account, kind, name};
  p.created_at = kT0;
  p.last_seen = kT0;
  p.state = NewBudgetState(BudgetSettings{}, kT0, kT0);
  return p;
}

// A principal with every optional field set.
PrincipalRow FullPrincipal() {
  PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kRoleSession,
                                 "AWSReservedSSO_Dev/alice@example.com");
  p.overrides.limit = Usd("12.345678901");
  p.overrides.warn_percent = 60;
  p.overrides.critical_percent = 85;
  p.overrides.grace_seconds = 0;
  p.overrides.period = *PeriodSpec::Parse("monthly");
  p.state.status = BudgetStatus::kGracePeriod;
  p.state.anchor = T("2026-03-01T00:00:00Z");
  p.state.period = {T("2026-03-01T00:00:00Z"), T("2026-04-01T00:00:00Z")};
  p.state.spent = Usd("13.000000007");
  p.state.grace_deadline = T("2026-03-10T00:05:00.250Z");
  p.state.manual_suspension = true;
  p.state.exempt_until = T("2026-03-31T00:00:00Z");
  p.created_at = T("2026-03-02T10:00:00.001Z");
  p.last_seen = T("2026-03-10T00:00:00.999Z");
  p.owner_email = "alice@example.com";
  p.version = 7;
  return p;
}

void ExpectSamePrincipal(const PrincipalRow& a, const PrincipalRow& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.key, b.key);
  EXPECT_TRUE(a.overrides == b.overrides);
  EXPECT_TRUE(a.state == b.state);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_seen, b.last_seen);
  EXPECT_EQ(a.owner_email, b.owner_email);
  EXPECT_EQ(a.version, b.version);
}

UsageRow MakeUsage(const std::string& request_id, int64_t principal_id, Timestamp received) {
  UsageRow u;
  u.request_id = request_id;
  u.timestamp = received.PlusSeconds(-5);
  u.received_at = received;
  u.principal_id = principal_id;
  u.model = "anthropic.claude-sonnet-4-5";
  u.region = "us-east-1";
  u.operation = Operation::kConverse;
  u.tokens = {1200, 340, 50, 7};
  u.cost = Money::FromNanos(8'123'456);
  u.period_start_ms = kT0.unix_millis();
  return u;
}

std::vector<UsageRow> MakeUsageRows(int n, const std::string& prefix, int64_t principal_id,
                                    Timestamp received) {
  std::vector<UsageRow> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    rows.push_back(MakeUsage(prefix + std::to_string(i), principal_id, received));
  }
  return rows;
}

// Inserts a principal in its own transaction; returns it with its id.
PrincipalRow Insert(LedgerStore& store, PrincipalRow p) {
  EXPECT_TRUE(IsOk(store.WriteTransaction([&](LedgerTxn& txn) { return txn.InsertPrincipal(p); })));
  return p;
}

std::vector<std::string> ScanSince(LedgerStore& store, Timestamp since, int64_t& max_id) {
  std::vector<std::string> ids;
  EXPECT_TRUE(IsOk(store.ScanRequestIdsSince(
      since, [&](std::string_view id) { ids.emplace_back(id); }, max_id)));
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Opening, schema, migrations
// ---------------------------------------------------------------------------------------------

TEST(SqliteLedgerOpenTest, InMemoryWorks) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  auto list = store->ListPrincipals();
  ASSERT_TRUE(IsOk(list));
  EXPECT_TRUE(list->empty());
}

TEST(SqliteLedgerOpenTest, NewFileIsWalAtLatestSchema) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  { ASSERT_NE(MustOpen(path), nullptr); }
  Raw raw(path);
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Query("PRAGMA page_size"), "16384");
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(sqlite_schema::LatestVersion()));
  EXPECT_EQ(raw.Query("PRAGMA application_id"), std::to_string(sqlite_schema::kApplicationId));
  // The hot table has no secondary index.
  EXPECT_EQ(raw.Query("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                      "tbl_name = 'usage'"),
            "0");
  // Opening again is a no-op.
  ASSERT_NE(MustOpen(path), nullptr);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(sqlite_schema::LatestVersion()));
}

TEST(SqliteLedgerOpenTest, MigratesVersion1Database) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  {
    Raw raw(path);
    const auto& v1 = sqlite_schema::Migrations()[0];
    ASSERT_EQ(v1.version, 1);
    ASSERT_EQ(raw.Exec(std::string("BEGIN;") + v1.sql + "PRAGMA user_version = 1; COMMIT;"), "");
    ASSERT_EQ(raw.Exec("INSERT INTO principals (account, kind, name, status, anchor_ms, "
                       "period_start_ms, period_end_ms, spent_nanos, manual_suspension, "
                       "created_at_ms, last_seen_ms, version, next_due_ms) VALUES ('111122223333', "
                       "'user', 'bob', 'warning', 0, 0, 86400000, 750000000, 0, 5, 6, 3, "
                       "86400000);"
                       "INSERT INTO audit (at_ms, principal_id, actor, kind) VALUES "
                       "(5, 1, 'system', 'principal_created');"
                       "UPDATE audit SET actor = 'v1 allowed this' WHERE id = 1;"),
              "");
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  Raw raw(path);
  EXPECT_EQ(raw.Query("PRAGMA user_version"), std::to_string(sqlite_schema::LatestVersion()));
  auto bob = store->FindPrincipal({"111122223333", PrincipalKind::kUser, "bob"});
  ASSERT_TRUE(IsOk(bob));
  ASSERT_TRUE(bob->has_value());
  EXPECT_EQ((*bob)->state.status, BudgetStatus::kWarning);
  EXPECT_EQ((*bob)->state.spent, Usd("0.75"));
  EXPECT_EQ((*bob)->version, 3);
  auto audit = store->QueryAudit({});
  ASSERT_TRUE(IsOk(audit));
  ASSERT_EQ(audit->size(), 1U);
  EXPECT_EQ((*audit)[0].actor, "v1 allowed this");
  // Version 2 made the audit append-only.
  EXPECT_NE(raw.Exec("UPDATE audit SET actor = 'x'"), "");
}

TEST(SqliteLedgerOpenTest, RefusesNewerSchema) {
  TempDir dir;
  const std::string path = dir.File("future.db");
  { ASSERT_NE(MustOpen(path), nullptr); }
  {
    Raw raw(path);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = 99"), "");
  }
  auto store = OpenSqliteLedger(path, {});
  EXPECT_TRUE(StatusIs(store.status(), Code::kFailedPrecondition, path));
  EXPECT_TRUE(StatusIs(store.status(), Code::kFailedPrecondition, "upgrade budgeteer"));
}

TEST(SqliteLedgerOpenTest, NonDatabaseFileIsDataLossNamingThePath) {
  TempDir dir;
  const std::string path = dir.File("notes.txt");
  {
    std::ofstream f(path);
    for (int i = 0; i < 100; ++i) f << "this is not a database, it is a text file\n";
  }
  auto store = OpenSqliteLedger(path, {});
  EXPECT_TRUE(StatusIs(store.status(), Code::kDataLoss, "'" + path + "' is not a SQLite database"));
}

TEST(SqliteLedgerOpenTest, ForeignDatabaseIsRefused) {
  TempDir dir;
  const std::string path = dir.File("other.db");
  {
    Raw raw(path);
    ASSERT_EQ(raw.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY)"), "");
  }
  auto store = OpenSqliteLedger(path, {});
  EXPECT_TRUE(StatusIs(store.status(), Code::kFailedPrecondition, "another application"));
}

TEST(SqliteLedgerOpenTest, UnopenablePathIsInvalidArgumentNamingThePath) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/ledger.db");
  auto store = OpenSqliteLedger(path, {});
  EXPECT_TRUE(StatusIs(store.status(), Code::kInvalidArgument, "'" + path + "'"));
}

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

TEST(SqliteLedgerTest, PrincipalRoundTripsEveryField) {
  auto store = MustOpen(":memory:");
  PrincipalRow full = Insert(*store, FullPrincipal());
  PrincipalRow bare = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  EXPECT_GT(full.id, 0);
  EXPECT_NE(full.id, bare.id);

  for (const PrincipalRow* want : {&full, &bare}) {
    auto by_id = store->GetPrincipal(want->id);
    ASSERT_TRUE(IsOk(by_id));
    ASSERT_TRUE(by_id->has_value());
    ExpectSamePrincipal(**by_id, *want);
    auto by_key = store->FindPrincipal(want->key);
    ASSERT_TRUE(IsOk(by_key));
    ASSERT_TRUE(by_key->has_value());
    ExpectSamePrincipal(**by_key, *want);
  }
  // Unset overrides stay unset.
  auto b = store->GetPrincipal(bare.id);
  EXPECT_FALSE((*b)->overrides.limit.has_value());
  EXPECT_FALSE((*b)->overrides.period.has_value());
  EXPECT_FALSE((*b)->state.grace_deadline.has_value());
  EXPECT_FALSE((*b)->state.exempt_until.has_value());

  // Inside a transaction too, and kForever survives.
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto got = txn.GetPrincipal(full.id);
    if (!got.ok()) return got.status();
    EXPECT_TRUE(got->has_value());
    PrincipalRow row = **got;
    row.state.status = BudgetStatus::kExempt;
    row.state.exempt_until = kForever;
    row.state.grace_deadline.reset();
    RETURN_IF_ERROR(txn.UpdatePrincipal(row));
    auto again = txn.FindPrincipal(full.key);
    if (!again.ok()) return again.status();
    ExpectSamePrincipal(**again, row);
    return Status::Ok();
  })));

  EXPECT_FALSE(store->GetPrincipal(9999)->has_value());
  EXPECT_FALSE(store->FindPrincipal({"999999999999", PrincipalKind::kUser, "bob"})->has_value());
}

TEST(SqliteLedgerTest, KeyIsUniquePerAccountKindAndName) {
  auto store = MustOpen(":memory:");
  Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  Insert(*store, MakePrincipal("444455556666", PrincipalKind::kUser, "bob"));  // other account
  Insert(*store, MakePrincipal("111122223333", PrincipalKind::kRole, "bob"));  // other kind
  Insert(*store, MakePrincipal("000011112222", PrincipalKind::kUser, "carol"));

  Status dup = store->WriteTransaction([&](LedgerTxn& txn) {
    PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kUser, "bob");
    return txn.InsertPrincipal(p);
  });
  EXPECT_TRUE(StatusIs(dup, Code::kAlreadyExists, "111122223333:bob"));

  auto bobs = store->FindPrincipalsByName("bob");
  ASSERT_TRUE(IsOk(bobs));
  ASSERT_EQ(bobs->size(), 3U);
  EXPECT_EQ((*bobs)[0].key.account, "111122223333");
  EXPECT_EQ((*bobs)[2].key.account, "444455556666");

  auto all = store->ListPrincipals();
  ASSERT_TRUE(IsOk(all));
  ASSERT_EQ(all->size(), 4U);
  EXPECT_EQ((*all)[0].key.name, "carol");  // ordered by account, then name
  EXPECT_EQ((*all)[3].key.account, "444455556666");
}

TEST(SqliteLedgerTest, UpdateBumpsVersionAndDetectsStaleWrites) {
  auto store = MustOpen(":memory:");
  PrincipalRow p = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) {
    p.state.spent = Usd("0.5");
    return txn.UpdatePrincipal(p);
  })));
  EXPECT_EQ(p.version, 1);
  EXPECT_EQ((*store->GetPrincipal(p.id))->version, 1);

  PrincipalRow stale = p;
  stale.version = 0;
  Status st = store->WriteTransaction([&](LedgerTxn& txn) { return txn.UpdatePrincipal(stale); });
  EXPECT_TRUE(StatusIs(st, Code::kFailedPrecondition, "changed by another writer"));
  EXPECT_EQ((*store->GetPrincipal(p.id))->state.spent, Usd("0.5"));

  PrincipalRow ghost = p;
  ghost.id = 4242;
  st = store->WriteTransaction([&](LedgerTxn& txn) { return txn.UpdatePrincipal(ghost); });
  EXPECT_TRUE(StatusIs(st, Code::kNotFound, "4242"));
}

TEST(SqliteLedgerTest, PrincipalsDueByGraceDeadlineAndPeriodEnd) {
  auto store = MustOpen(":memory:");
  // In grace: due at its deadline (before its period end).
  PrincipalRow grace = MakePrincipal("111122223333", PrincipalKind::kUser, "grace");
  grace.state.status = BudgetStatus::kGracePeriod;
  grace.state.grace_deadline = kT0.PlusSeconds(300);
  grace = Insert(*store, grace);
  // Active: due at its period end (30 days after kT0).
  PrincipalRow active = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "a"));
  // Active with a shorter period: due after one day.
  PrincipalRow daily = MakePrincipal("111122223333", PrincipalKind::kUser, "daily");
  daily.state.period = {kT0, kT0.PlusSeconds(86400)};
  daily = Insert(*store, daily);

  auto due_ids = [&](Timestamp t) {
    std::vector<int64_t> ids;
    EXPECT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
      auto due = txn.PrincipalsDueBy(t);
      if (!due.ok()) return due.status();
      for (const auto& p : *due) ids.push_back(p.id);
      return Status::Ok();
    })));
    return ids;
  };
  EXPECT_EQ(due_ids(kT0.PlusSeconds(299)), std::vector<int64_t>{});
  EXPECT_EQ(due_ids(kT0.PlusSeconds(300)), std::vector<int64_t>{grace.id});
  EXPECT_EQ(due_ids(kT0.PlusSeconds(86400)), (std::vector<int64_t>{grace.id, daily.id}));
  EXPECT_EQ(due_ids(kT0.PlusSeconds(30 * 86400)),
            (std::vector<int64_t>{grace.id, daily.id, active.id}));
  EXPECT_EQ(due_ids(kForever).size(), 3U);

  // next_due follows every update: out of grace, the deadline no longer counts.
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) {
    grace.state.status = BudgetStatus::kActive;
    grace.state.grace_deadline.reset();
    return txn.UpdatePrincipal(grace);
  })));
  EXPECT_EQ(due_ids(kT0.PlusSeconds(86400)), std::vector<int64_t>{daily.id});
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

TEST(SqliteLedgerTest, FailedCallbackRollsBackEverything) {
  auto store = MustOpen(":memory:");
  Status st = store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kUser, "bob");
    RETURN_IF_ERROR(txn.InsertPrincipal(p));
    RETURN_IF_ERROR(txn.AppendUsage(MakeUsageRows(100, "r", p.id, kT0)).status());
    RETURN_IF_ERROR(
        txn.AppendAudit({0, kT0, p.id, "system", "principal_created", {}, {}, "", "{}"}).status());
    RETURN_IF_ERROR(txn.SetMeta("k", "v"));
    RETURN_IF_ERROR(txn.NoteUnpricedModel("acme.mystery-v1", kT0).status());
    return Internal("engine gave up");
  });
  EXPECT_TRUE(StatusIs(st, Code::kInternal, "engine gave up"));

  EXPECT_TRUE(store->ListPrincipals()->empty());
  EXPECT_TRUE(store->QueryAudit({})->empty());
  EXPECT_TRUE(store->ListUnpricedModels()->empty());
  int64_t max_id = -1;
  EXPECT_TRUE(ScanSince(*store, Timestamp(), max_id).empty());
  EXPECT_EQ(max_id, 0);
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto v = txn.GetMeta("k");
    EXPECT_TRUE(IsOk(v));
    if (v.ok()) {
      EXPECT_FALSE(v->has_value());
    }
    return Status::Ok();
  })));
}

TEST(SqliteLedgerTest, ExceptionRollsBackAndPropagates) {
  auto store = MustOpen(":memory:");
  EXPECT_THROW((void)store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kUser, "bob");
    EXPECT_TRUE(IsOk(txn.InsertPrincipal(p)));
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_TRUE(store->ListPrincipals()->empty());
  // The store is usable again.
  Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  EXPECT_EQ(store->ListPrincipals()->size(), 1U);
}

TEST(SqliteLedgerTest, NestedWriteTransactionIsAnError) {
  auto store = MustOpen(":memory:");
  Status inner;
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn&) {
    inner = store->WriteTransaction([](LedgerTxn&) { return Status::Ok(); });
    return Status::Ok();
  })));
  EXPECT_TRUE(StatusIs(inner, Code::kFailedPrecondition, "nested"));
}

TEST(SqliteLedgerTest, StoreReadsInsideATransactionSeeItsWrites) {
  auto store = MustOpen(":memory:");
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kUser, "bob");
    RETURN_IF_ERROR(txn.InsertPrincipal(p));
    RETURN_IF_ERROR(txn.AppendUsage(MakeUsageRows(3, "r", p.id, kT0)).status());
    EXPECT_EQ(store->ListPrincipals()->size(), 1U);
    int64_t max_id = 0;
    EXPECT_EQ(ScanSince(*store, kT0, max_id).size(), 3U);  // nests in the write transaction
    EXPECT_EQ(max_id, 3);
    return Status::Ok();
  })));
}

TEST(SqliteLedgerTest, BusyDatabaseIsRetryableUnavailable) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = MustOpen(path, {.synchronous_full = true, .busy_timeout_ms = 50});
  ASSERT_NE(store, nullptr);
  Raw other(path);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), "");
  Status st = store->WriteTransaction([](LedgerTxn&) { return Status::Ok(); });
  EXPECT_TRUE(
      StatusIs(st, Code::kUnavailable, "ledger: begin write transaction: database is locked"));
  EXPECT_TRUE(st.retryable());
  ASSERT_EQ(other.Exec("COMMIT"), "");
  EXPECT_TRUE(IsOk(store->WriteTransaction([](LedgerTxn&) { return Status::Ok(); })));
}

TEST(SqliteLedgerTest, ConstraintViolationNamesTheOperation) {
  auto store = MustOpen(":memory:");
  Status st = store->WriteTransaction([](LedgerTxn& txn) {
    return txn.AppendAudit({0, kT0, {}, "system", "x", {}, {}, "", "{not json"}).status();
  });
  EXPECT_TRUE(StatusIs(st, Code::kInvalidArgument, "ledger: append audit entry: CHECK constraint"));
}

// A crash in the middle of a write transaction leaves the ledger as if it never started.
void CrashMidTransaction(bool sigkill) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  int64_t principal_id = 0;
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
      PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kUser, "bob");
      RETURN_IF_ERROR(txn.InsertPrincipal(p));
      principal_id = p.id;
      return txn.AppendUsage(MakeUsageRows(5, "committed-", p.id, kT0)).status();
    })));
  }

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    SqliteOptions small_cache;
    small_cache.cache_mib = 1;  // force the uncommitted pages out to the WAL
    auto store = OpenSqliteLedger(path, small_cache);
    if (!store.ok()) _exit(3);
    (void)(*store)->WriteTransaction([&](LedgerTxn& txn) -> Status {
      // Long ids: 10,000 rows overflow the page cache, so SQLite spills them to the WAL.
      const std::string prefix = "lost-" + std::string(400, 'x') + "-";
      if (!txn.AppendUsage(MakeUsageRows(10'000, prefix, principal_id, kT0)).ok()) _exit(4);
      PrincipalRow p = MakePrincipal("111122223333", PrincipalKind::kUser, "ghost");
      if (!txn.InsertPrincipal(p).ok()) _exit(5);
      const char done = 'x';
      if (write(fds[1], &done, 1) != 1) _exit(6);
      if (sigkill) raise(SIGKILL);
      _exit(1);
    });
    _exit(7);
  }
  close(fds[1]);
  char got = 0;
  EXPECT_EQ(read(fds[0], &got, 1), 1) << "the child did not reach the middle of its transaction";
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  if (sigkill) {
    EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  } else {
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 1) << wstatus;
  }

  // The child's pages did reach the WAL (uncommitted frames that recovery must ignore).
  EXPECT_GT(std::filesystem::file_size(path + "-wal"), 1U << 20);
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  int64_t max_id = 0;
  const std::vector<std::string> ids = ScanSince(*store, Timestamp(), max_id);
  EXPECT_EQ(ids.size(), 5U);
  EXPECT_EQ(max_id, 5);
  for (const auto& id : ids) EXPECT_EQ(id.rfind("committed-", 0), 0U) << id;
  EXPECT_EQ(store->ListPrincipals()->size(), 1U);
  {
    Raw raw(path);
    EXPECT_EQ(raw.Query("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(raw.Query("SELECT count(*) FROM usage"), "5");
  }
  // And it takes new writes where the committed ones ended.
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto first = txn.AppendUsage(MakeUsageRows(2, "after-", principal_id, kT0));
    if (!first.ok()) return first.status();
    EXPECT_EQ(*first, 6);
    return Status::Ok();
  })));
}

TEST(SqliteLedgerCrashTest, ExitMidTransactionLosesOnlyThatTransaction) {
  CrashMidTransaction(/*sigkill=*/false);
}

TEST(SqliteLedgerCrashTest, SigkillMidTransactionLosesOnlyThatTransaction) {
  CrashMidTransaction(/*sigkill=*/true);
}

// A disk that fills up mid-transaction gives a retryable error naming the operation, never an
// abort, and leaves the ledger consistent. A file-size limit in a child stands in for the disk
// (SQLite reports it as an I/O error rather than "disk is full"; both are kUnavailable).
TEST(SqliteLedgerCrashTest, FullDiskIsRetryableAndLosesOnlyThatTransaction) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  int64_t principal_id = 0;
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    principal_id = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob")).id;
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
    SqliteOptions small_cache;
    small_cache.cache_mib = 1;  // the inserts themselves must hit the file-size limit
    auto store = OpenSqliteLedger(path, small_cache);
    if (!store.ok()) _exit(4);
    const std::string prefix = std::string(400, 'y') + "-";
    Status st = (*store)->WriteTransaction([&](LedgerTxn& txn) {
      return txn.AppendUsage(MakeUsageRows(20'000, prefix, principal_id, kT0)).status();
    });
    const std::string report = std::string(CodeName(st.code())) + "|" +
                               (st.retryable() ? "retryable" : "final") + "|" + st.message();
    if (write(fds[1], report.data(), report.size()) < 0) _exit(5);
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) {
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
  EXPECT_EQ(report.rfind("UNAVAILABLE|retryable|ledger: insert usage: ", 0), 0U) << report;

  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  int64_t max_id = -1;
  EXPECT_TRUE(ScanSince(*store, Timestamp(), max_id).empty());
  EXPECT_EQ(max_id, 0);
  Raw raw(path);
  EXPECT_EQ(raw.Query("PRAGMA integrity_check"), "ok");
}

// ---------------------------------------------------------------------------------------------
// Usage, aggregates, batches
// ---------------------------------------------------------------------------------------------

TEST(SqliteLedgerTest, UsageRowsRoundTripWithConsecutiveIds) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = MustOpen(path);
  PrincipalRow p = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  UsageRow special = MakeUsage("req-special", p.id, kT0);
  special.operation = Operation::kInvokeModelWithResponseStream;
  special.media = {3, 12};
  special.flags = kUsageUnpriced | kUsageLate | kUsageBatch;
  special.source = 3;
  special.period_start_ms = 1'700'000'000'000;
  special.cost = Money::FromNanos(-1);  // refunds are negative; kept exact
  int64_t first1 = 0;
  int64_t first2 = 0;
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto a = txn.AppendUsage(MakeUsageRows(3, "a", p.id, kT0));
    if (!a.ok()) return a.status();
    first1 = *a;
    auto b = txn.AppendUsage({special});
    if (!b.ok()) return b.status();
    first2 = *b;
    auto none = txn.AppendUsage({});
    if (!none.ok()) return none.status();
    EXPECT_EQ(*none, 0);
    return Status::Ok();
  })));
  EXPECT_EQ(first1, 1);
  EXPECT_EQ(first2, 4);

  Raw raw(path);
  EXPECT_EQ(raw.Query("SELECT request_id || '|' || ts_ms || '|' || received_at_ms || '|' || "
                      "principal_id || '|' || model || '|' || region || '|' || operation || '|' "
                      "|| input_tokens || '|' || output_tokens || '|' || cache_read_tokens || '|' "
                      "|| cache_write_tokens || '|' || images || '|' || video_seconds || '|' || "
                      "cost_nanos || '|' || flags || '|' || source || '|' || period_start_ms "
                      "FROM usage WHERE id = 4"),
            "req-special|" + std::to_string(kT0.unix_millis() - 5000) + "|" +
                std::to_string(kT0.unix_millis()) + "|" + std::to_string(p.id) +
                "|anthropic.claude-sonnet-4-5|us-east-1|1|1200|340|50|7|3|12|-1|11|3|"
                "1700000000000");

  // ScanRequestIds: rows after an id, and the highest id seen.
  std::vector<std::string> ids;
  int64_t max_id = 0;
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) {
    return txn.ScanRequestIds(
        2, [&](std::string_view id) { ids.emplace_back(id); }, max_id);
  })));
  EXPECT_EQ(ids, (std::vector<std::string>{"a2", "req-special"}));
  EXPECT_EQ(max_id, 4);
  ids.clear();
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) {
    return txn.ScanRequestIds(
        4, [&](std::string_view id) { ids.emplace_back(id); }, max_id);
  })));
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(max_id, 4);
}

TEST(SqliteLedgerTest, RecordBatchAssignsIdAndStoresEveryField) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = MustOpen(path);
  IngestBatchRow b{0, kT0, "file:logs.jsonl", 10, 19, 12, 10, 1, 1, Usd("0.000123")};
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) { return txn.RecordBatch(b); })));
  EXPECT_EQ(b.id, 1);
  Raw raw(path);
  EXPECT_EQ(raw.Query("SELECT received_at_ms || '|' || source || '|' || first_usage_id || '|' || "
                      "last_usage_id || '|' || read || '|' || applied || '|' || duplicates || '|' "
                      "|| rejected || '|' || cost_nanos FROM ingest_batches"),
            std::to_string(kT0.unix_millis()) + "|file:logs.jsonl|10|19|12|10|1|1|123000");
}

TEST(SqliteLedgerTest, ScanRequestIdsSinceHonoursTheWindow) {
  auto store = MustOpen(":memory:");
  PrincipalRow p = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  const Timestamp t1 = kT0;
  const Timestamp t2 = kT0.PlusSeconds(3600);
  const Timestamp t3 = kT0.PlusSeconds(7200);
  auto apply = [&](const std::string& prefix, int n, Timestamp at, bool record_batch) {
    ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
      auto first = txn.AppendUsage(MakeUsageRows(n, prefix, p.id, at));
      if (!first.ok()) return first.status();
      if (!record_batch) return Status::Ok();
      IngestBatchRow b;
      b.received_at = at;
      b.source = "test";
      b.first_usage_id = *first;
      b.last_usage_id = *first + n - 1;
      b.read = b.applied = n;
      return txn.RecordBatch(b);
    })));
    // A batch that applied nothing (all duplicates) is recorded with last_usage_id 0.
    ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) {
      IngestBatchRow empty;
      empty.received_at = at;
      empty.source = "test";
      empty.read = empty.duplicates = 2;
      return txn.RecordBatch(empty);
    })));
  };
  apply("old-", 3, t1, true);  // ids 1..3
  apply("mid-", 2, t2, true);  // ids 4..5
  apply("new-", 2, t3, true);  // ids 6..7

  int64_t max_id = 0;
  EXPECT_EQ(ScanSince(*store, t1, max_id).size(), 7U);
  EXPECT_EQ(max_id, 7);
  EXPECT_EQ(ScanSince(*store, t1.PlusMillis(1), max_id),
            (std::vector<std::string>{"mid-0", "mid-1", "new-0", "new-1"}));
  EXPECT_EQ(ScanSince(*store, t3, max_id), (std::vector<std::string>{"new-0", "new-1"}));
  EXPECT_TRUE(ScanSince(*store, t3.PlusMillis(1), max_id).empty());
  EXPECT_EQ(max_id, 7);

  // Rows written without a batch row after the last batch are never missed.
  apply("loose-", 1, t3, false);  // id 8
  EXPECT_EQ(ScanSince(*store, t3.PlusSeconds(60), max_id), std::vector<std::string>{"loose-0"});
  EXPECT_EQ(max_id, 8);
}

TEST(SqliteLedgerTest, QueryUsageGroupsWithExactSums) {
  auto store = MustOpen(":memory:");
  PrincipalRow a = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "a"));
  PrincipalRow b = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "b"));
  const int64_t h0 = T("2026-03-09T23:00:00Z").unix_seconds() / 3600;
  auto agg = [](int64_t pid, int64_t hour, const char* model, int64_t requests, int64_t cost,
                int64_t unpriced) {
    UsageAggregate g;
    g.principal_id = pid;
    g.hour = hour;
    g.model = model;
    g.requests = requests;
    g.tokens = {requests * 100, requests * 10, requests, 2 * requests};
    g.cost = Money::FromNanos(cost);
    g.unpriced_requests = unpriced;
    return g;
  };
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    RETURN_IF_ERROR(txn.AddAggregates({
        agg(a.id, h0, "claude", 2, 1'000'000'001, 0),    // 2026-03-09 23:00
        agg(a.id, h0 + 1, "claude", 1, 500, 0),          // 2026-03-10 00:00
        agg(a.id, h0 + 1, "nova", 4, 2'000'000'000, 4),  //
        agg(b.id, h0 + 2, "claude", 3, 7, 0),            // 2026-03-10 01:00
    }));
    // Upserts add to the existing roll-up.
    return txn.AddAggregates({agg(a.id, h0, "claude", 1, 1, 1)});
  })));

  using G = UsageQuery::GroupBy;
  auto q = [](G g, std::optional<int64_t> principal = {}, std::optional<Timestamp> from = {},
              std::optional<Timestamp> to = {}) {
    UsageQuery out;
    out.principal_id = principal;
    out.from = from;
    out.to = to;
    out.group_by = g;
    return out;
  };
  auto query = [&](UsageQuery uq) {
    auto r = store->QueryUsage(uq);
    EXPECT_TRUE(IsOk(r));
    return r.ok() ? *r : std::vector<UsageQueryRow>{};
  };

  auto total = query(q(G::kNone));
  ASSERT_EQ(total.size(), 1U);
  EXPECT_EQ(total[0].key, "total");
  EXPECT_EQ(total[0].requests, 11);
  EXPECT_EQ(total[0].tokens, (TokenCounts{1100, 110, 11, 22}));
  EXPECT_EQ(total[0].cost, Money::FromNanos(3'000'000'509));
  EXPECT_EQ(total[0].unpriced_requests, 5);

  auto by_model = query(q(G::kModel));
  ASSERT_EQ(by_model.size(), 2U);
  EXPECT_EQ(by_model[0].key, "nova");  // highest cost first
  EXPECT_EQ(by_model[0].cost, Money::FromNanos(2'000'000'000));
  EXPECT_EQ(by_model[1].key, "claude");
  EXPECT_EQ(by_model[1].cost, Money::FromNanos(1'000'000'509));
  EXPECT_EQ(by_model[1].requests, 7);

  auto by_day = query(q(G::kDay));
  ASSERT_EQ(by_day.size(), 2U);
  EXPECT_EQ(by_day[0].key, "2026-03-09");
  EXPECT_EQ(by_day[0].cost, Money::FromNanos(1'000'000'002));
  EXPECT_EQ(by_day[1].key, "2026-03-10");
  EXPECT_EQ(by_day[1].cost, Money::FromNanos(2'000'000'507));
  EXPECT_EQ(by_day[1].requests, 8);

  auto by_hour = query(q(G::kHour));
  ASSERT_EQ(by_hour.size(), 3U);
  EXPECT_EQ(by_hour[0].key, "2026-03-09T23:00:00Z");
  EXPECT_EQ(by_hour[1].key, "2026-03-10T00:00:00Z");
  EXPECT_EQ(by_hour[1].requests, 5);
  EXPECT_EQ(by_hour[2].key, "2026-03-10T01:00:00Z");

  auto by_principal = query(q(G::kPrincipal));
  ASSERT_EQ(by_principal.size(), 2U);
  EXPECT_EQ(by_principal[0].key, std::to_string(a.id));
  EXPECT_EQ(by_principal[0].cost, Money::FromNanos(3'000'000'502));
  EXPECT_EQ(by_principal[1].key, std::to_string(b.id));
  EXPECT_EQ(by_principal[1].cost, Money::FromNanos(7));

  // Filters: principal; from rounded down and to rounded up to the hour.
  auto only_b = query(q(G::kNone, b.id));
  ASSERT_EQ(only_b.size(), 1U);
  EXPECT_EQ(only_b[0].requests, 3);
  auto window =
      query(q(G::kHour, std::nullopt, T("2026-03-10T00:59:59Z"), T("2026-03-10T00:00:01Z")));
  ASSERT_EQ(window.size(), 1U);
  EXPECT_EQ(window[0].key, "2026-03-10T00:00:00Z");
  auto to_exclusive = query(q(G::kHour, std::nullopt, std::nullopt, T("2026-03-10T00:00:00Z")));
  ASSERT_EQ(to_exclusive.size(), 1U);
  EXPECT_EQ(to_exclusive[0].key, "2026-03-09T23:00:00Z");

  // No data: one zero total row, no grouped rows.
  auto empty_total = query(q(G::kNone, 999));
  ASSERT_EQ(empty_total.size(), 1U);
  EXPECT_EQ(empty_total[0].requests, 0);
  EXPECT_TRUE(query(q(G::kModel, 999)).empty());
}

TEST(SqliteLedgerTest, PeriodSpendAddsUp) {
  auto store = MustOpen(":memory:");
  PrincipalRow p = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  const Timestamp start = kT0;
  const Timestamp end = kT0.PlusSeconds(30 * 86400);
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    RETURN_IF_ERROR(txn.AddPeriodSpend(p.id, start, end, Usd("0.25")));
    RETURN_IF_ERROR(txn.AddPeriodSpend(p.id, start, end, Money::FromNanos(1)));
    return txn.AddPeriodSpend(p.id, end, end.PlusSeconds(86400), Usd("3"));
  })));
  EXPECT_EQ(*store->PeriodSpend(p.id, start), Usd("0.250000001"));
  EXPECT_EQ(*store->PeriodSpend(p.id, end), Usd("3"));
  EXPECT_EQ(*store->PeriodSpend(p.id, start.PlusSeconds(1)), Money());
}

// ---------------------------------------------------------------------------------------------
// Audit, outbox, unpriced models, meta
// ---------------------------------------------------------------------------------------------

TEST(SqliteLedgerTest, AuditRoundTripsAndFilters) {
  auto store = MustOpen(":memory:");
  PrincipalRow a = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "a"));
  PrincipalRow b = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "b"));
  const AuditEntry transition{0,
                              kT0,
                              a.id,
                              "system",
                              "transition",
                              BudgetStatus::kCritical,
                              BudgetStatus::kGracePeriod,
                              "usage",
                              R"({"spent":"1.00"})"};
  const AuditEntry global{0, kT0.PlusSeconds(1), {}, "cli:ops", "defaults_changed", {}, {}, "", ""};
  std::vector<int64_t> ids;
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    for (const AuditEntry* e : {&transition, &global, &transition}) {
      auto id = txn.AppendAudit(*e);
      if (!id.ok()) return id.status();
      ids.push_back(*id);
    }
    AuditEntry for_b = transition;
    for_b.principal_id = b.id;
    return txn.AppendAudit(for_b).status();
  })));
  ASSERT_EQ(ids, (std::vector<int64_t>{1, 2, 3}));

  auto all = store->QueryAudit({});
  ASSERT_TRUE(IsOk(all));
  ASSERT_EQ(all->size(), 4U);
  const AuditEntry& got = (*all)[0];
  EXPECT_EQ(got.id, 1);
  EXPECT_EQ(got.at, transition.at);
  EXPECT_EQ(got.principal_id, a.id);
  EXPECT_EQ(got.actor, "system");
  EXPECT_EQ(got.kind, "transition");
  EXPECT_EQ(got.from, BudgetStatus::kCritical);
  EXPECT_EQ(got.to, BudgetStatus::kGracePeriod);
  EXPECT_EQ(got.trigger, "usage");
  EXPECT_EQ(got.details, R"({"spent":"1.00"})");
  EXPECT_FALSE((*all)[1].principal_id.has_value());
  EXPECT_FALSE((*all)[1].from.has_value());
  EXPECT_EQ((*all)[1].actor, "cli:ops");

  auto aq = [](std::optional<int64_t> principal, std::optional<int64_t> after, int64_t limit) {
    AuditQuery out;
    out.principal_id = principal;
    out.after_id = after;
    out.limit = limit;
    return out;
  };
  auto of_a = store->QueryAudit(aq(a.id, std::nullopt, 1000));
  ASSERT_EQ(of_a->size(), 2U);
  EXPECT_EQ((*of_a)[1].id, 3);
  auto after = store->QueryAudit(aq(std::nullopt, 1, 2));
  ASSERT_EQ(after->size(), 2U);
  EXPECT_EQ((*after)[0].id, 2);
  EXPECT_EQ((*after)[1].id, 3);
  EXPECT_EQ(store->QueryAudit(aq(a.id, 1, 1000))->size(), 1U);
  EXPECT_EQ(store->QueryAudit(aq(std::nullopt, std::nullopt, 0))->size(), 4U);
}

TEST(SqliteLedgerTest, AuditIsAppendOnly) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = MustOpen(path);
  ASSERT_TRUE(IsOk(store->WriteTransaction([](LedgerTxn& txn) {
    return txn.AppendAudit({0, kT0, {}, "system", "note", {}, {}, "", "{}"}).status();
  })));
  Raw raw(path);
  EXPECT_EQ(raw.Exec("UPDATE audit SET actor = 'mallory'"), "audit entries are append-only");
  EXPECT_EQ(raw.Exec("DELETE FROM audit"), "audit entries are append-only");
  auto all = store->QueryAudit({});
  ASSERT_EQ(all->size(), 1U);
  EXPECT_EQ((*all)[0].actor, "system");
}

TEST(SqliteLedgerTest, OutboxRoundTripsUpdatesAndListsNewestFirst) {
  auto store = MustOpen(":memory:");
  PrincipalRow p = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bob"));
  OutboxAction act;
  act.created_at = kT0;
  act.kind = "notify";
  act.event = "grace_period";
  act.principal_id = p.id;
  act.payload = R"({"principal":"111122223333:bob","percent":"100.00"})";
  act.next_attempt_at = kT0;
  OutboxAction alert;
  alert.created_at = kT0.PlusSeconds(1);
  alert.kind = "operator_alert";
  alert.event = "unpriced_model";
  alert.payload = "{}";
  alert.next_attempt_at = kT0.PlusSeconds(1);
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto audit_id = txn.AppendAudit({0, kT0, p.id, "system", "transition", BudgetStatus::kCritical,
                                     BudgetStatus::kGracePeriod, "usage", "{}"});
    if (!audit_id.ok()) return audit_id.status();
    act.audit_id = *audit_id;
    auto id1 = txn.AppendOutbox(act);
    if (!id1.ok()) return id1.status();
    act.id = *id1;
    auto id2 = txn.AppendOutbox(alert);
    if (!id2.ok()) return id2.status();
    alert.id = *id2;
    return Status::Ok();
  })));

  auto list = store->ListOutbox(10);
  ASSERT_TRUE(IsOk(list));
  ASSERT_EQ(list->size(), 2U);
  EXPECT_EQ((*list)[0].id, alert.id);
  const OutboxAction& got = (*list)[1];
  EXPECT_EQ(got.id, act.id);
  EXPECT_EQ(got.created_at, act.created_at);
  EXPECT_EQ(got.kind, "notify");
  EXPECT_EQ(got.event, "grace_period");
  EXPECT_EQ(got.principal_id, p.id);
  EXPECT_EQ(got.audit_id, act.audit_id);
  EXPECT_EQ(got.payload, act.payload);
  EXPECT_EQ(got.status, OutboxStatus::kPending);
  EXPECT_EQ(got.attempts, 0);
  EXPECT_FALSE((*list)[0].principal_id.has_value());
  EXPECT_FALSE((*list)[0].audit_id.has_value());

  act.status = OutboxStatus::kFailed;
  act.attempts = 3;
  act.next_attempt_at = kT0.PlusSeconds(40);
  act.last_error = "slack: 503 Service Unavailable";
  act.channel = "slack";
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) { return txn.UpdateOutbox(act); })));
  auto one = store->ListOutbox(1);
  ASSERT_EQ(one->size(), 1U);
  EXPECT_EQ((*one)[0].id, alert.id);
  const OutboxAction updated = (*store->ListOutbox(0))[1];
  EXPECT_EQ(updated.status, OutboxStatus::kFailed);
  EXPECT_EQ(updated.attempts, 3);
  EXPECT_EQ(updated.next_attempt_at, kT0.PlusSeconds(40));
  EXPECT_EQ(updated.last_error, "slack: 503 Service Unavailable");
  EXPECT_EQ(updated.channel, "slack");

  OutboxAction ghost = act;
  ghost.id = 77;
  EXPECT_TRUE(
      StatusIs(store->WriteTransaction([&](LedgerTxn& txn) { return txn.UpdateOutbox(ghost); }),
               Code::kNotFound, "77"));
}

TEST(SqliteLedgerTest, OutboxStatusNamesRoundTrip) {
  for (OutboxStatus s : {OutboxStatus::kPending, OutboxStatus::kDelivered, OutboxStatus::kFailed,
                         OutboxStatus::kDead}) {
    OutboxStatus back = OutboxStatus::kPending;
    ASSERT_TRUE(ParseOutboxStatus(OutboxStatusName(s), back));
    EXPECT_EQ(back, s);
  }
  OutboxStatus ignored;
  EXPECT_FALSE(ParseOutboxStatus("sent", ignored));
}

TEST(SqliteLedgerTest, UnpricedModelIsNewOnlyOnce) {
  auto store = MustOpen(":memory:");
  std::vector<bool> firsts;
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    for (const char* m : {"acme.mystery-v1", "acme.mystery-v1", "zeta.x", "acme.mystery-v1"}) {
      auto first = txn.NoteUnpricedModel(m, kT0);
      if (!first.ok()) return first.status();
      firsts.push_back(*first);
    }
    return Status::Ok();
  })));
  EXPECT_EQ(firsts, (std::vector<bool>{true, false, true, false}));
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto first = txn.NoteUnpricedModel("zeta.x", kT0.PlusSeconds(9));
    if (!first.ok()) return first.status();
    EXPECT_FALSE(*first);
    return Status::Ok();
  })));
  auto models = store->ListUnpricedModels();
  ASSERT_TRUE(IsOk(models));
  ASSERT_EQ(models->size(), 2U);
  EXPECT_EQ((*models)[0].model, "acme.mystery-v1");
  EXPECT_EQ((*models)[0].requests, 3);
  EXPECT_EQ((*models)[0].first_seen, kT0);
  EXPECT_EQ((*models)[1].model, "zeta.x");
  EXPECT_EQ((*models)[1].requests, 2);
  EXPECT_EQ((*models)[1].first_seen, kT0);
}

TEST(SqliteLedgerTest, MetaGetAndSet) {
  auto store = MustOpen(":memory:");
  ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
    auto missing = txn.GetMeta("defaults");
    if (!missing.ok()) return missing.status();
    EXPECT_FALSE(missing->has_value());
    RETURN_IF_ERROR(txn.SetMeta("defaults", "one"));
    RETURN_IF_ERROR(txn.SetMeta("defaults", "two"));
    auto got = txn.GetMeta("defaults");
    if (!got.ok()) return got.status();
    EXPECT_EQ(got->value_or(""), "two");
    return Status::Ok();
  })));
}

// ---------------------------------------------------------------------------------------------
// Throughput, by hand:
//   store_sqlite_test --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
// ---------------------------------------------------------------------------------------------

// A 36-character request id that looks random (as Bedrock's are).
std::string UuidLike(uint64_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t x = (n + 1) * 0x9E3779B97F4A7C15ULL;
  std::string out = "xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx";
  for (char& c : out) {
    if (c != 'x') continue;
    c = kHex[x & 0xf];
    x = (x >> 4) | (x << 60);
    x ^= x >> 7;
  }
  return out;
}

TEST(SqliteLedgerBenchTest, DISABLED_AppendThroughput) {
  TempDir dir;
  const std::string path = dir.File("bench.db");
  auto store = MustOpen(path, SqliteOptions{});
  ASSERT_NE(store, nullptr);
  PrincipalRow p = Insert(*store, MakePrincipal("111122223333", PrincipalKind::kUser, "bench"));
  constexpr int kRows = 1'000'000;
  constexpr int kBatch = 10'000;
  std::vector<std::vector<UsageRow>> batches;
  for (int b = 0; b < kRows / kBatch; ++b) {
    std::vector<UsageRow> rows;
    rows.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      rows.push_back(MakeUsage(UuidLike(static_cast<uint64_t>(b * kBatch + i)), p.id,
                               kT0.PlusMillis(b * kBatch + i)));
    }
    batches.push_back(std::move(rows));
  }
  const auto start = std::chrono::steady_clock::now();
  int64_t next = 1;
  for (const auto& rows : batches) {
    ASSERT_TRUE(IsOk(store->WriteTransaction([&](LedgerTxn& txn) -> Status {
      auto first = txn.AppendUsage(rows);
      if (!first.ok()) return first.status();
      EXPECT_EQ(*first, next);
      next += static_cast<int64_t>(rows.size());
      IngestBatchRow batch;
      batch.received_at = rows.front().received_at;
      batch.source = "bench";
      batch.first_usage_id = *first;
      batch.last_usage_id = next - 1;
      return txn.RecordBatch(batch);
    })));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("AppendUsage: %d rows in batches of %d, synchronous FULL: %.2f s, %.0f rows/s\n",
              kRows, kBatch, seconds, kRows / seconds);
  int64_t max_id = 0;
  const auto scan_start = std::chrono::steady_clock::now();
  size_t scanned = 0;
  ASSERT_TRUE(IsOk(store->ScanRequestIdsSince(
      Timestamp(), [&](std::string_view) { ++scanned; }, max_id)));
  const double scan_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count();
  std::printf("ScanRequestIdsSince: %zu ids in %.2f s\n", scanned, scan_seconds);
  EXPECT_EQ(max_id, kRows);
}

}  // namespace
}  // namespace budgeteer
