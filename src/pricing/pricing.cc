// PriceUsage: the exact cost of one usage record (see pricing.h).
#include "pricing/pricing.h"

namespace budgeteer {

namespace {

constexpr int64_t kMaxTokens = 1'000'000'000'000'000;  // 1e15 per counter
constexpr int64_t kMaxMediaUnits = 1'000'000'000'000;  // 1e12 images or video seconds
constexpr Int128 kScalePerUnit = 1'000'000;            // ScaledCost units per nano-dollar

int64_t Clamp(int64_t value, int64_t max) {
  if (value < 0) return 0;
  return value > max ? max : value;
}

// `units` at `price` each, in the same scale as ScaledCost (nano-dollars * 1e6).
Int128 UnitCost(int64_t units, Money price) {
  return static_cast<Int128>(units) * price.nanos() * kScalePerUnit;
}

struct Counters {
  int64_t input;
  int64_t output;
  int64_t cache_read;
  int64_t cache_write;
  int64_t images;
  int64_t video_seconds;
};

Counters ClampedCounters(const UsageRecord& record) {
  return Counters{
      Clamp(record.tokens.input, kMaxTokens),
      Clamp(record.tokens.output, kMaxTokens),
      Clamp(record.tokens.cache_read, kMaxTokens),
      Clamp(record.tokens.cache_write, kMaxTokens),
      Clamp(record.media.images, kMaxMediaUnits),
      Clamp(record.media.video_seconds, kMaxMediaUnits),
  };
}

// Bounds: 4 token terms <= 4 * 1e15 * 1e15 = 4e30 and 2 media terms <= 2 * 1e12 * 1e13 * 1e6 =
// 2e31, so the sum is < 3e31; times at most 200 * 100 = 2e4 it stays < 1e36, far inside Int128.
Int128 CatalogCost(const ModelPrice& price, const Counters& c, bool& long_context) {
  RatePerMillion input = price.input;
  RatePerMillion output = price.output;
  // A model without prompt caching that nevertheless reports cache tokens: they are input.
  RatePerMillion cache_read = price.cache_read.value_or(price.input);
  RatePerMillion cache_write = price.cache_write.value_or(price.input);
  if (price.long_context &&
      c.input + c.cache_read + c.cache_write > price.long_context->threshold_tokens) {
    const LongContextPrice& lc = *price.long_context;
    input = lc.input;
    output = lc.output;
    cache_read = lc.cache_read.value_or(lc.input);
    cache_write = lc.cache_write.value_or(lc.input);
    long_context = true;
  }
  Int128 scaled = ScaledCost(c.input, input) + ScaledCost(c.output, output) +
                  ScaledCost(c.cache_read, cache_read) + ScaledCost(c.cache_write, cache_write);
  // Media counters of a token-priced model (images sent to Claude, say) are already in its
  // token counts; only models with a unit price charge for them.
  if (price.per_image) scaled += UnitCost(c.images, *price.per_image);
  if (price.per_video_second) scaled += UnitCost(c.video_seconds, *price.per_video_second);
  return scaled;
}

Int128 UnknownCost(const UnknownModelRule& rule, const Counters& c) {
  return ScaledCost(c.input, rule.input) + ScaledCost(c.output, rule.output) +
         ScaledCost(c.cache_read, rule.input) + ScaledCost(c.cache_write, rule.input) +
         UnitCost(c.images, rule.per_image) + UnitCost(c.video_seconds, rule.per_video_second);
}

}  // namespace

PricedUsage PriceUsage(const PriceCatalog& catalog, const UnknownModelRule& unknown,
                       const UsageRecord& record) {
  const NormalizedModelView view = NormalizeModelIdView(record.model_id.str());
  const Counters counters = ClampedCounters(record);
  PricedUsage out;
  out.model.routing = view.routing;
  out.model.geo_prefix = std::string(view.geo_prefix);

  Int128 scaled = 0;
  int premium = 0;
  int discount = 0;
  if (const ModelPrice* price = catalog.Find(view.canonical)) {
    scaled = CatalogCost(*price, counters, out.long_context);
    if (view.routing != Routing::kGlobal) premium = price->geo_premium_percent;
    if (record.batch) discount = price->batch_discount_percent;
    out.model.canonical = ModelId(price->id);
  } else {
    scaled = UnknownCost(unknown, counters);
    out.unpriced = true;
    out.model.canonical = ModelId(view.canonical);
  }
  if (premium != 0 || discount != 0) {
    // Truncating the 1/10000 step and then rounding to the nano-dollar equals rounding the
    // exact value once: floor((floor(a / 1e4) + 5e5) / 1e6) == floor((a + 5e9) / 1e10) for
    // a >= 0, since 5e9 is a multiple of 1e4. So the cost is still rounded exactly once.
    scaled = scaled * (100 + premium) * (100 - discount) / 10'000;
  }
  out.cost = RoundScaled(scaled);
  return out;
}

}  // namespace budgeteer
