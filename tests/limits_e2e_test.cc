// Limits on hostile input, end to end against the real `budgeteer serve`: records per Firehose
// delivery, line length, JSON nesting depth, body size on /v1/usage, many header lines, and a
// flood of fresh identities (the new-principal cap): memory and the ledger stay bounded, known
// principals' usage keeps flowing, and every refused record is refused with a retryable status.
// (Body size on Firehose, the zip bomb, header length and slow clients are in serve_e2e_test
// and serve_outbox_e2e_test.)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

constexpr char kAdmin[] = "adm1n-token";

// /proc/<pid>/status field in KiB ("VmRSS", "VmHWM").
int64_t ProcStatusKib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

int64_t FileBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

class LimitsE2E : public ServeFixture {
 protected:
  virtual std::string Extra() { return ""; }
  virtual int ReadTimeoutSeconds() { return 30; }
  virtual int BodyTimeoutSeconds() { return 300; }
  std::string ConfigToml() override {
    return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
[server]
max_body_bytes = 4194304
read_timeout_seconds = )" +
           std::to_string(ReadTimeoutSeconds()) +
           "\nbody_timeout_seconds = " + std::to_string(BodyTimeoutSeconds()) + R"(
[ingest]
max_records_per_envelope = 50
max_line_bytes = 2048
max_json_depth = 16
)" + Extra();
  }

  httplib::Result PostUsage(const std::string& body) {
    return Client().Post("/v1/usage", {{"Authorization", std::string("Bearer ") + kAdmin}}, body,
                         "application/x-ndjson");
  }

  std::string Spent(const std::string& principal) {
    return JsonValue(Get("/v1/budgets/" + principal, "v1ewer-token"), "spent_usd");
  }
};

TEST_F(LimitsE2E, DeliveryWithMoreRecordsThanTheLimitIsRefusedWhole) {
  std::vector<std::string> records;
  records.reserve(51);
  for (int i = 0; i < 51; ++i) records.push_back(Record("many-" + std::to_string(i), 1'000'000));
  auto res = PostFirehose(Delivery("d-51", records));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("ingest.max_records_per_envelope"), std::string::npos) << res->body;
  int status = 0;
  Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token", &status);
  EXPECT_EQ(status, 404);  // nothing of it was applied

  records.pop_back();
  res = PostFirehose(Delivery("d-50", records));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Spent("BedrockAPIKey-abc"), "12.5");  // 50 x $0.25
}

TEST_F(LimitsE2E, OverlongLineIsRejectedByNameAndTheOtherLinesApplied) {
  LogRecord big;
  big.request_id = "long-1";
  big.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
  big.input = 1'000'000;
  big.extra = R"(,"padding":")" + std::string(3000, 'x') + "\"";
  const std::string body =
      Record("short-1", 1'000'000) + "\n" + big.Json() + "\n" + Record("short-2", 1'000'000) + "\n";
  auto res = PostUsage(body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(JsonValue(res->body, "applied"), "2") << res->body;
  EXPECT_EQ(JsonValue(res->body, "rejected"), "1");
  EXPECT_NE(res->body.find("ingest.max_line_bytes"), std::string::npos) << res->body;
  EXPECT_EQ(Spent("BedrockAPIKey-abc"), "0.5");
}

TEST_F(LimitsE2E, DeepJsonIsRefusedWithoutHarm) {
  // A whole delivery nested deeper than ingest.max_json_depth: refused before it is parsed.
  const std::string deep = std::string(10'000, '[') + std::string(10'000, ']');
  auto res = PostFirehose(R"({"requestId":"deep","timestamp":1,"records":[],"x":)" + deep + "}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("ingest.max_json_depth"), std::string::npos) << res->body;

  // One deep record among good ones: that record is rejected, the others applied.
  LogRecord r;
  r.request_id = "deep-1";
  r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
  r.input = 1'000'000;
  r.extra = R"(,"x":)" + std::string(40, '[') + std::string(40, ']');
  res = PostFirehose(Delivery("d-deep", {Record("ok-1", 1'000'000), r.Json()}));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = PostUsage(Record("ok-2", 1'000'000) + "\n" + r.Json() + "\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(JsonValue(res->body, "rejected"), "1") << res->body;
  EXPECT_NE(res->body.find("ingest.max_json_depth"), std::string::npos) << res->body;
  EXPECT_EQ(Spent("BedrockAPIKey-abc"), "0.5");
  int status = 0;
  Get("/healthz", "", &status);
  EXPECT_EQ(status, 200);
}

TEST_F(LimitsE2E, UsageBodyOverTheLimitGets413AndNothingIsApplied) {
  std::string body;
  for (int i = 0; body.size() < size_t{5} << 20; ++i) {
    body += Record("big-" + std::to_string(i), 1'000) + "\n";
  }
  auto res = PostUsage(body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(res->body.find("server.max_body_bytes"), std::string::npos) << res->body;
  int status = 0;
  Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token", &status);
  EXPECT_EQ(status, 404);
}

// Many header lines, each under cpp-httplib's 8 KiB per line: without server.max_header_bytes
// the server held every one of them (160 MB of headers took its memory to ~250 MB).
TEST_F(LimitsE2E, HeadersBeyondTheTotalLimitAreRefusedWithoutBeingHeld) {
  const int64_t before = ProcStatusKib(pid_, "VmHWM");
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  const std::string line = "X-A: " + std::string(8000, 'a') + "\r\n";
  size_t sent = 0;
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  for (int i = 0; i < 12'800; ++i) {  // up to 100 MiB
    const ssize_t n = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed the connection (or stopped reading)
    sent += static_cast<size_t>(n);
  }
  std::array<char, 512> reply{};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const ssize_t got = ::recv(fd, reply.data(), reply.size(), 0);
  ::close(fd);
  EXPECT_LT(sent, size_t{100} << 20) << "the server kept reading headers";
  if (got > 0) {
    EXPECT_EQ(std::string(reply.data(), 13), "HTTP/1.1 400 ");
  }
  EXPECT_LT(ProcStatusKib(pid_, "VmHWM") - before, 16 * 1024);
  // Headers just under the limit are fine, and the server keeps serving.
  httplib::Headers many;
  for (int i = 0; i < 6; ++i) many.emplace("X-H" + std::to_string(i), std::string(7000, 'b'));
  auto res = Client().Get("/healthz", many);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// A client that sends a header line every half second never lets the per-read timeout expire;
// the headers as a whole must still arrive within server.read_timeout_seconds (2 s here).
class TrickleE2E : public LimitsE2E {
 protected:
  int ReadTimeoutSeconds() override { return 2; }
  int BodyTimeoutSeconds() override { return 3; }

  // Sends `head`, then `line` every 500 ms until the server answers or closes the connection;
  // returns how long that took (10 s: it never did).
  std::chrono::milliseconds TrickleUntilCutOff(const std::string& head, const std::string& line) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    const auto t0 = std::chrono::steady_clock::now();
    timeval tv{0, 10'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
      if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) <= 0) break;
      std::array<char, 64> reply{};
      const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
      if (n == 0 || (n > 0 && std::string(reply.data(), 13) == "HTTP/1.1 400 ")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ::close(fd);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
  }
};

TEST_F(TrickleE2E, BodiesTrickledSlowerThanTheBodyTimeoutAreCutOff) {
  // A Firehose delivery announced as 100 KB that arrives one byte every half second: every
  // read is well within the 2 s read timeout, the body as a whole is cut off after 3 s.
  const std::string head =
      "POST /v1/ingest/firehose HTTP/1.1\r\nHost: x\r\nX-Amz-Firehose-Access-Key: "
      "fh-secret-key\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
  const auto elapsed = TrickleUntilCutOff(head, " ");
  EXPECT_GE(elapsed, std::chrono::milliseconds(2500));
  EXPECT_LT(elapsed, std::chrono::milliseconds(5500));
  int status = 0;
  Get("/healthz", "", &status);
  EXPECT_EQ(status, 200);
}

TEST_F(TrickleE2E, HeadersTrickledSlowerThanTheReadTimeoutAreCutOff) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  const auto t0 = std::chrono::steady_clock::now();
  bool cut = false;
  timeval tv{0, 10'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
    const std::string line = "X-Slow: 1\r\n";
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) <= 0) {
      cut = true;
      break;
    }
    std::array<char, 64> reply{};
    const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    if (n == 0 || (n > 0 && std::string(reply.data(), 13) == "HTTP/1.1 400 ")) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ::close(fd);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(cut);
  EXPECT_GE(elapsed, std::chrono::milliseconds(1500));
  EXPECT_LT(elapsed, std::chrono::milliseconds(4500));
}

// ---------------------------------------------------------------------------------------------
// A flood of fresh identities.

class FloodE2E : public LimitsE2E {
 protected:
  std::string Extra() override {
    return R"(
[identity]
per_session_roles = ["FloodRole"]
max_new_principals_per_minute = 200
)";
  }
};

TEST_F(FloodE2E, FreshIdentitiesAreCappedWhileKnownPrincipalsKeepFlowing) {
  // Three known principals, one record each: $0.25 each.
  const std::vector<std::string> known = {"arn:aws:iam::111122223333:user/BedrockAPIKey-k0",
                                          "arn:aws:iam::111122223333:user/BedrockAPIKey-k1",
                                          "arn:aws:sts::111122223333:assumed-role/TeamRole/s"};
  std::vector<std::string> warm;
  for (size_t k = 0; k < known.size(); ++k) {
    warm.push_back(Record("warm-" + std::to_string(k), 1'000'000, known[k]));
  }
  ASSERT_EQ(PostFirehose(Delivery("warm", warm))->status, 200);
  const std::string ledger = h_.dir() + "/ledger.db";
  const int64_t hwm_before = ProcStatusKib(pid_, "VmHWM");
  const int64_t ledger_before = FileBytes(ledger) + FileBytes(ledger + "-wal");

  // 100,000 fresh identities: random role-session names of a per-session role and random API
  // key names, 1,000 to a delivery (the limit here is 50 records per delivery, so each
  // Firehose record carries a CloudWatch Logs payload of 25), each delivery also carrying one
  // record of every known principal.
  constexpr int kDeliveries = 100;
  constexpr int kFreshPerDelivery = 1000;
  int refused_429 = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int d = 0; d < kDeliveries; ++d) {
    std::vector<std::string> datas;
    std::vector<std::string> lines;
    for (int i = 0; i < kFreshPerDelivery; ++i) {
      const int n = d * kFreshPerDelivery + i;
      const std::string arn =
          n % 2 == 0 ? "arn:aws:sts::111122223333:assumed-role/FloodRole/sess-" + std::to_string(n)
                     : "arn:aws:iam::111122223333:user/BedrockAPIKey-rnd" + std::to_string(n);
      lines.push_back(Record("flood-" + std::to_string(n), 1'000, arn));
      if (lines.size() == 25) {
        datas.push_back(*Base64Decode(CloudWatchPayload(lines)));
        lines.clear();
      }
    }
    for (size_t k = 0; k < known.size(); ++k) {
      datas.push_back(
          Record("known-" + std::to_string(d) + "-" + std::to_string(k), 1'000'000, known[k]));
    }
    auto res = PostFirehose(Delivery("flood-" + std::to_string(d), datas), kAccessKey, true);
    ASSERT_TRUE(res) << "delivery " << d;
    if (res->status == 429) {
      ++refused_429;
      if (d == 0) {
        EXPECT_NE(res->body.find("identity.max_new_principals_per_minute"), std::string::npos)
            << res->body;
      }
    } else {
      ADD_FAILURE() << "delivery " << d << ": " << res->status << " " << res->body;
    }
  }
  const double minutes =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 60;
  const int64_t hwm_after = ProcStatusKib(pid_, "VmHWM");
  const int64_t rss_after = ProcStatusKib(pid_, "VmRSS");
  const int64_t ledger_after = FileBytes(ledger) + FileBytes(ledger + "-wal");
  std::printf(
      "flood: %d deliveries of %d fresh identities in %.1f s, %d answered 429; VmHWM %lld -> "
      "%lld KiB, VmRSS %lld KiB; ledger + WAL %lld -> %lld bytes (WAL %lld)\n",
      kDeliveries, kFreshPerDelivery, minutes * 60, refused_429, static_cast<long long>(hwm_before),
      static_cast<long long>(hwm_after), static_cast<long long>(rss_after),
      static_cast<long long>(ledger_before), static_cast<long long>(ledger_after),
      static_cast<long long>(FileBytes(ledger + "-wal")));

  // Every delivery held records over the cap: each was answered 429 (Firehose sends it again).
  EXPECT_EQ(refused_429, kDeliveries);
  // Known principals: every record applied exactly once ($0.25 warm-up + 100 x $0.25).
  EXPECT_EQ(Spent("111122223333:BedrockAPIKey-k0"), "25.25");
  EXPECT_EQ(Spent("111122223333:BedrockAPIKey-k1"), "25.25");
  EXPECT_EQ(Spent("111122223333:TeamRole"), "25.25");
  // At most 200 principals were created per started minute, the three known ones included
  // (they were created in the same minute).
  const std::string page = Get("/v1/budgets?limit=1", "v1ewer-token");
  const int64_t principals = std::stoll(JsonValue(page, "principals"));
  const int64_t created = principals - 3;
  EXPECT_GE(principals, 200);
  EXPECT_LE(principals, int64_t{200} * (static_cast<int64_t>(minutes) + 1));
  // The rest was counted as deferred, and the log says so once a minute at most.
  const std::string metrics = Get("/metrics", "");
  const std::string deferred =
      "budgeteer_records_total{source=\"firehose\",outcome=\"deferred\"} " +
      std::to_string(kDeliveries * kFreshPerDelivery - created);
  EXPECT_NE(metrics.find(deferred + "\n"), std::string::npos) << deferred;
  const size_t log_lines = Count(ServerLog(), "new-principal cap reached");
  EXPECT_GE(log_lines, 1U);
  EXPECT_LE(log_lines, static_cast<size_t>(minutes) + 1);
  // Memory and disk stay bounded: 100,000 identities left no trace beyond the capped ones.
  EXPECT_LT(hwm_after - hwm_before, 64 * 1024) << "VmHWM grew by " << hwm_after - hwm_before;
  // (Without the cap the same flood adds ~75 MiB to the ledger and ~140 MiB to VmHWM; with it
  // the growth is mostly the WAL, which SQLite checkpoints at ~4 MiB.)
  EXPECT_LT(ledger_after - ledger_before, int64_t{16} << 20);

  // A deferred delivery sent again within the minute: the known records are duplicates, the
  // fresh ones still deferred, nothing counted twice.
  std::vector<std::string> again;
  for (size_t k = 0; k < known.size(); ++k) {
    again.push_back(Record("known-0-" + std::to_string(k), 1'000'000, known[k]));
  }
  again.push_back(Record("flood-late", 1'000, "arn:aws:iam::111122223333:user/BedrockAPIKey-late"));
  auto res = PostFirehose(Delivery("flood-0", again));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(Spent("111122223333:BedrockAPIKey-k0"), "25.25");
}

}  // namespace
}  // namespace budgeteer::testing
