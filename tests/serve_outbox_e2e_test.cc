// End-to-end tests of `budgeteer serve`'s outbox and of its guards against slow clients: the
// real binary on a free loopback port, with real receivers beside it (an SMTP sink, HTTP
// receivers that fail, never recover, or answer slowly). E-mail for every transition (and the
// owner's copy), dead letters with an operator alert, SIGKILL while notifications are in
// flight, slow and oversized requests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "actions/testing/http_receiver.h"
#include "actions/testing/smtp_sink.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

constexpr char kAdmin[] = "adm1n-token";
constexpr char kViewer[] = "v1ewer-token";
constexpr char kPrincipal[] = "111122223333:BedrockAPIKey-abc";

// Tokens and the Firehose key; every test adds its own tables.
std::string CommonToml() {
  return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
)";
}

std::string WebhookToml(const std::string& name, const std::string& url,
                        const std::string& events = "") {
  return "[[notify.webhook]]\nname = \"" + name + "\"\nurl = \"" + url +
         "\"\nsecret = \"whsec-test\"\n" + (events.empty() ? "" : "events = " + events + "\n");
}

// Claude 3 Haiku input tokens for a dollar amount ($0.25 per million).
constexpr int64_t TokensFor(int64_t cents) { return cents * 40'000; }

class OutboxFixture : public ServeFixture {
 protected:
  Json GetJson(const std::string& path) {
    int status = 0;
    const std::string body = Get(path, kViewer, &status);
    EXPECT_EQ(status, 200) << path << ": " << body;
    return Json::parse(body, nullptr, /*allow_exceptions=*/false);
  }

  // Outbox rows on `channel` (all of them when empty).
  std::vector<Json> OutboxRows(const std::string& channel = "") {
    std::vector<Json> rows;
    for (const Json& row : GetJson("/v1/outbox?limit=10000")) {
      if (channel.empty() || row.value("channel", "") == channel) rows.push_back(row);
    }
    return rows;
  }

  // True once no row on `channel` waits for a (re)try.
  bool Drained(const std::string& channel) {
    const std::vector<Json> rows = OutboxRows(channel);
    if (rows.empty()) return false;
    for (const Json& row : rows) {
      const std::string status = row.value("status", "");
      if (status == "pending" || status == "failed") return false;
    }
    return true;
  }

  bool Patch(const std::string& path, const std::string& body) {
    httplib::Headers admin = {{"Authorization", std::string("Bearer ") + kAdmin}};
    auto res = Client().Patch(path, admin, body, "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no reply");
    return res && res->status == 200;
  }
};

// ---------------------------------------------------------------------------------------------
// 1. E-mail through a local SMTP sink, with SMTP AUTH and the owner's copy.

class EmailE2E : public OutboxFixture {
 protected:
  std::string ConfigToml() override {
    return R"([[notify.email]]
name = "ops"
smtp_url = ")" +
           sink_.Url() + R"("
username = "mailer"
password = "s3cret pass"
from = "budgeteer@example.com"
to = ["ops@example.com"]
send_to_owner = true
events = ["warning", "critical", "grace_period", "suspended"]
[defaults]
grace_period_seconds = 2
)" + CommonToml();
  }

  SmtpSink sink_{SmtpSinkOptions{"mailer", "s3cret pass", "250 OK"}};
};

TEST_F(EmailE2E, EveryTransitionIsMailedWithItsFiguresToOpsAndTheOwner) {
  // The principal exists once it has spent something; then it gets an owner.
  ASSERT_TRUE(Ingest("e0", 4));  // $0.000001
  ASSERT_TRUE(
      Patch(std::string("/v1/budgets/") + kPrincipal, R"({"owner_email": "owner@example.com"})"));
  ASSERT_TRUE(Ingest("e1", TokensFor(70)));  // 70 %: warning
  ASSERT_TRUE(Ingest("e2", TokensFor(20)));  // 90 %: critical
  ASSERT_TRUE(Ingest("e3", TokensFor(10)));  // 100 %: grace period (2 s), then suspended
  const Json budget = GetJson(std::string("/v1/budgets/") + kPrincipal);
  const std::string deadline = budget.value("grace_deadline", "");
  ASSERT_FALSE(deadline.empty()) << budget.dump();

  std::vector<SmtpMessage> mails = sink_.WaitForMessages(4, milliseconds(10'000));
  ASSERT_EQ(mails.size(), 4U) << ServerLog();
  // Nothing more comes (one e-mail per transition): the outbox has four delivered rows.
  ASSERT_TRUE(WaitUntil([&] { return Drained("email:ops"); }, milliseconds(2000)))
      << Json(OutboxRows()).dump(1);
  EXPECT_EQ(OutboxRows("email:ops").size(), 4U);
  EXPECT_EQ(sink_.messages().size(), 4U);
  EXPECT_EQ(sink_.auth_failures(), 0);

  struct Expected {
    std::string subject_state, state, spent, percent;
  };
  const std::vector<Expected> expected = {
      {"budget warning", "active -> warning", "$0.70", "70.00%"},
      {"budget critical", "warning -> critical", "$0.90", "90.00%"},
      {"over budget, grace period", "critical -> grace_period", "$1.00", "100.00%"},
      {"Bedrock access suspended", "grace_period -> suspended", "$1.00", "100.00%"},
  };
  std::set<std::string> action_ids;
  for (size_t i = 0; i < expected.size(); ++i) {
    const SmtpMessage& m = mails[i];
    const std::string body = m.Body();
    SCOPED_TRACE(m.data);
    EXPECT_EQ(m.auth_user, "mailer");
    EXPECT_EQ(m.mail_from, "budgeteer@example.com");
    EXPECT_EQ(m.rcpt_to, (std::vector<std::string>{"ops@example.com", "owner@example.com"}));
    EXPECT_EQ(m.Header("To"), "ops@example.com, owner@example.com");
    EXPECT_EQ(m.Header("Subject"),
              std::string("[Bedrock Budgeteer] ") + kPrincipal + ": " + expected[i].subject_state);
    EXPECT_NE(body.find(std::string("Principal: ") + kPrincipal + "\r\n"), std::string::npos);
    EXPECT_NE(body.find("Spent: " + expected[i].spent + "\r\n"), std::string::npos);
    EXPECT_NE(body.find("Limit: $1.00\r\n"), std::string::npos);
    EXPECT_NE(body.find("Percent: " + expected[i].percent + "\r\n"), std::string::npos);
    EXPECT_NE(body.find("State: " + expected[i].state + "\r\n"), std::string::npos);
    EXPECT_NE(body.find("Period ends: "), std::string::npos);
    EXPECT_NE(body.find("What to do:\r\n"), std::string::npos);
    action_ids.insert(m.Header("X-Budgeteer-Action-Id"));
  }
  EXPECT_EQ(action_ids.size(), 4U);
  // The grace-period mail names the moment of suspension.
  EXPECT_NE(mails[2].Body().find("Suspension at: " + deadline + "\r\n"), std::string::npos)
      << mails[2].Body();
}

// ---------------------------------------------------------------------------------------------
// 2. A receiver that never recovers: dead letter, operator alert on another channel, audit.

class DeadLetterE2E : public OutboxFixture {
 protected:
  std::string ConfigToml() override {
    return WebhookToml("broken", broken_.Url("/hook")) + WebhookToml("ops", ops_.Url("/hook")) +
           R"([outbox]
max_attempts = 3
base_backoff_ms = 50
max_backoff_ms = 200
)" + CommonToml();
  }

  HttpReceiver broken_{500, "internal error"};
  HttpReceiver ops_;
};

TEST_F(DeadLetterE2E, DeadActionIsAlertedOnceAndAuditedAndNothingElseIsLost) {
  ASSERT_TRUE(Ingest("w1", TokensFor(75)));  // warning

  // The warning's row on the broken channel dies after 3 attempts; the alert about it reaches
  // the working channel.
  auto alerts_at_ops = [&] {
    int n = 0;
    for (const RecordedRequest& r : ops_.requests()) {
      if (Json::parse(r.body, nullptr, false).value("event", "") == "dead_action") ++n;
    }
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return alerts_at_ops() >= 1; }, milliseconds(10'000))) << ServerLog();
  // The alert's own copy on the broken channel dies too, and must not raise another alert.
  ASSERT_TRUE(WaitUntil([&] { return Drained("webhook:broken"); }, milliseconds(5000)))
      << Json(OutboxRows()).dump(1);
  std::this_thread::sleep_for(milliseconds(300));  // a cascade would show within this
  EXPECT_EQ(alerts_at_ops(), 1);

  std::map<std::string, std::string> broken_status;  // event -> status
  std::map<std::string, int> broken_attempts;
  for (const Json& row : OutboxRows("webhook:broken")) {
    broken_status[row["event"]] = row["status"];
    broken_attempts[row["event"]] = row["attempts"];
  }
  EXPECT_EQ(broken_status,
            (std::map<std::string, std::string>{{"warning", "dead"}, {"dead_action", "dead"}}));
  EXPECT_EQ(broken_attempts["warning"], 3);
  EXPECT_EQ(broken_.requests().size(), 6U);  // 3 for the warning, 3 for the alert's copy

  // Nothing else is lost: the working channel and the log got the warning and the alert.
  std::set<std::string> ops_events;
  for (const RecordedRequest& r : ops_.requests()) {
    ops_events.insert(Json::parse(r.body, nullptr, false).value("event", ""));
  }
  EXPECT_EQ(ops_events, (std::set<std::string>{"warning", "dead_action"}));
  for (const std::string channel : {"webhook:ops", "log"}) {
    for (const Json& row : OutboxRows(channel)) {
      EXPECT_EQ(row["status"], "delivered") << row.dump();
    }
  }
  const Json alert =
      Json::parse(ops_.requests().back().body, nullptr, false);  // the alert came after the warning
  EXPECT_EQ(alert.value("kind", ""), "operator_alert") << alert.dump();

  // The audit keeps the dead action, once.
  int dead_entries = 0;
  for (const Json& e : GetJson("/v1/audit?limit=1000")) {
    if (e.value("kind", "") != "dead_action") continue;
    ++dead_entries;
    EXPECT_EQ(e.value("principal", Json()).get<std::string>(), kPrincipal);
    EXPECT_EQ(e["details"].value("channel", ""), "webhook:broken") << e.dump();
    EXPECT_EQ(e["details"].value("event", ""), "warning") << e.dump();
    EXPECT_EQ(e["details"].value("attempts", 0), 3) << e.dump();
  }
  EXPECT_EQ(dead_entries, 1);
  // And the spend is what was ingested.
  EXPECT_EQ(JsonValue(Get(std::string("/v1/budgets/") + kPrincipal, kViewer), "spent_usd"), "0.75");
}

// ---------------------------------------------------------------------------------------------
// 3. SIGKILL while notifications are in flight to a slow receiver.

// Answers every webhook after `delay`, recording the action id and event when the request
// arrives (so a delivery cut off by the kill still counts as received).
class SlowReceiver {
 public:
  explicit SlowReceiver(milliseconds delay) {
    server_.Post("/hook", [this, delay](const httplib::Request& req, httplib::Response& res) {
      {
        const std::lock_guard<std::mutex> lock(mu_);
        const Json body = Json::parse(req.body, nullptr, false);
        const Json payload = body.value("payload", Json::object());
        received_.push_back({req.get_header_value("X-Budgeteer-Action-Id"),
                             payload.value("principal", "") + "/" + body.value("event", "")});
      }
      std::this_thread::sleep_for(delay);
      res.status = 200;
    });
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~SlowReceiver() {
    server_.stop();
    thread_.join();
  }
  SlowReceiver(const SlowReceiver&) = delete;
  SlowReceiver& operator=(const SlowReceiver&) = delete;

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  // (action id, "principal/event") in arrival order.
  std::vector<std::pair<std::string, std::string>> received() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> received_;
};

class KillWhileNotifyingE2E : public OutboxFixture {
 protected:
  std::string ConfigToml() override {
    // No time-driven transitions (grace of an hour): the test decides every transition.
    return WebhookToml("slow", slow_.Url()) + R"([defaults]
grace_period_seconds = 3600
)" + CommonToml();
  }

  SlowReceiver slow_{milliseconds(300)};
};

TEST_F(KillWhileNotifyingE2E, EveryTransitionIsNotifiedAndOnlyTheInFlightOneTwice) {
  // 4 principals x (warning, critical, grace_period) = 12 notifications, 3.6 s of deliveries.
  constexpr int kPrincipals = 4;
  std::set<std::string> expected;
  for (int p = 0; p < kPrincipals; ++p) {
    const std::string name = "crash-" + std::to_string(p);
    const std::string arn = "arn:aws:iam::111122223333:user/" + name;
    ASSERT_TRUE(Ingest(name + "-w", TokensFor(70), arn));
    ASSERT_TRUE(Ingest(name + "-c", TokensFor(20), arn));
    ASSERT_TRUE(Ingest(name + "-g", TokensFor(10), arn));
    for (const char* event : {"warning", "critical", "grace_period"}) {
      expected.insert(name + "/" + event);
    }
  }
  // Kill while the fourth delivery is being answered.
  ASSERT_TRUE(WaitUntil([&] { return slow_.received().size() >= 4; }, milliseconds(10'000)));
  KillHard();
  const size_t before_kill = slow_.received().size();
  ASSERT_LT(before_kill, expected.size()) << "the outbox drained before the kill";

  Start();
  auto distinct = [&] {
    std::set<std::string> ids;
    for (const auto& [id, what] : slow_.received()) ids.insert(id);
    return ids.size();
  };
  ASSERT_TRUE(WaitUntil([&] { return distinct() >= expected.size(); }, milliseconds(15'000)))
      << distinct() << " of " << expected.size() << "\n"
      << ServerLog();
  ASSERT_TRUE(WaitUntil([&] { return Drained("webhook:slow"); }, milliseconds(5000)));

  std::map<std::string, int> per_action;
  std::map<std::string, std::set<std::string>> ids_per_transition;
  for (const auto& [id, what] : slow_.received()) {
    ++per_action[id];
    ids_per_transition[what].insert(id);
  }
  // Every transition arrived, under one action id each.
  std::set<std::string> transitions;
  for (const auto& [what, ids] : ids_per_transition) {
    transitions.insert(what);
    EXPECT_EQ(ids.size(), 1U) << what << " was notified under several action ids";
  }
  EXPECT_EQ(transitions, expected);
  // Deliveries are one at a time and each outcome is committed on its own: only the delivery
  // in flight at the kill (its reply lost) may arrive twice.
  int duplicates = 0;
  for (const auto& [id, n] : per_action) duplicates += n - 1;
  std::cout << "[ crash  ] " << before_kill << " notifications received before the kill, "
            << duplicates << " duplicated after the restart\n";
  EXPECT_LE(duplicates, 1);
}

// ---------------------------------------------------------------------------------------------
// 4. Slow clients and oversized headers.

class SlowClientE2E : public OutboxFixture {
 protected:
  std::string ConfigToml() override {
    return "[server]\nread_timeout_seconds = 1\n" + CommonToml();
  }

  // A raw TCP connection to the server.
  int Connect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  }

  // Reads until the server closes the connection or `timeout` passes. Returns what was read
  // and whether the connection was closed.
  static std::pair<std::string, bool> ReadUntilClosed(int fd, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string data;
    timeval tv{0, 50'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (std::chrono::steady_clock::now() < deadline) {
      std::array<char, 4096> chunk{};
      const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
      if (n == 0) return {data, true};
      if (n > 0) data.append(chunk.data(), static_cast<size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return {data, true};  // reset
    }
    return {data, false};
  }
};

TEST_F(SlowClientE2E, StalledClientsAreCutOffWhileOthersAreServed) {
  // Two clients send half a request and stall; one connects and sends nothing.
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  std::vector<int> stalled = {Connect(), Connect(), Connect()};
  ASSERT_EQ(::send(stalled[0], partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  ASSERT_EQ(::send(stalled[1], partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  const auto start = std::chrono::steady_clock::now();

  // Meanwhile everybody else is served at once.
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    EXPECT_EQ(Get("/healthz", "", &status), R"({"status":"ok"})");
    EXPECT_EQ(status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));
  }

  // Each stalled connection is closed by the server: after the 1 s read timeout (the half
  // request gets httplib's 400), then at most the idle timeout, which serve caps at the read
  // timeout. Without the cap an idle connection held a worker thread for 30 s.
  for (const int fd : stalled) {
    const auto [reply, closed] = ReadUntilClosed(fd, milliseconds(5000));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(closed) << "a stalled client was not cut off";
    EXPECT_GE(elapsed, milliseconds(900));
    EXPECT_LT(elapsed, milliseconds(4000));
    if (!reply.empty()) {
      EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0U) << reply;
    }
    ::close(fd);
  }
  int status = 0;
  Get("/healthz", "", &status);
  EXPECT_EQ(status, 200);
}

// server.worker_threads bounds what stalled clients can hold: with 4 workers, 3 stalled
// connections leave one thread serving everybody else at once; a 4th takes the last one, and
// others then wait until the read timeout cuts the stalled ones off. (With httplib's default
// pool of 8 the request after the 4th would be served at once: the setting is what is tested.)
class WorkerPoolE2E : public SlowClientE2E {
 protected:
  std::string ConfigToml() override {
    return "[server]\nread_timeout_seconds = 1\nworker_threads = 4\n" + CommonToml();
  }
};

TEST_F(WorkerPoolE2E, StalledClientsHoldAtMostTheConfiguredWorkers) {
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  std::vector<int> stalled;
  const auto stall = [&] {
    stalled.push_back(Connect());
    ASSERT_EQ(::send(stalled.back(), partial.data(), partial.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(partial.size()));
  };
  for (int i = 0; i < 3; ++i) stall();
  std::this_thread::sleep_for(milliseconds(100));  // let the workers pick them up
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    Get("/healthz", "", &status);
    EXPECT_EQ(status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));
  }

  stall();
  std::this_thread::sleep_for(milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  Get("/healthz", "", &status);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(status, 200);
  EXPECT_GE(waited, milliseconds(500)) << "the 5th connection was served while 4 workers stalled";
  EXPECT_LT(waited, milliseconds(4000));
  for (const int fd : stalled) ::close(fd);
}

TEST_F(SlowClientE2E, OversizedHeaderIsRefusedAndTheServerKeepsServing) {
  // Debian's cpp-httplib reads header lines of up to 8 KiB (CPPHTTPLIB_HEADER_MAX_LENGTH);
  // a longer one is a malformed request: 400 with our JSON error body.
  httplib::Headers big = {{"X-Big", std::string(9000, 'a')}};
  auto res = Client().Get("/healthz", big);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find(R"("code":"INVALID_ARGUMENT")"), std::string::npos) << res->body;

  // Just under the limit is fine.
  httplib::Headers large = {{"X-Large", std::string(7000, 'a')}};
  res = Client().Get("/healthz", large);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  // The server keeps serving, authenticated routes included.
  int status = 0;
  Get("/v1/budgets", kViewer, &status);
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace budgeteer::testing
