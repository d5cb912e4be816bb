// JsonWriter: a small streaming JSON writer that emits exact numbers (money as decimal text,
// never through a double) and correctly escaped strings. Not thread-safe; one per document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace budgeteer {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A number written exactly as given (e.g. Money::ToUsd()); the caller guarantees the syntax.
  JsonWriter& RawNumber(std::string_view number);
  // An already-serialised JSON value.
  JsonWriter& RawJson(std::string_view json);

  // Key + value shorthands.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();
  JsonWriter& Close(char bracket);
  void Newline();

  std::string out_;
  // One entry per open container: true once it has a first element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
  bool pretty_;
};

// Appends `text` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace budgeteer
