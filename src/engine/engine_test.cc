#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "pricing/catalog_file.h"
#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer {
namespace {

Timestamp T(const char* text) { return *Timestamp::Parse(text); }
Money Usd(const char* text) { return *Money::ParseUsd(text); }

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteLedger(":memory:", SqliteOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto catalog = LoadEmbeddedCatalog();
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    Reopen();
  }

  void Reopen() {
    auto engine = Engine::Open(*store_, catalog_, options_, clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  // A Claude 3 Haiku call: $0.25 / $1.25 per million tokens, so 1M input tokens cost $0.25.
  UsageRecord Haiku(const std::string& id, int64_t input_tokens, const char* caller, Timestamp at) {
    UsageRecord r;
    r.request_id = RequestId(id);
    r.timestamp = at;
    r.caller = caller;
    r.account_id = "111122223333";
    r.region = "us-east-1";
    r.operation = Operation::kConverse;
    r.model_id = ModelId(std::string("anthropic.claude-3-haiku-20240307-v1:0"));
    r.tokens.input = input_tokens;
    return r;
  }

  BatchOutcome Apply(std::vector<UsageRecord> records) {
    auto outcome = engine_->ApplyBatch(records, "test");
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? *outcome : BatchOutcome();
  }

  BudgetView Show(const std::string& principal) {
    auto view = engine_->ShowBudget(principal);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? *view : BudgetView();
  }

  static constexpr const char* kKey = "arn:aws:iam::111122223333:user/BedrockAPIKey-abc";
  EngineOptions options_;
  FixedClock clock_{T("2026-03-01T12:00:00Z")};
  std::unique_ptr<LedgerStore> store_;
  PriceCatalog catalog_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, PricesExactlyAndCountsEachRequestIdOnce) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  BatchOutcome o = Apply({Haiku("r1", 1'000'000, kKey, at), Haiku("r1", 1'000'000, kKey, at),
                          Haiku("r2", 400'000, kKey, at)});
  EXPECT_EQ(o.applied, 2);
  EXPECT_EQ(o.duplicates, 1);
  EXPECT_EQ(o.cost, Usd("0.35"));
  // Again, in a later batch and after a restart.
  o = Apply({Haiku("r2", 400'000, kKey, at)});
  EXPECT_EQ(o.duplicates, 1);
  Reopen();
  o = Apply({Haiku("r1", 1'000'000, kKey, at)});
  EXPECT_EQ(o.duplicates, 1);
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.spent, Usd("0.35"));
}

TEST_F(EngineTest, NewPrincipalGetsDefaultBudgetAndAuditEntry) {
  Apply({Haiku("r1", 10, kKey, T("2026-03-01T11:00:00Z"))});
  const BudgetView v = Show("111122223333:BedrockAPIKey-abc");
  EXPECT_EQ(v.settings.limit, Money::FromUsd(1));
  EXPECT_EQ(v.row.key.kind, PrincipalKind::kUser);
  auto audit = store_->QueryAudit(AuditQuery{});
  ASSERT_TRUE(audit.ok());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->front().kind, "principal_created");
}

TEST_F(EngineTest, ThresholdTransitionsWriteAuditAndOutbox) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  // $0.25 per million input tokens: 2.8M tokens = $0.70 = warning.
  Apply({Haiku("a", 2'800'000, kKey, at)});
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.status, BudgetStatus::kWarning);
  Apply({Haiku("b", 800'000, kKey, at)});  // $0.90
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.status, BudgetStatus::kCritical);
  Apply({Haiku("c", 400'000, kKey, at)});  // $1.00
  const BudgetView v = Show("BedrockAPIKey-abc");
  EXPECT_EQ(v.row.state.status, BudgetStatus::kGracePeriod);
  EXPECT_EQ(v.row.state.grace_deadline, clock_.Now().PlusSeconds(300));
  auto outbox = store_->ListOutbox(100);
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(outbox->size(), 3U);  // one notification per transition, none for access yet

  clock_.Advance(299);
  ASSERT_TRUE(engine_->Tick().ok());
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.status, BudgetStatus::kGracePeriod);
  clock_.Advance(1);
  auto tick = engine_->Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_EQ(tick->transitions, 1);
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.status, BudgetStatus::kSuspended);
  outbox = store_->ListOutbox(100);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 5U);  // + notification + suspend_access
  int suspend_actions = 0;
  for (const auto& a : *outbox) suspend_actions += a.kind == "suspend_access" ? 1 : 0;
  EXPECT_EQ(suspend_actions, 1);
}

TEST_F(EngineTest, EachTransitionShowsTheFiguresOfItsOwnMoment) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  // One batch crosses warning ($0.70) and then critical ($0.90).
  Apply({Haiku("a", 2'800'000, kKey, at), Haiku("b", 800'000, kKey, at)});
  auto outbox = store_->ListOutbox(100);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 2U);
  for (const auto& a : *outbox) {
    const std::string want = a.event == "warning" ? R"("spent_usd":0.7,)" : R"("spent_usd":0.9,)";
    EXPECT_NE(a.payload.find(want), std::string::npos) << a.event << ": " << a.payload;
  }
}

TEST_F(EngineTest, AssumedRolesAndRequestMetadata) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  UsageRecord r = Haiku("x", 1000, "arn:aws:sts::111122223333:assumed-role/TeamRole/alice", at);
  r.tags = {{"userId", "someone-else"}};
  Apply({r});
  const BudgetView v = Show("TeamRole");
  EXPECT_EQ(v.row.key.kind, PrincipalKind::kRole);
  EXPECT_EQ(engine_->ShowBudget("someone-else").status().code(), Code::kNotFound);
}

TEST_F(EngineTest, LateRecordsGoToHistoryWithoutReopeningThePeriod) {
  options_.defaults.period = PeriodSpec{PeriodKind::kMonthly, 0};
  Reopen();
  Apply({Haiku("now", 100, kKey, T("2026-03-01T11:00:00Z"))});
  BatchOutcome o = Apply({Haiku("late", 2'000'000, kKey, T("2026-02-27T10:00:00Z"))});
  EXPECT_EQ(o.late, 1);
  const BudgetView v = Show("BedrockAPIKey-abc");
  EXPECT_EQ(v.row.state.status, BudgetStatus::kActive);
  EXPECT_EQ(v.row.state.spent, Usd("0.000025"));
  auto rolled = engine_->RollUp();
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(*rolled, 2);
  auto feb = store_->PeriodSpend(v.row.id, T("2026-02-01T00:00:00Z"));
  ASSERT_TRUE(feb.ok());
  EXPECT_EQ(*feb, Usd("0.5"));
}

TEST_F(EngineTest, UnknownModelIsNeverFreeAndReportedOnce) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  UsageRecord r = Haiku("u1", 1000, kKey, at);
  r.model_id = ModelId(std::string("acme.mystery-model-v9:0"));
  UsageRecord r2 = r;
  r2.request_id = RequestId(std::string("u2"));
  BatchOutcome o = Apply({r, r2});
  EXPECT_EQ(o.unpriced, 2);
  EXPECT_GT(o.cost, Money());
  UsageRecord r3 = r;
  r3.request_id = RequestId(std::string("u3"));
  Apply({r3});
  auto outbox = store_->ListOutbox(100);
  ASSERT_TRUE(outbox.ok());
  int alerts = 0;
  for (const auto& a : *outbox) alerts += a.event == "unpriced_model" ? 1 : 0;
  EXPECT_EQ(alerts, 1);
}

TEST_F(EngineTest, FutureRecordsAreRejectedNotApplied) {
  BatchOutcome o = Apply({Haiku("f", 10, kKey, T("2026-03-02T12:00:00Z")),
                          Haiku("ok", 10, kKey, T("2026-03-01T12:04:00Z"))});
  ASSERT_EQ(o.rejected.size(), 1U);
  EXPECT_EQ(o.rejected[0].index, 0U);
  EXPECT_NE(o.rejected[0].reason.find("ahead of the clock"), std::string::npos);
  EXPECT_EQ(o.applied, 1);
}

TEST_F(EngineTest, OperatorActionsAreAuditedWithTheActor) {
  Apply({Haiku("a", 4'400'000, kKey, T("2026-03-01T11:00:00Z"))});  // $1.10: grace
  ASSERT_TRUE(engine_->Suspend("BedrockAPIKey-abc", "cli:alice").ok());
  auto refused = engine_->Restore("BedrockAPIKey-abc", false, "cli:alice");
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  SettingsPatch patch;
  patch.limit = Usd("5");
  auto raised = engine_->UpdateSettings("BedrockAPIKey-abc", patch, "cli:alice");
  ASSERT_TRUE(raised.ok());
  EXPECT_EQ(raised->row.state.status, BudgetStatus::kSuspended);  // manual: stays
  auto restored = engine_->Restore("BedrockAPIKey-abc", false, "cli:alice");
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->row.state.status, BudgetStatus::kActive);
  auto audit = store_->QueryAudit(AuditQuery{});
  ASSERT_TRUE(audit.ok());
  int by_alice = 0;
  for (const auto& e : *audit) by_alice += e.actor == "cli:alice" ? 1 : 0;
  EXPECT_GE(by_alice, 3);  // suspend transition, settings_changed, restore transition
}

TEST_F(EngineTest, RollUpIsExactAndIncremental) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  Apply({Haiku("a", 1'000'000, kKey, at), Haiku("b", 400'000, kKey, at.PlusSeconds(3600))});
  ASSERT_EQ(*engine_->RollUp(), 2);
  // Caught up: rows applied from now on are summed as they are applied and written at once.
  Apply({Haiku("c", 400'000, kKey, at), Haiku("d", 400'000, kKey, at)});
  ASSERT_EQ(*engine_->RollUp(/*max_rows=*/1), 2);
  ASSERT_EQ(*engine_->RollUp(), 0);
  UsageQuery q;
  q.group_by = UsageQuery::GroupBy::kHour;
  auto rows = store_->QueryUsage(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0].cost, Usd("0.45"));
  EXPECT_EQ((*rows)[0].requests, 3);
  EXPECT_EQ((*rows)[1].cost, Usd("0.1"));
}

// After a restart the engine reads the rows past the watermark back, in slices when asked (the
// scheduler's way of not holding the engine lock for long); the result is the same.
TEST_F(EngineTest, RollUpAfterARestartScansInSlices) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  Apply({Haiku("a", 1'000'000, kKey, at), Haiku("b", 400'000, kKey, at),
         Haiku("c", 400'000, kKey, at.PlusSeconds(3600))});
  Reopen();
  ASSERT_EQ(*engine_->RollUp(/*max_rows=*/2), 2);
  ASSERT_EQ(*engine_->RollUp(/*max_rows=*/2), 1);
  ASSERT_EQ(*engine_->RollUp(/*max_rows=*/2), 0);
  UsageQuery q;
  q.group_by = UsageQuery::GroupBy::kHour;
  auto rows = store_->QueryUsage(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0].cost, Usd("0.35"));
  EXPECT_EQ((*rows)[1].cost, Usd("0.1"));
}

// Two engines append to one ledger: the roll-up sums one of them keeps in memory must never
// miss or double the other's rows, however their batches interleave.
TEST(EngineTwoWritersTest, RollUpCountsEveryRowOnce) {
  char dir_template[] = "/tmp/budgeteer-engine-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/ledger.db";
  auto catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok());
  FixedClock clock(T("2026-03-01T12:00:00Z"));
  auto store_a = OpenSqliteLedger(path, SqliteOptions{});
  auto store_b = OpenSqliteLedger(path, SqliteOptions{});
  ASSERT_TRUE(store_a.ok() && store_b.ok());
  auto a = Engine::Open(**store_a, *catalog, EngineOptions{}, clock);
  auto b = Engine::Open(**store_b, *catalog, EngineOptions{}, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  int next = 0;
  auto apply = [&](Engine& e) {  // one $0.25 record
    UsageRecord r;
    r.request_id = RequestId("r" + std::to_string(++next));
    r.timestamp = T("2026-03-01T11:00:00Z");
    r.caller = "arn:aws:iam::111122223333:user/shared";
    r.model_id = ModelId(std::string("anthropic.claude-3-haiku-20240307-v1:0"));
    r.tokens.input = 1'000'000;
    auto applied = e.ApplyBatch({r}, "test");
    ASSERT_TRUE(applied.ok()) << "record " << next << ": " << applied.status().ToString();
  };
  auto rolled_cost = [&]() {
    UsageQuery q;
    q.group_by = UsageQuery::GroupBy::kModel;
    auto rows = (*store_a)->QueryUsage(q);
    EXPECT_TRUE(rows.ok() && rows->size() == 1U);
    return rows.ok() && !rows->empty() ? (*rows)[0].cost : Money();
  };
  ASSERT_TRUE((*a)->RollUp().ok());  // a's sums are valid from here
  apply(**a);
  apply(**b);  // after a's rows: found by a's check for rows past its own
  ASSERT_TRUE((*a)->RollUp().ok());
  EXPECT_EQ(rolled_cost(), Usd("0.5"));
  apply(**a);
  apply(**b);
  apply(**a);  // a gap in a's rows: a drops its sums and scans
  ASSERT_TRUE((*a)->RollUp().ok());
  EXPECT_EQ(rolled_cost(), Usd("1.25"));
  ASSERT_TRUE((*a)->RollUp().ok());  // valid again
  apply(**a);
  ASSERT_TRUE((*b)->RollUp().ok());  // b rolls a's row up: a's watermark check notices
  apply(**a);
  ASSERT_TRUE((*a)->RollUp().ok());
  ASSERT_TRUE((*b)->RollUp().ok());
  EXPECT_EQ(rolled_cost(), Usd("1.75"));
  std::filesystem::remove_all(dir_template);
}

// Two processes share one ledger file: each engine's principal cache must notice the other's
// commits (a record applied by one is never lost from the other's spend).
TEST(EngineTwoWritersTest, CachesFollowTheOtherWriter) {
  char dir_template[] = "/tmp/budgeteer-engine-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/ledger.db";
  auto catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok());
  FixedClock clock(T("2026-03-01T12:00:00Z"));
  auto store_a = OpenSqliteLedger(path, SqliteOptions{});
  auto store_b = OpenSqliteLedger(path, SqliteOptions{});
  ASSERT_TRUE(store_a.ok() && store_b.ok());
  auto a = Engine::Open(**store_a, *catalog, EngineOptions{}, clock);
  auto b = Engine::Open(**store_b, *catalog, EngineOptions{}, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  auto record = [](const std::string& id) {
    UsageRecord r;
    r.request_id = RequestId(id);
    r.timestamp = T("2026-03-01T11:00:00Z");
    r.caller = "arn:aws:iam::111122223333:user/shared";
    r.model_id = ModelId(std::string("anthropic.claude-3-haiku-20240307-v1:0"));
    r.tokens.input = 1'000'000;  // $0.25
    return r;
  };
  ASSERT_TRUE((*a)->ApplyBatch({record("1")}, "a").ok());
  ASSERT_TRUE((*b)->ApplyBatch({record("2")}, "b").ok());
  ASSERT_TRUE((*a)->ApplyBatch({record("3")}, "a").ok());
  auto dup = (*b)->ApplyBatch({record("3"), record("4")}, "b");
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->duplicates, 1);
  auto view = (*a)->ShowBudget("shared");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->row.state.spent, Usd("1"));
  EXPECT_EQ(view->row.state.status, BudgetStatus::kGracePeriod);
  std::filesystem::remove_all(dir_template);
}

TEST_F(EngineTest, ChangedDefaultsApplyToPrincipalsThatFollowThem) {
  Apply({Haiku("a", 2'000'000, kKey, T("2026-03-01T11:00:00Z"))});  // $0.50 of $1
  ASSERT_TRUE(engine_->ApplyDefaultsIfChanged("test").ok());
  options_.defaults.limit = Usd("0.6");
  Reopen();
  ASSERT_TRUE(engine_->ApplyDefaultsIfChanged("test").ok());
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.status, BudgetStatus::kWarning);
}

TEST_F(EngineTest, DefaultsSetAtRunTimeApplyAndAreAudited) {
  Apply({Haiku("a", 2'000'000, kKey, T("2026-03-01T11:00:00Z"))});  // $0.50 of $1
  ASSERT_TRUE(engine_->ApplyDefaultsIfChanged("test").ok());
  BudgetSettings d = engine_->defaults();
  d.limit = Usd("0.55");  // 91 %: critical
  ASSERT_TRUE(engine_->SetDefaults(d, "ssm").ok());
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.status, BudgetStatus::kCritical);
  EXPECT_EQ(engine_->defaults().limit, Usd("0.55"));
  ASSERT_TRUE(engine_->SetDefaults(d, "ssm").ok());  // unchanged: nothing new in the audit
  AuditQuery q;
  auto audit = store_->QueryAudit(q);
  ASSERT_TRUE(audit.ok());
  int changes = 0;
  for (const auto& e : *audit) {
    if (e.kind == "defaults_changed") {
      ++changes;
      EXPECT_EQ(e.actor, "ssm");
    }
  }
  EXPECT_EQ(changes, 1);
  d.warn_percent = 95;  // above critical: refused, the defaults in force stay
  EXPECT_EQ(engine_->SetDefaults(d, "ssm").code(), Code::kInvalidArgument);
  EXPECT_EQ(engine_->defaults().warn_percent, 70);
}

TEST_F(EngineTest, NewPrincipalCapDefersFreshIdentitiesAndLosesNothing) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  Apply({Haiku("known-0", 1'000'000, kKey, at)});  // an existing principal ($0.25)
  engine_->SetNewPrincipalCap(2);
  // One batch: the known key and five fresh API keys (two records for the first of them).
  std::vector<UsageRecord> batch = {Haiku("known-1", 1'000'000, kKey, at)};
  std::vector<std::string> callers;
  callers.reserve(5);
  for (int i = 0; i < 5; ++i) {
    callers.push_back("arn:aws:iam::111122223333:user/BedrockAPIKey-fresh" + std::to_string(i));
  }
  for (int i = 0; i < 5; ++i) {
    batch.push_back(
        Haiku("fresh-" + std::to_string(i), 400'000, callers[static_cast<size_t>(i)].c_str(), at));
  }
  batch.push_back(Haiku("fresh-0b", 400'000, callers[0].c_str(), at));

  BatchOutcome o = Apply(batch);
  EXPECT_EQ(o.applied, 4);  // known-1, fresh-0, fresh-0b, fresh-1
  EXPECT_EQ(o.deferred_indices, (std::vector<size_t>{3, 4, 5}));
  EXPECT_EQ(o.cost, Usd("0.55"));
  auto budgets = engine_->ListBudgets();
  ASSERT_TRUE(budgets.ok());
  EXPECT_EQ(budgets->size(), 3U);

  // The producer sends the whole batch again within the minute: nothing new is created, the
  // applied records are duplicates, the rest is still deferred.
  clock_.Advance(30);
  o = Apply(batch);
  EXPECT_EQ(o.applied, 0);
  EXPECT_EQ(o.duplicates, 4);
  EXPECT_EQ(o.deferred_indices.size(), 3U);

  // A minute after the first creations, two more fit; then the last one.
  clock_.Advance(31);
  o = Apply(batch);
  EXPECT_EQ(o.applied, 2);
  EXPECT_EQ(o.deferred_indices, (std::vector<size_t>{5}));
  clock_.Advance(60);
  o = Apply(batch);
  EXPECT_EQ(o.applied, 1);
  EXPECT_TRUE(o.deferred_indices.empty());

  // Every record counted exactly once: $0.50 for the known key, $0.10 per fresh record.
  EXPECT_EQ(Show("BedrockAPIKey-abc").row.state.spent, Usd("0.5"));
  EXPECT_EQ(Show("BedrockAPIKey-fresh0").row.state.spent, Usd("0.2"));
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(Show("BedrockAPIKey-fresh" + std::to_string(i)).row.state.spent, Usd("0.1"));
  }
}

TEST_F(EngineTest, NoNewPrincipalCapByDefault) {
  const Timestamp at = T("2026-03-01T11:00:00Z");
  options_.identity.per_session_roles = {"Team"};
  Reopen();  // per-session budgets for the Team role, no cap
  std::vector<UsageRecord> batch;
  for (int i = 0; i < 50; ++i) {
    const std::string caller =
        "arn:aws:sts::111122223333:assumed-role/Team/session-" + std::to_string(i);
    batch.push_back(Haiku("s-" + std::to_string(i), 10, caller.c_str(), at));
  }
  BatchOutcome o = Apply(batch);
  EXPECT_EQ(o.applied, 50);
  EXPECT_TRUE(o.deferred_indices.empty());
}

}  // namespace
}  // namespace budgeteer
