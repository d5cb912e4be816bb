// Test helpers for the formats module: a sink that records what it is given, fixture loading,
// and byte sources that misbehave on purpose. Test-only; thread-compatible.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "formats/input.h"

namespace budgeteer::testing {

struct RecordingSink : RecordSink {
  struct Delivered {
    UsageRecord record;
    std::string where;
    int64_t line;
    int64_t index;
  };
  struct Rejected {
    std::string where;
    int64_t line;
    int64_t index;
    std::string reason;
  };

  void OnRecord(UsageRecord&& record, const Location& where) override {
    records.push_back({std::move(record), where.ToString(), where.line, where.index});
  }
  void OnReject(const Location& where, std::string reason) override {
    rejects.push_back({where.ToString(), where.line, where.index, std::move(reason)});
  }
  void OnSkipped(const Location& where) override { skipped.push_back(where.ToString()); }

  std::vector<std::string> RequestIds() const {
    std::vector<std::string> ids;
    for (const auto& d : records) ids.push_back(d.record.request_id.str());
    return ids;
  }
  std::string Dump() const {
    std::string out;
    for (const auto& r : rejects) out += "  reject " + r.where + ": " + r.reason + "\n";
    return out;
  }

  std::vector<Delivered> records;
  std::vector<Rejected> rejects;
  std::vector<std::string> skipped;
};

inline std::string FixturePath(const std::string& name) {
  return std::string(BUDGETEER_SOURCE_DIR) + "/src/formats/testdata/" + name;
}

inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(FixturePath(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Splits text into lines (without the '\n').
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  std::istringstream in(text);
  while (std::getline(in, cur)) lines.push_back(cur);
  return lines;
}

// Hands out at most `step` bytes per Read, to exercise chunk boundaries.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string_view bytes, size_t step) : bytes_(bytes), step_(step) {}
  Result<size_t> Read(char* buf, size_t len) override {
    const size_t n = std::min({len, step_, bytes_.size() - pos_});
    std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  size_t step_;
  size_t pos_ = 0;
};

// Returns `bytes`, then fails with UNAVAILABLE.
class FailingSource : public ByteSource {
 public:
  explicit FailingSource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(char* buf, size_t len) override {
    if (pos_ == bytes_.size()) return Unavailable("disk on fire");
    const size_t n = std::min(len, bytes_.size() - pos_);
    std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace budgeteer::testing
