// Mapping AWS Price List rows onto the catalog: exact decimals, units, model and rate mapping,
// refusals, the coverage guard, the diff, and the catalog TOML round trip.
#include "pricing/offer_update.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "pricing/catalog_file.h"
#include "pricing/offer_file.h"

namespace budgeteer {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(BUDGETEER_SOURCE_DIR) + "/src/pricing/testdata/" + name;
}

std::vector<OfferRow> AllFixtureRows() {
  std::vector<OfferRow> rows;
  for (const char* name :
       {"AmazonBedrock.json", "AmazonBedrockFoundationModels.json", "AmazonBedrockService.json"}) {
    Result<std::vector<OfferRow>> file = ReadOfferFile(Fixture(name));
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (file.ok()) rows.insert(rows.end(), file->begin(), file->end());
  }
  return rows;
}

PriceCatalog Embedded() {
  Result<PriceCatalog> catalog = LoadEmbeddedCatalog();
  EXPECT_TRUE(catalog.ok());
  return *catalog;
}

UpdateOptions PartialOptions() {
  UpdateOptions o;
  o.version = "pricelist-20261121090000";
  o.effective_date = "2026-11-21";
  o.source = "AWS Price List offer files";
  o.min_coverage_percent = 0;
  return o;
}

OfferRow Row(std::string model, std::string inference_type, std::string unit, std::string usd) {
  OfferRow r;
  r.origin = "test";
  r.sku = "SKU-" + model + "-" + inference_type + "-" + usd;
  r.region_code = "us-east-1";
  r.model = std::move(model);
  r.inference_type = std::move(inference_type);
  r.unit = std::move(unit);
  r.price_usd = std::move(usd);
  return r;
}

const RefusedRow* FindRefusal(const CatalogUpdate& u, std::string_view needle) {
  const auto it = std::find_if(u.refused.begin(), u.refused.end(), [&](const RefusedRow& r) {
    return r.reason.find(needle) != std::string::npos;
  });
  return it == u.refused.end() ? nullptr : &*it;
}

TEST(DecimalToNanos, ParsesPublishedStringsExactly) {
  struct Case {
    const char* text;
    int64_t multiplier;
    int64_t nanos;
  };
  for (const Case& c : std::vector<Case>{
           {"0.0002500000", 1000, 250'000'000},   // 0.00025 per 1K = 0.25 per 1M
           {"0.0000087500", 1000, 8'750'000},     // 0.00000875 per 1K = 0.00875 per 1M
           {"3", 1, 3'000'000'000},               // per 1M
           {"15.0000000000", 1, 15'000'000'000},  //
           {"0.000000001", 1, 1},                 // one nano-dollar
           {"0.0000000001", 1000, 100},           // below a nano per unit, whole per 1M
           {".5", 1, 500'000'000},                //
           {"5.", 1, 5'000'000'000},              //
           {"00012.50", 1, 12'500'000'000},       //
           {"0", 1, 0},                           //
       }) {
    Result<int64_t> got = DecimalToNanos(c.text, c.multiplier);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.nanos) << c.text;
  }
}

TEST(DecimalToNanos, RefusesAnythingButAPlainExactDecimal) {
  for (const char* text : {"", ".", "-1", "+1", "1e-3", "1.2.3", "0.6O", " 1", "1,5", "N/A",
                           "0.0000000001", "9999999999999", "0.0000000000000000001"}) {
    Result<int64_t> got = DecimalToNanos(text, 1);
    EXPECT_FALSE(got.ok()) << "'" << text << "' gave " << (got.ok() ? *got : 0);
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), Code::kInvalidArgument) << text;
    }
  }
}

TEST(ConvertUnit, KnowsTokenAndMediaUnitsOnly) {
  EXPECT_EQ(ConvertUnit("1K tokens")->multiplier, 1000);
  EXPECT_TRUE(ConvertUnit("1K tokens")->tokens);
  EXPECT_EQ(ConvertUnit("1M tokens")->multiplier, 1);
  EXPECT_EQ(ConvertUnit("1M Tokens")->multiplier, 1);
  EXPECT_FALSE(ConvertUnit("Image")->tokens);
  EXPECT_FALSE(ConvertUnit("Second")->tokens);
  EXPECT_FALSE(ConvertUnit("Hours").has_value());
  EXPECT_FALSE(ConvertUnit("1K Characters").has_value());
  EXPECT_FALSE(ConvertUnit("Units").has_value());
  EXPECT_FALSE(ConvertUnit("").has_value());
}

TEST(UpdateCatalogFromOffers, MapsTheFixtureOffers) {
  const PriceCatalog before = Embedded();
  Result<CatalogUpdate> got = UpdateCatalogFromOffers(before, AllFixtureRows(), PartialOptions());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const PriceCatalog& after = got->catalog;
  EXPECT_EQ(after.version(), "pricelist-20261121090000");
  EXPECT_EQ(after.effective_date(), "2026-11-21");

  // 1K-token rows, converted exactly.
  const ModelPrice* llama = after.Find("meta.llama3-8b-instruct-v1");
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->input.nanos, 220'000'000);
  EXPECT_EQ(llama->output.nanos, 720'000'000);
  EXPECT_EQ(llama->source, "AWS Price List offer files");
  EXPECT_EQ(llama->source_date, "2026-11-21");
  // Cache read and a batch rate that is a whole-percent discount.
  const ModelPrice* micro = after.Find("amazon.nova-micro-v1");
  ASSERT_NE(micro, nullptr);
  EXPECT_EQ(micro->cache_read->nanos, 8'750'000);
  EXPECT_EQ(micro->batch_discount_percent, 50);
  // The Marketplace offer names models "<name> (Amazon Bedrock Edition)"; 1M-token rows.
  const ModelPrice* haiku = after.Find("anthropic.claude-3-5-haiku-20241022-v1");
  ASSERT_NE(haiku, nullptr);
  EXPECT_EQ(haiku->input.nanos, 1'000'000'000);
  EXPECT_EQ(haiku->output.nanos, 5'000'000'000);
  EXPECT_EQ(haiku->cache_read->nanos, 100'000'000);
  EXPECT_EQ(haiku->cache_write->nanos, 1'250'000'000);
  EXPECT_EQ(haiku->batch_discount_percent, 50);
  // A model with a geo premium takes its global. rate; the in-region row (3.30) is not used.
  const ModelPrice* sonnet = after.Find("anthropic.claude-sonnet-4-5-20250929-v1");
  ASSERT_NE(sonnet, nullptr);
  EXPECT_EQ(sonnet->input.nanos, 3'000'000'000);
  EXPECT_EQ(sonnet->geo_premium_percent, 10);
  ASSERT_TRUE(sonnet->long_context.has_value());
  EXPECT_EQ(sonnet->long_context->input.nanos, 6'000'000'000);
  // Per-image price.
  const ModelPrice* embed = after.Find("amazon.titan-embed-image-v1");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->per_image->nanos(), 70'000);
  // The malformed output price leaves Titan Express's output as it was.
  const ModelPrice* express = after.Find("amazon.titan-text-express-v1");
  ASSERT_NE(express, nullptr);
  EXPECT_EQ(express->output, before.Find("amazon.titan-text-express-v1")->output);

  // Refused rows are listed with their reason.
  EXPECT_NE(FindRefusal(*got, "price '0.6O00000000'"), nullptr);
  EXPECT_NE(FindRefusal(*got, "unknown unit '1K Characters'"), nullptr);
  EXPECT_NE(FindRefusal(*got, "model 'Amazon Bedrock Service' is not in the catalog"), nullptr);
  EXPECT_NE(FindRefusal(*got, "model 'Jamba 1.5 Large' is not in the catalog"), nullptr);
  EXPECT_NE(FindRefusal(*got, "long-context"), nullptr);
  EXPECT_EQ(got->rows_other_region, 2);  // Llama in us-west-2, Sonnet global in us-west-2
  EXPECT_EQ(got->rows_total, got->rows_used + got->rows_other_region + got->rows_not_applicable +
                                 static_cast<int64_t>(got->refused.size()));

  // The diff names model, rate, old and new.
  const auto has_change = [&](const std::string& model, const std::string& rate,
                              const std::string& from, const std::string& to) {
    return std::any_of(got->changes.begin(), got->changes.end(), [&](const RateChange& c) {
      return c.model == model && c.rate == rate && c.old_value == from && c.new_value == to;
    });
  };
  EXPECT_TRUE(has_change("meta.llama3-8b-instruct-v1", "input", "0.3", "0.22"));
  EXPECT_TRUE(has_change("meta.llama3-8b-instruct-v1", "output", "0.6", "0.72"));
  EXPECT_TRUE(has_change("anthropic.claude-3-5-haiku-20241022-v1", "cache_write", "1", "1.25"));
  EXPECT_TRUE(has_change("amazon.titan-embed-image-v1", "per_image", "0.00006", "0.00007"));
  EXPECT_FALSE(std::any_of(got->changes.begin(), got->changes.end(),
                           [](const RateChange& c) { return c.model == "amazon.nova-micro-v1"; }));
}

TEST(UpdateCatalogFromOffers, RefusesOffersThatPriceFewModels) {
  UpdateOptions options = PartialOptions();
  options.min_coverage_percent = 50;
  Result<CatalogUpdate> got = UpdateCatalogFromOffers(Embedded(), AllFixtureRows(), options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(got.status().message().find("price only 6 of the catalog's 41 models"),
            std::string::npos)
      << got.status().message();
}

TEST(UpdateCatalogFromOffers, RefusesNoRowsAndRowsThatPriceNothing) {
  Result<CatalogUpdate> none = UpdateCatalogFromOffers(Embedded(), {}, PartialOptions());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kFailedPrecondition);

  Result<CatalogUpdate> junk = UpdateCatalogFromOffers(
      Embedded(), {Row("Unknown Model", "Input tokens", "1K tokens", "0.001")}, PartialOptions());
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(junk.status().message().find("no row of the offers prices a catalog model"),
            std::string::npos);
}

TEST(UpdateCatalogFromOffers, NeverTakesAZeroPrice) {
  Result<CatalogUpdate> got = UpdateCatalogFromOffers(
      Embedded(),
      {Row("Llama 3 8B Instruct", "Input tokens", "1K tokens", "0.0000000000"),
       Row("Llama 3 8B Instruct", "Output tokens", "1K tokens", "0.0007")},
      PartialOptions());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->catalog.Find("meta.llama3-8b-instruct-v1")->input.nanos, 300'000'000);
  EXPECT_NE(FindRefusal(*got, "zero price"), nullptr);
}

TEST(UpdateCatalogFromOffers, ConflictingRowsLeaveTheRateUnchanged) {
  Result<CatalogUpdate> got =
      UpdateCatalogFromOffers(Embedded(),
                              {Row("Llama 3 8B Instruct", "Input tokens", "1K tokens", "0.0002"),
                               Row("Llama 3 8B Instruct", "Input tokens", "1M tokens", "0.25"),
                               Row("Llama 3 8B Instruct", "Output tokens", "1K tokens", "0.0007")},
                              PartialOptions());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const ModelPrice* llama = got->catalog.Find("meta.llama3-8b-instruct-v1");
  EXPECT_EQ(llama->input.nanos, 300'000'000);
  EXPECT_EQ(llama->output.nanos, 700'000'000);
  EXPECT_NE(FindRefusal(*got, "conflicts with sku"), nullptr);
}

TEST(UpdateCatalogFromOffers, SameRateTwiceIsNoConflict) {
  // "0.0002 per 1K" and "0.2 per 1M" are the same rate.
  Result<CatalogUpdate> got =
      UpdateCatalogFromOffers(Embedded(),
                              {Row("Llama 3 8B Instruct", "Input tokens", "1K tokens", "0.0002"),
                               Row("Llama 3 8B Instruct", "Input tokens", "1M tokens", "0.2")},
                              PartialOptions());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->catalog.Find("meta.llama3-8b-instruct-v1")->input.nanos, 200'000'000);
  EXPECT_TRUE(got->refused.empty());
}

TEST(UpdateCatalogFromOffers, BatchRateMustBeAWholePercentDiscount) {
  Result<CatalogUpdate> got =
      UpdateCatalogFromOffers(Embedded(),
                              {Row("Nova Micro", "Input tokens", "1K tokens", "0.000035"),
                               Row("Nova Micro", "Batch input tokens", "1K tokens", "0.0000123")},
                              PartialOptions());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->catalog.Find("amazon.nova-micro-v1")->batch_discount_percent, 50);
  EXPECT_NE(FindRefusal(*got, "not a whole-percent discount"), nullptr);
}

TEST(UpdateCatalogFromOffers, FindsModelsByIdAliasOrName) {
  Result<CatalogUpdate> got = UpdateCatalogFromOffers(
      Embedded(),
      {Row("anthropic.claude-3-haiku-20240307-v1:0", "Input tokens", "1M tokens", "0.20"),
       Row("Amazon Nova Lite", "Output tokens", "1M tokens", "0.30")},
      PartialOptions());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->catalog.Find("anthropic.claude-3-haiku-20240307-v1")->input.nanos, 200'000'000);
  EXPECT_EQ(got->catalog.Find("amazon.nova-lite-v1")->output.nanos, 300'000'000);
  EXPECT_EQ(got->models_priced.size(), 2U);
}

TEST(UpdateCatalogFromOffers, VideoSecondsAndOtherRegions) {
  Result<PriceCatalog> catalog = LoadCatalogToml(R"(
schema_version = 1
version = "t"
effective_date = "2026-01-01"
currency = "USD"
unit = "per 1M tokens"
source = "test"

[[model]]
id = "amazon.nova-reel-v1"
name = "Nova Reel"
provider = "Amazon"
input = "0"
output = "0"
per_video_second = "0.08"
source = "test"
source_date = "2026-01-01"
)",
                                                 "inline");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  OfferRow video = Row("Nova Reel", "Video generation", "Second", "0.0900000000");
  OfferRow west = Row("Nova Reel", "Video generation", "Second", "0.1000000000");
  west.region_code = "us-west-2";
  UpdateOptions options = PartialOptions();
  options.min_coverage_percent = 100;
  Result<CatalogUpdate> east = UpdateCatalogFromOffers(*catalog, {video, west}, options);
  ASSERT_TRUE(east.ok()) << east.status().ToString();
  EXPECT_EQ(east->catalog.Find("amazon.nova-reel-v1")->per_video_second->nanos(), 90'000'000);
  EXPECT_EQ(east->rows_other_region, 1);
  options.region = "us-west-2";
  Result<CatalogUpdate> other = UpdateCatalogFromOffers(*catalog, {video, west}, options);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->catalog.Find("amazon.nova-reel-v1")->per_video_second->nanos(), 100'000'000);
  ASSERT_EQ(other->changes.size(), 1U);
  EXPECT_EQ(other->changes[0].rate, "per_video_second");
  EXPECT_EQ(other->changes[0].old_value, "0.08");
  EXPECT_EQ(other->changes[0].new_value, "0.1");
}

TEST(DiffCatalogs, EqualCatalogsHaveNoChanges) {
  EXPECT_TRUE(DiffCatalogs(Embedded(), Embedded()).empty());
}

TEST(CatalogToToml, RoundTripsTheBundledCatalog) {
  const PriceCatalog before = Embedded();
  const std::string text = CatalogToToml(before, "us-east-1", "round trip");
  Result<PriceCatalog> after = LoadCatalogToml(text, "written");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->version(), before.version());
  EXPECT_EQ(after->effective_date(), before.effective_date());
  EXPECT_EQ(after->source(), before.source());
  EXPECT_TRUE(DiffCatalogs(before, *after).empty());
  ASSERT_EQ(after->models().size(), before.models().size());
  for (size_t i = 0; i < before.models().size(); ++i) {
    const ModelPrice& b = before.models()[i];
    const ModelPrice& a = after->models()[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.aliases, b.aliases);
    EXPECT_EQ(a.geo_premium_percent, b.geo_premium_percent);
    EXPECT_EQ(a.long_context.has_value(), b.long_context.has_value());
    EXPECT_EQ(a.source_date, b.source_date);
  }
}

}  // namespace
}  // namespace budgeteer
