// Fixture for end-to-end tests of `budgeteer serve`: starts the real binary on a free loopback
// port with a TOML config (the port is read from its stdout), and drives it with httplib
// clients. Firehose delivery bodies, GET helpers, SIGKILL and restart on the same ledger.
// Used from the test thread only.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "formats/input.h"
#include "tests/cli_harness.h"

extern char** environ;

namespace budgeteer::testing {

inline constexpr char kAccessKey[] = "fh-secret-key";

// Polls `done` every 20 ms until it holds or `timeout` passed; returns its last value.
inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class ServeFixture : public ::testing::Test {
 protected:
  // The whole TOML config of the server under test.
  virtual std::string ConfigToml() = 0;

  void SetUp() override {
    config_ = h_.Write("serve.toml", ConfigToml());
    Start();
  }

  void TearDown() override {
    if (pid_ > 0) KillHard();
  }

  // SIGKILL: nothing is flushed, no handler runs.
  void KillHard() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
    port_ = 0;
  }

  // Starts `serve` on the fixture's ledger and waits until it prints its port.
  void Start() {
    const std::string out = h_.dir() + "/serve.out";
    std::remove(out.c_str());
    std::vector<std::string> args = {BUDGETEER_BINARY, "--db",       h_.dir() + "/ledger.db",
                                     "--config",       config_,      "serve",
                                     "--listen",       "127.0.0.1:0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (h_.dir() + "/serve.err").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 600 && port_ == 0; ++i) {  // up to 15 s: CI machines can be busy
      std::ifstream in(out);
      std::stringstream ss;
      ss << in.rdbuf();
      std::smatch m;
      const std::string text = ss.str();
      if (std::regex_search(text, m, listening)) port_ = std::stoi(m[1]);
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_NE(port_, 0) << "serve did not start; its stderr:\n" << ServerLog();
  }

  // What the server wrote to stderr (the log channel, the dispatcher's complaints).
  std::string ServerLog() const {
    std::ifstream in(h_.dir() + "/serve.err");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // The server's peak resident memory (VmHWM), in KiB.
  int64_t PeakMemoryKib() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c;
  }

  // A Claude 3 Haiku invocation-log record of BedrockAPIKey-abc (or `arn`): $0.25 per million
  // input tokens.
  static std::string Record(const std::string& id, int64_t input_tokens,
                            const std::string& arn = "") {
    LogRecord r;
    r.request_id = id;
    r.input = input_tokens;
    if (!arn.empty()) r.arn = arn;
    // A minute ago: the server runs on the system clock, and the record belongs to the
    // principal's current period.
    r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
    return r.Json();
  }

  static std::string Delivery(const std::string& request_id,
                              const std::vector<std::string>& datas) {
    std::string body =
        R"({"requestId":")" + request_id + R"(","timestamp":1767225600000,"records":[)";
    for (size_t i = 0; i < datas.size(); ++i) {
      body += (i ? "," : "") + std::string(R"({"data":")") + Base64Encode(datas[i]) + "\"}";
    }
    return body + "]}";
  }

  httplib::Result PostFirehose(const std::string& body, const std::string& key = kAccessKey,
                               bool gzip = false) {
    httplib::Headers headers = {{"X-Amz-Firehose-Access-Key", key}};
    std::string payload = body;
    if (gzip) {
      payload = *Gzip(body);
      headers.emplace("Content-Encoding", "gzip");
    }
    return Client().Post("/v1/ingest/firehose", headers, payload, "application/json");
  }

  // One delivery of one record; true when the server acknowledged it.
  bool Ingest(const std::string& request_id, int64_t input_tokens, const std::string& arn = "") {
    auto res = PostFirehose(Delivery(request_id, {Record(request_id, input_tokens, arn)}));
    return res && res->status == 200;
  }

  std::string Get(const std::string& path, const std::string& token, int* status = nullptr) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = Client().Get(path.c_str(), headers);
    if (status != nullptr) *status = res ? res->status : -1;
    return res ? res->body : "";
  }

  CliHarness h_;
  std::string config_;
  pid_t pid_ = 0;
  int port_ = 0;
};

}  // namespace budgeteer::testing
