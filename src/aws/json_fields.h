// Reads top-level string fields of a JSON object (error replies, credential documents) with
// simdjson. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace budgeteer::aws {

// The string value of `key` in the top-level object, or nullopt when the text is not a JSON
// object, the key is missing, or its value is not a string.
std::optional<std::string> JsonStringField(std::string_view json, std::string_view key);

}  // namespace budgeteer::aws
