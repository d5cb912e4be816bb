// Light-weight JSON scanning that simdjson's On-Demand API does not offer: nesting depth,
// where one of several concatenated values ends, top-level keys of a truncated prefix, and a
// precise description of a syntax error (only run once simdjson has reported one).
// Strings are honoured everywhere (brackets inside strings do not count). Pure functions.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace budgeteer::formats_internal {

// Returns true when no bracket in `text` nests deeper than `limit`; otherwise false with the
// offset of the first bracket past the limit in `*where`. Fast path: a count of '{' and '['.
bool DepthWithin(std::string_view text, size_t limit, size_t* where);

struct ScanResult {
  enum Stop {
    kClosed,   // the value starting at `start` closed; pos is one past its last byte
    kEnd,      // the text ended inside the value
    kTooDeep,  // pos is the first bracket nested deeper than the limit
    kStray,    // pos is a '}' or ']' that closes nothing
  };
  Stop stop;
  size_t pos;
};

// Scans the object or array starting at text[start] ('{' or '[') to its closing bracket.
ScanResult ScanContainer(std::string_view text, size_t start, size_t depth_limit);

// One past the end of the scalar starting at text[start] (a string, number or literal), or
// text.size() when it does not end.
size_t ScalarEnd(std::string_view text, size_t start);

// Whether the top-level object that starts `prefix` (which may be cut anywhere) has one of
// `keys` among the keys visible in the prefix.
bool HasTopLevelKey(std::string_view prefix, std::initializer_list<std::string_view> keys);

struct JsonError {
  size_t offset;     // byte offset in the text
  std::string what;  // "expected ':' after an object key"
};
// The first syntax error of `text`, which must hold exactly one JSON value (surrounded by
// optional whitespace); nullopt when it is valid JSON.
std::optional<JsonError> FindJsonError(std::string_view text);

// 1-based line and column (in bytes) of `offset` in `text`.
struct LineCol {
  size_t line;
  size_t column;
};
LineCol LineColAt(std::string_view text, size_t offset);

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace budgeteer::formats_internal
