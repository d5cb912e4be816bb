// The hot path: one pass over the fields of a record, keys dispatched on their first byte,
// strings kept as views into the parser's string buffer until the record is built.
//
// Image and video counters of media models (what we could confirm, see also input.h):
//   - video: the invocation log of video models (Nova Reel) carries
//     output.outputVideoDurationSeconds (a number, with outputVideoFramesPerSecond /
//     outputVideoWidth / outputVideoHeight / outputVideoS3Path beside it), as listed in
//     Panther's published AWS.BedrockModelInvocation schema. We bill whole seconds, rounding a
//     fractional duration up.
//   - images: no dedicated counter field could be confirmed. The documented response body of
//     Bedrock's image models (Titan Image Generator, Nova Canvas, Stability) is
//     {"images": ["<base64>", ...], ...}, and the invocation log stores the response body as
//     output.outputBodyJson; so images = the number of elements of
//     output.outputBodyJson.images when outputBodyJson is an object that has that array. The
//     elements are skipped, never decoded. When the body is not logged inline (image data
//     delivery off, or delivered to S3 as outputBodyS3Path) the count is 0.
#include "formats/record.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace budgeteer::formats_internal {

namespace {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::raw_json_string;
using simdjson::ondemand::value;
using ErrorCode = simdjson::error_code;

enum Bit : uint32_t {
  kSchemaType = 1u << 0,
  kSchemaVersion = 1u << 1,
  kTimestamp = 1u << 2,
  kAccount = 1u << 3,
  kCaller = 1u << 4,
  kRegion = 1u << 5,
  kInferenceRegion = 1u << 6,
  kRequestId = 1u << 7,
  kOperation = 1u << 8,
  kModelId = 1u << 9,
  kErrorCode = 1u << 10,
};

struct Collected {
  std::string_view schema_type;
  std::string_view schema_version;
  std::string_view timestamp;
  std::string_view account;
  std::string_view caller;
  std::string_view region;
  std::string_view inference_region;
  std::string_view request_id;
  std::string_view operation;
  std::string_view model_id;
  std::string_view error_code;
  uint32_t have = 0;
  TokenCounts tokens;
  MediaCounts media;
  bool batch = false;
  const char* log_key = nullptr;    // first key only invocation-log records have
  const char* canon_key = nullptr;  // first key only canonical records have
};

struct CountSpec {
  const char* name;
  int64_t limit;
  const char* limit_key;
  const char* what;  // "token counts", "image counts"
};

std::string Clip(std::string_view s, size_t n = 40) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "...";
}

// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  return s.substr(0, end);
}

class Reader {
 public:
  Reader(const ParseLimits& limits, Collected& c, UsageRecord& out)
      : limits_(limits), c_(c), out_(out) {}

  ErrorCode syntax() const { return syntax_; }
  Status& deferred() { return deferred_; }

  // Whole-record loop. Returns false on an envelope key.
  bool Fields(object& obj) {
    for (auto field_result : obj) {
      if (Fail(field_result.error())) return true;
      simdjson::ondemand::field& field = field_result.value_unsafe();  // no copy
      const raw_json_string key = field.key();
      value& v = field.value();
      switch (key.raw()[0]) {
        case 'a':
          if (key == "accountId") {
            Log("accountId");
            Str(v, "accountId", c_.account, kAccount);
          } else if (key == "account") {
            Canon("account");
            Str(v, "account", c_.account, kAccount);
          }
          break;
        case 'b':
          if (key == "batch") {
            Canon("batch");
            Bool(v, "batch", c_.batch);
          }
          break;
        case 'c':
          if (key == "cache_read_tokens") {
            Canon("cache_read_tokens");
            Count(v, Tokens("cache_read_tokens"), c_.tokens.cache_read);
          } else if (key == "cache_write_tokens") {
            Canon("cache_write_tokens");
            Count(v, Tokens("cache_write_tokens"), c_.tokens.cache_write);
          }
          break;
        case 'e':
          if (key == "errorCode") {
            Log("errorCode");
            Str(v, "errorCode", c_.error_code, kErrorCode);
          } else if (key == "error_code") {
            Canon("error_code");
            Str(v, "error_code", c_.error_code, kErrorCode);
          }
          break;
        case 'i':
          if (key == "input") {
            Log("input");
            Input(v);
          } else if (key == "identity") {
            Log("identity");
            Identity(v);
          } else if (key == "inferenceRegion") {
            Log("inferenceRegion");
            Str(v, "inferenceRegion", c_.inference_region, kInferenceRegion);
          } else if (key == "input_tokens") {
            Canon("input_tokens");
            Count(v, Tokens("input_tokens"), c_.tokens.input);
          } else if (key == "images") {
            Canon("images");
            Count(v, Media("images", "image counts"), c_.media.images);
          }
          break;
        case 'l':
          if (key == "logEvents") return false;
          break;
        case 'm':
          if (key == "modelId") {
            Log("modelId");
            Str(v, "modelId", c_.model_id, kModelId);
          } else if (key == "model_id") {
            Canon("model_id");
            Str(v, "model_id", c_.model_id, kModelId);
          } else if (key == "messageType") {
            return false;
          }
          break;
        case 'o':
          if (key == "output") {
            Log("output");
            Output(v);
          } else if (key == "operation") {
            Str(v, "operation", c_.operation, kOperation);
          } else if (key == "output_tokens") {
            Canon("output_tokens");
            Count(v, Tokens("output_tokens"), c_.tokens.output);
          }
          break;
        case 'p':
          if (key == "principal") {
            Canon("principal");
            Str(v, "principal", c_.caller, kCaller);
          }
          break;
        case 'r':
          if (key == "requestId") {
            Log("requestId");
            Str(v, "requestId", c_.request_id, kRequestId);
          } else if (key == "region") {
            Str(v, "region", c_.region, kRegion);
          } else if (key == "requestMetadata") {
            Log("requestMetadata");
            Tags(v);
          } else if (key == "request_id") {
            Canon("request_id");
            Str(v, "request_id", c_.request_id, kRequestId);
          } else if (key == "records") {
            return false;
          }
          break;
        case 's':
          if (key == "schemaType") {
            Log("schemaType");
            Str(v, "schemaType", c_.schema_type, kSchemaType);
          } else if (key == "schemaVersion") {
            Log("schemaVersion");
            Str(v, "schemaVersion", c_.schema_version, kSchemaVersion);
          }
          break;
        case 't':
          if (key == "timestamp") {
            Str(v, "timestamp", c_.timestamp, kTimestamp);
          } else if (key == "tags") {
            Canon("tags");
            Tags(v);
          }
          break;
        case 'v':
          if (key == "video_seconds") {
            Canon("video_seconds");
            Count(v, Media("video_seconds", "video durations"), c_.media.video_seconds);
          }
          break;
        default:
          break;
      }
      if (syntax_ != SUCCESS) return true;
    }
    return true;
  }

 private:
  void Log(const char* key) {
    if (c_.log_key == nullptr) c_.log_key = key;
  }
  void Canon(const char* key) {
    if (c_.canon_key == nullptr) c_.canon_key = key;
  }
  CountSpec Tokens(const char* name) const {
    return {name, limits_.max_tokens_per_counter, "ingest.max_tokens_per_counter", "token counts"};
  }
  CountSpec Media(const char* name, const char* what) const {
    return {name, limits_.max_media_per_record, "ingest.max_media_per_record", what};
  }

  // Records a simdjson error; true when there was one.
  bool Fail(ErrorCode e) {
    if (e == SUCCESS) return false;
    if (syntax_ == SUCCESS) syntax_ = e;
    return true;
  }
  void Defer(Status s) {
    if (deferred_.ok()) deferred_ = std::move(s);
  }

  // After a failed typed read: null means absent; another type is a deferred error; anything
  // else is a syntax error.
  void WrongType(value& v, ErrorCode e, const char* name, const char* want) {
    if (e != simdjson::INCORRECT_TYPE) {
      Fail(e);
      return;
    }
    bool is_null = false;
    if (v.is_null().get(is_null) == SUCCESS && is_null) return;
    json_type t{};
    if (Fail(v.type().get(t))) return;
    Defer(InvalidArgument(std::string(name) + " must be " + want + ", not " +
                          std::string(JsonTypeName(t))));
  }

  void Str(value& v, const char* name, std::string_view& out, uint32_t bit) {
    std::string_view s;
    const ErrorCode e = v.get_string().get(s);
    if (e == SUCCESS) {
      out = s;
      c_.have |= bit;
      return;
    }
    WrongType(v, e, name, "a string");
  }

  void Bool(value& v, const char* name, bool& out) {
    bool b = false;
    const ErrorCode e = v.get_bool().get(b);
    if (e == SUCCESS) {
      out = b;
      return;
    }
    WrongType(v, e, name, "true or false");
  }

  void Count(value& v, const CountSpec& spec, int64_t& out) {
    int64_t x = 0;
    const ErrorCode e = v.get_int64().get(x);
    if (e == SUCCESS) {
      if (x >= 0 && x <= spec.limit) {
        out = x;
      } else {
        CheckRange(spec, x, std::to_string(x), out);
      }
      return;
    }
    if (e != simdjson::INCORRECT_TYPE && e != simdjson::NUMBER_OUT_OF_RANGE) {
      Fail(e);
      return;
    }
    json_type t{};
    if (Fail(v.type().get(t))) return;
    if (t == json_type::null) return;  // absent: 0
    if (t != json_type::number) {
      Defer(InvalidArgument(std::string(spec.name) + " must be a whole number, not " +
                            std::string(JsonTypeName(t))));
      return;
    }
    std::string_view raw = v.raw_json_token();
    while (!raw.empty() && IsSpace(raw.back())) raw.remove_suffix(1);
    if (raw.find_first_of(".eE") != std::string_view::npos) {
      Defer(InvalidArgument(std::string(spec.name) + " is " + Clip(raw) + ": " + spec.what +
                            " must be whole numbers (write e.g. 120, not 120.0 or 1.2e2)"));
      return;
    }
    // An integer beyond 64 bits.
    CheckRange(spec, raw.front() == '-' ? -1 : spec.limit + 1, Clip(raw), out);
  }

  void CheckRange(const CountSpec& spec, int64_t x, const std::string& shown, int64_t& out) {
    if (x < 0) {
      Defer(InvalidArgument(std::string(spec.name) + " is " + shown + ": " + spec.what +
                            " cannot be negative; fix the producer of this record"));
    } else if (x > spec.limit) {
      Defer(InvalidArgument(std::string(spec.name) + " is " + shown + ", above the " +
                            std::to_string(spec.limit) + " limit (" + spec.limit_key +
                            "): an absurd count, most likely a bug in the producer; fix it, or "
                            "raise the limit if the count is real"));
    } else {
      out = x;
    }
  }

  void Seconds(value& v, const char* name, int64_t& out) {
    double d = 0;
    const ErrorCode e = v.get_double().get(d);
    if (e != SUCCESS) {
      WrongType(v, e, name, "a number of seconds");
      return;
    }
    const CountSpec spec = Media(name, "video durations");
    if (d < 0) {
      CheckRange(spec, -1, Clip(v.raw_json_token()), out);
    } else if (d > static_cast<double>(spec.limit)) {
      CheckRange(spec, spec.limit + 1, Clip(v.raw_json_token()), out);
    } else {
      out = static_cast<int64_t>(std::ceil(d));
    }
  }

  static bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  // Opens a nested object; false when absent (null), of another type, or malformed.
  bool Object(value& v, const char* name, object& o) {
    const ErrorCode e = v.get_object().get(o);
    if (e == SUCCESS) return true;
    WrongType(v, e, name, "an object");
    return false;
  }

  void Identity(value& v) {
    object o;
    if (!Object(v, "identity", o)) return;
    for (auto fr : o) {
      if (Fail(fr.error())) return;
      simdjson::ondemand::field& f = fr.value_unsafe();
      if (f.key() == "arn") Str(f.value(), "identity.arn", c_.caller, kCaller);
      if (syntax_ != SUCCESS) return;
    }
  }

  void Input(value& v) {
    object o;
    if (!Object(v, "input", o)) return;
    for (auto fr : o) {
      if (Fail(fr.error())) return;
      simdjson::ondemand::field& f = fr.value_unsafe();
      const raw_json_string key = f.key();
      if (key == "inputTokenCount") {
        Count(f.value(), Tokens("input.inputTokenCount"), c_.tokens.input);
      } else if (key == "cacheReadInputTokenCount") {
        Count(f.value(), Tokens("input.cacheReadInputTokenCount"), c_.tokens.cache_read);
      } else if (key == "cacheWriteInputTokenCount") {
        Count(f.value(), Tokens("input.cacheWriteInputTokenCount"), c_.tokens.cache_write);
      }  // inputBodyJson (object, array of events, absent), inputBodyS3Path, ...: skipped
      if (syntax_ != SUCCESS) return;
    }
  }

  void Output(value& v) {
    object o;
    if (!Object(v, "output", o)) return;
    for (auto fr : o) {
      if (Fail(fr.error())) return;
      simdjson::ondemand::field& f = fr.value_unsafe();
      const raw_json_string key = f.key();
      if (key == "outputTokenCount") {
        Count(f.value(), Tokens("output.outputTokenCount"), c_.tokens.output);
      } else if (key == "outputVideoDurationSeconds") {
        Seconds(f.value(), "output.outputVideoDurationSeconds", c_.media.video_seconds);
      } else if (key == "outputBodyJson") {
        BodyImages(f.value());
      }
      if (syntax_ != SUCCESS) return;
    }
  }

  // Counts output.outputBodyJson.images (see the file comment). Any other body shape (a
  // string, an array of stream events) is skipped.
  void BodyImages(value& v) {
    object o;
    const ErrorCode e = v.get_object().get(o);
    if (e == simdjson::INCORRECT_TYPE) return;
    if (Fail(e)) return;
    for (auto fr : o) {
      if (Fail(fr.error())) return;
      simdjson::ondemand::field& f = fr.value_unsafe();
      if (!(f.key() == "images")) continue;
      simdjson::ondemand::array images;
      const ErrorCode ae = f.value().get_array().get(images);
      if (ae == simdjson::INCORRECT_TYPE) continue;
      if (Fail(ae)) return;
      int64_t n = 0;
      for (auto element : images) {
        if (Fail(element.error())) return;
        ++n;
      }
      CheckRange(Media("output.outputBodyJson.images", "image counts"), n, std::to_string(n),
                 c_.media.images);
    }
  }

  // requestMetadata / tags: attribution only; bad shapes are ignored, never rejected.
  void Tags(value& v) {
    object o;
    const ErrorCode e = v.get_object().get(o);
    if (e == simdjson::INCORRECT_TYPE) return;
    if (Fail(e)) return;
    for (auto fr : o) {
      if (Fail(fr.error())) return;
      simdjson::ondemand::field& f = fr.value_unsafe();
      if (out_.tags.size() >= limits_.max_tags) continue;
      std::string_view key;
      if (Fail(f.unescaped_key().get(key))) return;
      std::string_view val;
      const ErrorCode ve = f.value().get_string().get(val);
      if (ve == simdjson::INCORRECT_TYPE) continue;
      if (Fail(ve)) return;
      if (out_.tags.empty()) out_.tags.reserve(4);
      out_.tags.emplace_back(std::string(CutUtf8(key, limits_.max_tag_bytes)),
                             std::string(CutUtf8(val, limits_.max_tag_bytes)));
    }
  }

  const ParseLimits& limits_;
  Collected& c_;
  UsageRecord& out_;
  ErrorCode syntax_ = SUCCESS;
  Status deferred_;
};

Operation ParseOperation(std::string_view op) {
  if (op == "InvokeModel") return Operation::kInvokeModel;
  if (op == "InvokeModelWithResponseStream") return Operation::kInvokeModelWithResponseStream;
  if (op == "Converse") return Operation::kConverse;
  if (op == "ConverseStream") return Operation::kConverseStream;
  return Operation::kOther;
}

Status Build(const Collected& c, const ParseLimits& limits, UsageRecord& out) {
  if (c.log_key != nullptr && c.canon_key != nullptr) {
    return InvalidArgument(std::string("the record mixes invocation-log fields (") + c.log_key +
                           ") with canonical-record fields (" + c.canon_key +
                           "); send one format per record");
  }
  if (c.log_key == nullptr && c.canon_key == nullptr) {
    return InvalidArgument(
        "not a usage record: expected a Bedrock invocation-log record (schemaType "
        "ModelInvocationLog, requestId, modelId, ...) or a canonical record (request_id, "
        "timestamp, principal, model_id, ...)");
  }
  const bool canonical = c.canon_key != nullptr;
  if (!canonical) {
    if ((c.have & kSchemaType) && c.schema_type != "ModelInvocationLog") {
      return InvalidArgument("schemaType is '" + Clip(c.schema_type) +
                             "', not ModelInvocationLog: only model-invocation-log records "
                             "carry usage; filter other log types out of this input");
    }
    if ((c.have & kSchemaVersion) && c.schema_version != "1.0" && c.schema_version != "1" &&
        c.schema_version.substr(0, 2) != "1.") {
      return InvalidArgument("schemaVersion is '" + Clip(c.schema_version) +
                             "', this version of budgeteer reads 1.x; upgrade budgeteer");
    }
  }
  const char* rid = canonical ? "request_id" : "requestId";
  if (!(c.have & kRequestId) || c.request_id.empty()) {
    return InvalidArgument(std::string("missing ") + rid +
                           ": every record needs the Bedrock request id (it is how a record "
                           "delivered twice is counted once); fix the producer");
  }
  if (c.request_id.size() > limits.max_request_id_bytes) {
    return InvalidArgument(std::string(rid) + " is " + std::to_string(c.request_id.size()) +
                           " bytes, longer than the " +
                           std::to_string(limits.max_request_id_bytes) +
                           "-byte limit (ingest.max_request_id_bytes); Bedrock request ids "
                           "are UUIDs: check the producer");
  }
  if (!(c.have & kTimestamp)) {
    return InvalidArgument(
        "missing timestamp: expected an RFC 3339 date-time such as 2026-01-31T12:00:00Z");
  }
  auto ts = Timestamp::Parse(c.timestamp);
  if (!ts.ok()) return ts.status();
  const char* who = canonical ? "principal" : "identity.arn";
  if (!(c.have & kCaller) || c.caller.empty()) {
    return InvalidArgument(std::string("missing ") + who +
                           (canonical ? ": expected an IAM/STS ARN or ACCOUNT:NAME of the "
                                        "caller who pays"
                                      : ": Bedrock logs the caller's IAM/STS ARN there; "
                                        "without it nobody can be charged"));
  }
  if (canonical && c.caller.substr(0, 4) != "arn:") {
    const size_t colon = c.caller.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == c.caller.size()) {
      return InvalidArgument("principal '" + Clip(c.caller) +
                             "' is neither an IAM/STS ARN nor ACCOUNT:NAME (e.g. "
                             "111122223333:gateway-team)");
    }
  }
  const char* model = canonical ? "model_id" : "modelId";
  if (!(c.have & kModelId) || c.model_id.empty()) {
    return InvalidArgument(std::string("missing ") + model +
                           ": the model decides the price; fix the producer");
  }
  out.request_id = RequestId(c.request_id);
  out.timestamp = *ts;
  out.caller.assign(c.caller);
  out.account_id.assign(c.account);
  out.region.assign(c.region);
  out.inference_region.assign(c.inference_region);
  out.operation = ParseOperation(c.operation);
  out.model_id = ModelId(c.model_id);
  out.tokens = c.tokens;
  out.media = c.media;
  out.error_code.assign(c.error_code);
  out.batch = c.batch;
  return Status::Ok();
}

}  // namespace

ReadOutcome ReadRecord(simdjson::ondemand::object& obj, const ParseLimits& limits, UsageRecord& out,
                       Status& error, simdjson::error_code& syntax) {
  Collected c;
  Reader reader(limits, c, out);
  const bool record = reader.Fields(obj);
  if (reader.syntax() != SUCCESS) {
    syntax = reader.syntax();
    return ReadOutcome::kSyntax;
  }
  if (!record) return ReadOutcome::kEnvelope;
  if (!reader.deferred().ok()) {
    error = std::move(reader.deferred());
    return ReadOutcome::kInvalid;
  }
  error = Build(c, limits, out);
  return error.ok() ? ReadOutcome::kRecord : ReadOutcome::kInvalid;
}

std::string_view JsonTypeName(simdjson::ondemand::json_type type) {
  switch (type) {
    case json_type::array:
      return "an array";
    case json_type::object:
      return "an object";
    case json_type::number:
      return "a number";
    case json_type::string:
      return "a string";
    case json_type::boolean:
      return "a boolean";
    case json_type::null:
      return "null";
  }
  return "an unknown JSON type";
}

bool IsSyntaxError(simdjson::error_code e) {
  return e != SUCCESS && e != simdjson::INCORRECT_TYPE && e != simdjson::NO_SUCH_FIELD;
}

}  // namespace budgeteer::formats_internal
