// Fuzzes InputParser::ParseFirehose: an Amazon Data Firehose HTTP-endpoint delivery body
// ({"requestId","timestamp","records":[{"data":base64}]}, each record raw invocation logs or a
// CloudWatch Logs payload, optionally gzip). Invariants: a refused body delivers nothing; an
// accepted one has a request id, counts at most max_records_per_envelope records, and every
// record or rejection it reports is located inside the delivery.
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/input.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/sink.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  static const ParseLimits limits = [] {
    ParseLimits l;
    l.max_line_bytes = 4096;
    l.max_document_bytes = 64 << 10;
    l.max_decompressed_bytes = 256 << 10;
    l.max_records_per_envelope = 32;
    l.max_json_depth = 16;
    return l;
  }();
  static InputParser parser(limits);

  fuzz::TranscriptSink sink(limits);
  auto delivery = parser.ParseFirehose(fuzz::AsText(data, size), "fuzz", sink);
  if (!delivery.ok()) {
    FUZZ_CHECK(!delivery.status().message().empty(), "a refusal without a reason");
    FUZZ_CHECK(sink.records == 0 && sink.rejects == 0 && sink.skipped == 0,
               "a refused delivery delivered:\n" + sink.transcript);
    return 0;
  }
  FUZZ_CHECK(!delivery->request_id.empty(), "an accepted delivery without a requestId");
  FUZZ_CHECK(delivery->record_count <= limits.max_records_per_envelope, "too many records");
  FUZZ_CHECK(sink.records + sink.rejects + sink.skipped > 0 || delivery->record_count == 0 ||
                 sink.transcript.empty(),
             sink.transcript);
  return 0;
}
