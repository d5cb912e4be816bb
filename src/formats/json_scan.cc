#include "formats/json_scan.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace budgeteer::formats_internal {

namespace {

// Number of '{' and '[' bytes: '[' | 0x20 == '{', and no other byte maps to '{'.
size_t CountOpenBrackets(const char* p, size_t n) {
  size_t count = 0;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i lower = _mm_set1_epi8(0x20);
  const __m128i brace = _mm_set1_epi8('{');
  while (i + 16 <= n) {
    // Per-byte counters, summed every 255 blocks (before they can overflow).
    __m128i acc = _mm_setzero_si128();
    const size_t blocks = std::min<size_t>((n - i) / 16, 255);
    for (size_t b = 0; b < blocks; ++b, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_or_si128(v, lower), brace));
    }
    const __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
    count += static_cast<size_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#else
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    const uint64_t x = (w | (kOnes * 0x20)) ^ (kOnes * '{');  // zero bytes are brackets
    const uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7);
    count += static_cast<size_t>(((zero >> 7) * kOnes) >> 56);  // bytes set, without popcnt
  }
#endif
  for (; i < n; ++i) count += (p[i] == '{' || p[i] == '[') ? 1 : 0;
  return count;
}

// One past the closing quote of the string whose opening quote is at `open`, or npos.
size_t StringEnd(std::string_view text, size_t open) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t j = open + 1;
  for (;;) {
    const void* q = j < n ? std::memchr(p + j, '"', n - j) : nullptr;
    if (q == nullptr) return std::string_view::npos;
    const size_t k = static_cast<size_t>(static_cast<const char*>(q) - p);
    size_t b = k;
    while (b > j && p[b - 1] == '\\') --b;
    if ((k - b) % 2 == 0) return k + 1;
    j = k + 1;
  }
}

}  // namespace

ScanResult ScanContainer(std::string_view text, size_t start, size_t depth_limit) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t depth = 0;
  size_t i = start;
  while (i < n) {
    switch (p[i]) {
      case '"': {
        const size_t end = StringEnd(text, i);
        if (end == std::string_view::npos) return {ScanResult::kEnd, n};
        i = end;
        continue;
      }
      case '{':
      case '[':
        if (++depth > depth_limit) return {ScanResult::kTooDeep, i};
        break;
      case '}':
      case ']':
        if (depth == 0) return {ScanResult::kStray, i};
        if (--depth == 0) return {ScanResult::kClosed, i + 1};
        break;
      default:
        break;
    }
    ++i;
  }
  return {ScanResult::kEnd, n};
}

bool DepthWithin(std::string_view text, size_t limit, size_t* where) {
  if (CountOpenBrackets(text.data(), text.size()) <= limit) return true;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' || c == '[') {
      const ScanResult r = ScanContainer(text, i, limit);
      if (r.stop == ScanResult::kTooDeep) {
        *where = r.pos;
        return false;
      }
      if (r.stop != ScanResult::kClosed) return true;  // a syntax error simdjson will report
      i = r.pos;
    } else if (c == '"') {
      const size_t end = StringEnd(text, i);
      if (end == std::string_view::npos) return true;
      i = end;
    } else {
      ++i;
    }
  }
  return true;
}

size_t ScalarEnd(std::string_view text, size_t start) {
  if (start < text.size() && text[start] == '"') {
    const size_t end = StringEnd(text, start);
    return end == std::string_view::npos ? text.size() : end;
  }
  size_t i = start;
  while (i < text.size() && !IsJsonSpace(text[i]) && text[i] != '{' && text[i] != '[' &&
         text[i] != '}' && text[i] != ']' && text[i] != '"') {
    ++i;
  }
  return i == start ? start + 1 : i;
}

bool HasTopLevelKey(std::string_view prefix, std::initializer_list<std::string_view> keys) {
  size_t i = 0;
  while (i < prefix.size() && IsJsonSpace(prefix[i])) ++i;
  if (i >= prefix.size() || prefix[i] != '{') return false;
  size_t depth = 0;
  while (i < prefix.size()) {
    const char c = prefix[i];
    if (c == '"') {
      const size_t end = StringEnd(prefix, i);
      if (end == std::string_view::npos) return false;
      if (depth == 1) {
        size_t j = end;
        while (j < prefix.size() && IsJsonSpace(prefix[j])) ++j;
        if (j < prefix.size() && prefix[j] == ':') {
          const std::string_view key = prefix.substr(i + 1, end - i - 2);
          for (const auto k : keys) {
            if (key == k) return true;
          }
        }
      }
      i = end;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (depth <= 1) return false;
      --depth;
    }
    ++i;
  }
  return false;
}

LineCol LineColAt(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  size_t line = 1;
  size_t line_start = 0;
  const char* p = text.data();
  size_t i = 0;
  while (i < offset) {
    const void* q = std::memchr(p + i, '\n', offset - i);
    if (q == nullptr) break;
    i = static_cast<size_t>(static_cast<const char*>(q) - p) + 1;
    ++line;
    line_start = i;
  }
  return {line, offset - line_start + 1};
}

namespace {

class Validator {
 public:
  explicit Validator(std::string_view text) : t_(text) {}

  std::optional<JsonError> Run() {
    enum class Expect { kValue, kValueOrClose, kKey, kKeyOrClose, kColon, kCommaOrClose, kDone };
    std::vector<char> stack;
    Expect e = Expect::kValue;
    for (;;) {
      SkipSpace();
      if (i_ >= t_.size()) {
        if (e == Expect::kDone) return std::nullopt;
        return Error(stack.empty() && e == Expect::kValue
                         ? "the text is empty: expected a JSON value"
                         : "the JSON ends too early (truncated?): expected " + Want(stack));
      }
      const char c = t_[i_];
      switch (e) {
        case Expect::kDone:
          return Error("unexpected content after the end of the JSON value");
        case Expect::kColon:
          if (c != ':') return Error("expected ':' after an object key, found " + Shown());
          ++i_;
          e = Expect::kValue;
          continue;
        case Expect::kKey:
        case Expect::kKeyOrClose:
          if (c == '}' && e == Expect::kKeyOrClose) {
            ++i_;
            stack.pop_back();
            e = stack.empty() ? Expect::kDone : Expect::kCommaOrClose;
            continue;
          }
          if (c != '"') {
            return Error(std::string(e == Expect::kKey ? "expected a quoted key after ','"
                                                       : "expected a quoted key or '}'") +
                         ", found " + Shown());
          }
          if (auto err = String()) return err;
          e = Expect::kColon;
          continue;
        case Expect::kCommaOrClose: {
          const char open = stack.back();
          const char close = open == '{' ? '}' : ']';
          if (c == ',') {
            ++i_;
            e = open == '{' ? Expect::kKey : Expect::kValue;
            continue;
          }
          if (c == close) {
            ++i_;
            stack.pop_back();
            e = stack.empty() ? Expect::kDone : Expect::kCommaOrClose;
            continue;
          }
          return Error(std::string("expected ',' or '") + close + "' after " +
                       (open == '{' ? "an object member" : "an array element") + ", found " +
                       Shown());
        }
        case Expect::kValue:
        case Expect::kValueOrClose:
          if (c == ']' && e == Expect::kValueOrClose) {
            ++i_;
            stack.pop_back();
            e = stack.empty() ? Expect::kDone : Expect::kCommaOrClose;
            continue;
          }
          if (c == '{' || c == '[') {
            stack.push_back(c);
            ++i_;
            e = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
            continue;
          }
          if (auto err = Scalar()) return err;
          e = stack.empty() ? Expect::kDone : Expect::kCommaOrClose;
          continue;
      }
    }
  }

 private:
  static std::string Want(const std::vector<char>& stack) {
    if (stack.empty()) return "a value";
    return stack.back() == '{' ? "'}' to close an object" : "']' to close an array";
  }

  void SkipSpace() {
    while (i_ < t_.size() && IsJsonSpace(t_[i_])) ++i_;
  }

  std::string Shown() const {
    if (i_ >= t_.size()) return "the end of the text";
    const auto c = static_cast<unsigned char>(t_[i_]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", c);
    return buf;
  }

  std::optional<JsonError> Error(std::string what) const { return JsonError{i_, std::move(what)}; }
  std::optional<JsonError> ErrorAt(size_t at, std::string what) const {
    return JsonError{at, std::move(what)};
  }

  std::optional<JsonError> String() {
    const size_t open = i_;
    ++i_;
    while (i_ < t_.size()) {
      const auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') {
        ++i_;
        return std::nullopt;
      }
      if (c == '\\') {
        if (i_ + 1 >= t_.size()) break;
        const char x = t_[i_ + 1];
        if (x == 'u') {
          for (size_t k = 2; k < 6; ++k) {
            if (i_ + k >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[i_ + k]))) {
              return ErrorAt(i_, "invalid \\u escape in a string: expected 4 hex digits");
            }
          }
          i_ += 6;
          continue;
        }
        if (std::strchr("\"\\/bfnrt", x) == nullptr || x == '\0') {
          return ErrorAt(i_, std::string("invalid escape '\\") + x + "' in a string");
        }
        i_ += 2;
        continue;
      }
      if (c < 0x20) {
        return ErrorAt(i_, c == '\n' ? "a string contains a raw line break (must be \\n)"
                                     : "a string contains a raw control character");
      }
      if (c >= 0x80) {
        const size_t len = Utf8Length(i_);
        if (len == 0) return ErrorAt(i_, "invalid UTF-8 in a string");
        i_ += len;
        continue;
      }
      ++i_;
    }
    return ErrorAt(open, "unterminated string (no closing '\"')");
  }

  // Length of the valid UTF-8 sequence at `at`, or 0.
  size_t Utf8Length(size_t at) const {
    const auto* s = reinterpret_cast<const unsigned char*>(t_.data());
    const size_t n = t_.size();
    const unsigned char c = s[at];
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return 0;
    }
    if (at + len > n) return 0;
    for (size_t k = 1; k < len; ++k) {
      if ((s[at + k] & 0xc0) != 0x80) return 0;
      cp = cp << 6 | (s[at + k] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
      return 0;
    }
    return len;
  }

  std::optional<JsonError> Scalar() {
    const char c = t_[i_];
    if (c == '"') return String();
    if (c == 't' || c == 'f' || c == 'n') {
      for (const std::string_view lit : {"true", "false", "null"}) {
        if (t_.substr(i_, lit.size()) == lit) {
          i_ += lit.size();
          return std::nullopt;
        }
      }
      return Error("invalid literal: expected true, false or null");
    }
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    return Error("expected a value (object, array, string, number, true, false or null), found " +
                 Shown());
  }

  std::optional<JsonError> Number() {
    const size_t start = i_;
    auto digit = [&](size_t k) { return k < t_.size() && t_[k] >= '0' && t_[k] <= '9'; };
    if (t_[i_] == '-') ++i_;
    if (!digit(i_)) return ErrorAt(start, "invalid number: expected a digit after '-'");
    if (t_[i_] == '0' && digit(i_ + 1)) {
      return ErrorAt(start, "invalid number: leading zeros are not allowed");
    }
    while (digit(i_)) ++i_;
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (!digit(i_)) return ErrorAt(start, "invalid number: expected a digit after '.'");
      while (digit(i_)) ++i_;
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (!digit(i_)) return ErrorAt(start, "invalid number: expected a digit in the exponent");
      while (digit(i_)) ++i_;
    }
    return std::nullopt;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

std::optional<JsonError> FindJsonError(std::string_view text) { return Validator(text).Run(); }

}  // namespace budgeteer::formats_internal
