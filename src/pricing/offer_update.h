// Updating the price catalog from AWS Price List rows (bulk offer files or GetProducts).
//
// An OfferRow is one on-demand price dimension of one product, with the few product attributes
// that say which model and which kind of rate it is. UpdateCatalogFromOffers maps every row to
// a catalog model (by its canonical id, an alias or its display name) and to one of our rate
// kinds, checks the row's unit, converts the published decimal string exactly into our integer
// money, and returns the new catalog with the list of changed rates and of the rows it could
// not use (never silently dropped). Rows for other regions are counted, not listed.
//
// Exact-decimal rule: a published price is a plain decimal string ("0.0002500000"); it is
// scaled to nano-dollars per 1M tokens (or per image / per second) in integer arithmetic and
// must come out a whole number of nano-dollars, or the row is refused. No double anywhere.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pricing/pricing.h"

namespace budgeteer {

struct OfferRow {
  std::string origin;      // the file or API page the row came from, for messages
  std::string offer_code;  // AmazonBedrock, AmazonBedrockFoundationModels, AmazonBedrockService
  std::string sku;
  std::string region_code;       // attributes.regionCode ("us-east-1"); may be empty
  std::string model;             // attributes.model / titanModel / ... / servicename
  std::string usage_type;        // attributes.usagetype ("USE1-Claude3Haiku-input-tokens")
  std::string inference_type;    // attributes.inferenceType ("Input tokens")
  std::string feature;           // attributes.feature
  std::string description;       // priceDimensions.<rate>.description
  std::string unit;              // priceDimensions.<rate>.unit ("1K tokens", "1M tokens", "Image")
  std::string price_usd;         // priceDimensions.<rate>.pricePerUnit.USD, as published
  std::string publication_date;  // the offer's publicationDate (RFC 3339), may be empty
};

// Which catalog field a row prices.
enum class RateKind {
  kInput,
  kOutput,
  kCacheRead,
  kCacheWrite,
  kBatchInput,   // turned into batch_discount_percent
  kBatchOutput,  // checked against the same discount
  kPerImage,
  kPerVideoSecond,
};
std::string_view RateKindName(RateKind kind);  // "input", "cache_read", "per_image", ...

// `decimal` USD times `multiplier`, in nano-dollars: DecimalToNanos("0.00025", 1000) is
// 250'000'000 (0.00025 USD per 1K tokens is 0.25 USD per 1M). Accepts digits with at most one
// '.', no sign, no exponent, no spaces. InvalidArgument when the text is not such a decimal,
// when the result is not a whole number of nano-dollars, or when it overflows int64.
Result<int64_t> DecimalToNanos(std::string_view decimal, int64_t multiplier);

// How a row's unit converts to our unit: token rates are per 1M tokens, media per unit.
struct UnitConversion {
  bool tokens = false;     // a token rate (else a per-image or per-second price)
  int64_t multiplier = 1;  // to per-1M tokens: "1K tokens" 1000, "1M tokens" 1
};
// nullopt for a unit we do not know (the row is then refused and listed).
std::optional<UnitConversion> ConvertUnit(std::string_view unit);

struct UpdateOptions {
  std::string region = "us-east-1";  // rows of other regions are skipped (counted)
  std::string version;               // the new catalog version
  std::string effective_date;        // YYYY-MM-DD
  std::string source;                // where the rows came from
  // Fewer catalog models priced by the rows than this percentage of the catalog is an error
  // (a truncated download or the wrong file must not leave most models unrefreshed).
  int min_coverage_percent = 50;
};

struct RateChange {
  std::string model;
  std::string rate;       // RateKindName, or "batch_discount_percent"
  std::string old_value;  // "-" when the rate was absent
  std::string new_value;
};

struct RefusedRow {
  std::string origin;
  std::string sku;
  std::string what;    // model / usage type, as the row names it
  std::string reason;  // "unknown unit 'Characters'", "model not in the catalog", ...
};

struct CatalogUpdate {
  PriceCatalog catalog;  // the new catalog (overrides are NOT applied here)
  std::vector<RateChange> changes;
  std::vector<RefusedRow> refused;
  int64_t rows_total = 0;
  int64_t rows_used = 0;
  int64_t rows_other_region = 0;
  int64_t rows_not_applicable = 0;         // provisioned throughput, training, other routing, ...
  std::vector<std::string> models_priced;  // catalog ids the rows priced
};

// FailedPrecondition when there are no rows, when no row maps to the catalog, or when the rows
// price fewer than options.min_coverage_percent of the catalog's models; the message says
// which and how many rows were refused.
Result<CatalogUpdate> UpdateCatalogFromOffers(const PriceCatalog& current,
                                              const std::vector<OfferRow>& rows,
                                              const UpdateOptions& options);

// The diff of two catalogs, rate by rate, for models present in both (models only in one
// are reported with rate "model" and "-" on the missing side).
std::vector<RateChange> DiffCatalogs(const PriceCatalog& before, const PriceCatalog& after);

}  // namespace budgeteer
