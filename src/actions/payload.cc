#include "actions/payload.h"

#include <simdjson.h>

#include "core/money.h"

namespace budgeteer {

Result<PayloadFields> PayloadFields::Parse(std::string_view json) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidArgument("action payload is not a JSON object");
  }
  PayloadFields out;
  for (auto field : object) {
    std::string_view key_view;
    if (field.unescaped_key().get(key_view) != simdjson::SUCCESS) {
      return InvalidArgument("action payload: malformed key");
    }
    std::string key(key_view);
    simdjson::ondemand::value value;
    simdjson::ondemand::json_type type{};
    if (field.value().get(value) != simdjson::SUCCESS ||
        value.type().get(type) != simdjson::SUCCESS) {
      return InvalidArgument("action payload: malformed value of " + key);
    }
    switch (type) {
      case simdjson::ondemand::json_type::string: {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS) {
          return InvalidArgument("action payload: malformed string in " + key);
        }
        out.fields_[std::move(key)] = std::string(s);
        break;
      }
      case simdjson::ondemand::json_type::number: {
        std::string_view raw = value.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                                raw.back() == '\t')) {
          raw.remove_suffix(1);
        }
        out.fields_[std::move(key)] = std::string(raw);
        break;
      }
      case simdjson::ondemand::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b) != simdjson::SUCCESS) {
          return InvalidArgument("action payload: malformed boolean in " + key);
        }
        out.fields_[std::move(key)] = b ? "true" : "false";
        break;
      }
      default:
        break;  // null, objects and arrays: skipped
    }
  }
  return out;
}

std::string_view PayloadFields::Get(std::string_view key) const {
  const auto it = fields_.find(key);
  return it == fields_.end() ? std::string_view() : std::string_view(it->second);
}

std::string UsdCents(std::string_view amount) {
  const auto parsed = Money::ParseUsd(amount);
  if (!parsed.ok()) return std::string(amount);
  constexpr int64_t kNanosPerCent = Money::kNanosPerUsd / 100;
  const int64_t nanos = parsed->nanos();
  const int64_t half = nanos >= 0 ? kNanosPerCent / 2 : -(kNanosPerCent / 2);
  const int64_t cents = (nanos + half) / kNanosPerCent;
  return Money::FromNanos(cents * kNanosPerCent).ToUsd(2);
}

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace budgeteer
