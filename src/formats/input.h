// Parsers for everything that arrives from outside (PRODUCT §2), with automatic format
// detection:
//   - Bedrock model-invocation-log records (schemaType ModelInvocationLog, all operations,
//     with or without bodies, streaming bodies as arrays, error records, image/video fields);
//   - newline-delimited files and .json.gz objects as Bedrock writes them to S3;
//   - CloudWatch Logs subscription payloads (base64 of gzip of {"messageType","logEvents"}),
//     CONTROL_MESSAGE dropped;
//   - Amazon Data Firehose HTTP-endpoint delivery bodies ({"requestId","timestamp","records"});
//   - our canonical usage record (request_id, timestamp, principal, model_id, region,
//     input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, optional batch).
//
// Bad input never throws and never stops the stream: each bad record or line is reported to
// the sink with its location and a reason naming the problem and the way out.
// An InputParser is not thread-safe (it owns a reusable simdjson parser); use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/usage.h"

namespace budgeteer {

// Explicit limits on untrusted input. Every limit is documented in docs/ingest.md.
struct ParseLimits {
  size_t max_line_bytes = 1 << 20;                  // longer lines are rejected, not buffered
  size_t max_decompressed_bytes = size_t{1} << 30;  // per gzip member stream (zip bombs)
  size_t max_records_per_envelope = 100'000;        // CWL logEvents / Firehose records
  int64_t max_tokens_per_counter = 100'000'000;     // "absurd" token counts are rejected
  size_t max_json_depth = 64;
};

// Where a record or a rejection sits in its input: "file:line" and, inside an envelope
// (CloudWatch Logs payload, Firehose body, JSON array), the 1-based index of the record.
struct Location {
  std::string_view source;  // file name, "-" for stdin, or an HTTP route
  int64_t line = 0;         // 1-based; 0 when the input is not line-oriented
  int64_t index = 0;        // 1-based record index inside an envelope; 0 when not in one
  std::string ToString() const;  // "file:12", "file:12 record 3"
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void OnRecord(UsageRecord&& record, const Location& where) = 0;
  virtual void OnReject(const Location& where, std::string reason) = 0;
  // A record that is intentionally not usage (CloudWatch CONTROL_MESSAGE): counted, not an error.
  virtual void OnSkipped(const Location& where) { (void)where; }
};

// Reads bytes in chunks (a file, stdin, or memory). Returns 0 at end of input.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Result<size_t> Read(char* buf, size_t len) = 0;
};

// Opens a file ("-" is stdin). Whether it is gzip is detected by content, not by name.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);
std::unique_ptr<ByteSource> MemorySource(std::string_view bytes);

// A Firehose HTTP-endpoint delivery, decoded.
struct FirehoseDelivery {
  std::string request_id;
  int64_t timestamp_ms = 0;
  size_t record_count = 0;
};

class InputParser {
 public:
  explicit InputParser(ParseLimits limits = {});
  ~InputParser();
  InputParser(const InputParser&) = delete;
  InputParser& operator=(const InputParser&) = delete;

  // Streams every record of `in` to `sink`, detecting gzip and the format. Returns a non-OK
  // status only when the input cannot be read at all (I/O error, corrupt gzip stream); records
  // delivered before the failure stay delivered.
  Status ParseStream(ByteSource& in, std::string_view source_name, RecordSink& sink);

  // Parses one JSON document that is an invocation-log record or a canonical record.
  Result<UsageRecord> ParseRecord(std::string_view json);

  // Parses a Firehose HTTP-endpoint delivery body (already gunzipped by the caller when the
  // request had Content-Encoding: gzip) and streams its records. A body that is not a valid
  // delivery is an error (the whole delivery is refused); bad records inside are rejections.
  Result<FirehoseDelivery> ParseFirehose(std::string_view body, std::string_view source_name,
                                         RecordSink& sink);

  const ParseLimits& limits() const { return limits_; }

 private:
  struct Impl;
  ParseLimits limits_;
  std::unique_ptr<Impl> impl_;
};

// Helpers used by the parsers and by HTTP/S3 adapters.
Result<std::string> GunzipAll(std::string_view bytes, size_t max_output);
Result<std::string> Gzip(std::string_view bytes);  // for tests, fixtures and benchmarks
Result<std::string> Base64Decode(std::string_view text);
std::string Base64Encode(std::string_view bytes);

}  // namespace budgeteer
