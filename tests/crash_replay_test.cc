// Exactly-once across kill -9: `budgeteer ingest` is killed with SIGKILL at random moments
// while applying a large file, then re-run (as an operator or a retrying producer would) until
// it finishes. Per-principal spend must equal the exact expected sum, every record must be
// counted once, and every threshold transition must be audited once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "core/money.h"
#include "tests/cli_harness.h"

extern char** environ;

namespace budgeteer::testing {
namespace {

constexpr int kRecords = 150'000;
constexpr int kPrincipals = 40;

// Runs `budgeteer ingest` and kills it after `kill_after` (or lets it finish when zero).
// Returns true if the process finished on its own.
bool IngestMaybeKilled(const CliHarness& h, const std::string& file,
                       std::chrono::milliseconds kill_after) {
  const std::string db = h.dir() + "/ledger.db";
  std::vector<std::string> args = {BUDGETEER_BINARY,       "--db",   db,  "--now",
                                   "2026-03-01T12:00:00Z", "ingest", file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  if (kill_after.count() > 0) {
    std::this_thread::sleep_for(kill_after);
    kill(pid, SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status);
}

TEST(CrashReplayTest, KilledIngestsReplayedToExactTotals) {
  CliHarness h;
  // Budgets of $1 (default): principals cross warning/critical/grace at different points.
  std::mt19937_64 rng(20261127);
  std::map<std::string, int64_t> expected_nanos;
  std::string text;
  text.reserve(static_cast<size_t>(kRecords) * 420);
  for (int i = 0; i < kRecords; ++i) {
    LogRecord r;
    r.request_id = "crash-" + std::to_string(i);
    const std::string name =
        "BedrockAPIKey-" + std::to_string(static_cast<int>(rng() % kPrincipals));
    r.arn = "arn:aws:iam::111122223333:user/" + name;
    r.timestamp =
        "2026-03-01T11:" + std::string(i % 60 < 10 ? "0" : "") + std::to_string(i % 60) + ":00Z";
    // Claude 3 Haiku: 250 nano-dollars per input token, 1250 per output token (exact).
    r.input = static_cast<int64_t>(rng() % 200) * 4;
    r.output = static_cast<int64_t>(rng() % 50) * 4;
    expected_nanos[name] += r.input * 250 + r.output * 1250;
    text += r.Json() + "\n";
  }
  // A few percent of the lines delivered twice, as at-least-once delivery does.
  for (int i = 0; i < kRecords; i += 37) {
    LogRecord r;
    r.request_id = "crash-" + std::to_string(i);
    r.input = 999'996;  // would be visible if counted: a duplicate id with other content
    text += r.Json() + "\n";
  }
  const std::string file = h.Write("big.jsonl", text);

  int kills = 0;
  std::uniform_int_distribution<int> delay(30, 400);
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (!IngestMaybeKilled(h, file, std::chrono::milliseconds(delay(rng)))) ++kills;
  }
  ASSERT_TRUE(IngestMaybeKilled(h, file, std::chrono::milliseconds(0)));
  ASSERT_TRUE(IngestMaybeKilled(h, file, std::chrono::milliseconds(0)));  // all duplicates now
  std::cout << "[ crash  ] " << kRecords << " records, " << kills << " kills\n";

  RunResult usage = h.Run({"usage", "--json"});
  ASSERT_EQ(usage.exit_code, 0) << usage.err;
  EXPECT_EQ(JsonValue(usage.out, "requests"), std::to_string(kRecords));

  RunResult list = h.Run({"budgets", "list", "--json"}, "2026-03-01T12:00:00Z");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  int checked = 0;
  for (const auto& [name, nanos] : expected_nanos) {
    const size_t at = list.out.find("\"principal\": \"" + name + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    const Money want = Money::FromNanos(nanos);
    EXPECT_EQ(JsonValue(list.out, "spent_usd", at), want.ToUsd()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, kPrincipals);

  // Each principal crosses each threshold at most once in the period: one audit entry each.
  RunResult audit = h.Run({"audit", "--json", "--limit", "100000"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  std::map<std::string, int> transitions;
  for (size_t pos = audit.out.find("\"kind\": \"transition\""); pos != std::string::npos;
       pos = audit.out.find("\"kind\": \"transition\"", pos + 1)) {
    const size_t obj = audit.out.rfind("\"principal\": ", pos);
    const std::string who = JsonValue(audit.out, "principal", obj);
    const std::string to = JsonValue(audit.out, "to", pos);
    ++transitions[who + "->" + to];
  }
  EXPECT_FALSE(transitions.empty());
  for (const auto& [key, n] : transitions) EXPECT_EQ(n, 1) << key;
}

}  // namespace
}  // namespace budgeteer::testing
