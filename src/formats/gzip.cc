// gzip through zlib: one-shot (GunzipAll, Gzip) and streaming (the source behind ParseStream).
// Concatenated members are read in turn; output is capped (zip bombs); corrupt or truncated
// data is DATA_LOSS with the compressed offset.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "formats/input.h"
#include "formats/internal.h"

namespace budgeteer {

namespace formats_internal {
namespace {

constexpr size_t kMaxZlibChunk = size_t{1} << 30;  // avail_in/avail_out are 32-bit

uInt ZlibLen(size_t n) { return static_cast<uInt>(std::min(n, kMaxZlibChunk)); }

Status TooBig(size_t max_output, const char* limit_key = "ingest.max_decompressed_bytes") {
  return ResourceExhausted("gzip data inflates to more than " + std::to_string(max_output) +
                           " bytes (" + limit_key + "); split the data, or raise the limit");
}

// The errors say what is wrong with the data; `remedy` (empty, or "; ..." for a file) what to
// do. Data held in memory (a record's payload, a request body) gets no remedy: its caller knows
// where it came from.
Status Corrupt(const z_stream& zs, size_t compressed_offset, std::string_view remedy) {
  std::string m = "corrupt gzip data near compressed byte " + std::to_string(compressed_offset);
  if (zs.msg != nullptr) {
    m += " (zlib: ";
    m += zs.msg;
    m += ")";
  }
  m += remedy;
  return DataLoss(std::move(m));
}

Status Truncated(size_t compressed_bytes, std::string_view remedy) {
  return DataLoss("gzip data is truncated: it ends after " + std::to_string(compressed_bytes) +
                  " compressed bytes, before the end of the gzip member" + std::string(remedy));
}

Status TrailingGarbage(size_t offset, std::string_view remedy) {
  return DataLoss("unexpected bytes after the end of a gzip member at compressed byte " +
                  std::to_string(offset) + " (not another gzip member)" + std::string(remedy));
}

constexpr std::string_view kFileDamaged = "; the file is damaged: fetch or copy it again";
constexpr std::string_view kFileIncomplete = "; the file is incomplete: fetch or copy it again";

// RAII for an inflate stream.
class Inflater {
 public:
  Inflater() = default;
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() {
    if (ready_) inflateEnd(&zs_);
  }
  Status Init() {
    // 16 + MAX_WBITS: gzip wrapper only (a zlib or raw deflate stream is not gzip).
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) return Internal("zlib inflateInit2 failed");
    ready_ = true;
    return Status::Ok();
  }
  z_stream& zs() { return zs_; }

 private:
  z_stream zs_{};
  bool ready_ = false;
};

class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string prefix, ByteSource& inner)
      : prefix_(std::move(prefix)), inner_(inner) {}
  Result<size_t> Read(char* buf, size_t len) override {
    if (pos_ < prefix_.size()) {
      const size_t n = std::min(len, prefix_.size() - pos_);
      std::memcpy(buf, prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return inner_.Read(buf, len);
  }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  ByteSource& inner_;
};

class GunzipSource final : public ByteSource {
 public:
  GunzipSource(ByteSource& inner, size_t max_output)
      : inner_(inner), max_output_(max_output), in_(new char[kInChunk]) {}

  Result<size_t> Read(char* buf, size_t len) override {
    if (!failed_.ok()) return failed_;
    if (done_ || len == 0) return size_t{0};
    if (!started_) {
      started_ = true;
      Status s = inflater_.Init();
      if (!s.ok()) return Fail(std::move(s));
    }
    z_stream& zs = inflater_.zs();
    size_t out_n = 0;
    while (out_n == 0) {
      if (zs.avail_in < 2 && !inner_eof_) {
        // Keep at most one unread byte (a member boundary may split the magic bytes).
        if (zs.avail_in == 1) in_[0] = static_cast<char>(*zs.next_in);
        auto r = inner_.Read(in_.get() + zs.avail_in, kInChunk - zs.avail_in);
        if (!r.ok()) return Fail(r.status());
        if (*r == 0) inner_eof_ = true;
        read_total_ += *r;
        zs.next_in = reinterpret_cast<Bytef*>(in_.get());
        zs.avail_in += static_cast<uInt>(*r);
      }
      if (member_ended_) {
        if (zs.avail_in == 0) {
          if (inner_eof_) {
            done_ = true;
            return size_t{0};
          }
          continue;
        }
        if (zs.avail_in < 2 && !inner_eof_) continue;
        if (!IsGzip({reinterpret_cast<const char*>(zs.next_in), zs.avail_in})) {
          return Fail(TrailingGarbage(Consumed(), kFileDamaged));
        }
        if (inflateReset(&zs) != Z_OK) return Fail(Internal("zlib inflateReset failed"));
        member_ended_ = false;
      }
      const size_t room = std::min(len, max_output_ - produced_ + 1);
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = ZlibLen(room);
      const uInt avail_before = zs.avail_in;
      const int ret = inflate(&zs, Z_NO_FLUSH);
      out_n = ZlibLen(room) - zs.avail_out;
      produced_ += out_n;
      if (produced_ > max_output_) return Fail(TooBig(max_output_));
      if (ret == Z_STREAM_END) {
        member_ended_ = true;
      } else if (ret == Z_OK || ret == Z_BUF_ERROR) {
        const bool stuck = out_n == 0 && zs.avail_in == avail_before;
        if ((zs.avail_in == 0 || stuck) && inner_eof_ && out_n == 0) {
          return Fail(Truncated(Consumed(), kFileIncomplete));
        }
        if (stuck && zs.avail_in >= 2) return Fail(Corrupt(zs, Consumed(), kFileDamaged));
      } else if (ret == Z_MEM_ERROR) {
        return Fail(ResourceExhausted("out of memory while inflating gzip data"));
      } else {
        return Fail(Corrupt(zs, Consumed(), kFileDamaged));
      }
    }
    return out_n;
  }

 private:
  static constexpr size_t kInChunk = size_t{256} << 10;

  size_t Consumed() { return read_total_ - inflater_.zs().avail_in; }
  Status Fail(Status s) {
    failed_ = std::move(s);
    return failed_;
  }

  ByteSource& inner_;
  const size_t max_output_;
  std::unique_ptr<char[]> in_;
  Inflater inflater_;
  bool started_ = false;
  bool inner_eof_ = false;
  bool member_ended_ = false;
  bool done_ = false;
  size_t produced_ = 0;
  size_t read_total_ = 0;
  Status failed_;
};

}  // namespace

Status GunzipInto(std::string_view bytes, size_t max_output, PaddedBuffer& out,
                  const char* limit_key) {
  out.resize(0);
  Inflater inflater;
  RETURN_IF_ERROR(inflater.Init());
  z_stream& zs = inflater.zs();
  size_t in_pos = 0;    // bytes of `bytes` handed to zlib so far
  size_t produced = 0;  // bytes written to out
  bool member_ended = false;
  for (;;) {
    if (zs.avail_in == 0 && in_pos < bytes.size()) {
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + in_pos));
      zs.avail_in = ZlibLen(bytes.size() - in_pos);
      in_pos += zs.avail_in;
    }
    const size_t consumed = in_pos - zs.avail_in;
    if (member_ended) {
      if (consumed == bytes.size()) break;
      if (!IsGzip(bytes.substr(consumed))) return TrailingGarbage(consumed, "");
      if (inflateReset(&zs) != Z_OK) return Internal("zlib inflateReset failed");
      member_ended = false;
    }
    // Grow the output: at least 64 KiB, about 4x the remaining input, never past the cap + 1.
    size_t want = std::max<size_t>(size_t{64} << 10, (bytes.size() - consumed) * 4);
    want = std::min(want, max_output - produced + 1);
    want = std::min(want, kMaxZlibChunk);
    out.resize(produced + want);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = ZlibLen(want);
    const uInt avail_before = zs.avail_in;
    const int ret = inflate(&zs, Z_NO_FLUSH);
    const size_t n = want - zs.avail_out;
    produced += n;
    out.resize(produced);
    if (produced > max_output) return TooBig(max_output, limit_key);
    if (ret == Z_STREAM_END) {
      member_ended = true;
      continue;
    }
    if (ret == Z_OK || ret == Z_BUF_ERROR) {
      const bool no_input_left = zs.avail_in == 0 && in_pos == bytes.size();
      if (no_input_left && zs.avail_out > 0) return Truncated(bytes.size(), "");
      if (n == 0 && zs.avail_in == avail_before) return Truncated(bytes.size(), "");
      continue;
    }
    if (ret == Z_MEM_ERROR) return ResourceExhausted("out of memory while inflating gzip data");
    return Corrupt(zs, in_pos - zs.avail_in, "");
  }
  return Status::Ok();
}

std::unique_ptr<ByteSource> NewPrefixedSource(std::string prefix, ByteSource& inner) {
  return std::make_unique<PrefixedSource>(std::move(prefix), inner);
}

std::unique_ptr<ByteSource> NewGunzipSource(ByteSource& inner, size_t max_output) {
  return std::make_unique<GunzipSource>(inner, max_output);
}

}  // namespace formats_internal

Result<std::string> GunzipAll(std::string_view bytes, size_t max_output) {
  formats_internal::PaddedBuffer buf;
  RETURN_IF_ERROR(formats_internal::GunzipInto(bytes, max_output, buf));
  return std::string(buf.view());
}

Result<std::string> Gzip(std::string_view bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Internal("zlib deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(bytes.size())) + 64);
  size_t in_pos = 0;
  size_t out_pos = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (zs.avail_in == 0 && in_pos < bytes.size()) {
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + in_pos));
      zs.avail_in = formats_internal::ZlibLen(bytes.size() - in_pos);
      in_pos += zs.avail_in;
    }
    if (out_pos == out.size()) out.resize(out.size() * 2);
    const size_t room = std::min(out.size() - out_pos, formats_internal::kMaxZlibChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(room);
    ret = deflate(&zs, in_pos == bytes.size() ? Z_FINISH : Z_NO_FLUSH);
    out_pos += room - zs.avail_out;
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      deflateEnd(&zs);
      return Internal("zlib deflate failed");
    }
  }
  deflateEnd(&zs);
  out.resize(out_pos);
  return out;
}

}  // namespace budgeteer
