// Base64 (RFC 4648 §4, standard alphabet) for Firehose record data and CloudWatch payloads.
#include <array>
#include <cstdint>
#include <cstdio>

#include "formats/input.h"
#include "formats/internal.h"

namespace budgeteer {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

Status BadChar(std::string_view text, size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  char shown[8];
  if (c >= 0x21 && c < 0x7f) {
    std::snprintf(shown, sizeof(shown), "'%c'", c);
  } else {
    std::snprintf(shown, sizeof(shown), "0x%02x", c);
  }
  std::string m = "invalid base64 at offset " + std::to_string(pos) + ": character " + shown;
  m += c == '=' ? " (padding) may only end the text"
                : " is not in the standard alphabet (A-Z a-z 0-9 + /)";
  return InvalidArgument(std::move(m));
}

}  // namespace

namespace formats_internal {

template <typename Buffer>
Status Base64DecodeInto(std::string_view text, Buffer& out) {
  out.resize(0);
  const size_t n = text.size();
  size_t pad = 0;
  if (n > 0 && text[n - 1] == '=') pad = (n > 1 && text[n - 2] == '=') ? 2 : 1;
  if (pad > 0 && n % 4 != 0) {
    return InvalidArgument("invalid base64: " + std::to_string(n) +
                           " characters with '=' padding is not a multiple of 4");
  }
  const size_t body = n - pad;
  if (body % 4 == 1) {
    return InvalidArgument("invalid base64: " + std::to_string(n) +
                           " characters leave one character over (truncated data?)");
  }
  out.resize(body / 4 * 3 + (body % 4 == 0 ? 0 : body % 4 - 1));
  // kDecode is signed on purpose: -1 marks a character outside the alphabet.
  // NOLINTBEGIN(bugprone-signed-char-misuse)
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  size_t i = 0;
  for (; i + 4 <= body; i += 4) {
    const int a = kDecode[in[i]];
    const int b = kDecode[in[i + 1]];
    const int c = kDecode[in[i + 2]];
    const int d = kDecode[in[i + 3]];
    if ((a | b | c | d) < 0) {
      for (size_t k = i; k < i + 4; ++k) {
        if (kDecode[in[k]] < 0) return BadChar(text, k);
      }
    }
    const auto v = static_cast<uint32_t>(a << 18 | b << 12 | c << 6 | d);
    *o++ = static_cast<unsigned char>(v >> 16);
    *o++ = static_cast<unsigned char>(v >> 8);
    *o++ = static_cast<unsigned char>(v);
  }
  const size_t rest = body - i;
  if (rest > 0) {
    uint32_t v = 0;
    for (size_t k = 0; k < rest; ++k) {
      const int d = kDecode[in[i + k]];
      if (d < 0) return BadChar(text, i + k);
      v |= static_cast<uint32_t>(d) << (18 - 6 * k);
    }
    *o++ = static_cast<unsigned char>(v >> 16);
    if (rest == 3) *o++ = static_cast<unsigned char>(v >> 8);
  }
  return Status::Ok();
  // NOLINTEND(bugprone-signed-char-misuse)
}

template Status Base64DecodeInto<std::string>(std::string_view, std::string&);
template Status Base64DecodeInto<PaddedBuffer>(std::string_view, PaddedBuffer&);

}  // namespace formats_internal

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  RETURN_IF_ERROR(formats_internal::Base64DecodeInto(text, out));
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.resize((bytes.size() + 2) / 3 * 4);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  char* o = out.data();
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t{in[i]} << 16 | uint32_t{in[i + 1]} << 8 | in[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
  return out;
}

}  // namespace budgeteer
