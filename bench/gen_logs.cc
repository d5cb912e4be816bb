// gen_logs: writes N synthetic Bedrock model-invocation-log records as JSON Lines (optionally
// gzip-compressed), deterministic for a seed. Used by bench/run.sh and by hand:
//   gen_logs --records 1000000 --principals 10000 --seed 1 [--bodies] [--gzip] [--out FILE]
#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/log_gen.h"

namespace {

constexpr char kUsage[] =
    "usage: gen_logs [--records N] [--principals P] [--seed S] [--day YYYY-MM-DD] [--bodies]\n"
    "                [--gzip] [--out FILE]\n"
    "Writes N Bedrock model-invocation-log records (JSON Lines) spread over one UTC day and\n"
    "across P callers (IAM users and assumed-role sessions). Default: 1000000 records, 10000\n"
    "principals, seed 1, day 2025-11-01, no bodies, plain text to stdout.\n";

bool ParseInt(std::string_view text, int64_t& out) {
  const auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc() && res.ptr == text.data() + text.size();
}

// Writes plain or gzip output to a file or stdout.
class Output {
 public:
  ~Output() { Close(); }
  bool Open(const std::string& path, bool gzip) {
    if (gzip) {
      gz_ = path == "-" ? gzdopen(1, "wb6") : gzopen(path.c_str(), "wb6");
      if (gz_ != nullptr) gzbuffer(gz_, 1 << 20);
      return gz_ != nullptr;
    }
    file_ = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
    return file_ != nullptr;
  }
  bool Write(const std::string& bytes) {
    if (bytes.empty()) return true;
    if (gz_ != nullptr) {
      return gzwrite(gz_, bytes.data(), static_cast<unsigned>(bytes.size())) ==
             static_cast<int>(bytes.size());
    }
    return std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size();
  }
  bool Close() {
    bool ok = true;
    if (gz_ != nullptr) ok = gzclose(gz_) == Z_OK;
    if (file_ != nullptr) ok = (file_ == stdout ? std::fflush(file_) : std::fclose(file_)) == 0;
    gz_ = nullptr;
    file_ = nullptr;
    return ok;
  }

 private:
  gzFile gz_ = nullptr;
  std::FILE* file_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  budgeteer::bench::GenOptions opts;
  bool gzip = false;
  std::string out_path = "-";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    int64_t n = 0;
    if (arg == "--bodies") {
      opts.bodies = true;
    } else if (arg == "--gzip") {
      gzip = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--out" && has_value) {
      out_path = argv[++i];
    } else if (arg == "--day" && has_value) {
      opts.day = argv[++i];
      if (opts.day.size() != 10 || opts.day[4] != '-' || opts.day[7] != '-') {
        std::fprintf(stderr, "gen_logs: --day wants YYYY-MM-DD, got '%s'\n", opts.day.c_str());
        return 2;
      }
    } else if ((arg == "--records" || arg == "--principals" || arg == "--seed") && has_value &&
               ParseInt(argv[i + 1], n) && n >= (arg == "--seed" ? 0 : 1)) {
      ++i;
      if (arg == "--records") opts.records = n;
      if (arg == "--principals") opts.principals = n;
      if (arg == "--seed") opts.seed = static_cast<uint64_t>(n);
    } else {
      std::fprintf(stderr, "gen_logs: bad argument '%s'\n%s", argv[i], kUsage);
      return 2;
    }
  }

  Output out;
  if (!out.Open(out_path, gzip)) {
    std::fprintf(stderr, "gen_logs: cannot open '%s' for writing: %s\n", out_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  const budgeteer::bench::LogGenerator gen(opts);
  std::string buf;
  buf.reserve(size_t{1} << 21);
  for (int64_t i = 0; i < opts.records; ++i) {
    gen.AppendRecord(i, buf);
    if (buf.size() >= (size_t{1} << 20)) {
      if (!out.Write(buf)) {
        std::fprintf(stderr, "gen_logs: write to '%s' failed\n", out_path.c_str());
        return 1;
      }
      buf.clear();
    }
  }
  if (!out.Write(buf) || !out.Close()) {
    std::fprintf(stderr, "gen_logs: write to '%s' failed\n", out_path.c_str());
    return 1;
  }
  return 0;
}
