#include "engine/dispatcher.h"

#include <gtest/gtest.h>

#include <deque>

#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer {
namespace {

// A notifier that records deliveries and answers from a script (OK when the script is empty).
class ScriptedNotifier final : public Notifier {
 public:
  explicit ScriptedNotifier(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Status Deliver(const ActionMessage& m) override {
    calls.push_back(m);
    if (script.empty()) return Status::Ok();
    Status s = script.front();
    script.pop_front();
    return s;
  }
  std::deque<Status> script;
  std::vector<ActionMessage> calls;

 private:
  std::string name_;
};

class RecordingEnforcer final : public Enforcer {
 public:
  std::string name() const override { return "enforcer:test"; }
  Status Apply(const ActionMessage& m) override {
    calls.push_back(m);
    return Status::Ok();
  }
  std::vector<ActionMessage> calls;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteLedger(":memory:", SqliteOptions{});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
  }

  void Queue(const std::string& kind, const std::string& event) {
    ASSERT_TRUE(store_
                    ->WriteTransaction([&](LedgerTxn& txn) {
                      OutboxAction a;
                      a.created_at = clock_.Now();
                      a.kind = kind;
                      a.event = event;
                      a.payload = R"({"principal":"p"})";
                      a.next_attempt_at = clock_.Now();
                      return txn.AppendOutbox(a).status();
                    })
                    .ok());
  }

  std::vector<OutboxAction> Rows() { return *store_->ListOutbox(0); }

  std::mutex mu_;
  FixedClock clock_{Timestamp::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<LedgerStore> store_;
};

TEST_F(DispatcherTest, RoutesByEventAndDeliversOncePerChannel) {
  ScriptedNotifier ops("webhook:ops");
  ScriptedNotifier slack("slack");
  RecordingEnforcer enforcer;
  Dispatcher d(*store_, mu_, clock_, {{&ops, {}}, {&slack, {"suspended"}}}, &enforcer, {}, 1);
  Queue("notify", "warning");
  Queue("notify", "suspended");
  Queue("suspend_access", "suspended");
  auto first = d.RunOnce();  // routes
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->routed, 4);  // warning: ops; suspended: ops + slack; access: enforcer
  auto second = d.RunOnce();    // delivers
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->delivered, 4);
  EXPECT_EQ(ops.calls.size(), 2U);
  EXPECT_EQ(slack.calls.size(), 1U);
  EXPECT_EQ(enforcer.calls.size(), 1U);
  auto third = d.RunOnce();
  EXPECT_EQ(third->delivered, 0);  // nothing twice
  EXPECT_EQ(ops.calls.size(), 2U);
}

TEST_F(DispatcherTest, RetriesWithBackoffThenRecovers) {
  ScriptedNotifier hook("webhook:ops");
  hook.script = {Unavailable("HTTP 500"), Unavailable("HTTP 503")};
  Dispatcher d(*store_, mu_, clock_, {{&hook, {}}}, nullptr, {}, 7);
  Queue("notify", "critical");
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(d.RunOnce()->failed, 1);
  EXPECT_EQ(d.RunOnce()->delivered, 0);  // not due yet
  clock_.Advance(2);                     // backoff 1 s + up to 0.5 s jitter
  EXPECT_EQ(d.RunOnce()->failed, 1);
  clock_.Advance(3);  // 2 s + jitter
  EXPECT_EQ(d.RunOnce()->delivered, 1);
  EXPECT_EQ(hook.calls.size(), 3U);
  for (const auto& c : hook.calls) EXPECT_EQ(c.action_id, hook.calls[0].action_id);
}

TEST_F(DispatcherTest, PermanentFailureOrTooManyAttemptsIsDeadAndAlerted) {
  ScriptedNotifier hook("webhook:ops");
  hook.script = {Status(Code::kInvalidArgument, "HTTP 404")};
  DispatchPolicy policy;
  Dispatcher d(*store_, mu_, clock_, {{&hook, {}}}, nullptr, policy, 3);
  Queue("notify", "grace_period");
  ASSERT_TRUE(d.RunOnce().ok());
  auto out = d.RunOnce();
  EXPECT_EQ(out->dead, 1);
  bool alerted = false;
  for (const auto& r : Rows()) {
    if (r.kind == "operator_alert" && r.event == "dead_action") alerted = true;
    if (r.status == OutboxStatus::kDead) {
      EXPECT_NE(r.last_error.find("404"), std::string::npos);
    }
  }
  EXPECT_TRUE(alerted);
  // The alert itself is routed and delivered; it never alerts about itself.
  ASSERT_TRUE(d.RunOnce().ok());
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(hook.calls.back().event, "dead_action");
}

TEST_F(DispatcherTest, BackoffDoublesUpToTheCap) {
  DispatchPolicy p;
  EXPECT_EQ(Dispatcher::BackoffMs(p, 1), 1000);
  EXPECT_EQ(Dispatcher::BackoffMs(p, 2), 2000);
  EXPECT_EQ(Dispatcher::BackoffMs(p, 4), 8000);
  EXPECT_EQ(Dispatcher::BackoffMs(p, 30), 300000);
}

}  // namespace
}  // namespace budgeteer
