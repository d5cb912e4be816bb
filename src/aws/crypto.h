// SHA-256, HMAC-SHA256 and hex encoding for SigV4, on OpenSSL's one-shot functions.
// Pure functions of their arguments; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace budgeteer::aws {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex, as SigV4 writes hashes and signatures.
std::string HexEncode(std::string_view bytes);
std::string HexEncode(const Digest& digest);
std::string Sha256Hex(std::string_view data);

inline std::string_view AsView(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};  // NOLINT: bytes as chars
}

}  // namespace budgeteer::aws
