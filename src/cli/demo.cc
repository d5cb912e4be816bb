#include "cli/demo.h"

#include <iostream>

namespace budgeteer::cli {

namespace {
UsageRecord DemoRecord(const std::string& id, Timestamp now, const std::string& caller,
                       const char* model, int64_t input, int64_t output) {
  UsageRecord r;
  r.request_id = RequestId("demo-" + id);
  r.timestamp = now;
  r.caller = caller;
  r.account_id = "000000000000";
  r.region = "us-east-1";
  r.operation = Operation::kConverse;
  r.model_id = ModelId(std::string(model));
  r.tokens.input = input;
  r.tokens.output = output;
  return r;
}
}  // namespace

void DemoTraffic::Step(int round) {
  const Timestamp now = clock_.Now();
  const std::string tag = std::to_string(now.unix_millis()) + "-" + std::to_string(round);
  std::vector<UsageRecord> records;
  std::lock_guard<std::mutex> lock(engine_mu_);
  auto demo_key = engine_.ShowBudget("000000000000:BedrockAPIKey-demo");
  const bool denied = demo_key.ok() && demo_key->row.state.status == BudgetStatus::kSuspended;
  // The demo key: Claude Sonnet 4 (us.), 10,000 in + 1,333 out = $0.049995 per call; with a
  // $1 budget it warns after 15 calls, is critical after 19 and over budget after 21.
  if (!denied) {
    records.push_back(DemoRecord("key-" + tag, now,
                                 "arn:aws:iam::000000000000:user/BedrockAPIKey-demo",
                                 "us.anthropic.claude-sonnet-4-20250514-v1:0", 10'000, 1'333));
  }
  // Background: a team role that stays well within budget.
  if (round % 3 == 0) {
    records.push_back(DemoRecord("team-" + tag, now,
                                 "arn:aws:sts::000000000000:assumed-role/DemoTeamRole/alice",
                                 "anthropic.claude-3-haiku-20240307-v1:0", 4'000, 500));
  }
  if (records.empty()) return;
  auto outcome = engine_.ApplyBatch(records, "demo");
  if (!outcome.ok()) {
    std::cerr << "demo: " << outcome.status().message() << '\n';
  }
}

}  // namespace budgeteer::cli
