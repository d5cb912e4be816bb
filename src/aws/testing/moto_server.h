// MotoServer: runs `moto_server` (the AWS emulator from Python's moto) on a free loopback port
// for integration tests, and stops it (its whole process group) when destroyed.
// With `no_auth_actions` = N, moto lets the first N actions through unauthenticated and then
// verifies the SigV4 signature of every request against the IAM access keys it knows
// (INITIAL_NO_AUTH_ACTION_COUNT). Not thread-safe; one per test.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace budgeteer::aws::testing {

class MotoServer {
 public:
  // True when `moto_server` is on PATH.
  static bool Available();
  // Starts the server and waits (up to 30 s) until it accepts connections.
  static Result<std::unique_ptr<MotoServer>> Start(int no_auth_actions);
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

 private:
  MotoServer(pid_t pid, int port, std::string log_path)
      : pid_(pid), port_(port), log_path_(std::move(log_path)) {}
  pid_t pid_;
  int port_;
  std::string log_path_;
};

}  // namespace budgeteer::aws::testing
