// Reads one usage record (a Bedrock invocation-log record or our canonical record) from a
// simdjson On-Demand object, in a single pass over its fields. Internal to the formats module.
#pragma once

#include <simdjson.h>

#include <string_view>

#include "core/status.h"
#include "core/usage.h"
#include "formats/input.h"

namespace budgeteer::formats_internal {

static_assert(simdjson::SIMDJSON_PADDING <= 64,
              "PaddedBuffer's kJsonPadding must cover SIMDJSON_PADDING");

enum class ReadOutcome {
  kRecord,    // `out` holds the record
  kEnvelope,  // the object has messageType / logEvents / records: an envelope, not a record
  kInvalid,   // `error` is the rejection reason
  kSyntax,    // simdjson reported `syntax`; the caller describes where
};

// `out` must be a fresh record. Keys the record formats do not know are skipped, and so are
// bodies (inputBodyJson / outputBodyJson), whatever their shape.
ReadOutcome ReadRecord(simdjson::ondemand::object& obj, const ParseLimits& limits, UsageRecord& out,
                       Status& error, simdjson::error_code& syntax);

// "an object", "an array", "a number", ...
std::string_view JsonTypeName(simdjson::ondemand::json_type type);

// True for simdjson errors that mean malformed JSON (as opposed to a value of the wrong type).
bool IsSyntaxError(simdjson::error_code e);

}  // namespace budgeteer::formats_internal
