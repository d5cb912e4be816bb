// LogGenerator: synthetic but realistic Bedrock model-invocation-log records (PRODUCT §2) for
// the benchmarks. Record i is a pure function of (options, i), so a file and an in-process
// stream made with the same seed are identical. Not thread-safe (reuses its scratch buffer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace budgeteer::bench {

struct GenOptions {
  int64_t records = 1'000'000;
  int64_t principals = 10'000;
  uint64_t seed = 1;
  bool bodies = false;             // small inputBodyJson / outputBodyJson
  std::string day = "2025-11-01";  // timestamps are spread over this UTC day, in order:
  int64_t first_second = 0;        // from this second of the day
  int64_t span_seconds = 86'400;   // over this many seconds (clipped at the day's end)
  // Record i belongs to principal i % principals instead of a uniformly drawn one (the memory
  // benchmark uses it so that the first `principals` records touch every principal once).
  bool round_robin = false;
};

// The account every generated record belongs to.
inline constexpr std::string_view kAccountId = "111122223333";

class LogGenerator {
 public:
  explicit LogGenerator(GenOptions options);

  // Appends record `i` (0 <= i < records) as one JSON line, '\n' included.
  void AppendRecord(int64_t i, std::string& out) const;
  // Appends the caller ARN of principal `p` (0 <= p < principals). Even p are IAM users
  // (BedrockAPIKey-<n>), odd p sessions of one of 20 team roles (TeamRole<k>/session-<n>).
  void AppendArn(int64_t p, std::string& out) const;
  // The principal record `i` is attributed to: uniform over all principals (or round robin).
  int64_t PrincipalOf(int64_t i) const;

  const GenOptions& options() const { return options_; }

 private:
  GenOptions options_;
};

}  // namespace budgeteer::bench
