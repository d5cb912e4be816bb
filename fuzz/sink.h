// A RecordSink for the fuzzers: keeps a compact transcript of everything the parser reported
// (records, rejections with their locations, skips) and checks each record against the limits.
// Header-only; thread-compatible.
#pragma once

#include <string>

#include "formats/input.h"
#include "fuzz/fuzz_check.h"

namespace budgeteer::fuzz {

class TranscriptSink : public RecordSink {
 public:
  explicit TranscriptSink(const ParseLimits& limits) : limits_(limits) {}

  void OnRecord(UsageRecord&& record, const Location& where) override {
    FUZZ_CHECK(!record.request_id.empty(), "record without a request id");
    FUZZ_CHECK(record.request_id.str().size() <= limits_.max_request_id_bytes, "request id");
    for (int64_t n : {record.tokens.input, record.tokens.output, record.tokens.cache_read,
                      record.tokens.cache_write}) {
      FUZZ_CHECK(n >= 0 && n <= limits_.max_tokens_per_counter, "token count out of bounds");
    }
    FUZZ_CHECK(record.tags.size() <= limits_.max_tags, "too many tags");
    ++records;
    transcript += "R " + where.ToString() + " " + record.request_id.str() + "\n";
  }
  void OnReject(const Location& where, std::string reason) override {
    FUZZ_CHECK(!reason.empty(), "a rejection without a reason");
    ++rejects;
    transcript += "X " + where.ToString() + " " + reason + "\n";
  }
  void OnSkipped(const Location& where) override {
    ++skipped;
    transcript += "S " + where.ToString() + "\n";
  }

  std::string transcript;
  size_t records = 0;
  size_t rejects = 0;
  size_t skipped = 0;

 private:
  ParseLimits limits_;
};

}  // namespace budgeteer::fuzz
