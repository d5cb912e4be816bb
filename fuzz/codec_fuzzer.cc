// Fuzzes the codecs under the envelopes: GunzipAll (S3 objects, CloudWatch Logs data, Firehose
// bodies) and Base64Decode. Invariants: inflated output never exceeds the cap; what Gzip writes
// inflates back to the same bytes; a base64 text that decodes re-encodes to itself (up to its
// padding and the unused bits of a final partial group), and Base64Encode output decodes back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/input.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  const std::string_view bytes = fuzz::AsText(data, size);
  constexpr size_t kCap = 1 << 20;

  auto inflated = GunzipAll(bytes, kCap);
  if (inflated.ok()) {
    FUZZ_CHECK(inflated->size() <= kCap, "inflated past the cap");
  } else {
    const Code c = inflated.status().code();
    FUZZ_CHECK(c == Code::kDataLoss || c == Code::kResourceExhausted || c == Code::kInvalidArgument,
               inflated.status().message());
  }
  auto gz = Gzip(bytes);
  FUZZ_CHECK(gz.ok(), gz.status().message());
  auto back = GunzipAll(*gz, size + 1);
  FUZZ_CHECK(back.ok() && *back == bytes, "gzip round trip");

  auto decoded = Base64Decode(bytes);
  if (decoded.ok()) {
    std::string encoded = Base64Encode(*decoded);
    std::string_view text = bytes;
    // Padding is optional on input; compare without it.
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    // The decoder ignores the unused low bits of a final partial group (RFC 4648 §3.5 lets
    // it), so only the last character may differ.
    FUZZ_CHECK(encoded.size() == text.size(), std::string(bytes));
    FUZZ_CHECK(encoded.empty() ||
                   encoded.compare(0, encoded.size() - 1, text.substr(0, text.size() - 1)) == 0,
               std::string(bytes));
    auto redecoded = Base64Decode(encoded);
    FUZZ_CHECK(redecoded.ok() && *redecoded == *decoded, std::string(bytes));
  } else {
    FUZZ_CHECK(decoded.status().code() == Code::kInvalidArgument, decoded.status().message());
  }
  auto again = Base64Decode(Base64Encode(bytes));
  FUZZ_CHECK(again.ok() && *again == bytes, "base64 round trip");
  return 0;
}
