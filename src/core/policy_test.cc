#include "core/policy.h"

#include <gtest/gtest.h>

namespace budgeteer {
namespace {

using S = BudgetStatus;

Timestamp T(const char* text) { return *Timestamp::Parse(text); }
Money Usd(const char* text) { return *Money::ParseUsd(text); }

const Timestamp kStart = T("2026-01-01T00:00:00Z");

BudgetSettings Defaults() { return BudgetSettings{}; }  // $1, 70/90, 300 s, 30 days

BudgetState Fresh(const BudgetSettings& s = Defaults()) {
  return NewBudgetState(s, kStart, kStart);
}

TEST(PolicyTest, LevelsFollowThresholdsExactly) {
  const BudgetSettings s = Defaults();
  struct Case {
    const char* spent;
    S level;
  };
  const Case cases[] = {
      {"0", S::kActive},      {"0.699999999", S::kActive},
      {"0.7", S::kWarning},   {"0.899999999", S::kWarning},
      {"0.9", S::kCritical},  {"0.999999999", S::kCritical},
      {"1", S::kGracePeriod}, {"5", S::kGracePeriod},
  };
  for (const auto& c : cases) EXPECT_EQ(LevelFor(s, Usd(c.spent)), c.level) << c.spent;
  BudgetSettings zero = s;
  zero.limit = Money();
  EXPECT_EQ(LevelFor(zero, Money()), S::kActive);
  EXPECT_EQ(LevelFor(zero, Money::FromNanos(1)), S::kGracePeriod);
}

TEST(PolicyTest, ThresholdsCrossedOneByOneGiveOneTransitionEach) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  const Timestamp now = T("2026-01-02T10:00:00Z");
  struct Step {
    const char* amount;
    S status;
    size_t transitions;
  };
  const Step steps[] = {
      {"0.5", S::kActive, 0},   {"0.2", S::kWarning, 1},     {"0.1", S::kWarning, 1},
      {"0.1", S::kCritical, 2}, {"0.1", S::kGracePeriod, 3}, {"0.5", S::kGracePeriod, 3},
  };
  for (const auto& step : steps) {
    ApplySpend(s, st, Usd(step.amount), now, out);
    EXPECT_EQ(st.status, step.status) << step.amount;
    EXPECT_EQ(out.size(), step.transitions) << step.amount;
  }
  EXPECT_EQ(st.grace_deadline, now.PlusSeconds(300));
  EXPECT_EQ(st.spent, Usd("1.5"));
  for (const auto& t : out) EXPECT_EQ(t.access, AccessChange::kNone);
}

TEST(PolicyTest, JumpingPastThresholdsIsOneTransition) {
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(Defaults(), st, Usd("2"), kStart, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].from, S::kActive);
  EXPECT_EQ(out[0].to, S::kGracePeriod);
}

TEST(PolicyTest, GraceDeadlineHonouredToTheSecond) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  const Timestamp crossed = T("2026-01-02T10:00:00Z");
  ApplySpend(s, st, Usd("1"), crossed, out);
  out.clear();
  AdvanceTime(s, st, crossed.PlusSeconds(299), out);
  EXPECT_EQ(st.status, S::kGracePeriod);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(NextDue(st), crossed.PlusSeconds(300));
  AdvanceTime(s, st, crossed.PlusSeconds(300), out);
  EXPECT_EQ(st.status, S::kSuspended);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].trigger, Trigger::kGraceExpired);
  EXPECT_EQ(out[0].access, AccessChange::kSuspend);
}

TEST(PolicyTest, GraceZeroSuspendsOnTheCrossingRecord) {
  BudgetSettings s = Defaults();
  s.grace_seconds = 0;
  BudgetState st = Fresh(s);
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("0.95"), kStart, out);
  ApplySpend(s, st, Usd("0.05"), kStart, out);
  EXPECT_EQ(st.status, S::kSuspended);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[1].from, S::kCritical);
  EXPECT_EQ(out[1].access, AccessChange::kSuspend);
}

TEST(PolicyTest, RaisingTheLimitCancelsGraceAndRestoresSuspension) {
  BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("1.2"), kStart, out);
  BudgetSettings raised = s;
  raised.limit = Usd("10");
  out.clear();
  ChangeSettings(s, raised, st, kStart, out);
  EXPECT_EQ(st.status, S::kActive);
  EXPECT_FALSE(st.grace_deadline.has_value());
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].access, AccessChange::kNone);

  // Now suspended, then raised to a limit where 1.2 is 80%: restored straight to warning.
  BudgetState st2 = Fresh();
  ApplySpend(s, st2, Usd("1.2"), kStart, out);
  AdvanceTime(s, st2, kStart.PlusSeconds(300), out);
  ASSERT_EQ(st2.status, S::kSuspended);
  out.clear();
  BudgetSettings r2 = s;
  r2.limit = Usd("1.5");
  ChangeSettings(s, r2, st2, kStart.PlusSeconds(301), out);
  EXPECT_EQ(st2.status, S::kWarning);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].access, AccessChange::kRestore);
}

TEST(PolicyTest, LoweringTheLimitCanStartGraceAtOnce) {
  BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("0.5"), kStart, out);
  BudgetSettings lowered = s;
  lowered.limit = Usd("0.5");
  ChangeSettings(s, lowered, st, kStart, out);
  EXPECT_EQ(st.status, S::kGracePeriod);
  EXPECT_EQ(out.size(), 1U);
}

TEST(PolicyTest, PeriodRefreshRestoresAutomaticSuspension) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("1"), kStart, out);
  AdvanceTime(s, st, kStart.PlusSeconds(300), out);
  ASSERT_EQ(st.status, S::kSuspended);
  out.clear();
  EXPECT_FALSE(AdvanceTime(s, st, T("2026-01-30T23:59:59Z"), out));
  EXPECT_TRUE(AdvanceTime(s, st, T("2026-01-31T00:00:00Z"), out));
  EXPECT_EQ(st.status, S::kActive);
  EXPECT_EQ(st.spent, Money());
  EXPECT_EQ(st.period.start, T("2026-01-31T00:00:00Z"));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].trigger, Trigger::kPeriodRefresh);
  EXPECT_EQ(out[0].access, AccessChange::kRestore);
}

TEST(PolicyTest, ManualSuspensionSurvivesRefreshAndLimitChanges) {
  BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ASSERT_TRUE(Suspend(st, kStart, out).ok());
  EXPECT_EQ(out.back().access, AccessChange::kSuspend);
  EXPECT_EQ(Suspend(st, kStart, out).code(), Code::kFailedPrecondition);
  out.clear();
  AdvanceTime(s, st, T("2026-03-01T00:00:00Z"), out);
  EXPECT_EQ(st.status, S::kSuspended);
  EXPECT_TRUE(out.empty());
  BudgetSettings raised = s;
  raised.limit = Usd("100");
  ChangeSettings(s, raised, st, T("2026-03-01T00:00:00Z"), out);
  ResetSpend(raised, st, T("2026-03-01T00:00:00Z"), out);
  EXPECT_EQ(st.status, S::kSuspended);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(Restore(raised, st, false, T("2026-03-01T00:00:01Z"), out).ok());
  EXPECT_EQ(st.status, S::kActive);
  EXPECT_EQ(out.back().access, AccessChange::kRestore);
}

TEST(PolicyTest, RestoreRefusesWhileOverBudgetUnlessForced) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("1.5"), kStart, out);
  AdvanceTime(s, st, kStart.PlusSeconds(300), out);
  ASSERT_EQ(st.status, S::kSuspended);
  out.clear();
  const Status refused = Restore(s, st, false, kStart.PlusSeconds(400), out);
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.message().find("--force"), std::string::npos);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(Restore(s, st, true, kStart.PlusSeconds(400), out).ok());
  EXPECT_EQ(st.status, S::kExempt);
  EXPECT_EQ(st.exempt_until, st.period.end);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].access, AccessChange::kRestore);
  // More spend while exempt changes nothing.
  ApplySpend(s, st, Usd("5"), kStart.PlusSeconds(500), out);
  EXPECT_EQ(out.size(), 1U);
  // The exemption ends with the period.
  AdvanceTime(s, st, st.period.end, out);
  EXPECT_EQ(st.status, S::kActive);
  EXPECT_FALSE(st.exempt_until.has_value());
}

TEST(PolicyTest, RestoreOfActivePrincipalIsRefused) {
  BudgetState st = Fresh();
  std::vector<Transition> out;
  EXPECT_EQ(Restore(Defaults(), st, false, kStart, out).code(), Code::kFailedPrecondition);
}

TEST(PolicyTest, ExemptTracksButNeverEnforces) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ASSERT_TRUE(SetExempt(s, st, true, kStart, out).ok());
  ApplySpend(s, st, Usd("3"), kStart, out);
  AdvanceTime(s, st, T("2026-02-15T00:00:00Z"), out);  // refresh keeps a permanent exemption
  EXPECT_EQ(st.status, S::kExempt);
  EXPECT_EQ(out.size(), 1U);
  ApplySpend(s, st, Usd("2"), T("2026-02-15T00:00:00Z"), out);
  ASSERT_TRUE(SetExempt(s, st, false, T("2026-02-15T00:00:00Z"), out).ok());
  EXPECT_EQ(st.status, S::kGracePeriod);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[1].from, S::kExempt);
  EXPECT_EQ(out[1].to, S::kGracePeriod);
}

TEST(PolicyTest, ResetDuringGraceCancelsIt) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("1"), kStart, out);
  ResetSpend(s, st, kStart.PlusSeconds(10), out);
  EXPECT_EQ(st.status, S::kActive);
  EXPECT_EQ(out.back().trigger, Trigger::kReset);
}

TEST(PolicyTest, DeadlineInAnEndedPeriodIsResolvedByTheRefresh) {
  const BudgetSettings s = Defaults();
  BudgetState st = Fresh();
  std::vector<Transition> out;
  ApplySpend(s, st, Usd("1"), T("2026-01-30T23:58:00Z"), out);
  out.clear();
  // The service was down over the deadline and the period end.
  AdvanceTime(s, st, T("2026-02-02T00:00:00Z"), out);
  EXPECT_EQ(st.status, S::kActive);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].trigger, Trigger::kPeriodRefresh);
  EXPECT_EQ(st.period.start, T("2026-01-31T00:00:00Z"));
}

TEST(PolicyTest, SettingsValidationNamesTheField) {
  BudgetSettings s = Defaults();
  s.warn_percent = 95;
  EXPECT_NE(s.Validate().message().find("critical"), std::string::npos);
  s = Defaults();
  s.grace_seconds = -1;
  EXPECT_NE(s.Validate().message().find("grace"), std::string::npos);
  EXPECT_TRUE(Defaults().Validate().ok());
}

}  // namespace
}  // namespace budgeteer
