// End-to-end scenarios through the real `budgeteer` binary (issue #2's list), on files written
// by the test into a temporary directory, with the clock set by --now.
#include <gtest/gtest.h>

#include "tests/cli_harness.h"

namespace budgeteer::testing {
namespace {

constexpr char kKey[] = "BedrockAPIKey-abc";

class CliE2E : public ::testing::Test {
 protected:
  // Claude 3 Haiku (in-region): $0.25 per million input tokens, so 4M tokens = $1.00.
  static LogRecord Haiku(const std::string& id, int64_t input,
                         const std::string& ts = "2026-03-01T10:00:00Z") {
    LogRecord r;
    r.request_id = id;
    r.input = input;
    r.timestamp = ts;
    return r;
  }

  RunResult Ingest(const std::vector<LogRecord>& records, const std::string& now,
                   const std::string& name = "in.jsonl") {
    std::string text;
    for (const auto& r : records) text += r.Json() + "\n";
    return h_.Run({"ingest", h_.Write(name, text)}, now);
  }

  std::string Status(const std::string& principal, const std::string& now) {
    RunResult r = h_.Run({"budgets", "show", principal, "--json"}, now);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return JsonValue(r.out, "status");
  }

  std::string Field(const std::string& principal, const std::string& field,
                    const std::string& now = "2026-03-01T10:00:00Z") {
    RunResult r = h_.Run({"budgets", "show", principal, "--json"}, now);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return JsonValue(r.out, field);
  }

  size_t Transitions() {
    RunResult r = h_.Run({"audit", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Count(r.out, "\"kind\": \"transition\"");
  }

  size_t OutboxCount(const std::string& kind = "") {
    RunResult r = h_.Run({"outbox", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return kind.empty() ? Count(r.out, "\"kind\": ") - Count(r.out, "\"kind\": \"user\"")
                        : Count(r.out, "\"kind\": \"" + kind + "\"");
  }

  CliHarness h_;
};

TEST_F(CliE2E, ThresholdsCrossedOneByOneWriteOneAuditEntryAndOneActionEach) {
  const std::string now = "2026-03-01T10:00:00Z";
  ASSERT_EQ(Ingest({Haiku("t1", 2'000'000)}, now).exit_code, 0);
  EXPECT_EQ(Status(kKey, now), "active");
  EXPECT_EQ(Transitions(), 0U);

  RunResult r = Ingest({Haiku("t2", 800'000)}, now);  // $0.70: warning
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(kKey, now), "warning");
  EXPECT_EQ(Transitions(), 1U);
  EXPECT_EQ(OutboxCount("notify"), 1U);

  ASSERT_EQ(Ingest({Haiku("t3", 800'000)}, now).exit_code, 0);  // $0.90: critical
  EXPECT_EQ(Status(kKey, now), "critical");
  EXPECT_EQ(Transitions(), 2U);
  EXPECT_EQ(OutboxCount("notify"), 2U);

  ASSERT_EQ(Ingest({Haiku("t4", 400'000)}, now).exit_code, 0);  // $1.00: grace
  EXPECT_EQ(Status(kKey, now), "grace_period");
  EXPECT_EQ(Transitions(), 3U);
  EXPECT_EQ(OutboxCount("notify"), 3U);
  EXPECT_EQ(OutboxCount("suspend_access"), 0U);
  EXPECT_EQ(Field(kKey, "spent_usd"), "1");
  EXPECT_EQ(Field(kKey, "percent"), "100.00");
}

TEST_F(CliE2E, GraceDeadlineHonouredToTheSecond) {
  ASSERT_EQ(Ingest({Haiku("g1", 4'000'000)}, "2026-03-01T10:00:00Z").exit_code, 0);
  EXPECT_EQ(Field(kKey, "grace_deadline"), "2026-03-01T10:05:00Z");
  RunResult r = h_.Run({"tick"}, "2026-03-01T10:04:59Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(kKey, "2026-03-01T10:04:59Z"), "grace_period");
  r = h_.Run({"tick", "--json"}, "2026-03-01T10:05:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonValue(r.out, "transitions"), "1");
  EXPECT_EQ(Status(kKey, "2026-03-01T10:05:00Z"), "suspended");
  EXPECT_EQ(OutboxCount("suspend_access"), 1U);
  // A second tick at the same time changes nothing.
  r = h_.Run({"tick", "--json"}, "2026-03-01T10:05:00Z");
  EXPECT_EQ(JsonValue(r.out, "transitions"), "0");
}

TEST_F(CliE2E, GraceZeroSuspendsOnTheCrossingRecord) {
  h_.set_config(h_.Write("grace0.toml", "[defaults]\ngrace_period_seconds = 0\n"));
  ASSERT_EQ(
      Ingest({Haiku("z1", 3'900'000), Haiku("z2", 100'000)}, "2026-03-01T10:00:00Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-03-01T10:00:00Z"), "suspended");
  EXPECT_EQ(OutboxCount("suspend_access"), 1U);
}

TEST_F(CliE2E, RaisingTheLimitDuringGraceAndDuringSuspension) {
  const std::string now = "2026-03-01T10:00:00Z";
  ASSERT_EQ(Ingest({Haiku("a1", 4'400'000)}, now).exit_code, 0);  // $1.10
  EXPECT_EQ(Status(kKey, now), "grace_period");
  RunResult r = h_.Run({"budgets", "set", kKey, "--limit", "2"}, now);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(kKey, now), "active");  // 55 %: grace cancelled
  EXPECT_EQ(OutboxCount("suspend_access"), 0U);

  ASSERT_EQ(Ingest({Haiku("a2", 4'000'000)}, now).exit_code, 0);  // $2.10 of $2
  ASSERT_EQ(h_.Run({"tick"}, "2026-03-01T10:05:00Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-03-01T10:05:00Z"), "suspended");
  r = h_.Run({"budgets", "set", kKey, "--limit", "2.5"}, "2026-03-01T10:06:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(kKey, "2026-03-01T10:06:00Z"), "warning");  // 84 %: restored at once
  EXPECT_EQ(OutboxCount("restore_access"), 1U);
}

TEST_F(CliE2E, PeriodRefreshRestoresASuspendedPrincipal) {
  ASSERT_EQ(Ingest({Haiku("p1", 5'000'000)}, "2026-03-01T10:00:00Z").exit_code, 0);
  ASSERT_EQ(h_.Run({"tick"}, "2026-03-01T10:05:00Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-03-01T10:05:00Z"), "suspended");
  EXPECT_EQ(Field(kKey, "period_end"), "2026-03-31T00:00:00Z");
  ASSERT_EQ(h_.Run({"tick"}, "2026-03-30T23:59:59Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-03-30T23:59:59Z"), "suspended");
  ASSERT_EQ(h_.Run({"tick"}, "2026-03-31T00:00:00Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-03-31T00:00:00Z"), "active");
  EXPECT_EQ(Field(kKey, "spent_usd"), "0");
  EXPECT_EQ(Field(kKey, "period_start"), "2026-03-31T00:00:00Z");
  EXPECT_EQ(OutboxCount("restore_access"), 1U);
}

TEST_F(CliE2E, LateRecordForAClosedPeriodIsKeptInHistoryOnly) {
  ASSERT_EQ(Ingest({Haiku("l1", 1'000'000)}, "2026-03-01T10:00:00Z").exit_code, 0);
  // A month later (a new period), a record from the old period arrives.
  RunResult r = Ingest({Haiku("l2", 8'000'000, "2026-03-30T12:00:00Z")}, "2026-04-02T00:00:00Z",
                       "late.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 late"), std::string::npos) << r.out;
  EXPECT_EQ(Status(kKey, "2026-04-02T00:00:00Z"), "active");
  EXPECT_EQ(Field(kKey, "spent_usd", "2026-04-02T00:00:00Z"), "0");
  r = h_.Run({"usage", "--principal", kKey, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonValue(r.out, "cost_usd"), "2.25");  // both records in history
}

TEST_F(CliE2E, SameRequestIdInPlainGzipAndCloudWatchIsCountedOnce) {
  const std::string line = Haiku("same-1", 1'000'000).Json();
  const std::string other = Haiku("other-1", 1'000'000).Json();
  const std::string plain = h_.Write("a.jsonl", line + "\n");
  const std::string gz = h_.WriteGzip("b.json.gz", line + "\n" + other + "\n");
  const std::string cwl = h_.Write("c.json", CloudWatchPayload({line, other}) + "\n");
  RunResult r = h_.Run({"ingest", "--json", plain, gz, cwl}, "2026-03-01T10:00:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonValue(r.out, "read"), "5");
  EXPECT_EQ(JsonValue(r.out, "applied"), "2");
  EXPECT_EQ(JsonValue(r.out, "duplicates"), "3");
  EXPECT_EQ(JsonValue(r.out, "cost_usd"), "0.5");
  // And again in a later run.
  r = h_.Run({"ingest", "--json", cwl}, "2026-03-01T11:00:00Z");
  EXPECT_EQ(JsonValue(r.out, "duplicates"), "2");
  EXPECT_EQ(Field(kKey, "spent_usd"), "0.5");
}

TEST_F(CliE2E, AssumedRoleCallerPaysAndRequestMetadataDoesNotMoveSpend) {
  LogRecord r = Haiku("role-1", 1'000'000);
  r.arn = "arn:aws:sts::111122223333:assumed-role/TeamRole/alice@example.com";
  r.extra = R"(,"requestMetadata":{"userId":"BedrockAPIKey-abc","project":"x"})";
  ASSERT_EQ(Ingest({r}, "2026-03-01T10:00:00Z").exit_code, 0);
  EXPECT_EQ(Field("TeamRole", "spent_usd"), "0.25");
  EXPECT_EQ(Field("TeamRole", "kind"), "role");
  EXPECT_EQ(h_.Run({"budgets", "show", kKey}).exit_code, 4);  // never created

  // Per-session budgets when configured.
  h_.set_config(h_.Write("sessions.toml", "[identity]\nper_session_roles = [\"Team*\"]\n"));
  r.request_id = "role-2";
  ASSERT_EQ(Ingest({r}, "2026-03-01T10:00:00Z", "s.jsonl").exit_code, 0);
  EXPECT_EQ(Field("TeamRole/alice@example.com", "spent_usd"), "0.25");
}

TEST_F(CliE2E, UnknownModelIsPricedByTheFallbackFlaggedAndReportedOnce) {
  LogRecord r = Haiku("u1", 1000);
  r.model = "acme.mystery-model-v9:0";
  LogRecord r2 = r;
  r2.request_id = "u2";
  RunResult out = Ingest({r, r2}, "2026-03-01T10:00:00Z");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("2 unpriced"), std::string::npos) << out.out;
  EXPECT_NE(Field(kKey, "spent_usd"), "0");
  EXPECT_EQ(OutboxCount("operator_alert"), 1U);
  RunResult show = h_.Run({"prices", "show", "acme.mystery-model-v9:0"});
  EXPECT_EQ(show.exit_code, 4);
  EXPECT_NE(show.err.find("unknown-model rule"), std::string::npos);
}

TEST_F(CliE2E, CacheTokensAndGeoPrefixedModelIdsArePricedExactly) {
  LogRecord cached = Haiku("c1", 2000);
  cached.model = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
  cached.output = 800;
  cached.cache_read = 150'000;
  cached.cache_write = 10'000;
  LogRecord global = Haiku("s1", 100'000);
  global.arn = "arn:aws:iam::111122223333:user/global-user";
  global.model = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
  LogRecord geo = global;
  geo.request_id = "s2";
  geo.arn = "arn:aws:iam::111122223333:user/geo-user";
  geo.model =
      "arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
      "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
  h_.set_config(h_.Write("big.toml", "[defaults]\ndefault_user_budget_usd = 100\n"));
  ASSERT_EQ(Ingest({cached, global, geo}, "2026-03-01T10:00:00Z").exit_code, 0);
  // 2000*3 + 800*15 + 150000*0.30 + 10000*3.75 per million = 0.1005
  EXPECT_EQ(Field(kKey, "spent_usd"), "0.1005");
  EXPECT_EQ(Field("global-user", "spent_usd"), "0.3");
  EXPECT_EQ(Field("geo-user", "spent_usd"), "0.33");  // geo routing: +10 % over global
  RunResult p =
      h_.Run({"prices", "show", "--json", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(JsonValue(p.out, "model_id"), "anthropic.claude-3-7-sonnet-20250219-v1");
  EXPECT_EQ(JsonValue(p.out, "cache_read_per_million_usd"), "0.3");
}

TEST_F(CliE2E, BadLinesAreRejectedWithReasonsAndTheRestApplied) {
  std::string text = Haiku("ok-1", 1'000'000).Json() + "\n";
  text += "{\"schemaType\": \"ModelInvocationLog\", broken\n";
  LogRecord negative = Haiku("neg", 0);
  negative.output = -5;
  text += negative.Json() + "\n";
  text += Haiku("absurd", 1'000'000'000'000).Json() + "\n";
  text += Haiku("", 10).Json() + "\n";
  text += std::string(10 * 1024 * 1024, 'x') + "\n";
  text += Haiku("ok-2", 1'000'000).Json() + "\n";
  RunResult r = h_.Run({"ingest", h_.Write("mixed.jsonl", text)}, "2026-03-01T10:00:00Z");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("read 7, applied 2, duplicates 0, rejected 5"), std::string::npos) << r.out;
  for (int line = 2; line <= 6; ++line) {
    EXPECT_NE(r.err.find("mixed.jsonl:" + std::to_string(line) + ": "), std::string::npos)
        << "line " << line << " not reported:\n"
        << r.err;
  }
  EXPECT_NE(r.err.find("requestId"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bytes"), std::string::npos) << r.err;
  EXPECT_EQ(Field(kKey, "spent_usd"), "0.5");
  // Usage errors exit 2.
  EXPECT_EQ(h_.Run({"ingest", h_.dir() + "/missing.jsonl"}).exit_code, 2);
  EXPECT_EQ(h_.Run({"budgets", "set", kKey, "--limit", "abc"}).exit_code, 2);
  EXPECT_EQ(h_.Run({"frobnicate"}).exit_code, 2);
}

TEST_F(CliE2E, ManualSuspensionSurvivesARefreshAndRestoreRules) {
  ASSERT_EQ(Ingest({Haiku("m1", 1'000'000)}, "2026-03-01T10:00:00Z").exit_code, 0);
  RunResult r = h_.Run({"budgets", "suspend", kKey}, "2026-03-01T10:01:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(h_.Run({"tick"}, "2026-04-15T00:00:00Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-04-15T00:00:00Z"), "suspended");
  EXPECT_EQ(Field(kKey, "manual_suspension", "2026-04-15T00:00:00Z"), "true");
  r = h_.Run({"budgets", "restore", kKey}, "2026-04-15T00:00:01Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(kKey, "2026-04-15T00:00:01Z"), "active");

  // Over budget: restore refuses (exit 5) unless --force, which exempts until the period ends.
  ASSERT_EQ(
      Ingest({Haiku("m2", 5'000'000, "2026-04-15T00:00:00Z")}, "2026-04-15T00:00:02Z", "m2.jsonl")
          .exit_code,
      0);
  ASSERT_EQ(h_.Run({"tick"}, "2026-04-15T00:10:00Z").exit_code, 0);
  EXPECT_EQ(Status(kKey, "2026-04-15T00:10:00Z"), "suspended");
  r = h_.Run({"budgets", "restore", kKey}, "2026-04-15T00:11:00Z");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  r = h_.Run({"budgets", "restore", "--force", kKey, "--json"}, "2026-04-15T00:11:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonValue(r.out, "status"), "exempt");
  EXPECT_EQ(JsonValue(r.out, "exempt_until"), JsonValue(r.out, "period_end"));
  // The audit names the operator.
  RunResult audit = h_.Run({"audit", "--principal", kKey, "--json"});
  EXPECT_GE(Count(audit.out, "\"actor\": \"cli:"), 3U) << audit.out;
}

TEST_F(CliE2E, BundledSamplesGiveTheDocumentedTable) {
  const std::string src = BUDGETEER_SOURCE_DIR;
  RunResult r = h_.Run({"ingest", "--json", src + "/samples/invocation-logs.jsonl",
                        src + "/samples/invocation-logs-hour2.json.gz",
                        src + "/samples/cloudwatch-subscription.json"},
                       "2026-11-02T00:00:00Z");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(JsonValue(r.out, "duplicates"), "1");
  EXPECT_EQ(JsonValue(r.out, "skipped"), "1");
  EXPECT_EQ(JsonValue(r.out, "unpriced"), "1");
  // The demo key: 12 calls x $0.09; the name exists in two accounts, so it must be qualified.
  EXPECT_EQ(h_.Run({"budgets", "show", "BedrockAPIKey-demo"}).exit_code, 2);
  RunResult show = h_.Run({"budgets", "show", "--json", "111122223333:BedrockAPIKey-demo"},
                          "2026-11-02T00:00:00Z");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(JsonValue(show.out, "spent_usd"), "1.08");
  EXPECT_EQ(JsonValue(show.out, "status"), "grace_period");
  // TeamRole got alice's call despite her requestMetadata naming the demo key.
  RunResult team = h_.Run({"budgets", "show", "--json", "TeamRole"});
  EXPECT_EQ(team.exit_code, 0) << team.err;
  RunResult list = h_.Run({"budgets", "list"}, "2026-11-02T00:00:00Z");
  EXPECT_NE(list.out.find("111122223333:BedrockAPIKey-demo"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace budgeteer::testing
