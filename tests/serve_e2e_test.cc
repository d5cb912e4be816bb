// End-to-end tests of `budgeteer serve`: the real binary on a free loopback port, driven over
// HTTP. Firehose deliveries checked against the contract, retries applied once, access-key and
// token checks, body limits, the scheduler acting on a grace deadline, graceful shutdown.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "actions/webhook/webhook_notifier.h"
#include "core/clock.h"
#include "core/money.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

class ServeE2E : public ServeFixture {
 protected:
  // Extra TOML prepended to the test config (notification channels).
  virtual std::string ExtraConfig() { return ""; }

  std::string ConfigToml() override {
    return ExtraConfig() + R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
[server]
max_body_bytes = 1048576
[defaults]
grace_period_seconds = 2
)";
  }
};

TEST_F(ServeE2E, FirehoseDeliveriesFollowTheContractAndCountOnce) {
  // Plain delivery of raw invocation-log records.
  auto res = PostFirehose(Delivery("del-1", {Record("r1", 1'000'000), Record("r2", 400'000)}));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(
      std::regex_match(res->body, std::regex(R"(\{"requestId":"del-1","timestamp":[0-9]{13}\})")))
      << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");

  // Gzip-encoded delivery whose record carries a CloudWatch Logs payload (gzip inside).
  auto cwl = Base64Decode(CloudWatchPayload({Record("r3", 400'000), Record("r1", 1'000'000)}));
  ASSERT_TRUE(cwl.ok());
  res = PostFirehose(Delivery("del-2", {*cwl}), kAccessKey, /*gzip=*/true);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find(R"("requestId":"del-2")"), std::string::npos);

  // The same delivery retried (Firehose does this when a reply is lost): applied once.
  res = PostFirehose(Delivery("del-1", {Record("r1", 1'000'000), Record("r2", 400'000)}));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const std::string budget = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
  EXPECT_EQ(JsonValue(budget, "spent_usd"), "0.45") << budget;  // r1 + r2 + r3, once each

  // The metrics saw it all: 3 applied, 3 duplicates, one decision per delivery.
  int status = 0;
  const std::string metrics = Get("/metrics", "", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(metrics.find(R"(budgeteer_records_total{source="firehose",outcome="applied"} 3)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(budgeteer_records_total{source="firehose",outcome="duplicate"} 3)"),
            std::string::npos);
  EXPECT_NE(metrics.find("budgeteer_decision_latency_seconds_count 3"), std::string::npos);
  EXPECT_NE(metrics.find(R"(budgeteer_principals{status="active"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(route="/v1/ingest/firehose",code="200"} 3)"), std::string::npos);
  EXPECT_NE(metrics.find(
                R"(budgeteer_cost_usd_total{model="anthropic.claude-3-haiku-20240307-v1"} 0.45)"),
            std::string::npos);
}

TEST_F(ServeE2E, FirehoseRefusesWrongKeysBadBodiesAndOversizedBodies) {
  auto res = PostFirehose(Delivery("del-x", {Record("k1", 10)}), "not-the-key");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_NE(res->body.find("errorMessage"), std::string::npos);
  EXPECT_NE(res->body.find(R"("requestId":)"), std::string::npos);

  res = PostFirehose("{this is not json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("errorMessage"), std::string::npos);

  res = PostFirehose(std::string(size_t{2} * 1024 * 1024, 'x'));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);

  // A "zip bomb": under 1 MiB on the wire, 320 MiB once inflated. The server stops reading at
  // ingest.max_document_bytes (64 MiB by default) and its peak memory stays far below that.
  res = PostFirehose(std::string(size_t{320} * 1024 * 1024, '\0'), kAccessKey, /*gzip=*/true);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(res->body.find("max_document_bytes"), std::string::npos) << res->body;
  EXPECT_LT(PeakMemoryKib(), 200 * 1024);
  // Nothing of it was applied.
  int status = 0;
  Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token", &status);
  EXPECT_EQ(status, 404);
}

TEST_F(ServeE2E, RestReadsAndActionsNeedTheRightRole) {
  ASSERT_EQ(PostFirehose(Delivery("d", {Record("a1", 100)}))->status, 200);
  int status = 0;
  Get("/v1/budgets", "", &status);
  EXPECT_EQ(status, 401);
  Get("/v1/budgets", "wrong", &status);
  EXPECT_EQ(status, 401);
  const std::string list = Get("/v1/budgets", "v1ewer-token", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(list.find("BedrockAPIKey-abc"), std::string::npos);

  httplib::Headers viewer = {{"Authorization", "Bearer v1ewer-token"}};
  auto res =
      Client().Post("/v1/budgets/BedrockAPIKey-abc/suspend", viewer, "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->body.find(R"("code":"PERMISSION_DENIED")"), std::string::npos) << res->body;

  httplib::Headers admin = {{"Authorization", "Bearer adm1n-token"}};
  res = Client().Post("/v1/budgets/BedrockAPIKey-abc/suspend", admin, "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "status"), "suspended");
  res = Client().Post("/v1/budgets/BedrockAPIKey-abc/restore", admin, R"({"forse": true})",
                      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("unknown field 'forse'"), std::string::npos) << res->body;
  res = Client().Post("/v1/budgets/BedrockAPIKey-abc/restore", admin, R"({"force": true})",
                      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "status"), "active");
  res = Client().Post("/v1/budgets/nobody/reset", admin, "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find(R"({"error":{"code":"NOT_FOUND")"), std::string::npos);

  // The audit names the token's actor.
  RunResult audit = h_.Run({"audit", "--json"});
  EXPECT_NE(audit.out.find(R"("actor": "alice")"), std::string::npos) << audit.out;
}

TEST_F(ServeE2E, UsageEndpointAndRestReadsAndPatch) {
  const std::string now = SystemClock().Now().PlusSeconds(-30).ToRfc3339();
  // Canonical records as a JSON array; one is bad.
  const std::string body =
      R"([{"request_id":"c1","timestamp":")" + now +
      R"(","principal":"arn:aws:iam::111122223333:user/gateway","model_id":"anthropic.claude-3-haiku-20240307-v1:0","region":"us-east-1","input_tokens":2000000,"output_tokens":0},)"
      R"({"request_id":"c2","timestamp":")" +
      now +
      R"(","principal":"arn:aws:iam::111122223333:user/gateway","model_id":"anthropic.claude-3-haiku-20240307-v1:0","input_tokens":-1}])";
  httplib::Headers admin = {{"Authorization", "Bearer adm1n-token"}};
  httplib::Headers viewer = {{"Authorization", "Bearer v1ewer-token"}};
  auto res = Client().Post("/v1/usage", viewer, body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  res = Client().Post("/v1/usage", admin, body, "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "applied"), "1") << res->body;
  EXPECT_EQ(JsonValue(res->body, "rejected"), "1");
  EXPECT_EQ(JsonValue(res->body, "cost_usd"), "0.5");
  EXPECT_NE(res->body.find("negative"), std::string::npos) << res->body;

  int status = 0;
  const std::string usage = Get("/v1/usage?group_by=model", "v1ewer-token", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(usage.find(R"("model":"anthropic.claude-3-haiku-20240307-v1")"), std::string::npos)
      << usage;
  const std::string price =
      Get("/v1/prices/us.anthropic.claude-3-5-haiku-20241022-v1:0", "v1ewer-token", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(JsonValue(price, "input_per_million_usd"), "0.8") << price;

  // 50 % of $1 -> raise the limit exactly; lower it below the spend -> grace at once.
  res = Client().Patch("/v1/budgets/gateway", admin, R"({"limit_usd": 0.4, "grace_seconds": 60})",
                       "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "status"), "grace_period");
  EXPECT_EQ(JsonValue(res->body, "limit_usd"), "0.4");
  res = Client().Patch("/v1/budgets/gateway", admin, R"({"limit_usd": "10"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(JsonValue(res->body, "status"), "active");
  res = Client().Patch("/v1/budgets/gateway", admin, R"({"limit": 1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("unknown field"), std::string::npos);
  res = Client().Patch("/v1/budgets/gateway", viewer, R"({"limit_usd": 1})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);

  const std::string audit = Get("/v1/audit?principal=gateway", "v1ewer-token", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(audit.find(R"("actor":"alice")"), std::string::npos) << audit;
  const std::string outbox = Get("/v1/outbox", "v1ewer-token", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(outbox.find(R"("event":"grace_period")"), std::string::npos) << outbox;
}

TEST_F(ServeE2E, SchedulerSuspendsWithinASecondOfTheDeadlineAndShutsDownGracefully) {
  // $1.00 of a $1 budget with a 2 s grace period.
  ASSERT_EQ(PostFirehose(Delivery("g", {Record("g1", 4'000'000)}))->status, 200);
  const std::string before = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
  EXPECT_EQ(JsonValue(before, "status"), "grace_period");
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));  // deadline + 1 s + margin
  const std::string after = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");
  EXPECT_EQ(JsonValue(after, "status"), "suspended") << after;

  int status = 0;
  EXPECT_EQ(Get("/healthz", "", &status), R"({"status":"ok"})");
  Get("/readyz", "", &status);
  EXPECT_EQ(status, 200);

  kill(pid_, SIGTERM);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid_, &wstatus, 0), pid_);
  pid_ = 0;
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
}

TEST_F(ServeE2E, GraceDeadlineThatFellDueWhileDownIsActedOnAtRestart) {
  ASSERT_EQ(PostFirehose(Delivery("d1", {Record("d1", 4'000'000)}))->status, 200);
  KillHard();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // the 2 s deadline passes
  Start();
  std::string status;
  for (int i = 0; i < 30 && status != "suspended"; ++i) {
    status = JsonValue(Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token"), "status");
    if (status != "suspended") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, "suspended");  // within about a second of the restart
}

TEST_F(ServeE2E, KilledWhileDeliveriesAreInFlightThenRetriedGivesExactTotals) {
  // 120 deliveries of 25 records for 6 principals; the server is killed with SIGKILL while a
  // client sends them; after a restart the client re-sends every delivery not acknowledged
  // (as Firehose does) — and, to be hard on it, the acknowledged ones too.
  constexpr int kDeliveries = 120;
  constexpr int kPerDelivery = 25;
  std::vector<std::string> bodies;
  std::map<std::string, int64_t> expected_nanos;
  for (int d = 0; d < kDeliveries; ++d) {
    std::vector<std::string> records;
    for (int k = 0; k < kPerDelivery; ++k) {
      LogRecord r;
      r.request_id = "k-" + std::to_string(d) + "-" + std::to_string(k);
      const std::string name = "key-" + std::to_string((d + k) % 6);
      r.arn = "arn:aws:iam::111122223333:user/" + name;
      r.input = 1000 + d;  // Claude 3 Haiku: 250 nano-dollars per input token
      r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
      expected_nanos[name] += r.input * 250;
      records.push_back(r.Json());
    }
    bodies.push_back(Delivery("del-" + std::to_string(d), records));
  }
  std::vector<bool> acked(kDeliveries, false);
  std::thread killer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    kill(pid_, SIGKILL);
  });
  for (int d = 0; d < kDeliveries; ++d) {
    auto res = PostFirehose(bodies[static_cast<size_t>(d)]);
    acked[static_cast<size_t>(d)] = res && res->status == 200;
  }
  killer.join();
  waitpid(pid_, nullptr, 0);
  pid_ = 0;
  port_ = 0;
  Start();
  int resent = 0;
  for (int d = 0; d < kDeliveries; ++d) {
    auto res = PostFirehose(bodies[static_cast<size_t>(d)]);
    ASSERT_TRUE(res && res->status == 200);
    if (!acked[static_cast<size_t>(d)]) ++resent;
  }
  std::cout << "[ crash  ] " << kDeliveries - resent << " deliveries acknowledged before the kill, "
            << resent << " re-sent after it\n";
  const std::string list = Get("/v1/budgets", "v1ewer-token");
  for (const auto& [name, nanos] : expected_nanos) {
    const size_t at = list.find("\"principal\":\"" + name + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_EQ(JsonValue(list, "spent_usd", at), Money::FromNanos(nanos).ToUsd()) << name;
  }
}

// A webhook receiver that fails its first two requests with 500, then accepts; and a Slack
// receiver. Each transition must arrive exactly once per channel (by action id), signed.
class ServeNotifyE2E : public ServeE2E {
 protected:
  void SetUp() override {
    receiver_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (++hook_calls_ <= 2) {
        res.status = 500;
        return;
      }
      const bool valid = VerifyWebhookSignature(
          "whsec-test", req.get_header_value("X-Budgeteer-Timestamp"), req.body,
          req.get_header_value("X-Budgeteer-Signature"), SystemClock().Now());
      if (!valid) ++bad_signatures_;
      hook_actions_.push_back(req.get_header_value("X-Budgeteer-Action-Id"));
      hook_bodies_.push_back(req.body);
      res.status = 200;
    });
    receiver_.Post("/slack", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      slack_bodies_.push_back(req.body);
      res.status = 200;
    });
    receiver_port_ = receiver_.bind_to_any_port("127.0.0.1");
    receiver_thread_ = std::thread([this] { receiver_.listen_after_bind(); });
    ServeE2E::SetUp();
  }
  void TearDown() override {
    ServeE2E::TearDown();
    receiver_.stop();
    receiver_thread_.join();
  }
  std::string ExtraConfig() override {
    return "[[notify.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:" +
           std::to_string(receiver_port_) +
           "/hook\"\nsecret = \"whsec-test\"\n[[notify.slack]]\nwebhook_url = \"http://127.0.0.1:" +
           std::to_string(receiver_port_) + "/slack\"\nevents = [\"suspended\"]\n";
  }

  httplib::Server receiver_;
  int receiver_port_ = 0;
  std::thread receiver_thread_;
  std::mutex mu_;
  int hook_calls_ = 0;
  int bad_signatures_ = 0;
  std::vector<std::string> hook_actions_;
  std::vector<std::string> hook_bodies_;
  std::vector<std::string> slack_bodies_;
};

TEST_F(ServeNotifyE2E, TransitionsAreNotifiedOncePerChannelWithRetries) {
  // warning, critical, grace_period (and, 2 s later, suspended).
  ASSERT_EQ(PostFirehose(Delivery("n1", {Record("n1", 2'800'000)}))->status, 200);
  ASSERT_EQ(PostFirehose(Delivery("n2", {Record("n2", 800'000)}))->status, 200);
  ASSERT_EQ(PostFirehose(Delivery("n3", {Record("n3", 400'000)}))->status, 200);
  // Backoff after two failures is ~1 s + ~2 s (+ jitter); the deadline passes after 2 s.
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (hook_actions_.size() >= 4 && !slack_bodies_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(hook_actions_.size(), 4U);  // warning, critical, grace_period, suspended
  std::set<std::string> unique(hook_actions_.begin(), hook_actions_.end());
  EXPECT_EQ(unique.size(), 4U) << "a transition was delivered twice";
  EXPECT_EQ(bad_signatures_, 0);
  std::set<std::string> events;
  for (const auto& body : hook_bodies_) events.insert(JsonValue(body, "event"));
  EXPECT_EQ(events, (std::set<std::string>{"warning", "critical", "grace_period", "suspended"}));
  ASSERT_EQ(slack_bodies_.size(), 1U);  // only "suspended" is routed to Slack
  EXPECT_NE(slack_bodies_[0].find("BedrockAPIKey-abc"), std::string::npos);
}

}  // namespace
}  // namespace budgeteer::testing
