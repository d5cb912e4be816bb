#include "server/body_encoding.h"

#include "formats/input.h"

namespace budgeteer {

bool IsIdentityEncoding(std::string_view content_encoding) {
  return content_encoding.empty() || content_encoding == "identity";
}

Result<std::string> DecodeBody(std::string_view content_encoding, std::string_view body,
                               size_t max_inflated) {
  if (content_encoding != "gzip") {
    return Status(Code::kInvalidArgument, "unsupported Content-Encoding '" +
                                              std::string(content_encoding) + "' (gzip or none)");
  }
  const bool gzip_magic = body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
                          static_cast<unsigned char>(body[1]) == 0x8b;
  if (!gzip_magic) {
    return Status(Code::kInvalidArgument,
                  "Content-Encoding is gzip but the body is not gzip data (it does not start "
                  "with the gzip magic bytes 1f 8b)");
  }
  auto out = GunzipAll(body, max_inflated);
  if (!out.ok()) {
    if (out.status().code() == Code::kResourceExhausted) return out.status();
    return Status(Code::kInvalidArgument,
                  "the gzip body cannot be inflated: " + out.status().message() +
                      "; it was cut short or damaged on the way and cannot succeed as sent");
  }
  return out;
}

}  // namespace budgeteer
