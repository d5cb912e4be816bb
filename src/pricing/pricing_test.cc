#include "pricing/pricing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace budgeteer {
namespace {

RatePerMillion Usd(const char* text) {
  Result<RatePerMillion> r = RatePerMillion::ParseUsd(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : RatePerMillion{};
}

Money UsdMoney(const char* text) {
  Result<Money> m = Money::ParseUsd(text);
  EXPECT_TRUE(m.ok()) << text;
  return m.ok() ? *m : Money{};
}

ModelPrice Model(std::string id, const char* input, const char* output) {
  ModelPrice m;
  m.id = std::move(id);
  m.name = m.id;
  m.provider = "test";
  m.input = Usd(input);
  m.output = Usd(output);
  return m;
}

ModelPrice WithCache(ModelPrice m, const char* read, const char* write) {
  m.cache_read = Usd(read);
  m.cache_write = Usd(write);
  return m;
}

// A small catalog with the published figures of a few models.
PriceCatalog TestCatalog() {
  std::vector<ModelPrice> models;
  ModelPrice haiku3 = Model("anthropic.claude-3-haiku-20240307-v1", "0.25", "1.25");
  haiku3.batch_discount_percent = 50;
  models.push_back(haiku3);

  ModelPrice sonnet4 =
      WithCache(Model("anthropic.claude-sonnet-4-20250514-v1", "3", "15"), "0.30", "3.75");
  sonnet4.batch_discount_percent = 50;
  models.push_back(sonnet4);

  ModelPrice sonnet45 =
      WithCache(Model("anthropic.claude-sonnet-4-5-20250929-v1", "3", "15"), "0.30", "3.75");
  sonnet45.batch_discount_percent = 50;
  sonnet45.geo_premium_percent = 10;
  sonnet45.long_context =
      LongContextPrice{200'000, Usd("6"), Usd("22.50"), Usd("0.60"), Usd("7.50")};
  models.push_back(sonnet45);

  ModelPrice haiku45 =
      WithCache(Model("anthropic.claude-haiku-4-5-20251001-v1", "1", "5"), "0.10", "1.25");
  haiku45.batch_discount_percent = 50;
  haiku45.geo_premium_percent = 10;
  models.push_back(haiku45);

  models.push_back(
      WithCache(Model("anthropic.claude-opus-4-20250514-v1", "15", "75"), "1.50", "18.75"));
  models.push_back(WithCache(Model("amazon.nova-micro-v1", "0.035", "0.14"), "0.00875", "0.035"));

  ModelPrice titan_mm = Model("amazon.titan-embed-image-v1", "0.80", "0");
  titan_mm.per_image = UsdMoney("0.00006");
  titan_mm.batch_discount_percent = 50;
  models.push_back(titan_mm);

  ModelPrice embed = Model("amazon.titan-embed-text-v1", "0.10", "0");
  embed.aliases = {"amazon.titan-embed-g1-text-02"};
  models.push_back(embed);

  // Synthetic: fractions of a nano-dollar per token, to observe rounding.
  models.push_back(WithCache(Model("test.tiny-v1", "0.0004", "0.0004"), "0.0001", "0.0001"));
  ModelPrice tiny_geo =
      WithCache(Model("test.tiny-geo-v1", "0.0004", "0.0004"), "0.0001", "0.0001");
  tiny_geo.geo_premium_percent = 10;
  tiny_geo.batch_discount_percent = 50;
  models.push_back(tiny_geo);

  Result<PriceCatalog> catalog =
      PriceCatalog::Create("test", "2025-12-01", "unit test", std::move(models));
  EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
  return catalog.ok() ? std::move(catalog).value() : PriceCatalog();
}

UsageRecord Record(const char* model, int64_t input, int64_t output, int64_t cache_read = 0,
                   int64_t cache_write = 0, bool batch = false) {
  UsageRecord r;
  r.model_id = ModelId(std::string(model));
  r.tokens = TokenCounts{input, output, cache_read, cache_write};
  r.batch = batch;
  return r;
}

struct CostCase {
  const char* name;
  UsageRecord record;
  int64_t nanos;
  const char* canonical;
  bool long_context = false;
};

TEST(PriceUsageTest, ExactCosts) {
  const PriceCatalog catalog = TestCatalog();
  const UnknownModelRule unknown = UnknownModelRule::FromCatalog(catalog);
  UsageRecord images = Record("amazon.titan-embed-image-v1", 1000, 0);
  images.media.images = 3;
  UsageRecord images_batch = images;
  images_batch.batch = true;

  const CostCase cases[] = {
      // 1000 * 0.25 + 500 * 1.25 = 875 USD per 1M tokens -> 0.000875 USD.
      {"claude 3 haiku", Record("anthropic.claude-3-haiku-20240307-v1:0", 1000, 500), 875'000,
       "anthropic.claude-3-haiku-20240307-v1"},
      // 100*3 + 200*15 + 10000*0.30 + 2000*3.75 = 13800 -> 0.0138 USD.
      {"sonnet 4 with cache",
       Record("us.anthropic.claude-sonnet-4-20250514-v1:0", 100, 200, 10'000, 2'000), 13'800'000,
       "anthropic.claude-sonnet-4-20250514-v1"},
      // Sonnet 4 has no geo premium: the same in-region.
      {"sonnet 4 in-region",
       Record("anthropic.claude-sonnet-4-20250514-v1:0", 100, 200, 10'000, 2'000), 13'800'000,
       "anthropic.claude-sonnet-4-20250514-v1"},
      // A model without prompt caching: cache tokens at the input rate (2000 * 0.25 = 500).
      {"no caching -> input rate",
       Record("anthropic.claude-3-haiku-20240307-v1:0", 0, 0, 1000, 1000), 500'000,
       "anthropic.claude-3-haiku-20240307-v1"},
      // Sonnet 4.5: 1000*3 + 1000*15 = 18000 global; +10% in-region and geo.
      {"sonnet 4.5 global", Record("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 1000),
       18'000'000, "anthropic.claude-sonnet-4-5-20250929-v1"},
      {"sonnet 4.5 geo", Record("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 1000),
       19'800'000, "anthropic.claude-sonnet-4-5-20250929-v1"},
      {"sonnet 4.5 eu geo", Record("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 1000),
       19'800'000, "anthropic.claude-sonnet-4-5-20250929-v1"},
      {"sonnet 4.5 in-region", Record("anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 1000),
       19'800'000, "anthropic.claude-sonnet-4-5-20250929-v1"},
      {"sonnet 4.5 inference-profile ARN",
       Record("arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
              "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
              1000, 1000),
       18'000'000, "anthropic.claude-sonnet-4-5-20250929-v1"},
      // Cache at the geo price: 10000*0.33 + 1000*4.125 = 7425.
      {"sonnet 4.5 geo cache",
       Record("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 0, 0, 10'000, 1'000), 7'425'000,
       "anthropic.claude-sonnet-4-5-20250929-v1"},
      // Batch: half price, on top of the premium.
      {"sonnet 4.5 global batch",
       Record("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 1000, 0, 0, true),
       9'000'000, "anthropic.claude-sonnet-4-5-20250929-v1"},
      {"sonnet 4.5 geo batch",
       Record("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 1000, 0, 0, true), 9'900'000,
       "anthropic.claude-sonnet-4-5-20250929-v1"},
      {"claude 3 haiku batch",
       Record("anthropic.claude-3-haiku-20240307-v1:0", 1000, 500, 0, 0, true), 437'500,
       "anthropic.claude-3-haiku-20240307-v1"},
      // A model without batch offering keeps its price (Opus 4 here has discount 0).
      {"no batch offering", Record("anthropic.claude-opus-4-20250514-v1:0", 1000, 1000, 0, 0, true),
       90'000'000, "anthropic.claude-opus-4-20250514-v1"},
      // Long context: 150000 + 60000 cache read > 200000 -> every token at long-context rates:
      // 150000*6 + 60000*0.60 + 1000*22.50 = 958500 -> 0.9585 USD.
      {"sonnet 4.5 long context global",
       Record("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 150'000, 1'000, 60'000),
       958'500'000, "anthropic.claude-sonnet-4-5-20250929-v1", true},
      {"sonnet 4.5 long context geo",
       Record("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 150'000, 1'000, 60'000),
       1'054'350'000, "anthropic.claude-sonnet-4-5-20250929-v1", true},
      // Exactly at the threshold: standard rates (200000 * 3 = 600000 -> 0.6 USD).
      {"sonnet 4.5 at threshold",
       Record("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 200'000, 0), 600'000'000,
       "anthropic.claude-sonnet-4-5-20250929-v1"},
      // Nova Micro: 8.75 nano-dollars per cached token; 3 of them = 26.25 -> 26.
      {"nova micro cache read", Record("apac.amazon.nova-micro-v1:0", 0, 0, 3, 0), 26,
       "amazon.nova-micro-v1"},
      // Media: 1000 * 0.80 per 1M + 3 images * 0.00006 = 800000 + 180000 nanos.
      {"titan multimodal images", images, 980'000, "amazon.titan-embed-image-v1"},
      {"titan multimodal images batch", images_batch, 490'000, "amazon.titan-embed-image-v1"},
      // Aliases resolve to the catalog id.
      {"alias", Record("amazon.titan-embed-g1-text-02", 1'000'000, 0), 100'000'000,
       "amazon.titan-embed-text-v1"},
      // Negative counters count as zero.
      {"negative counters", Record("anthropic.claude-3-haiku-20240307-v1", -1000, 4), 5'000,
       "anthropic.claude-3-haiku-20240307-v1"},
  };
  for (const CostCase& c : cases) {
    const PricedUsage p = PriceUsage(catalog, unknown, c.record);
    EXPECT_EQ(p.cost.nanos(), c.nanos) << c.name;
    EXPECT_EQ(p.model.canonical.str(), c.canonical) << c.name;
    EXPECT_FALSE(p.unpriced) << c.name;
    EXPECT_EQ(p.long_context, c.long_context) << c.name;
  }
}

TEST(PriceUsageTest, RoundsOnceHalfAwayFromZero) {
  const PriceCatalog catalog = TestCatalog();
  const UnknownModelRule unknown = UnknownModelRule::FromCatalog(catalog);
  struct Case {
    UsageRecord record;
    int64_t nanos;
  };
  // test.tiny-v1: 0.4 nano-dollars per input or output token, 0.1 per cache token.
  const Case cases[] = {
      {Record("test.tiny-v1", 1, 0), 0},        // 0.4 -> 0
      {Record("test.tiny-v1", 1, 1), 1},        // 0.4 + 0.4 = 0.8 -> 1 (each alone rounds to 0)
      {Record("test.tiny-v1", 1, 0, 1), 1},     // 0.4 + 0.1 = 0.5 -> 1 (half away from zero)
      {Record("test.tiny-v1", 0, 0, 4), 0},     // 0.4 -> 0
      {Record("test.tiny-v1", 3, 3, 1, 1), 3},  // 1.2 + 1.2 + 0.1 + 0.1 = 2.6 -> 3
      // No batch offering for test.tiny-v1: 0.4 + 0.4 + 0.1 + 0.1 = 1.0 -> 1.
      {Record("test.tiny-v1", 1, 1, 1, 1, true), 1},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PriceUsage(catalog, unknown, c.record).cost.nanos(), c.nanos)
        << c.record.tokens.input << "/" << c.record.tokens.output << "/"
        << c.record.tokens.cache_read << "/" << c.record.tokens.cache_write;
  }

  // The premium and the discount apply to the exact sum, not to a rounded one.
  // test.tiny-geo-v1: the same rates, 10% geo premium, 50% batch discount.
  const Case adjusted[] = {
      // 3 input + 2 cache = 1.4, geo: 1.54 -> 2 (rounding first would give 1 * 1.1 -> 1).
      {Record("us.test.tiny-geo-v1:0", 3, 0, 2), 2},
      {Record("global.test.tiny-geo-v1:0", 3, 0, 2), 1},  // 1.4 -> 1
      // 2 input + 1 cache = 0.9, batch: 0.45 -> 0 (rounding first would give 1 * 0.5 -> 1).
      {Record("global.test.tiny-geo-v1:0", 2, 0, 1, 0, true), 0},
      // geo and batch: 0.9 * 1.1 * 0.5 = 0.495 -> 0; 1.0 * 0.55 = 0.55 -> 1.
      {Record("test.tiny-geo-v1", 2, 0, 1, 0, true), 0},
      {Record("test.tiny-geo-v1", 2, 0, 2, 0, true), 1},
  };
  for (const Case& c : adjusted) {
    EXPECT_EQ(PriceUsage(catalog, unknown, c.record).cost.nanos(), c.nanos)
        << c.record.model_id.str() << " " << c.record.tokens.input << "/"
        << c.record.tokens.cache_read << (c.record.batch ? " batch" : "");
  }
}

TEST(PriceUsageTest, UnknownModelIsPricedByTheRuleAndFlagged) {
  const PriceCatalog catalog = TestCatalog();
  const UnknownModelRule unknown = UnknownModelRule::FromCatalog(catalog);
  // Highest input: Opus 4 (15); highest output: Opus 4 (75) — above Sonnet 4.5's long-context
  // geo rates (6.60 / 24.75).
  EXPECT_EQ(unknown.input, Usd("15"));
  EXPECT_EQ(unknown.output, Usd("75"));
  EXPECT_EQ(unknown.per_image, UsdMoney("0.00006"));

  // 1000 input + 100 cache read + 100 cache write at 15, 100 output at 75:
  // 1200*15 + 100*75 = 25500 -> 0.0255 USD. No batch discount, no premium.
  UsageRecord r = Record("us.vendor.brand-new-model-v1:0", 1000, 100, 100, 100, true);
  const PricedUsage p = PriceUsage(catalog, unknown, r);
  EXPECT_TRUE(p.unpriced);
  EXPECT_EQ(p.cost.nanos(), 25'500'000);
  EXPECT_EQ(p.model.canonical.str(), "vendor.brand-new-model-v1");
  EXPECT_EQ(p.model.routing, Routing::kGeo);
  EXPECT_EQ(p.model.geo_prefix, "us");

  // An application inference profile cannot be resolved: unpriced, never zero.
  const std::string app =
      "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123";
  const PricedUsage q = PriceUsage(catalog, unknown, Record(app.c_str(), 10, 10));
  EXPECT_TRUE(q.unpriced);
  EXPECT_EQ(q.model.canonical.str(), app);
  EXPECT_EQ(q.cost.nanos(), 10 * 15'000 + 10 * 75'000);

  // Media of an unknown model is charged at the rule's unit prices.
  UsageRecord media = Record("vendor.image-model-v1", 0, 0);
  media.media.images = 2;
  EXPECT_EQ(PriceUsage(catalog, unknown, media).cost.nanos(), 120'000);
}

TEST(PriceUsageTest, HugeCountersSaturateInsteadOfOverflowing) {
  const PriceCatalog catalog = TestCatalog();
  const UnknownModelRule unknown = UnknownModelRule::FromCatalog(catalog);
  const int64_t max = std::numeric_limits<int64_t>::max();
  UsageRecord r = Record("anthropic.claude-opus-4-20250514-v1", max, max, max, max);
  r.media.images = max;
  EXPECT_EQ(PriceUsage(catalog, unknown, r).cost.nanos(), max);
  EXPECT_EQ(PriceUsage(catalog, unknown, Record("vendor.x", max, max)).cost.nanos(), max);
}

TEST(UnknownModelRuleTest, FromCatalogIncludesPremiumAndLongContext) {
  ModelPrice sonnet45 = Model("anthropic.claude-sonnet-4-5-20250929-v1", "3", "15");
  sonnet45.geo_premium_percent = 10;
  sonnet45.long_context = LongContextPrice{200'000, Usd("6"), Usd("22.50"), {}, {}};
  Result<PriceCatalog> catalog = PriceCatalog::Create("v", "2025-12-01", "s", {sonnet45});
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  const UnknownModelRule rule = UnknownModelRule::FromCatalog(*catalog);
  EXPECT_EQ(rule.input, Usd("6.60"));
  EXPECT_EQ(rule.output, Usd("24.75"));
  EXPECT_TRUE(rule.Validate().ok());
}

TEST(UnknownModelRuleTest, NeverZero) {
  const UnknownModelRule empty = UnknownModelRule::FromCatalog(PriceCatalog());
  EXPECT_EQ(empty.input.nanos, UnknownModelRule::kFloorRateNanos);
  EXPECT_EQ(empty.output.nanos, UnknownModelRule::kFloorRateNanos);
  EXPECT_GT(empty.per_image.nanos(), 0);
  EXPECT_TRUE(empty.Validate().ok());

  UnknownModelRule zero;
  zero.output = Usd("1");
  const Status s = zero.Validate();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("never priced at zero"), std::string::npos) << s.message();
}

struct CatalogErrorCase {
  const char* name;
  std::vector<ModelPrice> models;
  const char* message;
};

TEST(PriceCatalogTest, CreateRejectsInconsistentEntries) {
  ModelPrice a = Model("vendor.a-v1", "1", "2");
  ModelPrice b = Model("vendor.b-v1", "1", "2");
  ModelPrice alias_is_id = b;
  alias_is_id.aliases = {"vendor.a-v1"};
  ModelPrice a_alias = a;
  a_alias.aliases = {"vendor.shared-v1"};
  ModelPrice b_alias = b;
  b_alias.aliases = {"vendor.shared-v1"};
  ModelPrice negative = a;
  negative.cache_read = RatePerMillion{-1};
  ModelPrice percent = a;
  percent.batch_discount_percent = 101;
  ModelPrice threshold = a;
  threshold.long_context = LongContextPrice{0, Usd("1"), Usd("1"), {}, {}};
  ModelPrice too_big = a;
  too_big.output = RatePerMillion{kMaxRateNanos + 1};

  const CatalogErrorCase cases[] = {
      {"duplicate id", {a, a}, "duplicate model id 'vendor.a-v1'"},
      {"alias is another id",
       {a, alias_is_id},
       "alias 'vendor.a-v1' is the id of model 'vendor.a-v1'"},
      {"shared alias",
       {a_alias, b_alias},
       "alias 'vendor.shared-v1' is already an alias of model 'vendor.a-v1'"},
      {"versioned id",
       {Model("vendor.a-v1:0", "1", "2")},
       "id 'vendor.a-v1:0' is not a canonical model id (write 'vendor.a-v1'"},
      {"geo id", {Model("us.vendor.a-v1", "1", "2")}, "id 'us.vendor.a-v1' is not a canonical"},
      {"empty id", {Model("", "1", "2")}, "id is empty"},
      {"negative", {negative}, "model 'vendor.a-v1': cache_read is negative"},
      {"percent", {percent}, "batch_discount_percent 101 is not in 0..100"},
      {"threshold", {threshold}, "long_context_threshold 0 is not positive"},
      {"too big", {too_big}, "output 1000000.000000001 is above the limit"},
  };
  for (const CatalogErrorCase& c : cases) {
    Result<PriceCatalog> catalog = PriceCatalog::Create("v", "d", "s", c.models);
    ASSERT_FALSE(catalog.ok()) << c.name;
    EXPECT_EQ(catalog.status().code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(catalog.status().message().find(c.message), std::string::npos)
        << c.name << ": " << catalog.status().message();
  }
}

TEST(PriceCatalogTest, FindByIdOrAlias) {
  const PriceCatalog catalog = TestCatalog();
  ASSERT_NE(catalog.Find("amazon.titan-embed-g1-text-02"), nullptr);
  EXPECT_EQ(catalog.Find("amazon.titan-embed-g1-text-02")->id, "amazon.titan-embed-text-v1");
  EXPECT_EQ(catalog.Find(ModelId(std::string("amazon.nova-micro-v1")))->name,
            "amazon.nova-micro-v1");
  EXPECT_EQ(catalog.Find("amazon.nova-micro-v1:0"), nullptr);  // lookups take canonical ids
  EXPECT_EQ(catalog.Find("nope"), nullptr);
}

TEST(PriceCatalogTest, OverrideReplacesAddsAndRejects) {
  PriceCatalog catalog = TestCatalog();
  const size_t count = catalog.models().size();

  // Negotiated price for an existing model.
  ModelPrice haiku = *catalog.Find("anthropic.claude-3-haiku-20240307-v1");
  haiku.input = Usd("0.20");
  ASSERT_TRUE(catalog.Override(haiku).ok());
  EXPECT_EQ(catalog.Find("anthropic.claude-3-haiku-20240307-v1")->input, Usd("0.20"));
  EXPECT_EQ(catalog.models().size(), count);

  // A new model, reachable by its alias too.
  ModelPrice added = Model("vendor.new-v1", "1", "2");
  added.aliases = {"vendor.new-latest-v1"};
  ASSERT_TRUE(catalog.Override(added).ok());
  EXPECT_EQ(catalog.models().size(), count + 1);
  EXPECT_EQ(catalog.Find("vendor.new-latest-v1")->id, "vendor.new-v1");

  // An alias cannot be overridden as if it were a model.
  const Status alias = catalog.Override(Model("amazon.titan-embed-g1-text-02", "1", "1"));
  EXPECT_EQ(alias.code(), Code::kInvalidArgument);
  EXPECT_NE(alias.message().find("is an alias of model 'amazon.titan-embed-text-v1'"),
            std::string::npos)
      << alias.message();

  // A colliding alias fails and leaves the catalog unchanged.
  ModelPrice collide = Model("vendor.other-v1", "1", "2");
  collide.aliases = {"amazon.nova-micro-v1"};
  EXPECT_FALSE(catalog.Override(collide).ok());
  EXPECT_EQ(catalog.Find("vendor.other-v1"), nullptr);
  EXPECT_EQ(catalog.models().size(), count + 1);

  ModelPrice invalid = haiku;
  invalid.geo_premium_percent = -5;
  EXPECT_FALSE(catalog.Override(invalid).ok());
  EXPECT_EQ(catalog.Find("anthropic.claude-3-haiku-20240307-v1")->geo_premium_percent, 0);
}

}  // namespace
}  // namespace budgeteer
