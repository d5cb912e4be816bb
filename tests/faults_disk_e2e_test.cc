// Fault injection, the ledger's disk.
//
// Full: `budgeteer serve` with its ledger on a small tmpfs that the test mounts and then fills to
// the last byte (a filler file written until ENOSPC). While the disk is full the service reports
// not-ready (/readyz 503, ledger_writable false), refuses Firehose deliveries with 503 (Firehose
// retries) and POST /v1/usage with 503, and keeps serving everything else; once the filler is
// deleted it is ready again and the refused deliveries, sent again, count exactly once.
//
// Read-only under a running server: the ledger on a 32 MiB ext4 on a loop device, mounted with
// errors=remount-ro; writing 1 to /sys/fs/ext4/<loop>/trigger_fs_error makes ext4 record an error
// of its own, abort its journal and turn read-only, as a failing disk does (SQLite then meets
// EROFS and reports SQLITE_IOERR). The service reports not-ready naming the read-only
// filesystem, refuses writes with 503, keeps answering reads; after SIGTERM, umount, e2fsck,
// mount and a restart, every acknowledged record is there and the re-sent ones count once.
// (`mount -o remount,ro` cannot do this: Linux refuses it, EBUSY, while the ledger is open for
// writing.)
//
// Read-only at start: the ledger on a read-only tmpfs stops the start with an error that says
// what to do.
//
// Why a tmpfs for the full disk: its size is exact and SQLite meets the real ENOSPC
// (SQLITE_FULL); RLIMIT_FSIZE would kill the server with SIGXFSZ instead.
// Needs root with CAP_SYS_ADMIN (mount, loop devices) and e2fsprogs; skipped with a message when
// mounting or loop devices are not permitted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/loop.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
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

// What the disk fixtures share: the config, /readyz, and one usage record through /v1/usage.
class LedgerDiskFixture : public ServeFixture {
 protected:
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

  // While the ledger cannot take a write: POST /v1/usage is refused with 503 UNAVAILABLE
  // (retryable), and everything that only reads keeps working.
  void ExpectWritesRefusedAndReadsServed() {
    auto usage = PostUsage("u2", 2'000'000);
    ASSERT_TRUE(usage);
    EXPECT_EQ(usage->status, 503) << usage->body;
    EXPECT_NE(usage->body.find(R"("code":"UNAVAILABLE")"), std::string::npos) << usage->body;
    int status = 0;
    EXPECT_EQ(Get("/healthz", "", &status), R"({"status":"ok"})");
    const std::string list = Get("/v1/budgets", kViewer, &status);
    EXPECT_EQ(status, 200) << list;
    const std::string health = Get("/v1/health", kViewer, &status);
    EXPECT_EQ(status, 200) << health;
    EXPECT_EQ(JsonValue(health, "ledger_writable"), "false") << health;
  }
};

class DiskFullE2E : public LedgerDiskFixture {
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
    LedgerDiskFixture::SetUp();
  }

  void TearDown() override {
    LedgerDiskFixture::TearDown();
    if (mounted_) ::umount2(disk_.c_str(), MNT_DETACH);
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
  ExpectWritesRefusedAndReadsServed();

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

// Runs `args` (the tool found on PATH), its output appended to `log`; returns its exit status,
// 127 when it could not be started, -1 when it did not exit normally.
int RunTool(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  argv.reserve(copy.size() + 1);
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return 127;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A loop block device over an image file. Attach takes a free device (LOOP_CTL_GET_FREE, then
// LOOP_CONFIGURE, or LOOP_SET_FD on kernels before 5.8); Detach releases it (a device still
// mounted is released by the kernel once unmounted: LOOP_CLR_FD marks it auto-clear).
class LoopDevice {
 public:
  LoopDevice() = default;
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  ~LoopDevice() { Detach(); }

  // 0, or the errno of the call that failed; `*what` names that call.
  int Attach(const std::string& image, std::string* what) {
    const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) {
      *what = "open /dev/loop-control";
      return errno;
    }
    const int backing = ::open(image.c_str(), O_RDWR | O_CLOEXEC);
    if (backing < 0) {
      *what = "open " + image;
      const int err = errno;
      ::close(control);
      return err;
    }
    int err = 0;
    for (int attempt = 0; attempt < 8; ++attempt) {  // another process may take the same device
      const int n = ::ioctl(control, LOOP_CTL_GET_FREE);
      if (n < 0) {
        *what = "LOOP_CTL_GET_FREE";
        err = errno;
        break;
      }
      const std::string path = "/dev/loop" + std::to_string(n);
      int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT) {
        // The kernel made the device but no udev made its node (a container's /dev).
        ::mknod(path.c_str(), S_IFBLK | 0600, makedev(7, static_cast<unsigned>(n)));
        fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      }
      if (fd < 0) {
        *what = "open " + path;
        err = errno;
        break;
      }
      loop_config config{};
      config.fd = static_cast<uint32_t>(backing);
      int rc = ::ioctl(fd, LOOP_CONFIGURE, &config);
      if (rc != 0 && errno == EINVAL) rc = ::ioctl(fd, LOOP_SET_FD, backing);
      if (rc == 0) {
        fd_ = fd;
        number_ = n;
        err = 0;
        break;
      }
      *what = "attach ";
      *what += image;
      *what += " to ";
      *what += path;
      err = errno;
      ::close(fd);
      if (err != EBUSY) break;
    }
    ::close(backing);
    ::close(control);
    return err;
  }

  void Detach() {
    if (fd_ < 0) return;
    ::ioctl(fd_, LOOP_CLR_FD, 0);
    ::close(fd_);
    fd_ = -1;
  }

  std::string path() const { return "/dev/loop" + std::to_string(number_); }
  std::string name() const { return "loop" + std::to_string(number_); }

 private:
  int fd_ = -1;
  int number_ = -1;
};

// `budgeteer serve` with its ledger on a 32 MiB ext4 on a loop device, mounted with
// errors=remount-ro. TriggerFsError makes ext4 report an error of its own
// (/sys/fs/ext4/<dev>/trigger_fs_error): it aborts its journal and turns read-only under the
// running server, as on a disk error. Recover() is what an operator does: stop the server,
// unmount, e2fsck, mount again, start the server.
class DiskReadOnlyUnderServerE2E : public LedgerDiskFixture {
 protected:
  void SetUp() override {
    image_ = h_.dir() + "/ext4.img";
    disk_ = h_.dir() + "/disk";
    std::filesystem::create_directory(disk_);
    std::ofstream(image_).close();
    std::filesystem::resize_file(image_, std::uintmax_t{32} << 20);
    const int made = RunTool({"mkfs.ext4", "-q", "-F", image_}, h_.dir() + "/tools.log");
    if (made != 0) {
      if (CiRequiresEverything()) FAIL() << "mkfs.ext4 failed (" << made << "); CI=true";
      GTEST_SKIP() << "mkfs.ext4 is not available (exit " << made << "): install e2fsprogs";
    }
    std::string what;
    if (const int err = loop_.Attach(image_, &what); err != 0) {
      const std::string why = std::strerror(err);  // NOLINT(concurrency-mt-unsafe)
      // No loop devices here, or not allowed to use them, is the machine's limit: skipped even
      // in CI; any other failure fails there.
      if (CiRequiresEverything() && err != EPERM && err != EACCES && err != ENOENT) {
        FAIL() << what << ": " << why << "; CI=true";
      }
      GTEST_SKIP() << "cannot use a loop device for the read-only test (" << what << ": " << why
                   << "): run as root with CAP_SYS_ADMIN and /dev/loop-control";
    }
    if (const int err = Mount(); err != 0) {
      const std::string why = std::strerror(err);  // NOLINT(concurrency-mt-unsafe)
      if (CiRequiresEverything() && err != EPERM) FAIL() << "cannot mount the ext4: " << why;
      GTEST_SKIP() << "cannot mount an ext4 from " << loop_.path() << " (" << why
                   << "): run as root with CAP_SYS_ADMIN";
    }
    trigger_ = "/sys/fs/ext4/" + loop_.name() + "/trigger_fs_error";
    if (!std::filesystem::exists(trigger_)) {
      GTEST_SKIP() << "this kernel has no " << trigger_ << " to make ext4 fail";
    }
    std::filesystem::create_symlink(disk_ + "/ledger.db", h_.dir() + "/ledger.db");
    LedgerDiskFixture::SetUp();
  }

  void TearDown() override {
    LedgerDiskFixture::TearDown();
    if (mounted_ && ::umount2(disk_.c_str(), 0) != 0) ::umount2(disk_.c_str(), MNT_DETACH);
    mounted_ = false;
    loop_.Detach();
  }

  int Mount() {
    if (::mount(loop_.path().c_str(), disk_.c_str(), "ext4", 0, "errors=remount-ro") != 0) {
      return errno;
    }
    mounted_ = true;
    return 0;
  }

  // Makes ext4 abort its journal and remount read-only, as a failing disk does.
  void TriggerFsError() {
    std::ofstream out(trigger_);
    out << "1\n";
    out.close();
    ASSERT_TRUE(out.good()) << "cannot write " << trigger_;
  }

  bool MountedReadOnly() const {
    std::ifstream mounts("/proc/self/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
      std::istringstream fields(line);
      std::string dev;
      std::string dir;
      std::string type;
      std::string options;
      fields >> dev >> dir >> type >> options;
      if (dir != disk_) continue;
      // An aborted ext4 keeps "rw" and adds "emergency_ro" on recent kernels.
      std::istringstream list(options);
      std::string option;
      while (std::getline(list, option, ',')) {
        if (option == "ro" || option == "emergency_ro") return true;
      }
      return false;
    }
    return false;
  }

  // SIGTERM, as systemd or Kubernetes stops the service; returns how long it took, or -1 ms
  // when it had not exited after 20 s (then it is killed).
  milliseconds StopGracefully() {
    const auto start = std::chrono::steady_clock::now();
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) {
        KillHard();
        return milliseconds(-1);
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    pid_ = 0;
    port_ = 0;
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  }

  std::string image_;
  std::string disk_;
  std::string trigger_;
  LoopDevice loop_;
  bool mounted_ = false;
};

TEST_F(DiskReadOnlyUnderServerE2E, NotReadyRefusesWithRetryableStatusAndLosesNothing) {
  // 40 deliveries of 5 records for 4 principals, each record 100,000 + d input tokens of
  // Claude 3 Haiku (250 nano-dollars a token).
  constexpr int kDeliveries = 40;
  std::vector<std::string> bodies;
  std::vector<std::map<std::string, int64_t>> nanos_of(kDeliveries);
  for (int d = 0; d < kDeliveries; ++d) {
    std::vector<std::string> records;
    for (int k = 0; k < 5; ++k) {
      LogRecord r;
      r.request_id = "ro-" + std::to_string(d) + "-" + std::to_string(k);
      const std::string name = "key-" + std::to_string((d + k) % 4);
      r.arn = "arn:aws:iam::111122223333:user/" + name;
      r.input = 100'000 + d;
      r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
      nanos_of[static_cast<size_t>(d)][name] += r.input * 250;
      records.push_back(r.Json());
    }
    bodies.push_back(Delivery("del-" + std::to_string(d), records));
  }
  std::vector<int> answered(kDeliveries, 0);  // the last status each delivery got
  auto post = [&](int d) {
    auto res = PostFirehose(bodies[static_cast<size_t>(d)]);
    answered[static_cast<size_t>(d)] = res ? res->status : -1;
    return answered[static_cast<size_t>(d)];
  };
  // Spend per principal of the acknowledged deliveries.
  auto acknowledged_nanos = [&] {
    std::map<std::string, int64_t> sum;
    for (size_t d = 0; d < answered.size(); ++d) {
      if (answered[d] != 200) continue;
      for (const auto& [name, nanos] : nanos_of[d]) sum[name] += nanos;
    }
    return sum;
  };
  auto expect_spend = [&](const std::map<std::string, int64_t>& expected,
                          const std::string& gateway_usd, const std::string& when) {
    const std::string list = Get("/v1/budgets", kViewer);
    for (const auto& [name, nanos] : expected) {
      const size_t at = list.find("\"principal\":\"" + name + "\"");
      ASSERT_NE(at, std::string::npos) << name << " " << when;
      EXPECT_EQ(JsonValue(list, "spent_usd", at), Money::FromNanos(nanos).ToUsd())
          << name << " " << when;
    }
    const size_t gw = list.find(R"("principal":"gateway")");
    ASSERT_NE(gw, std::string::npos) << list;
    EXPECT_EQ(JsonValue(list, "spent_usd", gw), gateway_usd) << when;
  };

  // The first 10 arrive while the disk is healthy.
  for (int d = 0; d < 10; ++d) ASSERT_EQ(post(d), 200) << d;
  ASSERT_EQ(Readyz(), 200);
  ASSERT_EQ(PostUsage("u1", 1'000'000)->status, 200);

  // The disk fails: ext4 aborts its journal and remounts read-only under the server.
  const auto failed_at = std::chrono::steady_clock::now();
  TriggerFsError();
  ASSERT_TRUE(WaitUntil([&] { return MountedReadOnly(); }, milliseconds(3000)))
      << "ext4 did not remount read-only";

  // Not ready, and says why.
  std::string ready;
  ASSERT_TRUE(WaitUntil([&] { return Readyz(&ready) == 503; }, milliseconds(3000))) << ready << "\n"
                                                                                    << ServerLog();
  const auto not_ready_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - failed_at);
  EXPECT_EQ(JsonValue(ready, "ledger_writable"), "false") << ready;
  EXPECT_NE(JsonValue(ready, "ledger_error").find("read-only"), std::string::npos) << ready;

  // Deliveries are refused with 503 and an errorMessage that names the cause.
  std::vector<int> refused;
  std::string refusal;
  for (int d = 10; d < 30; ++d) {
    const int status = post(d);
    if (status == 200) continue;  // would be lost unless it truly reached the disk: see below
    EXPECT_EQ(status, 503) << d;
    refused.push_back(d);
  }
  EXPECT_EQ(refused.size(), 20U) << "deliveries acknowledged on a read-only disk";
  {
    auto res = PostFirehose(bodies[10]);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503) << res->body;
    refusal = res->body;
    EXPECT_NE(res->body.find("errorMessage"), std::string::npos) << res->body;
    EXPECT_NE(res->body.find("read-only"), std::string::npos) << res->body;
  }
  ExpectWritesRefusedAndReadsServed();
  // Still not ready a while later: nothing recovers a journal-aborted ext4 but an operator.
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_EQ(Readyz(&ready), 503) << ready;

  // The operator's way back: stop, unmount, e2fsck, mount, start.
  // The log says so once, however often it was asked.
  const std::string outage_log = ServerLog();
  const size_t logged = outage_log.find("ledger: not writable, not ready: ");
  EXPECT_NE(logged, std::string::npos) << outage_log;
  EXPECT_EQ(outage_log.find("ledger: not writable", logged + 1), std::string::npos) << outage_log;
  EXPECT_NE(outage_log.find("turned read-only"), std::string::npos) << outage_log;
  const milliseconds stopped_in = StopGracefully();
  EXPECT_GE(stopped_in.count(), 0) << "serve did not stop on SIGTERM within 20 s\n" << ServerLog();
  ASSERT_EQ(::umount2(disk_.c_str(), 0), 0)
      << std::strerror(errno);  // NOLINT(concurrency-mt-unsafe)
  mounted_ = false;
  const int fsck = RunTool({"e2fsck", "-fy", loop_.path()}, h_.dir() + "/tools.log");
  EXPECT_LE(fsck, 1) << "e2fsck exit " << fsck;  // 0: clean, 1: errors corrected
  ASSERT_EQ(Mount(), 0);
  ASSERT_FALSE(MountedReadOnly());
  Start();
  ASSERT_TRUE(WaitUntil([&] { return Readyz(&ready) == 200; }, milliseconds(5000))) << ready;

  // Nothing acknowledged was lost: the spend is exactly that of the deliveries answered 200.
  expect_spend(acknowledged_nanos(), "0.25", "after the restart");

  // Firehose re-sends what it was not answered 200 for: each counted once.
  int resent = 0;
  for (int d = 0; d < kDeliveries; ++d) {
    if (answered[static_cast<size_t>(d)] == 200) continue;
    ASSERT_EQ(post(d), 200) << d;
    ++resent;
  }
  ASSERT_EQ(PostUsage("u2", 2'000'000)->status, 200);
  std::map<std::string, int64_t> all;
  for (const auto& per : nanos_of) {
    for (const auto& [name, nanos] : per) all[name] += nanos;
  }
  expect_spend(all, "0.75", "after the re-sends");
  // A suspicious Firehose sending everything again changes nothing.
  for (int d = 0; d < kDeliveries; ++d) ASSERT_EQ(post(d), 200) << d;
  ASSERT_EQ(PostUsage("u1", 1'000'000)->status, 200);
  expect_spend(all, "0.75", "after re-sending everything");

  std::cout << "[ disk   ] ext4 read-only under the server: not ready after "
            << not_ready_ms.count() << " ms; " << refused.size()
            << " of 20 deliveries refused with 503 (" << JsonValue(refusal, "errorMessage")
            << "); SIGTERM exit in " << stopped_in.count() << " ms; e2fsck exit " << fsck << "; "
            << resent << " re-sent, each record counted once; the server logged "
            << std::count(outage_log.begin(), outage_log.end(), '\n') << " lines\n";
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
