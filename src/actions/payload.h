// The fields of an action's JSON payload (engine/events.cc) as text, for channels that format a
// message from them: strings as written, numbers as their exact JSON text, booleans as
// "true"/"false"; null, objects and arrays are left out. Values only; thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace budgeteer {

class PayloadFields {
 public:
  // InvalidArgument (not retryable) when the payload is not a JSON object.
  static Result<PayloadFields> Parse(std::string_view json);

  // The field's text, or "" when it is absent or null.
  std::string_view Get(std::string_view key) const;
  bool Has(std::string_view key) const { return fields_.find(key) != fields_.end(); }

 private:
  std::map<std::string, std::string, std::less<>> fields_;
};

// An exact decimal amount of USD ("12.345678901") rounded half-up to cents ("12.35"); the
// text unchanged when it is not a decimal number.
std::string UsdCents(std::string_view amount);

// One line of text: CR, LF and other control characters become spaces (for headers, logs).
std::string OneLine(std::string_view text);

}  // namespace budgeteer
