// Fault injection, the ledger's disk: `budgeteer serve` with its ledger on a small tmpfs that
// the test mounts and then fills to the last byte (a filler file written until ENOSPC). While
// the disk is full the service reports not-ready (/readyz 503, ledger_writable false), refuses
// Firehose deliveries with 503 (Firehose retries) and POST /v1/usage with 503, and keeps
// serving everything else; once the filler is deleted it is ready again and the refused
// deliveries, sent again, count exactly once. A ledger on a read-only filesystem stops the
// start with an error that says what to do.
//
// Why a tmpfs: it is the one full disk a test can make without Docker or a block device, its
// size is exact, and SQLite meets the real ENOSPC (SQLITE_FULL). `mount -o remount,ro` cannot
// simulate a disk turning read-only under a running server: Linux refuses it (EBUSY) while the
// ledger is open for writing. RLIMIT_FSIZE would kill the server with SIGXFSZ instead.
// Needs root with CAP_SYS_ADMIN (mount); skipped with a message when mounting is not permitted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "core/money.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kAdmin[] = "adm1n-token";
constexpr char kViewer[] = "v1ewer-token";

bool CiRequiresEverything() {
  const char* ci = std::getenv("CI");  // NOLINT(concurrency-mt-unsafe): read before threads
  return ci != nullptr && std::string(ci) == "true";
}

// Writes zeros to `path` until the filesystem is full; returns the bytes written.
int64_t FillDisk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  const std::string chunk(size_t{64} * 1024, '\0');
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    total += n;
  }
  // The last partial page: byte by byte until ENOSPC.
  while (::write(fd, chunk.data(), 1) == 1) ++total;
  ::close(fd);
  return total;
}

class DiskFullE2E : public ServeFixture {
 protected:
  void SetUp() override {
    disk_ = h_.dir() + "/disk";
    std::filesystem::create_directory(disk_);
    if (::mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      const int err = errno;
      const std::string why = std::strerror(err);  // NOLINT(concurrency-mt-unsafe)
      // Not allowed to mount (no CAP_SYS_ADMIN) is the machine's limit, not a missing
      // dependency: skipped even in CI; any other failure to mount fails there.
      if (CiRequiresEverything() && err != EPERM) {
        FAIL() << "cannot mount a tmpfs (" << why << "); CI=true";
      }
      GTEST_SKIP() << "cannot mount a tmpfs for the full-disk test (" << why
                   << "): run as root, or in CI with CAP_SYS_ADMIN";
    }
    mounted_ = true;
    // The fixture's ledger path leads onto the tmpfs (SQLite follows the link, so the WAL and
    // shared-memory files sit beside the real file).
    std::filesystem::create_symlink(disk_ + "/ledger.db", h_.dir() + "/ledger.db");
    ServeFixture::SetUp();
  }

  void TearDown() override {
    ServeFixture::TearDown();
    if (mounted_) ::umount2(disk_.c_str(), MNT_DETACH);
  }

  std::string ConfigToml() override {
    return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
[defaults]
grace_period_seconds = 3600
)";
  }

  int Readyz(std::string* body = nullptr) {
    int status = 0;
    const std::string text = Get("/readyz", "", &status);
    if (body != nullptr) *body = text;
    return status;
  }

  httplib::Result PostUsage(const std::string& id, int64_t input_tokens) {
    const std::string now = SystemClock().Now().PlusSeconds(-30).ToRfc3339();
    const std::string body =
        R"([{"request_id":")" + id + R"(","timestamp":")" + now +
        R"(","principal":"arn:aws:iam::111122223333:user/gateway",)"
        R"("model_id":"anthropic.claude-3-haiku-20240307-v1:0","input_tokens":)" +
        std::to_string(input_tokens) + R"(,"output_tokens":0}])";
    return Client().Post("/v1/usage", {{"Authorization", std::string("Bearer ") + kAdmin}}, body,
                         "application/json");
  }

  std::string disk_;
  bool mounted_ = false;
};

TEST_F(DiskFullE2E, FullDiskIsNotReadyRefusesWithRetryableStatusAndLosesNothing) {
  // 40 deliveries of 5 records for 4 principals, each record 100,000 + d input tokens of
  // Claude 3 Haiku (250 nano-dollars a token).
  constexpr int kDeliveries = 40;
  std::vector<std::string> bodies;
  std::map<std::string, int64_t> expected_nanos;
  for (int d = 0; d < kDeliveries; ++d) {
    std::vector<std::string> records;
    for (int k = 0; k < 5; ++k) {
      LogRecord r;
      r.request_id = "full-" + std::to_string(d) + "-" + std::to_string(k);
      const std::string name = "key-" + std::to_string((d + k) % 4);
      r.arn = "arn:aws:iam::111122223333:user/" + name;
      r.input = 100'000 + d;
      r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
      expected_nanos[name] += r.input * 250;
      records.push_back(r.Json());
    }
    bodies.push_back(Delivery("del-" + std::to_string(d), records));
  }
  auto post = [&](int d) {
    auto res = PostFirehose(bodies[static_cast<size_t>(d)]);
    return res ? res->status : -1;
  };

  // The first 10 arrive while there is room.
  for (int d = 0; d < 10; ++d) ASSERT_EQ(post(d), 200) << d;
  ASSERT_EQ(Readyz(), 200);
  ASSERT_EQ(PostUsage("u1", 1'000'000)->status, 200);

  // The disk fills up.
  const int64_t filled = FillDisk(disk_ + "/filler");
  ASSERT_GT(filled, 0);
  std::cout << "[ disk   ] filled the 24 MiB tmpfs with " << filled / 1024 << " KiB\n";

  // Not ready, and says why.
  std::string ready;
  ASSERT_TRUE(WaitUntil([&] { return Readyz(&ready) == 503; }, milliseconds(3000))) << ready;
  EXPECT_EQ(JsonValue(ready, "ledger_writable"), "false") << ready;
  EXPECT_NE(ready.find("full"), std::string::npos) << ready;

  // Deliveries are refused with 503 and an errorMessage that names the cause; nothing of them
  // is applied.
  std::vector<int> refused;
  for (int d = 10; d < 30; ++d) {
    auto res = PostFirehose(bodies[static_cast<size_t>(d)]);
    ASSERT_TRUE(res) << d;
    if (res->status == 200) continue;  // a commit that still fitted in the journal
    EXPECT_EQ(res->status, 503) << res->body;
    EXPECT_NE(res->body.find("errorMessage"), std::string::npos) << res->body;
    EXPECT_NE(res->body.find("disk is full"), std::string::npos) << res->body;
    refused.push_back(d);
  }
  EXPECT_GE(refused.size(), 15U) << "the full disk did not stop the deliveries";
  auto usage = PostUsage("u2", 2'000'000);
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->status, 503) << usage->body;
  EXPECT_NE(usage->body.find(R"("code":"UNAVAILABLE")"), std::string::npos) << usage->body;

  // Everything that only reads keeps working.
  int status = 0;
  EXPECT_EQ(Get("/healthz", "", &status), R"({"status":"ok"})");
  const std::string list = Get("/v1/budgets", kViewer, &status);
  EXPECT_EQ(status, 200) << list;
  const std::string health = Get("/v1/health", kViewer, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(JsonValue(health, "ledger_writable"), "false") << health;

  // Room again: ready within a second or two, and every delivery re-sent (refused or not, as a
  // suspicious Firehose would) is counted once.
  std::filesystem::remove(disk_ + "/filler");
  ASSERT_TRUE(WaitUntil([&] { return Readyz(&ready) == 200; }, milliseconds(5000))) << ready << "\n"
                                                                                    << ServerLog();
  for (int d = 10; d < kDeliveries; ++d) ASSERT_EQ(post(d), 200) << d;
  for (int d = 0; d < kDeliveries; ++d) ASSERT_EQ(post(d), 200) << d;
  ASSERT_EQ(PostUsage("u2", 2'000'000)->status, 200);
  ASSERT_EQ(PostUsage("u1", 1'000'000)->status, 200);

  const std::string after = Get("/v1/budgets", kViewer);
  for (const auto& [name, nanos] : expected_nanos) {
    const size_t at = after.find("\"principal\":\"" + name + "\"");
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_EQ(JsonValue(after, "spent_usd", at), Money::FromNanos(nanos).ToUsd()) << name;
  }
  const size_t gw = after.find(R"("principal":"gateway")");
  ASSERT_NE(gw, std::string::npos) << after;
  EXPECT_EQ(JsonValue(after, "spent_usd", gw), "0.75");  // u1 + u2, once each
  std::cout << "[ disk   ] " << refused.size() << " of 20 deliveries refused with 503 while full; "
            << "all re-sent, each record counted once\n";
}

// A ledger on a read-only filesystem: the server does not start, and says what to do.
TEST(DiskReadOnlyE2E, LedgerOnAReadOnlyFilesystemStopsTheStartWithAClearError) {
  CliHarness h;
  const std::string disk = h.dir() + "/ro";
  std::filesystem::create_directory(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=8m") != 0) {
    if (CiRequiresEverything() && errno != EPERM) FAIL() << "cannot mount a tmpfs; CI=true";
    GTEST_SKIP() << "cannot mount a tmpfs for the read-only test: run as root";
  }
  std::filesystem::create_symlink(disk + "/ledger.db", h.dir() + "/ledger.db");
  RunResult made = h.Run({"budgets", "list"});  // creates the ledger
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(::mount("tmpfs", disk.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=8m"), 0)
      << std::strerror(errno);  // NOLINT(concurrency-mt-unsafe)
  h.set_config(h.Write("serve.toml", "[ingest.firehose]\naccess_key = \"k\"\n"));
  // serve exits at once; `timeout` only guards the test against a server that would not.
  const std::string sh = "timeout 20 " + std::string(BUDGETEER_BINARY) + " --db " + h.dir() +
                         "/ledger.db --config " + h.dir() + "/serve.toml serve --listen " +
                         "127.0.0.1:0 >/dev/null 2>" + h.dir() + "/serve.err";
  const int status = std::system(sh.c_str());  // NOLINT(cert-env33-c): fixed test command
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(h.dir() + "/serve.err");
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(exit_code, 0);
  EXPECT_NE(exit_code, 124) << "serve started on a read-only ledger";
  EXPECT_NE(err.find(h.dir() + "/ledger.db"), std::string::npos) << err;
  EXPECT_NE(err.find("writable"), std::string::npos) << err;
  ::umount2(disk.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace budgeteer::testing
