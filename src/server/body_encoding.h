// DecodeBody: a request body as its Content-Encoding says, for the routes that receive their
// bodies as sent (GuardedServer::set_raw_body_paths): cpp-httplib's own inflater does not
// notice a gzip stream cut short, ours does. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace budgeteer {

// Whether `content_encoding` leaves the body as it is ("" or "identity").
bool IsIdentityEncoding(std::string_view content_encoding);

// The body decoded as `content_encoding` (not identity) says: only "gzip" is supported.
// Errors: kResourceExhausted when the inflated body passes `max_inflated` bytes;
// kInvalidArgument naming the problem when the encoding is another one, the body is not gzip
// data, or the gzip stream is damaged or cut short (a body that will never succeed as sent).
Result<std::string> DecodeBody(std::string_view content_encoding, std::string_view body,
                               size_t max_inflated);

}  // namespace budgeteer
