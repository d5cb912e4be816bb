// Internals of the formats module shared by its .cc files and tests: padded buffers for
// in-place simdjson parsing, buffer-reusing codecs, and the byte sources behind ParseStream.
// Not part of the module's API. Thread-compatible.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "formats/input.h"

namespace budgeteer::formats_internal {

// simdjson reads up to this many bytes past the end of a document (SIMDJSON_PADDING; checked
// by a static_assert where simdjson is included).
inline constexpr size_t kJsonPadding = 64;

// A growable byte buffer that always keeps kJsonPadding readable (zeroed) bytes after its
// content, so simdjson can parse it in place. resize()/data() mirror std::string.
class PaddedBuffer {
 public:
  PaddedBuffer() = default;
  PaddedBuffer(const PaddedBuffer&) = delete;
  PaddedBuffer& operator=(const PaddedBuffer&) = delete;

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  // Bytes readable from data(): size() plus the padding.
  size_t padded_size() const { return cap_; }
  std::string_view view() const { return {data_.get(), size_}; }

  // Sets the content size, keeping the first min(old, n) bytes.
  void resize(size_t n) {
    if (n + kJsonPadding > cap_) Grow(n);
    size_ = n;
    std::memset(data_.get() + n, 0, kJsonPadding);
  }
  void assign(std::string_view s) {
    resize(0);
    append(s);
  }
  void append(std::string_view s) {
    const size_t old = size_;
    resize(old + s.size());
    if (!s.empty()) std::memcpy(data_.get() + old, s.data(), s.size());
  }
  // Gives back memory after an unusually large document.
  void ShrinkIfAbove(size_t bytes) {
    if (cap_ > bytes) {
      data_.reset();
      cap_ = size_ = 0;
    }
  }

 private:
  void Grow(size_t n) {
    size_t cap = cap_ < 4096 ? 4096 : cap_;
    while (cap < n + kJsonPadding) cap *= 2;
    std::unique_ptr<char[]> fresh(new char[cap]);
    if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
    data_ = std::move(fresh);
    cap_ = cap;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

inline bool IsGzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Base64Decode into a reused buffer (std::string or PaddedBuffer).
template <typename Buffer>
Status Base64DecodeInto(std::string_view text, Buffer& out);

// GunzipAll into a reused buffer; the output is padded for in-place parsing. `limit_key` names
// the setting behind `max_output` in the error message.
Status GunzipInto(std::string_view bytes, size_t max_output, PaddedBuffer& out,
                  const char* limit_key = "ingest.max_decompressed_bytes");

// A source that returns `prefix` first, then the rest of `inner` (which must outlive it).
std::unique_ptr<ByteSource> NewPrefixedSource(std::string prefix, ByteSource& inner);

// Streams the inflated bytes of the gzip data read from `inner` (which must outlive it);
// concatenated members are inflated in turn. At most `max_output` bytes are produced, then
// Read fails with RESOURCE_EXHAUSTED; corrupt or truncated input fails with DATA_LOSS.
std::unique_ptr<ByteSource> NewGunzipSource(ByteSource& inner, size_t max_output);

}  // namespace budgeteer::formats_internal
