// Fault injection at the engine's edges: a ledger whose commits fail (a full or read-only disk,
// through testing::FaultyLedger) and a wall clock that jumps forward and backward (FixedClock).
// What must hold: a batch whose commit failed leaves nothing behind (spend, audit, outbox,
// de-duplication) and is applied once when it is sent again; time-driven transitions happen
// once however the clock jumps, and a backward jump neither refreshes a period twice nor
// moves a grace deadline.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "engine/testing/engine_on_faulty_ledger.h"

namespace budgeteer {
namespace {

using testing::EngineOnFaultyLedger;
using testing::FaultyLedger;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }

constexpr const char* kKey = "arn:aws:iam::111122223333:user/BedrockAPIKey-abc";
constexpr const char* kName = "BedrockAPIKey-abc";

class EngineFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status opened = h_.Open(options_);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
  }

  // A Claude 3 Haiku call stamped a minute before the clock: 1M input tokens cost $0.25.
  UsageRecord Haiku(const std::string& id, int64_t input_tokens) const {
    UsageRecord r;
    r.request_id = RequestId(id);
    r.timestamp = h_.clock.Now().PlusSeconds(-60);
    r.caller = kKey;
    r.account_id = "111122223333";
    r.region = "us-east-1";
    r.operation = Operation::kConverse;
    r.model_id = ModelId(std::string("anthropic.claude-3-haiku-20240307-v1:0"));
    r.tokens.input = input_tokens;
    return r;
  }

  BudgetState State() {
    auto view = h_.engine->ShowBudget(kName);
    EXPECT_TRUE(view.ok()) << view.status().ToString();
    return view.ok() ? view->row.state : BudgetState();
  }

  // Outbox actions by kind (notify events as "notify:<event>").
  std::map<std::string, int> OutboxKinds() {
    std::map<std::string, int> kinds;
    auto outbox = h_.sqlite->ListOutbox(10'000);
    EXPECT_TRUE(outbox.ok());
    if (!outbox.ok()) return kinds;
    for (const OutboxAction& a : *outbox) {
      ++kinds[a.kind == "notify" ? "notify:" + a.event : a.kind];
    }
    return kinds;
  }

  // Audit entries by kind (transitions as "transition:<trigger>").
  std::map<std::string, int> AuditKinds() {
    std::map<std::string, int> kinds;
    auto audit = h_.sqlite->QueryAudit(AuditQuery{std::nullopt, std::nullopt, 0});
    EXPECT_TRUE(audit.ok());
    if (!audit.ok()) return kinds;
    for (const AuditEntry& e : *audit) {
      ++kinds[e.kind == "transition" ? "transition:" + e.trigger : e.kind];
    }
    return kinds;
  }

  static int Transitions(const std::map<std::string, int>& kinds) {
    int n = 0;
    for (const auto& [kind, count] : kinds) n += kind.starts_with("transition:") ? count : 0;
    return n;
  }

  EngineOptions options_;
  EngineOnFaultyLedger h_{T("2026-03-01T12:00:00Z")};
};

// ---------------------------------------------------------------------------------------------
// A ledger that cannot commit.

TEST_F(EngineFaultsTest, FailedCommitLeavesNothingAndTheResentBatchCountsOnce) {
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("a", 1'000'000)}, "test").ok());  // $0.25
  const auto audit_before = AuditKinds();
  const auto outbox_before = OutboxKinds();

  // The disk fills: a batch that would also cross the warning threshold ($0.75) cannot commit.
  h_.faulty->FailWrites(FaultyLedger::DiskFull());
  const std::vector<UsageRecord> batch = {Haiku("b", 1'000'000), Haiku("c", 1'000'000)};
  auto failed = h_.engine->ApplyBatch(batch, "test");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_TRUE(failed.status().retryable()) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("free disk space"), std::string::npos);
  EXPECT_EQ(h_.faulty->failed_writes(), 1);
  // Sent again while the disk is still full: refused again, not taken for a duplicate.
  ASSERT_FALSE(h_.engine->ApplyBatch(batch, "test").ok());
  EXPECT_EQ(State().spent, Money::FromNanos(250'000'000));
  EXPECT_EQ(State().status, BudgetStatus::kActive);
  EXPECT_EQ(AuditKinds(), audit_before);
  EXPECT_EQ(OutboxKinds(), outbox_before);

  // Space is back: the re-sent batch is applied once, with its one warning.
  h_.faulty->Heal();
  auto applied = h_.engine->ApplyBatch(batch, "test");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->applied, 2);
  EXPECT_EQ(applied->duplicates, 0);
  EXPECT_EQ(State().spent, Money::FromNanos(750'000'000));
  EXPECT_EQ(State().status, BudgetStatus::kWarning);
  auto again = h_.engine->ApplyBatch(batch, "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 2);
  EXPECT_EQ(State().spent, Money::FromNanos(750'000'000));
  EXPECT_EQ(OutboxKinds()["notify:warning"], 1);
  EXPECT_EQ(Transitions(AuditKinds()), Transitions(audit_before) + 1);  // active -> warning
}

TEST_F(EngineFaultsTest, FailedTickActsOnTheDeadlineOnceTheLedgerIsBack) {
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("a", 4'000'000)}, "test").ok());  // $1.00: grace
  ASSERT_EQ(State().status, BudgetStatus::kGracePeriod);
  const Timestamp deadline = *State().grace_deadline;

  h_.faulty->FailWrites(FaultyLedger::DiskFull());
  h_.clock.Set(deadline.PlusSeconds(1));
  auto tick = h_.engine->Tick();
  ASSERT_FALSE(tick.ok());
  EXPECT_TRUE(tick.status().retryable());
  EXPECT_EQ(State().status, BudgetStatus::kGracePeriod);  // nothing half-done
  EXPECT_EQ(OutboxKinds().count("suspend_access"), 0U);

  h_.faulty->Heal();
  tick = h_.engine->Tick();
  ASSERT_TRUE(tick.ok()) << tick.status().ToString();
  EXPECT_EQ(tick->transitions, 1);
  EXPECT_EQ(State().status, BudgetStatus::kSuspended);
  ASSERT_TRUE(h_.engine->Tick().ok());
  EXPECT_EQ(OutboxKinds()["suspend_access"], 1);
}

// ---------------------------------------------------------------------------------------------
// Clock jumps.

TEST_F(EngineFaultsTest, ForwardJumpPastTheGraceDeadlineSuspendsOnceThenPastThePeriodEndRestores) {
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("a", 4'000'000)}, "test").ok());  // grace
  const BudgetState grace = State();
  ASSERT_EQ(grace.status, BudgetStatus::kGracePeriod);

  // Six hours pass at once (a suspended VM, an NTP step): one suspension, however many ticks.
  h_.clock.Set(grace.grace_deadline->PlusSeconds(int64_t{6} * 3600));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h_.engine->Tick().ok());
  EXPECT_EQ(State().status, BudgetStatus::kSuspended);
  EXPECT_EQ(OutboxKinds()["suspend_access"], 1);

  // Then past the period end (and well into the next period): one refresh, one restore.
  h_.clock.Set(grace.period.end.PlusSeconds(int64_t{3} * 86400));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h_.engine->Tick().ok());
  const BudgetState after = State();
  EXPECT_EQ(after.status, BudgetStatus::kActive);
  EXPECT_EQ(after.spent, Money());
  EXPECT_LE(after.period.start, h_.clock.Now());
  EXPECT_GT(after.period.end, h_.clock.Now());
  EXPECT_EQ(OutboxKinds()["restore_access"], 1);
  EXPECT_EQ(AuditKinds()["period_refreshed"], 1);
}

TEST_F(EngineFaultsTest, ForwardJumpPastBothTheDeadlineAndThePeriodEndRefreshesWithoutSuspending) {
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("a", 4'000'000)}, "test").ok());  // grace
  const BudgetState grace = State();
  h_.clock.Set(grace.period.end.PlusSeconds(60));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h_.engine->Tick().ok());
  EXPECT_EQ(State().status, BudgetStatus::kActive);
  // The deadline fell in a period that is over: no suspension for it, so nothing to restore.
  EXPECT_EQ(OutboxKinds().count("suspend_access"), 0U);
  EXPECT_EQ(OutboxKinds().count("restore_access"), 0U);
  EXPECT_EQ(AuditKinds()["period_refreshed"], 1);
}

TEST_F(EngineFaultsTest, BackwardJumpNeitherRefreshesTwiceNorMovesTheGraceDeadline) {
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("a", 1'000'000)}, "test").ok());
  const BudgetState first = State();

  // Forward past the period end: one refresh.
  h_.clock.Set(first.period.end.PlusSeconds(30));
  ASSERT_TRUE(h_.engine->Tick().ok());
  const BudgetState refreshed = State();
  ASSERT_EQ(refreshed.period.start, first.period.end);
  ASSERT_EQ(AuditKinds()["period_refreshed"], 1);

  // NTP steps the clock back an hour, into the old period: the period is not re-opened or
  // refreshed again, and nothing happens until the clock passes the new period's end.
  h_.clock.Set(first.period.end.PlusSeconds(-3600));
  for (int i = 0; i < 3; ++i) {
    auto tick = h_.engine->Tick();
    ASSERT_TRUE(tick.ok());
    EXPECT_EQ(tick->transitions, 0);
    EXPECT_EQ(tick->refreshed, 0);
  }
  EXPECT_EQ(State().period.start, refreshed.period.start);
  EXPECT_EQ(State().period.end, refreshed.period.end);
  h_.clock.Set(first.period.end.PlusSeconds(60));
  ASSERT_TRUE(h_.engine->Tick().ok());
  EXPECT_EQ(AuditKinds()["period_refreshed"], 1);

  // Over budget: the grace deadline is fixed when grace begins. A backward jump delays the
  // suspension by the jump (the clock must reach the deadline) but never moves the deadline,
  // and new spend while the clock is behind does not restart the grace period.
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("b", 4'000'000)}, "test").ok());
  const BudgetState grace = State();
  ASSERT_EQ(grace.status, BudgetStatus::kGracePeriod);
  h_.clock.Advance(-1800);
  ASSERT_TRUE(h_.engine->ApplyBatch({Haiku("c", 400'000)}, "test").ok());
  ASSERT_TRUE(h_.engine->Tick().ok());
  EXPECT_EQ(State().status, BudgetStatus::kGracePeriod);
  EXPECT_EQ(State().grace_deadline, grace.grace_deadline);
  h_.clock.Set(*grace.grace_deadline);
  ASSERT_TRUE(h_.engine->Tick().ok());
  EXPECT_EQ(State().status, BudgetStatus::kSuspended);
  EXPECT_EQ(OutboxKinds()["suspend_access"], 1);
}

}  // namespace
}  // namespace budgeteer
