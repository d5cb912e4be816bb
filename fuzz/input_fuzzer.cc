// Fuzzes InputParser::ParseStream: JSON Lines, .json.gz objects, CloudWatch Logs subscription
// payloads (plain and base64 of gzip), Firehose bodies, JSON arrays, pretty-printed documents.
// Small limits make every limit reachable. Invariants: every record is within the limits; the
// same bytes read whole and read in small chunks give the same status and the same records and
// rejections (with their locations), so a chunk boundary never changes what a file means; when
// the stream breaks (corrupt gzip), one transcript is a prefix of the other.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "formats/input.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/sink.h"

namespace budgeteer {
namespace {

class ChunkedSource final : public ByteSource {
 public:
  ChunkedSource(std::string_view bytes, size_t chunk) : bytes_(bytes), chunk_(chunk) {}
  Result<size_t> Read(char* buf, size_t len) override {
    const size_t n = std::min({len, chunk_, bytes_.size() - pos_});
    if (n > 0) std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  size_t chunk_;
  size_t pos_ = 0;
};

ParseLimits SmallLimits() {
  ParseLimits limits;
  limits.max_line_bytes = 2048;
  limits.max_decompressed_bytes = size_t{1} << 20;
  limits.max_document_bytes = 16 << 10;
  limits.max_records_per_envelope = 64;
  limits.max_json_depth = 16;
  limits.max_tags = 4;
  limits.max_tag_bytes = 16;
  limits.max_request_id_bytes = 64;
  return limits;
}

}  // namespace
}  // namespace budgeteer

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  static const ParseLimits limits = SmallLimits();
  static InputParser parser(limits);
  const std::string_view bytes = fuzz::AsText(data, size);

  fuzz::TranscriptSink whole(limits);
  auto source = MemorySource(bytes);
  const Status whole_status = parser.ParseStream(*source, "fuzz", whole);

  // Chunks of 1 to 13 bytes, chosen by the input's length so each input has one schedule.
  fuzz::TranscriptSink chunked(limits);
  ChunkedSource small(bytes, 1 + size % 13);
  const Status chunked_status = parser.ParseStream(small, "fuzz", chunked);

  FUZZ_CHECK(whole_status.code() == chunked_status.code(),
             whole_status.message() + " vs " + chunked_status.message());
  const std::string note =
      whole_status.message() + "\nwhole:\n" + whole.transcript + "chunked:\n" + chunked.transcript;
  if (whole_status.ok()) {
    FUZZ_CHECK(whole.transcript == chunked.transcript, note);
  } else {
    // A stream that breaks (corrupt gzip) keeps what was delivered before the break, and where
    // the break is noticed depends on the reads: one transcript is a prefix of the other.
    const std::string& shorter =
        whole.transcript.size() < chunked.transcript.size() ? whole.transcript : chunked.transcript;
    const std::string& longer =
        whole.transcript.size() < chunked.transcript.size() ? chunked.transcript : whole.transcript;
    FUZZ_CHECK(longer.compare(0, shorter.size(), shorter) == 0, note);
  }
  return 0;
}
