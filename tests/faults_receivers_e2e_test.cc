// Fault injection, notification receivers: `budgeteer serve` with webhook channels whose
// receivers are down (connection refused) and come back on the same port, answer slower than
// the channel's timeout, or answer 429 Too Many Requests with a Retry-After that the outbox
// honours (up to its max_backoff_ms). Each notification is retried with backoff and delivered
// once the receiver recovers; meanwhile a healthy channel and the ingest endpoint are not held
// up. (500s, dead letters with the operator alert and the audit entry, and a slow receiver
// killed mid-delivery are covered by serve_e2e_test and serve_outbox_e2e_test.)
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/restartable_server.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kViewer[] = "v1ewer-token";

// A webhook receiver on a fixed loopback port that can be taken down and brought back, and
// told how to answer: the next `failures` requests after `delay` with `status` (and a
// Retry-After header when `retry_after` is not empty), then at once with 200. Records every
// request that reached it. Thread-safe.
class ScriptedReceiver {
 public:
  void Script(int status, int failures, milliseconds delay = milliseconds(0),
              std::string retry_after = "") {
    const std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    failures_ = failures;
    delay_ = delay;
    retry_after_ = std::move(retry_after);
  }

  void Down() { server_.Down(); }
  void Up() { server_.Up(); }

  std::string Url() const { return server_.url() + "/hook"; }

  struct Arrival {
    std::string action_id;
    std::string event;
    steady_clock::time_point at;
    int status;
  };
  std::vector<Arrival> arrivals() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return arrivals_;
  }
  // Action ids answered with 200 (each may appear more than once: at-least-once).
  std::multiset<std::string> accepted() const {
    std::multiset<std::string> ids;
    for (const Arrival& a : arrivals()) {
      if (a.status == 200) ids.insert(a.action_id);
    }
    return ids;
  }
  std::set<std::string> distinct_accepted() const {
    const auto all = accepted();
    return {all.begin(), all.end()};
  }

 private:
  void Routes(httplib::Server& server) {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      milliseconds delay{0};
      int status = 200;
      std::string retry_after;
      {
        const std::lock_guard<std::mutex> lock(mu_);
        const Json body = Json::parse(req.body, nullptr, false);
        arrivals_.push_back({req.get_header_value("X-Budgeteer-Action-Id"),
                             body.is_object() ? body.value("event", "") : "", steady_clock::now(),
                             0});
        if (failures_ > 0) {
          --failures_;
          status = status_;
          delay = delay_;
          retry_after = retry_after_;
        }
        arrivals_.back().status = status;
      }
      std::this_thread::sleep_for(delay);
      res.status = status;
      if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
      res.set_content(status == 200 ? "ok" : "try later", "text/plain");
    });
  }

  mutable std::mutex mu_;
  int status_ = 200;
  int failures_ = 0;
  milliseconds delay_{0};
  std::string retry_after_;
  std::vector<Arrival> arrivals_;
  // Last: it starts listening once the state above exists, and stops before it goes.
  RestartableServer server_{[this](httplib::Server& server) { Routes(server); }};
};

std::string Webhook(const std::string& name, const std::string& url, int timeout_ms = 5000) {
  return "[[notify.webhook]]\nname = \"" + name + "\"\nurl = \"" + url +
         "\"\nsecret = \"whsec-test\"\ntimeout_ms = " + std::to_string(timeout_ms) + "\n";
}

// Claude 3 Haiku input tokens for a dollar amount ($0.25 per million).
constexpr int64_t TokensFor(int64_t cents) { return cents * 40'000; }

class ReceiverFaultsE2E : public ServeFixture {
 protected:
  virtual std::string Channels() = 0;
  // The longest wait between two attempts, a receiver's Retry-After included.
  virtual int MaxBackoffMs() { return 400; }

  std::string ConfigToml() override {
    return Channels() + R"(
[outbox]
max_attempts = 30
base_backoff_ms = 100
max_backoff_ms = )" +
           std::to_string(MaxBackoffMs()) +
           R"(
[defaults]
grace_period_seconds = 3600
[auth]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
)";
  }

  // Drives `principals` IAM users to a warning each (one notification per principal and
  // channel); returns the slowest acknowledgement of the deliveries.
  milliseconds WarnPrincipals(int principals) {
    milliseconds slowest{0};
    for (int p = 0; p < principals; ++p) {
      const std::string name = "user-" + std::to_string(p);
      const auto t0 = steady_clock::now();
      EXPECT_TRUE(Ingest(name + "-w", TokensFor(75), "arn:aws:iam::111122223333:user/" + name));
      slowest =
          std::max(slowest, std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0));
    }
    return slowest;
  }

  std::vector<Json> OutboxRows(const std::string& channel) {
    std::vector<Json> rows;
    const Json all = Json::parse(Get("/v1/outbox?limit=10000", kViewer), nullptr, false);
    if (!all.is_array()) return rows;
    for (const Json& row : all) {
      if (row.value("channel", "") == channel) rows.push_back(row);
    }
    return rows;
  }

  bool AllDelivered(const std::string& channel, size_t expected) {
    const std::vector<Json> rows = OutboxRows(channel);
    if (rows.size() != expected) return false;
    for (const Json& row : rows) {
      if (row.value("status", "") != "delivered") return false;
    }
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// A receiver that is down (connection refused), then comes back on the same port.

class ReceiverDownE2E : public ReceiverFaultsE2E {
 protected:
  std::string Channels() override {
    down_.Down();
    return Webhook("down", down_.Url()) + Webhook("ops", ops_.Url());
  }
  ScriptedReceiver down_;
  ScriptedReceiver ops_;
};

TEST_F(ReceiverDownE2E, RetriedWhileDownDeliveredOnceWhenBackAndOthersNotHeldUp) {
  constexpr int kPrincipals = 4;
  const milliseconds slowest_ack = WarnPrincipals(kPrincipals);
  EXPECT_LT(slowest_ack, milliseconds(1000)) << "ingest waited for a notification";

  // The healthy channel gets every warning at once.
  ASSERT_TRUE(
      WaitUntil([&] { return ops_.distinct_accepted().size() == kPrincipals; }, milliseconds(3000)))
      << ServerLog();
  // The down channel's rows are retried (backoff 100 ms, doubling to 400 ms) and say why.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::vector<Json> rows = OutboxRows("webhook:down");
        if (rows.size() != kPrincipals) return false;
        for (const Json& row : rows) {
          if (row.value("attempts", 0) < 3 || row.value("status", "") != "failed") return false;
        }
        return true;
      },
      milliseconds(5000)))
      << Json(OutboxRows("webhook:down")).dump(1);
  const std::string error = OutboxRows("webhook:down").front().value("last_error", "");
  EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << error;

  // Back on the same port: each warning arrives, once.
  down_.Up();
  ASSERT_TRUE(
      WaitUntil([&] { return AllDelivered("webhook:down", kPrincipals); }, milliseconds(5000)))
      << Json(OutboxRows("webhook:down")).dump(1);
  EXPECT_EQ(down_.accepted().size(), static_cast<size_t>(kPrincipals));
  EXPECT_EQ(down_.distinct_accepted().size(), static_cast<size_t>(kPrincipals));
  EXPECT_EQ(ops_.accepted().size(), static_cast<size_t>(kPrincipals));
}

// ---------------------------------------------------------------------------------------------
// A receiver slower than the channel's timeout (1 s): the attempt is given up and retried.

class ReceiverSlowE2E : public ReceiverFaultsE2E {
 protected:
  std::string Channels() override {
    // The first 4 requests take 2.5 s (and are answered 200, too late); then it is fast.
    slow_.Script(200, 4, milliseconds(2500));
    return Webhook("slow", slow_.Url(), /*timeout_ms=*/1000) + Webhook("ops", ops_.Url());
  }
  ScriptedReceiver slow_;
  ScriptedReceiver ops_;
};

TEST_F(ReceiverSlowE2E, TimedOutAttemptsAreRetriedAndOtherChannelsAreNotHeldUp) {
  constexpr int kPrincipals = 4;
  const auto start = steady_clock::now();
  const milliseconds slowest_ack = WarnPrincipals(kPrincipals);
  EXPECT_LT(slowest_ack, milliseconds(1000)) << "ingest waited for a notification";

  // The healthy channel is not queued behind the slow one's timeouts (4 x 1 s).
  ASSERT_TRUE(WaitUntil([&] { return ops_.distinct_accepted().size() == kPrincipals; },
                        milliseconds(10'000)));
  const auto ops_done = std::chrono::duration_cast<milliseconds>(ops_.arrivals().back().at - start);
  EXPECT_LT(ops_done, milliseconds(2500)) << "the healthy channel waited for the slow one";

  // Every warning reaches the slow receiver in the end and is marked delivered. A request it
  // answered after our timeout counts as failed and is sent again: the receiver may see an
  // action id twice (at-least-once; it de-duplicates on X-Budgeteer-Action-Id).
  ASSERT_TRUE(
      WaitUntil([&] { return AllDelivered("webhook:slow", kPrincipals); }, milliseconds(20'000)))
      << Json(OutboxRows("webhook:slow")).dump(1) << ServerLog();
  EXPECT_EQ(slow_.distinct_accepted().size(), static_cast<size_t>(kPrincipals));
  int timed_out_rows = 0;
  for (const Json& row : OutboxRows("webhook:slow")) timed_out_rows += row["attempts"] > 1;
  EXPECT_GE(timed_out_rows, 1);
  std::cout << "[ slow   ] healthy channel done after " << ops_done.count()
            << " ms; slow receiver saw " << slow_.accepted().size() << " deliveries of "
            << kPrincipals << " actions\n";
}

// ---------------------------------------------------------------------------------------------
// A receiver that answers 429 Too Many Requests (Retry-After: 1) three times.

class ReceiverThrottlingE2E : public ReceiverFaultsE2E {
 protected:
  std::string Channels() override {
    busy_.Script(429, 3, milliseconds(0), "1");
    return Webhook("busy", busy_.Url());
  }
  ScriptedReceiver busy_;
};

TEST_F(ReceiverThrottlingE2E, TooManyRequestsWaitsForRetryAfterUpToTheCapThenDeliveredOnce) {
  WarnPrincipals(1);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered("webhook:busy", 1); }, milliseconds(10'000)))
      << Json(OutboxRows("webhook:busy")).dump(1);
  const std::vector<ScriptedReceiver::Arrival> arrivals = busy_.arrivals();
  ASSERT_EQ(arrivals.size(), 4U);
  EXPECT_EQ(OutboxRows("webhook:busy").front().value("attempts", 0), 4);
  EXPECT_EQ(busy_.distinct_accepted().size(), 1U);
  // Retry-After asks for 1 s, more than max_backoff_ms (400 ms): each wait is the cap, not the
  // backoff's own 100 and 200 ms for the first two.
  for (size_t i = 1; i < arrivals.size(); ++i) {
    const auto gap = std::chrono::duration_cast<milliseconds>(arrivals[i].at - arrivals[i - 1].at);
    EXPECT_GE(gap, milliseconds(390)) << "attempt " << i + 1;
    EXPECT_EQ(arrivals[i].action_id, arrivals[0].action_id);
  }
}

// ---------------------------------------------------------------------------------------------
// A receiver that answers 429 with Retry-After: 2 once, under a cap that allows it.

class ReceiverRetryAfterE2E : public ReceiverFaultsE2E {
 protected:
  std::string Channels() override {
    busy_.Script(429, 1, milliseconds(0), "2");
    return Webhook("busy", busy_.Url());
  }
  int MaxBackoffMs() override { return 10'000; }
  ScriptedReceiver busy_;
};

TEST_F(ReceiverRetryAfterE2E, SecondAttemptWaitsForRetryAfterAndDeliversOnce) {
  WarnPrincipals(1);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered("webhook:busy", 1); }, milliseconds(10'000)))
      << Json(OutboxRows("webhook:busy")).dump(1) << ServerLog();
  const std::vector<ScriptedReceiver::Arrival> arrivals = busy_.arrivals();
  ASSERT_EQ(arrivals.size(), 2U);
  EXPECT_EQ(arrivals[0].status, 429);
  EXPECT_EQ(arrivals[1].status, 200);
  EXPECT_EQ(arrivals[1].action_id, arrivals[0].action_id);
  EXPECT_EQ(busy_.accepted().size(), 1U);
  EXPECT_EQ(OutboxRows("webhook:busy").front().value("attempts", 0), 2);
  // The backoff alone would have tried again after 100-150 ms. The wait is counted from the
  // start of the first attempt, a little before its request reached the receiver.
  const auto gap = std::chrono::duration_cast<milliseconds>(arrivals[1].at - arrivals[0].at);
  EXPECT_GE(gap, milliseconds(1900));
  std::cout << "[ retry-after ] second attempt " << gap.count() << " ms after the first\n";
}

}  // namespace
}  // namespace budgeteer::testing
