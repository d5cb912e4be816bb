// Fuzzes InputParser::ParseRecord: one invocation-log record or canonical record.
// Invariants: a parsed record is within every ParseLimits bound and prices to a non-negative
// cost; written back as a canonical record and parsed again, it gives the same record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/input.h"
#include "fuzz/fuzz_check.h"
#include "pricing/catalog_file.h"
#include "pricing/pricing.h"
#include "util/json_writer.h"

namespace budgeteer {
namespace {

// The canonical form of a record (formats/input.h): every field the canonical format carries.
std::string ToCanonicalJson(const UsageRecord& r) {
  JsonWriter w;
  w.BeginObject()
      .Field("request_id", r.request_id.str())
      .Field("timestamp", r.timestamp.ToRfc3339())
      .Field("principal", r.caller)
      .Field("model_id", r.model_id.str());
  if (!r.account_id.empty()) w.Field("account", r.account_id);
  if (!r.region.empty()) w.Field("region", r.region);
  if (!r.error_code.empty()) w.Field("error_code", r.error_code);
  w.Field("input_tokens", r.tokens.input)
      .Field("output_tokens", r.tokens.output)
      .Field("cache_read_tokens", r.tokens.cache_read)
      .Field("cache_write_tokens", r.tokens.cache_write)
      .Field("images", r.media.images)
      .Field("video_seconds", r.media.video_seconds)
      .Field("batch", r.batch);
  w.Key("tags").BeginObject();
  for (const auto& [k, v] : r.tags) w.Field(k, v);
  w.EndObject().EndObject();
  return w.Take();
}

// What the canonical format accepts as a principal: an ARN or ACCOUNT:NAME.
bool CanonicalPrincipal(std::string_view caller) {
  if (caller.substr(0, 4) == "arn:") return true;
  const size_t colon = caller.find(':');
  return colon != std::string_view::npos && colon != 0 && colon + 1 != caller.size();
}

void CheckBounds(const UsageRecord& r, const ParseLimits& limits) {
  FUZZ_CHECK(!r.request_id.empty(), "empty request id");
  FUZZ_CHECK(r.request_id.str().size() <= limits.max_request_id_bytes, r.request_id.str());
  FUZZ_CHECK(!r.caller.empty() && !r.model_id.empty(), "record without caller or model");
  for (int64_t n : {r.tokens.input, r.tokens.output, r.tokens.cache_read, r.tokens.cache_write}) {
    FUZZ_CHECK(n >= 0 && n <= limits.max_tokens_per_counter, "token count out of bounds");
  }
  for (int64_t n : {r.media.images, r.media.video_seconds}) {
    FUZZ_CHECK(n >= 0 && n <= limits.max_media_per_record, "media count out of bounds");
  }
  FUZZ_CHECK(r.tags.size() <= limits.max_tags, "too many tags");
  for (const auto& [k, v] : r.tags) {
    FUZZ_CHECK(k.size() <= limits.max_tag_bytes && v.size() <= limits.max_tag_bytes, k);
  }
}

}  // namespace
}  // namespace budgeteer

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  static const PriceCatalog* const catalog = [] {
    auto loaded = LoadEmbeddedCatalog();
    if (!loaded.ok()) fuzz::CheckFailed("LoadEmbeddedCatalog", __FILE__, __LINE__, "");
    return new PriceCatalog(std::move(*loaded));
  }();
  static const UnknownModelRule unknown = UnknownModelRule::FromCatalog(*catalog);
  static InputParser parser;

  auto parsed = parser.ParseRecord(fuzz::AsText(data, size));
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a rejection without a reason");
    return 0;
  }
  const UsageRecord& record = *parsed;
  CheckBounds(record, parser.limits());
  const PricedUsage priced = PriceUsage(*catalog, unknown, record);
  FUZZ_CHECK(priced.cost.nanos() >= 0, "negative cost for " + record.model_id.str());

  if (!CanonicalPrincipal(record.caller)) return 0;  // only invocation logs carry such callers
  const std::string canonical = ToCanonicalJson(record);
  auto again = parser.ParseRecord(canonical);
  FUZZ_CHECK(again.ok(), canonical + " -> " + again.status().message());
  const UsageRecord& r = *again;
  FUZZ_CHECK(r.request_id == record.request_id, canonical);
  FUZZ_CHECK(r.timestamp == record.timestamp, canonical);
  FUZZ_CHECK(r.caller == record.caller && r.account_id == record.account_id, canonical);
  FUZZ_CHECK(r.model_id == record.model_id && r.region == record.region, canonical);
  FUZZ_CHECK(r.tokens == record.tokens && r.media == record.media, canonical);
  FUZZ_CHECK(r.error_code == record.error_code && r.batch == record.batch, canonical);
  FUZZ_CHECK(r.tags == record.tags, canonical);
  if (record.inference_region.empty()) {  // the canonical format does not carry it
    FUZZ_CHECK(PriceUsage(*catalog, unknown, r).cost == priced.cost, canonical);
  }
  return 0;
}
