// Parsers for everything that arrives from outside (PRODUCT §2), with automatic format
// detection:
//   - Bedrock model-invocation-log records (schemaType ModelInvocationLog, all operations,
//     with or without bodies, streaming bodies as arrays, error records, image/video fields);
//   - newline-delimited files and .json.gz objects as Bedrock writes them to S3;
//   - CloudWatch Logs subscription payloads (base64 of gzip of {"messageType","logEvents"}),
//     CONTROL_MESSAGE dropped;
//   - Amazon Data Firehose HTTP-endpoint delivery bodies ({"requestId","timestamp","records"});
//   - our canonical usage record (request_id, timestamp, principal, model_id, region,
//     input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, optional batch);
//   - a JSON array of records, and single (possibly pretty-printed) JSON documents.
//
// Bad input never throws and never stops the stream: each bad record or line is reported to
// the sink with its location and a reason naming the problem and the way out.
// An InputParser is not thread-safe (it owns reusable simdjson parsers and buffers); use one
// per thread. The free functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/usage.h"

namespace budgeteer {

// Explicit limits on untrusted input. Every limit is named in the rejection it causes, as
// "ingest.<field>", so an operator knows which setting to raise.
struct ParseLimits {
  // A line longer than this is rejected (its length is counted, its bytes are not buffered)
  // and the next line is parsed normally.
  size_t max_line_bytes = size_t{1} << 20;
  // Total decompressed bytes of one gzip stream (all members together): a zip-bomb guard.
  size_t max_decompressed_bytes = size_t{1} << 30;
  // A whole JSON document that must be held in memory (a JSON array, a pretty-printed record
  // or envelope, a Firehose body in a file) may not exceed this.
  size_t max_document_bytes = size_t{64} << 20;
  // CloudWatch Logs logEvents / Firehose records per envelope.
  size_t max_records_per_envelope = 100'000;
  // A token counter above this is "absurd" and the record is rejected.
  int64_t max_tokens_per_counter = 100'000'000;
  // images / video_seconds of one record above this are rejected.
  int64_t max_media_per_record = 1'000'000;
  size_t max_json_depth = 64;
  // requestMetadata / tags: entries after the first max_tags are dropped; keys and values are
  // cut to max_tag_bytes (at a UTF-8 boundary). Tags never cause a rejection.
  size_t max_tags = 50;
  size_t max_tag_bytes = 256;
  // requestId / request_id longer than this is rejected.
  size_t max_request_id_bytes = 256;
};

// Where a record or a rejection sits in its input: "file:line" and, inside an envelope
// (CloudWatch Logs payload, Firehose body, JSON array), the 1-based index of the record in
// the outermost envelope. Nested positions (an event inside a Firehose record) are spelled
// out in the rejection reason.
struct Location {
  std::string_view source;  // file name, "-" for stdin, or an HTTP route
  int64_t line = 0;         // 1-based; 0 when the input is not line-oriented
  int64_t index = 0;        // 1-based record index inside an envelope; 0 when not in one
  // "file:12", "file:12 record 3"; without a line: "file", "file record 3".
  std::string ToString() const;
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
// Reads `bytes`, which must outlive the source.
std::unique_ptr<ByteSource> MemorySource(std::string_view bytes);

// A Firehose HTTP-endpoint delivery, decoded.
struct FirehoseDelivery {
  std::string request_id;
  int64_t timestamp_ms = 0;
  size_t record_count = 0;  // Firehose records in the body (each may hold several usage records)
};

class InputParser {
 public:
  explicit InputParser(ParseLimits limits = {});
  ~InputParser();
  InputParser(const InputParser&) = delete;
  InputParser& operator=(const InputParser&) = delete;

  // Streams every record of `in` to `sink`, detecting gzip (by its magic bytes; concatenated
  // members are read in turn) and the layout:
  //   - JSON Lines: one record, CloudWatch Logs payload, Firehose body, or base64 of gzip of a
  //     CloudWatch Logs payload per line; blank lines ignored; CRLF accepted;
  //   - one or more whole JSON documents (a JSON array of records, a pretty-printed record or
  //     envelope), held in memory up to limits.max_document_bytes.
  // Returns a non-OK status only when the input cannot be read at all (I/O error, corrupt or
  // truncated gzip stream, decompression cap hit); records delivered before the failure stay
  // delivered. The message names `source_name`.
  Status ParseStream(ByteSource& in, std::string_view source_name, RecordSink& sink);

  // Parses one JSON document that is an invocation-log record or a canonical record. The
  // error message is the rejection reason (INVALID_ARGUMENT, or RESOURCE_EXHAUSTED for a
  // limit).
  Result<UsageRecord> ParseRecord(std::string_view json);

  // Parses a Firehose HTTP-endpoint delivery body (already gunzipped by the caller when the
  // request had Content-Encoding: gzip) and streams its records. A body that is not a valid
  // delivery is an error and nothing is delivered (the whole delivery is refused); bad records
  // inside are rejections with Location{source_name, 0, record index}.
  Result<FirehoseDelivery> ParseFirehose(std::string_view body, std::string_view source_name,
                                         RecordSink& sink);

  const ParseLimits& limits() const { return limits_; }

 private:
  struct Impl;
  ParseLimits limits_;
  std::unique_ptr<Impl> impl_;
};

// Helpers used by the parsers and by HTTP/S3 adapters.
// Inflates gzip data (concatenated members included). DATA_LOSS for corrupt or truncated
// input, RESOURCE_EXHAUSTED when the output would exceed `max_output` bytes.
Result<std::string> GunzipAll(std::string_view bytes, size_t max_output);
Result<std::string> Gzip(std::string_view bytes);  // for tests, fixtures and benchmarks
// Standard alphabet (RFC 4648 §4); '=' padding optional but must be correct when present;
// any other character (whitespace included) is INVALID_ARGUMENT.
Result<std::string> Base64Decode(std::string_view text);
std::string Base64Encode(std::string_view bytes);

}  // namespace budgeteer
