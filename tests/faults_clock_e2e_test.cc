// Fault injection, the wall clock: the real binary driven with --now through jumps forward past a
// grace deadline and a period end, and back again. `serve` takes its clock from the system only
// (--now is refused for it), so the end-to-end test runs the same engine through `ingest` and
// `tick`, one process per moment, on one ledger; the engine's own fake-clock tests are in
// src/engine/engine_faults_test.cc. Suspension and restoration happen once, a backward jump
// neither refreshes a period twice nor moves the grace deadline.
#include <gtest/gtest.h>

#include <string>

#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

class ClockJumpE2E : public ::testing::Test {
 protected:
  // Applies one $1.00 record (4M Claude 3 Haiku input tokens) stamped a minute before `now`.
  void Spend(const std::string& id, const std::string& now, int64_t tokens = 4'000'000) {
    LogRecord r;
    r.request_id = id;
    r.timestamp = Timestamp::Parse(now)->PlusSeconds(-60).ToRfc3339();
    r.input = tokens;
    const RunResult run = h_.Run({"ingest", h_.Write(id + ".jsonl", r.Json() + "\n")}, now);
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  RunResult Tick(const std::string& now) {
    RunResult run = h_.Run({"tick"}, now);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run;
  }

  std::string Show(const std::string& now, const std::string& key) {
    return JsonValue(h_.Run({"budgets", "show", "BedrockAPIKey-abc", "--json"}, now).out, key);
  }

  size_t OutboxCount(const std::string& kind) {
    return Count(h_.Run({"outbox", "--json"}).out, "\"kind\": \"" + kind + "\"");
  }
  size_t AuditCount(const std::string& kind) {
    return Count(h_.Run({"audit", "--json"}).out, "\"kind\": \"" + kind + "\"");
  }

  CliHarness h_;
};

TEST_F(ClockJumpE2E, ForwardJumpsSuspendAndRestoreOnceBackwardJumpsChangeNothing) {
  Spend("r1", "2026-03-01T12:00:00Z");  // $1.00 of $1: grace until 12:05
  ASSERT_EQ(Show("2026-03-01T12:00:00Z", "status"), "grace_period");
  ASSERT_EQ(Show("2026-03-01T12:00:00Z", "grace_deadline"), "2026-03-01T12:05:00Z");

  // A day passes at once: suspended once, however many ticks see it.
  EXPECT_NE(Tick("2026-03-02T12:00:00Z").out.find("1 transitions"), std::string::npos);
  EXPECT_NE(Tick("2026-03-02T12:00:00Z").out.find("0 transitions"), std::string::npos);
  EXPECT_EQ(Show("2026-03-02T12:00:00Z", "status"), "suspended");
  EXPECT_EQ(OutboxCount("suspend_access"), 1U);

  // Back a day and a half (before the grace period even began): nothing changes.
  EXPECT_NE(Tick("2026-03-01T00:30:00Z").out.find("0 transitions"), std::string::npos);
  EXPECT_EQ(Show("2026-03-01T00:30:00Z", "status"), "suspended");

  // Forward past the period end (2026-03-31) by ten days: one refresh, one restore.
  const RunResult refresh = Tick("2026-04-10T00:00:00Z");
  EXPECT_NE(refresh.out.find("1 periods refreshed"), std::string::npos) << refresh.out;
  EXPECT_EQ(Show("2026-04-10T00:00:00Z", "status"), "active");
  EXPECT_EQ(Show("2026-04-10T00:00:00Z", "spent_usd"), "0");
  EXPECT_EQ(Show("2026-04-10T00:00:00Z", "period_start"), "2026-03-31T00:00:00Z");

  // Back into the old period, then forward again: no second refresh, the period stays.
  EXPECT_NE(Tick("2026-03-20T00:00:00Z").out.find("0 periods refreshed"), std::string::npos);
  EXPECT_NE(Tick("2026-04-10T00:00:01Z").out.find("0 periods refreshed"), std::string::npos);
  EXPECT_EQ(Show("2026-04-10T00:00:01Z", "period_start"), "2026-03-31T00:00:00Z");
  EXPECT_EQ(OutboxCount("restore_access"), 1U);
  EXPECT_EQ(OutboxCount("suspend_access"), 1U);
  EXPECT_EQ(AuditCount("period_refreshed"), 1U);
}

TEST_F(ClockJumpE2E, BackwardJumpDuringGraceNeitherExtendsNorRestartsIt) {
  Spend("g1", "2026-03-01T12:00:00Z");  // grace until 12:05
  // The clock steps back an hour; more spend arrives (stamped by the producer's clock, which
  // is also behind): the deadline stays 12:05, it does not restart from the new "now".
  Spend("g2", "2026-03-01T11:00:00Z", 400'000);
  EXPECT_EQ(Show("2026-03-01T11:00:00Z", "grace_deadline"), "2026-03-01T12:05:00Z");
  EXPECT_NE(Tick("2026-03-01T11:30:00Z").out.find("0 transitions"), std::string::npos);
  EXPECT_EQ(Show("2026-03-01T11:30:00Z", "status"), "grace_period");
  // The clock reaches the original deadline: suspended, once.
  EXPECT_NE(Tick("2026-03-01T12:05:00Z").out.find("1 transitions"), std::string::npos);
  EXPECT_NE(Tick("2026-03-01T12:06:00Z").out.find("0 transitions"), std::string::npos);
  EXPECT_EQ(Show("2026-03-01T12:06:00Z", "status"), "suspended");
  EXPECT_EQ(OutboxCount("suspend_access"), 1U);
}

}  // namespace
}  // namespace budgeteer::testing
