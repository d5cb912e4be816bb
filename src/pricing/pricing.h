// Pricing: model-id normalisation, the price catalog, and the exact cost of one usage record.
//
// Rates are nano-dollars per million tokens (RatePerMillion). A record's cost is the sum of its
// four token counters (and media units) at their rates, computed exactly and rounded once to a
// nano-dollar. Geo/in-region routing of models whose catalog entry has a geo premium is priced
// above `global.` routing. Unknown models are priced by an explicit fallback rule and flagged.
// Pure; thread-compatible (a PriceCatalog is immutable after construction).
#pragma once

#include <cstdint>
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

// How a call was routed, as told by the model id's prefix.
enum class Routing {
  kInRegion,  // a plain model id or foundation-model ARN
  kGeo,       // us. eu. apac. jp. au. ca. us-gov. cross-region profiles
  kGlobal,    // global. cross-region profile
};

struct NormalizedModel {
  ModelId canonical;      // e.g. "anthropic.claude-3-haiku-20240307-v1"
  Routing routing = Routing::kInRegion;
  std::string geo_prefix;  // "us", "eu", ..., "global"; empty for in-region
};

// Normalises what Bedrock logs as modelId: foundation-model and inference-profile ARNs, geo
// prefixes, and version suffixes (":0", ":1:28k"). Application inference profile ARNs cannot be
// resolved offline and are returned unchanged as their canonical id.
NormalizedModel NormalizeModelId(std::string_view raw);

struct ModelPrice {
  std::string id;    // canonical id
  std::string name;  // human name, e.g. "Claude 3 Haiku"
  std::string provider;
  RatePerMillion input;
  RatePerMillion output;
  std::optional<RatePerMillion> cache_read;   // absent: the model has no prompt caching
  std::optional<RatePerMillion> cache_write;
  std::optional<Money> per_image;             // image models: price of one image
  std::optional<Money> per_video_second;      // video models: price of one second
  int batch_discount_percent = 0;  // 0: no batch offering
  int geo_premium_percent = 0;     // premium of in-region/geo routing over global.; 0: none
  std::string source;              // where the price was read (URL and date)
  std::vector<std::string> aliases;  // other canonical ids priced the same
};

class PriceCatalog {
 public:
  PriceCatalog() = default;
  // Builds the id and alias index; fails on duplicate ids or aliases.
  static Result<PriceCatalog> Create(std::string version, std::string effective_date,
                                     std::string source, std::vector<ModelPrice> models);

  const ModelPrice* Find(const ModelId& canonical) const;
  const std::vector<ModelPrice>& models() const { return models_; }
  const std::string& version() const { return version_; }
  const std::string& effective_date() const { return effective_date_; }
  const std::string& source() const { return source_; }

  // Replaces or adds entries (per-model overrides from config); keeps the index consistent.
  Status Override(const ModelPrice& price);

 private:
  std::string version_;
  std::string effective_date_;
  std::string source_;
  std::vector<ModelPrice> models_;
  std::unordered_map<std::string, size_t> index_;
};

// What to charge for a model the catalog does not know. Never zero.
struct UnknownModelRule {
  // Rates used for unknown models. FromCatalog() picks the highest input and output rates in
  // the catalog (a conservative default: an unknown model can never be a way around a budget).
  RatePerMillion input;
  RatePerMillion output;
  static UnknownModelRule FromCatalog(const PriceCatalog& catalog);
};

struct PricedUsage {
  Money cost;
  NormalizedModel model;
  bool unpriced = false;  // priced by the UnknownModelRule
};

PricedUsage PriceUsage(const PriceCatalog& catalog, const UnknownModelRule& unknown,
                       const UsageRecord& record);

}  // namespace budgeteer
