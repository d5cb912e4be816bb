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

TEST_F(DispatcherTest, RetryAfterDelaysTheNextAttemptUpToTheCap) {
  ScriptedNotifier hook("webhook:ops");
  const Status too_many(Code::kResourceExhausted, "HTTP 429", true);
  hook.script = {too_many.WithRetryAfterMs(10'000),             // longer than the 1 s backoff
                 too_many.WithRetryAfterMs(3'600'000),          // an hour: capped at 60 s
                 Unavailable("HTTP 503").WithRetryAfterMs(0)};  // shorter: the backoff wins
  DispatchPolicy policy;
  policy.max_backoff_ms = 60'000;
  Dispatcher d(*store_, mu_, clock_, {{&hook, {}}}, nullptr, policy, 7);
  Queue("notify", "critical");
  ASSERT_TRUE(d.RunOnce().ok());  // routes
  auto row = [&] {
    for (const OutboxAction& r : Rows()) {
      if (r.channel == "webhook:ops") return r;
    }
    ADD_FAILURE() << "no webhook:ops row";
    return OutboxAction();
  };

  const Timestamp first = clock_.Now();
  EXPECT_EQ(d.RunOnce()->failed, 1);
  EXPECT_EQ(row().next_attempt_at, first.PlusSeconds(10));
  clock_.Advance(9);
  ASSERT_TRUE(d.RunOnce().ok());
  EXPECT_EQ(hook.calls.size(), 1U);  // the backoff alone would have tried again by now

  clock_.Advance(1);
  const Timestamp second = clock_.Now();
  EXPECT_EQ(d.RunOnce()->failed, 1);
  EXPECT_EQ(hook.calls.size(), 2U);
  EXPECT_EQ(row().next_attempt_at, second.PlusSeconds(60));

  clock_.Advance(60);
  const Timestamp third = clock_.Now();
  EXPECT_EQ(d.RunOnce()->failed, 1);
  EXPECT_EQ(hook.calls.size(), 3U);
  const int64_t wait = row().next_attempt_at.unix_millis() - third.unix_millis();
  EXPECT_GE(wait, 4000);  // attempt 3: 4 s plus up to 50 % jitter
  EXPECT_LE(wait, 6000);

  clock_.Advance(6);
  EXPECT_EQ(d.RunOnce()->delivered, 1);
  EXPECT_EQ(hook.calls.size(), 4U);
  EXPECT_EQ(row().attempts, 4);
}

TEST_F(DispatcherTest, RetryDelayTakesTheLongerWithinTheCap) {
  DispatchPolicy p;  // max_backoff_ms 300 000
  const Status busy = Unavailable("HTTP 503");
  EXPECT_EQ(Dispatcher::RetryDelayMs(p, 1500, busy), 1500);
  EXPECT_EQ(Dispatcher::RetryDelayMs(p, 1500, busy.WithRetryAfterMs(2000)), 2000);
  EXPECT_EQ(Dispatcher::RetryDelayMs(p, 1500, busy.WithRetryAfterMs(500)), 1500);
  EXPECT_EQ(Dispatcher::RetryDelayMs(p, 1500, busy.WithRetryAfterMs(int64_t{1} << 41)), 300'000);
  // A backoff with jitter past the cap is not cut back by a retry-after.
  EXPECT_EQ(Dispatcher::RetryDelayMs(p, 400'000, busy.WithRetryAfterMs(int64_t{1} << 41)), 400'000);
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

// A notifier that looks at the ledger while it delivers: how many of its own rows are already
// recorded as delivered (what a crash at this moment would keep).
class LedgerPeekingNotifier final : public Notifier {
 public:
  explicit LedgerPeekingNotifier(LedgerStore& store) : store_(store) {}
  std::string name() const override { return "webhook:peek"; }
  Status Deliver(const ActionMessage&) override {
    auto rows = store_.ListOutbox(0);
    if (!rows.ok()) return rows.status();
    int delivered = 0;
    for (const OutboxAction& a : *rows) {
      if (a.channel == name() && a.status == OutboxStatus::kDelivered) ++delivered;
    }
    delivered_before.push_back(delivered);
    return Status::Ok();
  }
  std::vector<int> delivered_before;

 private:
  LedgerStore& store_;
};

TEST_F(DispatcherTest, EachDeliveryIsRecordedBeforeTheNextOneStarts) {
  // A crash during a round must re-send only the delivery in flight, not the ones the
  // receiver already accepted earlier in the round.
  LedgerPeekingNotifier peek(*store_);
  Dispatcher d(*store_, mu_, clock_, {{&peek, {}}}, nullptr, {}, 1);
  for (int i = 0; i < 3; ++i) Queue("notify", "warning");
  ASSERT_TRUE(d.RunOnce().ok());  // routes
  ASSERT_TRUE(d.RunOnce().ok());  // delivers the three in one round
  EXPECT_EQ(peek.delivered_before, (std::vector<int>{0, 1, 2}));
}

TEST_F(DispatcherTest, DeadActionIsAudited) {
  ScriptedNotifier hook("webhook:ops");
  hook.script = {FailedPrecondition("HTTP 404")};
  Dispatcher d(*store_, mu_, clock_, {{&hook, {"warning"}}}, nullptr, {}, 1);
  Queue("notify", "warning");
  ASSERT_TRUE(d.RunOnce().ok());  // routes
  auto round = d.RunOnce();       // a permanent error: dead at once
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->dead, 1);
  auto audit = store_->QueryAudit(AuditQuery{});
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1U);
  const AuditEntry& e = audit->front();
  EXPECT_EQ(e.kind, "dead_action");
  EXPECT_EQ(e.actor, "system");
  EXPECT_NE(e.details.find(R"("channel":"webhook:ops")"), std::string::npos) << e.details;
  EXPECT_NE(e.details.find(R"("error":"HTTP 404")"), std::string::npos) << e.details;
  // The alert about it points at the audit entry.
  bool linked = false;
  for (const OutboxAction& a : Rows()) {
    if (a.kind == "operator_alert" && a.audit_id == e.id) linked = true;
  }
  EXPECT_TRUE(linked);
}

}  // namespace
}  // namespace budgeteer
