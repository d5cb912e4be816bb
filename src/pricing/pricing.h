// Pricing: model-id normalisation, the price catalog, and the exact cost of one usage record.
//
// Rates are nano-dollars per million tokens (RatePerMillion). A record's cost is the sum of its
// four token counters (and media units) at their rates, computed exactly in 128-bit integers and
// rounded once, half away from zero, to a nano-dollar. Geo/in-region routing of models whose
// catalog entry has a geo premium is priced above `global.` routing; batch records get the
// model's batch discount. Unknown models are priced by an explicit fallback rule and flagged.
// Pure; thread-compatible (a PriceCatalog is immutable after construction, except Override).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "core/money.h"
#include "core/status.h"
#include "core/usage.h"

namespace budgeteer {

// ---------------------------------------------------------------------------------------------
// Model-id normalisation
// ---------------------------------------------------------------------------------------------

// How a call was routed, as told by the model id's prefix.
enum class Routing {
  kInRegion,  // a plain model id or foundation-model ARN
  kGeo,       // us. eu. apac. jp. au. ca. us-gov. cross-region profiles
  kGlobal,    // global. cross-region profile
};

std::string_view RoutingName(Routing routing);  // "in_region", "geo", "global"

// The result of normalisation, as views into the raw id (no allocation). Valid as long as the
// raw string it was made from.
struct NormalizedModelView {
  std::string_view canonical;
  Routing routing = Routing::kInRegion;
  std::string_view geo_prefix;  // "us", "eu", ..., "global"; empty for in-region
};

struct NormalizedModel {
  ModelId canonical;  // e.g. "anthropic.claude-3-haiku-20240307-v1"
  Routing routing = Routing::kInRegion;
  std::string geo_prefix;  // "us", "eu", ..., "global"; empty for in-region
};

// Normalises what Bedrock logs as modelId:
//   - "arn:<partition>:bedrock:<region>:<account>:foundation-model/<id>"  -> <id>, in-region;
//   - "arn:...:inference-profile/<geo>.<id>" (system profiles)            -> <id>, geo/global;
//   - a leading geo prefix us. eu. apac. jp. au. ca. us-gov. (kGeo) or global. (kGlobal);
//   - the version suffix: everything from the first ':' that is followed by a digit, so
//     ":0", ":1", and the provisioned-throughput context variants ":0:28k", ":1:200k",
//     ":0:mm" all go. Context variants are only sold as provisioned throughput, whose
//     per-token on-demand price is the base model's, so they price as the base model.
// Anything else that is an ARN (application-inference-profile/..., provisioned-model/...,
// custom-model/..., imported-model/..., prompt routers) cannot be resolved offline and is
// returned unchanged as its own canonical id, in-region (it will be unpriced unless the
// catalog or a config override names that exact ARN).
NormalizedModelView NormalizeModelIdView(std::string_view raw);
NormalizedModel NormalizeModelId(std::string_view raw);

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

// Rates above `threshold_tokens` of total input (input + cache_read + cache_write) for models
// with long-context pricing (Claude Sonnet 4 / 4.5 with the 1M context window): the whole
// request is billed at these rates once the threshold is exceeded.
struct LongContextPrice {
  int64_t threshold_tokens = 0;
  RatePerMillion input;
  RatePerMillion output;
  std::optional<RatePerMillion> cache_read;  // absent: long-context input rate
  std::optional<RatePerMillion> cache_write;
};

struct ModelPrice {
  std::string id;    // canonical id, as NormalizeModelId returns it
  std::string name;  // human name, e.g. "Claude 3 Haiku"
  std::string provider;
  RatePerMillion input;
  RatePerMillion output;
  // Prompt caching. Absent: the model has no separately priced cache tokens, and any cache
  // tokens a record nevertheless reports are priced at the input rate.
  std::optional<RatePerMillion> cache_read;
  std::optional<RatePerMillion> cache_write;
  std::optional<Money> per_image;         // image models: price of one image
  std::optional<Money> per_video_second;  // video models: price of one second
  std::optional<LongContextPrice> long_context;
  int batch_discount_percent = 0;    // 0: no batch offering; 50: batch at half price
  int geo_premium_percent = 0;       // premium of in-region/geo routing over global.; 0: none
  std::string source;                // where the price was read (URL)
  std::string source_date;           // the date the figure was taken (YYYY-MM-DD)
  std::vector<std::string> aliases;  // other canonical ids priced the same
};

// Upper bounds that keep every cost computation inside 128 bits (see PriceUsage).
inline constexpr int64_t kMaxRateNanos = 1'000'000'000'000'000;    // 1,000,000 USD per 1M tokens
inline constexpr int64_t kMaxUnitPriceNanos = 10'000'000'000'000;  // 10,000 USD per image/second

// Checks one entry: canonical non-empty id and aliases, rates within bounds, percentages in
// 0..100, a positive long-context threshold. The message names the model and the field.
Status ValidateModelPrice(const ModelPrice& price);

class PriceCatalog {
 public:
  PriceCatalog() = default;
  // Validates every entry and builds the id and alias index; fails on duplicate ids or aliases.
  static Result<PriceCatalog> Create(std::string version, std::string effective_date,
                                     std::string source, std::vector<ModelPrice> models);

  // Looks up a canonical id or alias. No allocation. The pointer is valid until the next
  // Override or until the catalog is destroyed.
  const ModelPrice* Find(std::string_view canonical) const;
  const ModelPrice* Find(const ModelId& canonical) const { return Find(canonical.str()); }

  const std::vector<ModelPrice>& models() const { return models_; }
  const std::string& version() const { return version_; }
  const std::string& effective_date() const { return effective_date_; }
  const std::string& source() const { return source_; }

  // Replaces the entry whose id is price.id, or adds it (per-model overrides from config:
  // negotiated prices). Fails, leaving the catalog unchanged, if the entry is invalid, if
  // price.id is an alias of another entry (override that entry instead), or if one of its
  // aliases is already used by another entry.
  Status Override(const ModelPrice& price);

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, size_t, StringHash, std::equal_to<>>;
  static Result<Index> BuildIndex(const std::vector<ModelPrice>& models);

  std::string version_;
  std::string effective_date_;
  std::string source_;
  std::vector<ModelPrice> models_;
  Index index_;
};

// ---------------------------------------------------------------------------------------------
// Pricing one record
// ---------------------------------------------------------------------------------------------

// What to charge for a model the catalog does not know. Never zero: an unknown model must never
// be a way around a budget. Cache tokens are charged at `input`; media at the unit prices.
// No geo premium and no batch discount apply.
struct UnknownModelRule {
  RatePerMillion input;
  RatePerMillion output;
  Money per_image;
  Money per_video_second;

  // The highest input and the highest output rate in the catalog (geo premium and long-context
  // rates included), and the highest image and video-second prices. An empty catalog yields
  // the built-in floor below.
  static UnknownModelRule FromCatalog(const PriceCatalog& catalog);
  // Fails when input or output is not positive, or a rate is above the bounds.
  Status Validate() const;

  // Used when the catalog is empty: 75 USD per 1M tokens for both input and output (the
  // output rate of the most expensive Claude Opus), 1 USD per image and per video second.
  static constexpr int64_t kFloorRateNanos = 75'000'000'000;
  static constexpr int64_t kFloorUnitNanos = 1'000'000'000;
};

struct PricedUsage {
  Money cost;
  // The normalised model. When priced, `canonical` is the catalog entry's id (aliases
  // resolved); otherwise it is the normalised id.
  NormalizedModel model;
  bool unpriced = false;      // priced by the UnknownModelRule
  bool long_context = false;  // priced at the model's long-context rates
};

// Prices one record:
//   cost = input*in + output*out + cache_read*cr + cache_write*cw       (per 1M tokens)
//        + images*per_image + video_seconds*per_video_second
//   then * (100 + geo_premium)/100 when routed kInRegion or kGeo to a model with a premium,
//   and  * (100 - batch_discount)/100 when record.batch,
// summed exactly in Int128 (ScaledCost) and rounded once (RoundScaled). Negative counters are
// treated as zero; counters are capped at 1e15 tokens / 1e12 media units so the sum cannot
// overflow. record.error_code is not looked at: the caller decides whether failed calls count.
PricedUsage PriceUsage(const PriceCatalog& catalog, const UnknownModelRule& unknown,
                       const UsageRecord& record);

}  // namespace budgeteer
