// UsageRecord: one Bedrock call as the parsers hand it to the engine, whatever envelope it came
// in (invocation log, CloudWatch Logs, Firehose, our canonical record).
//
// Token counts are the four billed counters of the invocation log; `input` excludes cache
// tokens. Media counters are for image and video models. Values only; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/time.h"

namespace budgeteer {

struct TokenCounts {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_read = 0;
  int64_t cache_write = 0;
  auto operator<=>(const TokenCounts&) const = default;
};

struct MediaCounts {
  int64_t images = 0;         // generated (or embedded) images
  int64_t video_seconds = 0;  // generated video duration
  auto operator<=>(const MediaCounts&) const = default;
};

enum class Operation {
  kInvokeModel,
  kInvokeModelWithResponseStream,
  kConverse,
  kConverseStream,
  kOther,  // anything else Bedrock may log; still priced by its counters
};

// Where a record came from, for metrics and the rejection report.
enum class SourceKind { kFile, kInvocationLog, kCloudWatchLogs, kFirehose, kCanonical };

struct UsageRecord {
  RequestId request_id;
  Timestamp timestamp;
  // Who called: an IAM/STS ARN (invocation logs, canonical records) or "ACCOUNT:NAME"
  // (canonical records only). Resolved to a PrincipalKey by core/principal.h.
  std::string caller;
  std::string account_id;  // the record's accountId (used when the caller has none)
  std::string region;
  std::string inference_region;  // empty when absent
  Operation operation = Operation::kOther;
  ModelId model_id;  // raw, as logged; normalised by pricing
  TokenCounts tokens;
  MediaCounts media;
  std::string error_code;  // empty on success
  bool batch = false;      // batch inference (priced at the batch discount)
  // requestMetadata: caller-controlled attribution tags. Recorded, never used to pick who pays.
  std::vector<std::pair<std::string, std::string>> tags;
};

}  // namespace budgeteer
