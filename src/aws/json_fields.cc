#include "aws/json_fields.h"

#include <simdjson.h>

namespace budgeteer::aws {

std::optional<std::string> JsonStringField(std::string_view json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
  std::string_view value;
  if (obj.at_key(key).get_string().get(value) != simdjson::SUCCESS) return std::nullopt;
  return std::string(value);
}

}  // namespace budgeteer::aws
