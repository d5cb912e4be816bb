// Test harness for end-to-end CLI tests: runs the real `budgeteer` binary against a ledger in a
// fresh temporary directory and captures exit code, stdout and stderr. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace budgeteer::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class CliHarness {
 public:
  CliHarness();
  ~CliHarness();
  CliHarness(const CliHarness&) = delete;
  CliHarness& operator=(const CliHarness&) = delete;

  // Runs `budgeteer --db <dir>/ledger.db [--now now] [--config cfg] args...`.
  RunResult Run(const std::vector<std::string>& args, const std::string& now = "") const;

  // Writes a file in the temp dir and returns its path.
  std::string Write(const std::string& name, const std::string& content) const;
  std::string WriteGzip(const std::string& name, const std::string& content) const;
  const std::string& dir() const { return dir_; }
  void set_config(std::string path) { config_ = std::move(path); }

 private:
  std::string dir_;
  std::string config_;
};

// One Bedrock invocation-log record as a JSON line.
struct LogRecord {
  std::string request_id;
  std::string timestamp = "2026-03-01T10:00:00Z";
  std::string arn = "arn:aws:iam::111122223333:user/BedrockAPIKey-abc";
  std::string model = "anthropic.claude-3-haiku-20240307-v1:0";
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_read = 0;
  int64_t cache_write = 0;
  std::string extra;  // appended raw JSON members, e.g. ",\"requestMetadata\":{...}"
  std::string Json() const;
};

// Base64 of gzip of a CloudWatch Logs DATA_MESSAGE carrying the given record lines.
std::string CloudWatchPayload(const std::vector<std::string>& record_lines);

// The value of "key": in a JSON text, as written (first occurrence after `after`).
std::string JsonValue(const std::string& json, const std::string& key, size_t after = 0);
// Number of occurrences of `needle` in `text`.
size_t Count(const std::string& text, const std::string& needle);

}  // namespace budgeteer::testing
