// InputParser: layout detection, line splitting, envelopes (CloudWatch Logs, Firehose, JSON
// arrays, base64/gzip wrapping) and delivery to the sink.
//
// Nesting is handled with one simdjson parser per level (a Firehose body at level 0, the
// CloudWatch Logs payload in one of its records at level 1, the log-event records at level
// 2), because an On-Demand parser cannot parse a second document while the first is being
// iterated. Each level also owns the buffers its text is decoded into.
#include "formats/input.h"

#include <simdjson.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>

#include "formats/internal.h"
#include "formats/json_scan.h"
#include "formats/record.h"

namespace budgeteer {

using formats_internal::Base64DecodeInto;
using formats_internal::DepthWithin;
using formats_internal::FindJsonError;
using formats_internal::GunzipInto;
using formats_internal::HasTopLevelKey;
using formats_internal::IsGzip;
using formats_internal::IsJsonSpace;
using formats_internal::kJsonPadding;
using formats_internal::LineColAt;
using formats_internal::PaddedBuffer;
using formats_internal::ReadOutcome;
using formats_internal::ReadRecord;
using formats_internal::ScanContainer;
using formats_internal::ScanResult;

namespace {

using simdjson::SUCCESS;
using simdjson::ondemand::object;
using simdjson::ondemand::value;
using ErrorCode = simdjson::error_code;

constexpr int kLevels = 3;
constexpr size_t kReadChunk = size_t{1} << 20;
// Buffers and parsers that grew past this for one big document are released afterwards.
constexpr size_t kKeepBytes = size_t{16} << 20;

std::string Quoted(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "byte 0x%02x", u);
  return buf;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// "invalid JSON at column 17: expected ':' after an object key". `base_line` is the input
// line of the text's first byte (0 when the text is not from a line-oriented input).
std::string DescribeSyntax(std::string_view text, ErrorCode e, int64_t base_line) {
  const auto found = FindJsonError(text);
  if (!found) return std::string("invalid JSON (") + simdjson::error_message(e) + ")";
  const auto lc = LineColAt(text, found->offset);
  std::string where;
  if (lc.line == 1) {
    where = "column " + std::to_string(lc.column);
  } else if (base_line > 0) {
    where = "line " + std::to_string(base_line + static_cast<int64_t>(lc.line) - 1) + ", column " +
            std::to_string(lc.column);
  } else {
    where = "line " + std::to_string(lc.line) + " of the data, column " + std::to_string(lc.column);
  }
  return "invalid JSON at " + where + ": " + found->what;
}

std::string DepthMessage(std::string_view text, size_t where, size_t limit) {
  const auto lc = LineColAt(text, where);
  return "JSON nests deeper than " + std::to_string(limit) +
         " levels (ingest.max_json_depth) at column " + std::to_string(lc.column) +
         (lc.line > 1 ? " of line " + std::to_string(lc.line) : std::string()) +
         "; flatten the data, or raise the limit";
}

bool AtEnd(simdjson::ondemand::document& doc) {
  const char* p = nullptr;
  return doc.current_location().get(p) != SUCCESS;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Where the current text goes and how to name positions inside it.
struct Ctx {
  RecordSink* sink = nullptr;
  Location loc;
  std::string prefix;       // nested position for rejection reasons: "log event 3: "
  bool file_lines = false;  // newlines in the text are lines of the input file
};

// The context of the i-th record of an envelope or array.
Ctx Nested(const Ctx& ctx, int64_t i, const char* what) {
  Ctx c = ctx;
  if (ctx.loc.index == 0) {
    c.loc.index = i;
  } else {
    c.prefix += std::string(what) + std::to_string(i) + ": ";
  }
  return c;
}

void Reject(const Ctx& ctx, std::string reason) {
  if (!ctx.prefix.empty()) reason.insert(0, ctx.prefix);
  ctx.sink->OnReject(ctx.loc, std::move(reason));
}

// Splits a byte stream into lines without ever holding more than max_line_bytes of one line
// (plus one read chunk). Lines handed out are followed by kJsonPadding readable bytes.
class LineReader {
 public:
  struct Line {
    enum Kind { kLine, kTooLong, kEnd };
    Kind kind = kEnd;
    const char* data = nullptr;
    size_t size = 0;  // for kTooLong: the whole line's length
    int64_t number = 0;
  };

  // `storage` is reused across inputs (allocated, not zeroed: untouched pages cost nothing).
  LineReader(ByteSource& src, size_t max_line, std::unique_ptr<char[]>& storage,
             size_t& storage_size)
      : src_(src), max_line_(max_line) {
    const size_t cap = max_line + kReadChunk + kJsonPadding;
    if (storage_size < cap) {
      storage.reset(new char[cap]);
      storage_size = cap;
    }
    buf_ = storage.get();
    limit_ = cap - kJsonPadding;
    std::memset(buf_ + limit_, 0, kJsonPadding);
  }

  // Reads until the buffer holds the first two non-blank lines, is full, or the input ends.
  Status FillForDetection() {
    Compact();
    while (!eof_ && end_ < limit_) {
      size_t f = begin_;
      while (f < end_ && IsJsonSpace(buf_[f])) ++f;
      if (f < end_) {
        const void* nl1 = std::memchr(buf_ + f, '\n', end_ - f);
        if (nl1 != nullptr) {
          const size_t a = static_cast<size_t>(static_cast<const char*>(nl1) - buf_) + 1;
          size_t g = a;
          while (g < end_ && IsJsonSpace(buf_[g])) ++g;
          if (g < end_ && std::memchr(buf_ + g, '\n', end_ - g) != nullptr) break;
        }
      }
      RETURN_IF_ERROR(ReadMore());
    }
    return Status::Ok();
  }
  std::string_view Buffered() const { return {buf_ + begin_, end_ - begin_}; }
  bool eof() const { return eof_; }
  void Skip(size_t n) {
    begin_ += n;
    if (scan_ < begin_) scan_ = begin_;
  }

  Status Next(Line& line) {
    for (;;) {
      const void* nl = std::memchr(buf_ + scan_, '\n', end_ - scan_);
      if (nl != nullptr) {
        const size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf_);
        line.data = buf_ + begin_;
        line.size = pos - begin_;
        line.kind = line.size > max_line_ ? Line::kTooLong : Line::kLine;
        line.number = ++line_no_;
        begin_ = scan_ = pos + 1;
        return Status::Ok();
      }
      scan_ = end_;
      if (end_ - begin_ > max_line_) return SkipLongLine(line);
      if (eof_) {
        if (begin_ == end_) {
          line.kind = Line::kEnd;
          return Status::Ok();
        }
        line.data = buf_ + begin_;
        line.size = end_ - begin_;
        line.kind = Line::kLine;
        line.number = ++line_no_;
        begin_ = scan_ = end_;
        return Status::Ok();
      }
      Compact();
      RETURN_IF_ERROR(ReadMore());
    }
  }

  // Moves everything left (buffered bytes and the rest of the input) into `out`; sets
  // `too_big` and stops once it holds more than `max` bytes.
  Status ReadAll(PaddedBuffer& out, size_t max, bool& too_big) {
    too_big = false;
    out.assign(Buffered());
    begin_ = scan_ = end_;
    while (!eof_ && out.size() <= max) {
      const size_t old = out.size();
      out.resize(old + kReadChunk);
      auto n = src_.Read(out.data() + old, kReadChunk);
      if (!n.ok()) return n.status();
      out.resize(old + *n);
      if (*n == 0) eof_ = true;
    }
    too_big = out.size() > max;
    return Status::Ok();
  }

  // Reads the rest of the input without keeping it, so that a read error or a damaged gzip
  // stream past a document too large to hold is still reported (found by fuzz/input_fuzzer:
  // without it the outcome depended on how many bytes each read returned).
  Status Drain() {
    begin_ = scan_ = end_ = 0;
    while (!eof_) RETURN_IF_ERROR(ReadMore());
    return Status::Ok();
  }

 private:
  void Compact() {
    if (begin_ == 0) return;
    std::memmove(buf_, buf_ + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }

  Status ReadMore() {
    auto n = src_.Read(buf_ + end_, limit_ - end_);
    if (!n.ok()) return n.status();
    if (*n == 0) eof_ = true;
    end_ += *n;
    return Status::Ok();
  }

  // The current line is longer than the limit: count the rest of it without keeping it.
  Status SkipLongLine(Line& line) {
    size_t length = end_ - begin_;
    begin_ = end_ = scan_ = 0;
    for (;;) {
      if (eof_) break;
      RETURN_IF_ERROR(ReadMore());
      const void* nl = std::memchr(buf_, '\n', end_);
      if (nl != nullptr) {
        const size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf_);
        length += pos;
        begin_ = scan_ = pos + 1;
        break;
      }
      length += end_;
      end_ = 0;
    }
    line.kind = Line::kTooLong;
    line.data = nullptr;
    line.size = length;
    line.number = ++line_no_;
    return Status::Ok();
  }

  ByteSource& src_;
  const size_t max_line_;
  char* buf_ = nullptr;
  size_t limit_ = 0;  // data never goes past this; the padding follows
  size_t begin_ = 0;  // start of the current line
  size_t scan_ = 0;   // no '\n' in [begin_, scan_)
  size_t end_ = 0;    // end of the buffered data
  bool eof_ = false;
  int64_t line_no_ = 0;
};

enum class Layout { kLines, kDocuments };

// Whether `line` holds exactly one object or array (and nothing but spaces after it).
bool IsWholeValue(std::string_view line) {
  const auto r = ScanContainer(line, 0, SIZE_MAX);
  if (r.stop != ScanResult::kClosed) return false;
  for (size_t i = r.pos; i < line.size(); ++i) {
    if (!IsJsonSpace(line[i])) return false;
  }
  return true;
}

// Decides from the first bytes whether the input is JSON Lines (or base64 lines) or whole
// JSON documents: a JSON array, a pretty-printed record or envelope, a Firehose body.
Layout DetectLayout(std::string_view head, bool whole_input, size_t max_line) {
  size_t i = 0;
  while (i < head.size() && IsJsonSpace(head[i])) ++i;
  if (i == head.size() || (head[i] != '{' && head[i] != '[')) return Layout::kLines;
  const std::string_view rest = head.substr(i);
  const size_t nl = rest.find('\n');
  const size_t first_len = nl == std::string_view::npos ? rest.size() : nl;
  if (first_len > max_line || (nl == std::string_view::npos && !whole_input)) {
    // One long line: a JSON array or a whole envelope (e.g. a Firehose body saved to a file)
    // is read as a document; anything else stays a (too long) line.
    if (rest.front() == '[') return Layout::kDocuments;
    return HasTopLevelKey(rest, {"records", "logEvents", "messageType"}) ? Layout::kDocuments
                                                                         : Layout::kLines;
  }
  if (nl == std::string_view::npos) return Layout::kLines;
  if (ScanContainer(rest.substr(0, nl), 0, SIZE_MAX).stop == ScanResult::kClosed) {
    return Layout::kLines;
  }
  // The first line does not close its value: a pretty-printed document, unless the next line
  // is one complete value (then the first line is just a broken JSON line).
  size_t j = nl + 1;
  while (j < rest.size() && IsJsonSpace(rest[j])) ++j;
  if (j < rest.size() && (rest[j] == '{' || rest[j] == '[')) {
    const size_t nl2 = rest.find('\n', j);
    if (IsWholeValue(rest.substr(j, nl2 == std::string_view::npos ? nl2 : nl2 - j))) {
      return Layout::kLines;
    }
  }
  return Layout::kDocuments;
}

struct Level {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  PaddedBuffer text;      // a copy of the text parsed here (ParseRecord input, log messages)
  PaddedBuffer decoded;   // base64-decoded bytes
  PaddedBuffer inflated;  // gunzipped bytes

  void Release() {
    if (parser.capacity() > kKeepBytes) parser = simdjson::ondemand::parser{};
    text.ShrinkIfAbove(kKeepBytes);
    decoded.ShrinkIfAbove(kKeepBytes);
    inflated.ShrinkIfAbove(kKeepBytes);
  }
};

enum class ObjectOutcome { kRecord, kInvalid, kEnvelope };

}  // namespace

std::string Location::ToString() const {
  std::string out(source);
  if (line > 0) out += ":" + std::to_string(line);
  if (index > 0) out += " record " + std::to_string(index);
  return out;
}

struct InputParser::Impl {
  explicit Impl(const ParseLimits& l) : limits(l) {}

  const ParseLimits& limits;
  std::array<Level, kLevels> levels;
  std::unique_ptr<char[]> line_storage;
  size_t line_storage_size = 0;
  PaddedBuffer document;

  // Parses the object in [p, p+n) (padded) at `level` as a record. On kEnvelope the level's
  // document is rewound and ready for the envelope parser.
  ObjectOutcome ParseObject(int level, const char* p, size_t n, int64_t base_line, UsageRecord& out,
                            Status& err) {
    const std::string_view text(p, n);
    size_t where = 0;
    if (!DepthWithin(text, limits.max_json_depth, &where)) {
      err = ResourceExhausted(DepthMessage(text, where, limits.max_json_depth));
      return ObjectOutcome::kInvalid;
    }
    Level& lv = levels[static_cast<size_t>(level)];
    ErrorCode e = lv.parser.iterate(p, n, n + kJsonPadding).get(lv.doc);
    object obj;
    if (e == SUCCESS) e = lv.doc.get_object().get(obj);
    if (e != SUCCESS) {
      err = InvalidArgument(DescribeSyntax(text, e, base_line));
      return ObjectOutcome::kInvalid;
    }
    ErrorCode syntax = SUCCESS;
    Status invalid;
    const ReadOutcome outcome = ReadRecord(obj, limits, out, invalid, syntax);
    if (outcome == ReadOutcome::kSyntax) {
      err = InvalidArgument(DescribeSyntax(text, syntax, base_line));
      return ObjectOutcome::kInvalid;
    }
    if (outcome == ReadOutcome::kEnvelope) {
      lv.doc.rewind();
      return ObjectOutcome::kEnvelope;
    }
    if (!AtEnd(lv.doc)) {
      err = InvalidArgument(DescribeSyntax(text, simdjson::TRAILING_CONTENT, base_line));
      return ObjectOutcome::kInvalid;
    }
    if (outcome == ReadOutcome::kInvalid) {
      err = std::move(invalid);
      return ObjectOutcome::kInvalid;
    }
    return ObjectOutcome::kRecord;
  }

  // One JSON value (or, where allowed, one base64 text) in [p, p+n), padded.
  void DispatchText(int level, const char* p, size_t n, const Ctx& ctx, bool allow_base64) {
    const std::string_view text = Trim({p, n});
    if (text.empty()) return;
    if (level >= kLevels) {
      Reject(ctx, "envelopes nested more than " + std::to_string(kLevels) +
                      " deep; send records, or one level of CloudWatch Logs / Firehose wrapping");
      return;
    }
    const int64_t base_line = ctx.file_lines ? ctx.loc.line : 0;
    switch (text.front()) {
      case '{': {
        UsageRecord record;
        Status err;
        switch (ParseObject(level, text.data(), text.size(), base_line, record, err)) {
          case ObjectOutcome::kRecord:
            ctx.sink->OnRecord(std::move(record), ctx.loc);
            return;
          case ObjectOutcome::kInvalid:
            Reject(ctx, err.message());
            return;
          case ObjectOutcome::kEnvelope:
            ParseEnvelope(level, text, ctx);
            return;
        }
        return;
      }
      case '[':
        ParseArray(level, text, ctx);
        return;
      default:
        break;
    }
    if (allow_base64 && IsBase64Char(text.front())) {
      DispatchBase64(level, text, ctx);
      return;
    }
    Reject(ctx, "not a JSON object: the text starts with " + Quoted(text.front()) +
                    "; expected a JSON record, a CloudWatch Logs payload or a Firehose body");
  }

  // Several JSON values one after the other (a document file, decoded Firehose data).
  void DispatchValues(int level, const char* p, size_t n, const Ctx& ctx) {
    const std::string_view all(p, n);
    size_t i = 0;
    size_t counted = 0;  // newlines before `counted` are in `line`
    int64_t line = 1;
    while (i < n) {
      while (i < n && IsJsonSpace(p[i])) ++i;
      if (i == n) break;
      size_t end = n;
      if (p[i] == '{' || p[i] == '[') {
        const ScanResult r = ScanContainer(all, i, SIZE_MAX);
        if (r.stop == ScanResult::kClosed) end = r.pos;
        if (r.stop == ScanResult::kStray) end = r.pos + 1;
      } else {
        const size_t nl = all.find('\n', i);
        end = nl == std::string_view::npos ? n : nl;
      }
      while (counted < i) {
        const void* nl = std::memchr(p + counted, '\n', i - counted);
        if (nl == nullptr) break;
        ++line;
        counted = static_cast<size_t>(static_cast<const char*>(nl) - p) + 1;
      }
      counted = i;
      Ctx vc = ctx;
      if (ctx.file_lines) {
        vc.loc.line = ctx.loc.line + line - 1;
      } else if (line > 1) {
        vc.prefix += "line " + std::to_string(line) + " of the decoded data: ";
      }
      DispatchText(level, p + i, end - i, vc, /*allow_base64=*/false);
      i = end;
    }
  }

  // A line of base64: of gzip (a CloudWatch Logs payload as Kinesis/Firehose carry it) or of
  // JSON.
  void DispatchBase64(int level, std::string_view text, const Ctx& ctx) {
    Level& lv = levels[static_cast<size_t>(level)];
    Status s = Base64DecodeInto(text, lv.decoded);
    if (!s.ok()) {
      Reject(ctx, "neither JSON nor base64 (" + s.message() +
                      "); expected a JSON record or base64 of a gzipped CloudWatch Logs payload");
      return;
    }
    DispatchDecoded(level, ctx, "the base64 text");
  }

  // lv.decoded holds decoded bytes: gunzip if needed, then parse.
  void DispatchDecoded(int level, const Ctx& ctx, const char* what) {
    Level& lv = levels[static_cast<size_t>(level)];
    Ctx dc = ctx;
    dc.file_lines = false;
    if (IsGzip(lv.decoded.view())) {
      // The inflated data is held whole, so the document limit applies too.
      const bool doc_limit = limits.max_document_bytes < limits.max_decompressed_bytes;
      Status s = GunzipInto(
          lv.decoded.view(), doc_limit ? limits.max_document_bytes : limits.max_decompressed_bytes,
          lv.inflated, doc_limit ? "ingest.max_document_bytes" : "ingest.max_decompressed_bytes");
      if (!s.ok()) {
        Reject(ctx, std::string(what) + " holds gzip data that cannot be inflated: " + s.message());
        return;
      }
      DispatchValues(level, lv.inflated.data(), lv.inflated.size(), dc);
      return;
    }
    const std::string_view decoded = Trim(lv.decoded.view());
    if (decoded.empty() || (decoded.front() != '{' && decoded.front() != '[')) {
      Reject(ctx, std::string(what) +
                      " decodes to neither gzip nor JSON; expected a record or a gzipped "
                      "CloudWatch Logs payload");
      return;
    }
    DispatchValues(level, lv.decoded.data(), lv.decoded.size(), dc);
  }

  void ParseArray(int level, std::string_view text, const Ctx& ctx) {
    size_t where = 0;
    if (!DepthWithin(text, limits.max_json_depth, &where)) {
      Reject(ctx, DepthMessage(text, where, limits.max_json_depth));
      return;
    }
    const int64_t base_line = ctx.file_lines ? ctx.loc.line : 0;
    Level& lv = levels[static_cast<size_t>(level)];
    simdjson::ondemand::array array;
    ErrorCode e =
        lv.parser.iterate(text.data(), text.size(), text.size() + kJsonPadding).get(lv.doc);
    if (e == SUCCESS) e = lv.doc.get_array().get(array);
    if (e != SUCCESS) {
      Reject(ctx, DescribeSyntax(text, e, base_line));
      return;
    }
    int64_t i = 0;
    int64_t line = ctx.loc.line;
    const char* counted = text.data();
    bool stopped = false;  // an element could not be read: the array is cut short
    for (auto element : array) {
      ++i;
      value v;
      if ((e = element.get(v)) != SUCCESS) break;
      Ctx ec = Nested(ctx, i, "element ");
      if (ctx.file_lines) {
        const char* start = v.raw_json_token().data();
        while (counted < start) {
          const void* nl = std::memchr(counted, '\n', static_cast<size_t>(start - counted));
          if (nl == nullptr) break;
          ++line;
          counted = static_cast<const char*>(nl) + 1;
        }
        ec.loc.line = line;
      }
      object obj;
      e = v.get_object().get(obj);
      if (e == simdjson::INCORRECT_TYPE) {
        simdjson::ondemand::json_type t{};
        if ((e = v.type().get(t)) != SUCCESS) break;
        Reject(ec, "array element is " + std::string(formats_internal::JsonTypeName(t)) +
                       ", not a record object");
        continue;
      }
      if (e != SUCCESS) break;
      UsageRecord record;
      Status invalid;
      ErrorCode syntax = SUCCESS;
      switch (ReadRecord(obj, limits, record, invalid, syntax)) {
        case ReadOutcome::kRecord:
          ctx.sink->OnRecord(std::move(record), ec.loc);
          break;
        case ReadOutcome::kInvalid:
          Reject(ec, invalid.message());
          break;
        case ReadOutcome::kEnvelope:
          Reject(ec,
                 "array element is a CloudWatch Logs payload or Firehose body; arrays may "
                 "hold records only");
          break;
        case ReadOutcome::kSyntax:
          e = syntax;
          break;
      }
      if (e != SUCCESS) break;
    }
    if (e != SUCCESS) {
      stopped = true;
    } else if (!AtEnd(lv.doc)) {
      e = simdjson::TRAILING_CONTENT;
    }
    if (e != SUCCESS) {
      Reject(ctx, DescribeSyntax(text, e, base_line) +
                      (stopped ? " (array element " + std::to_string(i) +
                                     " and the ones after it were not read)"
                               : std::string()));
    }
  }

  // levels[level].doc holds (rewound) an object with messageType / logEvents / records.
  void ParseEnvelope(int level, std::string_view text, const Ctx& ctx) {
    Level& lv = levels[static_cast<size_t>(level)];
    const int64_t base_line = ctx.file_lines ? ctx.loc.line : 0;
    object obj;
    value message_type;
    ErrorCode e = lv.doc.get_object().get(obj);
    if (e == SUCCESS) e = obj.find_field_unordered("messageType").get(message_type);
    if (e == SUCCESS) {
      ParseCloudWatch(level, obj, message_type, text, ctx);
      return;
    }
    if (e != simdjson::NO_SUCH_FIELD) {
      Reject(ctx, DescribeSyntax(text, e, base_line));
      return;
    }
    FirehoseDelivery delivery;
    Status s = CheckFirehose(level, text, base_line, delivery);
    if (!s.ok()) {
      Reject(ctx, s.message());
      return;
    }
    DeliverFirehose(level, ctx);
  }

  void ParseCloudWatch(int level, object& obj, value& message_type, std::string_view text,
                       const Ctx& ctx) {
    const int64_t base_line = ctx.file_lines ? ctx.loc.line : 0;
    std::string_view type;
    if (message_type.get_string().get(type) != SUCCESS) {
      Reject(ctx, "CloudWatch Logs payload: messageType must be a string");
      return;
    }
    if (type == "CONTROL_MESSAGE") {
      ctx.sink->OnSkipped(ctx.loc);
      return;
    }
    if (type != "DATA_MESSAGE") {
      Reject(ctx, "CloudWatch Logs payload: messageType is '" + std::string(type.substr(0, 40)) +
                      "', expected DATA_MESSAGE or CONTROL_MESSAGE");
      return;
    }
    simdjson::ondemand::array events;
    ErrorCode e = obj.find_field_unordered("logEvents").get_array().get(events);
    if (e == simdjson::NO_SUCH_FIELD || e == simdjson::INCORRECT_TYPE) {
      Reject(ctx, "CloudWatch Logs DATA_MESSAGE without a logEvents array");
      return;
    }
    int64_t i = 0;
    if (e == SUCCESS) {
      for (auto event_result : events) {
        ++i;
        const Ctx ec = Nested(ctx, i, "log event ");
        if (static_cast<size_t>(i) > limits.max_records_per_envelope) {
          Reject(ec, "more than " + std::to_string(limits.max_records_per_envelope) +
                         " log events in one payload (ingest.max_records_per_envelope); this "
                         "event and the ones after it were not read");
          break;
        }
        object event;
        e = event_result.get_object().get(event);
        if (e == simdjson::INCORRECT_TYPE) {
          Reject(ec, "log event is not an object");
          e = SUCCESS;
          continue;
        }
        if (e != SUCCESS) break;
        std::string_view message;
        e = event.find_field_unordered("message").get_string().get(message);
        if (e == simdjson::NO_SUCH_FIELD || e == simdjson::INCORRECT_TYPE) {
          Reject(ec, "log event has no message string");
          e = SUCCESS;
          continue;
        }
        if (e != SUCCESS) break;
        DispatchMessage(level + 1, message, ec);
      }
    }
    if (e != SUCCESS) Reject(ctx, DescribeSyntax(text, e, base_line));
  }

  // A CloudWatch Logs message: one record, as text.
  void DispatchMessage(int level, std::string_view message, const Ctx& ctx) {
    if (level >= kLevels) {
      Reject(ctx, "envelopes nested too deeply");
      return;
    }
    Level& lv = levels[static_cast<size_t>(level)];
    const std::string_view trimmed = Trim(message);
    if (trimmed.empty() || trimmed.front() != '{') {
      Reject(ctx, "log event message is not a JSON record" +
                      (trimmed.empty() ? std::string(" (empty)")
                                       : " (it starts with " + Quoted(trimmed.front()) + ")"));
      return;
    }
    lv.text.assign(trimmed);
    UsageRecord record;
    Status err;
    switch (ParseObject(level, lv.text.data(), lv.text.size(), 0, record, err)) {
      case ObjectOutcome::kRecord:
        ctx.sink->OnRecord(std::move(record), ctx.loc);
        return;
      case ObjectOutcome::kInvalid:
        Reject(ctx, err.message());
        return;
      case ObjectOutcome::kEnvelope:
        Reject(ctx, "log event message is an envelope, not a record");
        return;
    }
  }

  // Validates the Firehose delivery in levels[level].doc without delivering anything (so a
  // bad body is refused as a whole); leaves the document rewound.
  Status CheckFirehose(int level, std::string_view text, int64_t base_line,
                       FirehoseDelivery& delivery) {
    Level& lv = levels[static_cast<size_t>(level)];
    lv.doc.rewind();
    auto syntax = [&](ErrorCode e) {
      return InvalidArgument("Firehose delivery body: " + DescribeSyntax(text, e, base_line));
    };
    object obj;
    ErrorCode e = lv.doc.get_object().get(obj);
    if (e == simdjson::INCORRECT_TYPE) {
      return InvalidArgument("a Firehose delivery body must be a JSON object");
    }
    if (e != SUCCESS) return syntax(e);
    bool have_request_id = false;
    bool have_timestamp = false;
    bool have_records = false;
    size_t count = 0;
    for (auto field_result : obj) {
      if ((e = field_result.error()) != SUCCESS) return syntax(e);
      simdjson::ondemand::field& field = field_result.value_unsafe();
      const auto key = field.key();
      if (key == "requestId") {
        std::string_view id;
        e = field.value().get_string().get(id);
        if (e == SUCCESS && !id.empty()) {
          delivery.request_id.assign(id);
          have_request_id = true;
        } else if (e != SUCCESS && e != simdjson::INCORRECT_TYPE) {
          return syntax(e);
        }
      } else if (key == "timestamp") {
        int64_t ms = 0;
        e = field.value().get_int64().get(ms);
        if (e == SUCCESS && ms >= 0) {
          delivery.timestamp_ms = ms;
          have_timestamp = true;
        } else if (e != SUCCESS && e != simdjson::INCORRECT_TYPE &&
                   e != simdjson::NUMBER_OUT_OF_RANGE) {
          return syntax(e);
        }
      } else if (key == "records") {
        simdjson::ondemand::array records;
        e = field.value().get_array().get(records);
        if (e == simdjson::INCORRECT_TYPE) continue;
        if (e != SUCCESS) return syntax(e);
        have_records = true;
        for (auto record : records) {
          if ((e = record.error()) != SUCCESS) return syntax(e);
          ++count;
        }
      }
    }
    if (!AtEnd(lv.doc)) return syntax(simdjson::TRAILING_CONTENT);
    if (!have_request_id) {
      return InvalidArgument(
          "Firehose delivery without a requestId string: not an Amazon Data Firehose "
          "HTTP-endpoint delivery (check the stream's destination settings)");
    }
    if (!have_timestamp) {
      return InvalidArgument(
          "Firehose delivery without a timestamp (milliseconds since the epoch, an integer)");
    }
    if (!have_records) return InvalidArgument("Firehose delivery without a records array");
    if (count > limits.max_records_per_envelope) {
      return ResourceExhausted("Firehose delivery has " + std::to_string(count) +
                               " records, more than " +
                               std::to_string(limits.max_records_per_envelope) +
                               " (ingest.max_records_per_envelope); lower the stream's buffer "
                               "size, or raise the limit");
    }
    delivery.record_count = count;
    lv.doc.rewind();
    return Status::Ok();
  }

  // Streams the records of the (checked, rewound) Firehose delivery in levels[level].doc.
  void DeliverFirehose(int level, const Ctx& ctx) {
    Level& lv = levels[static_cast<size_t>(level)];
    object obj;
    simdjson::ondemand::array records;
    if (lv.doc.get_object().get(obj) != SUCCESS ||
        obj.find_field_unordered("records").get_array().get(records) != SUCCESS) {
      return;  // CheckFirehose accepted it; cannot happen
    }
    int64_t i = 0;
    for (auto record_result : records) {
      ++i;
      const Ctx rc = Nested(ctx, i, "Firehose record ");
      object record;
      std::string_view data;
      ErrorCode e = record_result.get_object().get(record);
      if (e == SUCCESS) e = record.find_field_unordered("data").get_string().get(data);
      if (e != SUCCESS) {
        Reject(rc, "Firehose record without a data string (base64)");
        continue;
      }
      DispatchFirehoseData(level + 1, data, rc);
    }
  }

  void DispatchFirehoseData(int level, std::string_view base64, const Ctx& ctx) {
    if (level >= kLevels) {
      Reject(ctx, "envelopes nested too deeply");
      return;
    }
    Level& lv = levels[static_cast<size_t>(level)];
    Status s = Base64DecodeInto(base64, lv.decoded);
    if (!s.ok()) {
      Reject(ctx, "Firehose record data: " + s.message());
      return;
    }
    DispatchDecoded(level, ctx, "Firehose record data");
  }

  void ReleaseAll() {
    for (auto& lv : levels) lv.Release();
    document.ShrinkIfAbove(kKeepBytes);
  }
};

InputParser::InputParser(ParseLimits limits)
    : limits_(limits), impl_(std::make_unique<Impl>(limits_)) {}

InputParser::~InputParser() = default;

Status InputParser::ParseStream(ByteSource& in, std::string_view source_name, RecordSink& sink) {
  const std::string name(source_name);
  // Read the first two bytes to see whether this is gzip.
  std::string head(2, '\0');
  size_t got = 0;
  while (got < 2) {
    auto n = in.Read(head.data() + got, 2 - got);
    if (!n.ok()) return n.status().WithContext(name);
    if (*n == 0) break;
    got += *n;
  }
  head.resize(got);
  const bool gzip = IsGzip(head);
  auto prefixed = formats_internal::NewPrefixedSource(std::move(head), in);
  std::unique_ptr<ByteSource> gunzip;
  ByteSource* src = prefixed.get();
  if (gzip) {
    gunzip = formats_internal::NewGunzipSource(*prefixed, limits_.max_decompressed_bytes);
    src = gunzip.get();
  }
  // Records delivered before a read error stay delivered; say so.
  auto fail = [&](const Status& s) {
    return Status(s.code(),
                  name + ": " + s.message() + " (records before this point were delivered)",
                  s.retryable());
  };

  LineReader reader(*src, limits_.max_line_bytes, impl_->line_storage, impl_->line_storage_size);
  Status s = reader.FillForDetection();
  if (!s.ok()) return fail(s);
  if (reader.Buffered().substr(0, 3) == "\xEF\xBB\xBF") reader.Skip(3);  // UTF-8 BOM

  Ctx ctx;
  ctx.sink = &sink;
  ctx.loc.source = source_name;
  ctx.file_lines = true;
  if (DetectLayout(reader.Buffered(), reader.eof(), limits_.max_line_bytes) == Layout::kDocuments) {
    bool too_big = false;
    s = reader.ReadAll(impl_->document, limits_.max_document_bytes, too_big);
    if (!s.ok()) return fail(s);
    if (too_big) {
      s = reader.Drain();
      if (!s.ok()) return fail(s);
      ctx.loc.line = 1;
      Reject(ctx, "the input is a whole JSON document (not one record per line) of more than " +
                      std::to_string(limits_.max_document_bytes) +
                      " bytes (ingest.max_document_bytes); convert it to JSON Lines, or raise "
                      "the limit");
    } else {
      ctx.loc.line = 1;
      impl_->DispatchValues(0, impl_->document.data(), impl_->document.size(), ctx);
    }
    impl_->ReleaseAll();
    return Status::Ok();
  }

  LineReader::Line line;
  for (;;) {
    s = reader.Next(line);
    if (!s.ok()) return fail(s);
    if (line.kind == LineReader::Line::kEnd) break;
    ctx.loc.line = line.number;
    if (line.kind == LineReader::Line::kTooLong) {
      Reject(ctx, "line is " + std::to_string(line.size) + " bytes, longer than the " +
                      std::to_string(limits_.max_line_bytes) +
                      "-byte limit (ingest.max_line_bytes); split the record, or raise the limit");
      continue;
    }
    impl_->DispatchText(0, line.data, line.size, ctx, /*allow_base64=*/true);
  }
  impl_->ReleaseAll();
  return Status::Ok();
}

namespace {
Status TooBigDocument(size_t size, size_t max) {
  return ResourceExhausted("the JSON document is " + std::to_string(size) +
                           " bytes, more than the " + std::to_string(max) +
                           "-byte limit (ingest.max_document_bytes); send smaller batches, or "
                           "raise the limit");
}
}  // namespace

Result<UsageRecord> InputParser::ParseRecord(std::string_view json) {
  const std::string_view text = Trim(json);
  if (text.size() > limits_.max_document_bytes) {
    return TooBigDocument(text.size(), limits_.max_document_bytes);
  }
  if (text.empty()) return InvalidArgument("empty input: expected a JSON record");
  if (text.front() != '{') {
    return InvalidArgument(text.front() == '['
                               ? "a JSON array, not one record: parse it with ParseStream"
                               : "not a JSON record: the text starts with " + Quoted(text.front()));
  }
  Level& lv = impl_->levels[0];
  lv.text.assign(text);
  UsageRecord record;
  Status err;
  switch (impl_->ParseObject(0, lv.text.data(), lv.text.size(), 0, record, err)) {
    case ObjectOutcome::kRecord:
      return record;
    case ObjectOutcome::kInvalid:
      return err;
    case ObjectOutcome::kEnvelope:
      break;
  }
  return InvalidArgument(
      "a CloudWatch Logs payload or Firehose delivery, not one record: parse it with "
      "ParseStream or ParseFirehose");
}

Result<FirehoseDelivery> InputParser::ParseFirehose(std::string_view body,
                                                    std::string_view source_name,
                                                    RecordSink& sink) {
  const std::string_view text = Trim(body);
  if (text.size() > limits_.max_document_bytes) {
    return TooBigDocument(text.size(), limits_.max_document_bytes);
  }
  if (text.empty() || text.front() != '{') {
    return InvalidArgument("a Firehose delivery body must be a JSON object");
  }
  size_t where = 0;
  if (!DepthWithin(text, limits_.max_json_depth, &where)) {
    return ResourceExhausted(DepthMessage(text, where, limits_.max_json_depth));
  }
  Level& lv = impl_->levels[0];
  lv.text.assign(text);
  const std::string_view copy = lv.text.view();
  const ErrorCode e =
      lv.parser.iterate(copy.data(), copy.size(), lv.text.padded_size()).get(lv.doc);
  if (e != SUCCESS) {
    return InvalidArgument("Firehose delivery body: " + DescribeSyntax(copy, e, 0));
  }
  FirehoseDelivery delivery;
  RETURN_IF_ERROR(impl_->CheckFirehose(0, copy, 0, delivery));
  Ctx ctx;
  ctx.sink = &sink;
  ctx.loc.source = source_name;
  impl_->DeliverFirehose(0, ctx);
  impl_->ReleaseAll();
  return delivery;
}

}  // namespace budgeteer
