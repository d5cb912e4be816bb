// Retry-After (RFC 9110 section 10.2.3): what a server that answers 429 or 503 may say about
// when to come back, either as delta-seconds ("120") or as an HTTP-date ("Fri, 27 Nov 2026
// 23:00:00 GMT"). Parsed here into a delay from `now`, which the caller passes in; the caller
// caps it (the dispatcher at DispatchPolicy::max_backoff_ms).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/time.h"

namespace budgeteer {

// An HTTP-date in any of the three forms RFC 9110 section 5.6.7 requires recipients to accept:
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete RFC 850 form
// "Sunday, 06-Nov-94 08:49:37 GMT" (a two-digit year more than 50 years after `now` is taken
// as the most recent past year with those digits) and asctime "Sun Nov  6 08:49:37 1994".
// The day name is checked to be a day name, not that it matches the date. Nothing else is
// accepted: no other zone than GMT, no missing fields, no trailing text.
std::optional<Timestamp> ParseHttpDate(std::string_view text, Timestamp now);

// The wait a Retry-After value asks for, in milliseconds from `now`: delta-seconds times 1000
// (a value too large to hold is taken as 2^31 seconds, as RFC 9111 section 1.2.2 says), or the
// time until the HTTP-date (0 when it is already past). Leading and trailing blanks are
// ignored. Nothing (std::nullopt) for anything else: a negative or fractional number, text,
// a malformed date, an empty value.
std::optional<int64_t> ParseRetryAfterMs(std::string_view value, Timestamp now);

}  // namespace budgeteer
