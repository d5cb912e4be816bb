// The bundled catalog: it loads, it matches the file in the repository, and every model the
// product promises is found by the id Bedrock logs, with the expected rates (double entry: a
// typo in data/prices/bedrock-prices.toml fails here).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "pricing/catalog_file.h"

namespace budgeteer {
namespace {

struct Expected {
  const char* logged_id;  // as Bedrock logs it
  const char* name;
  const char* input;
  const char* output;
  const char* cache_read;   // "" = none
  const char* cache_write;  // "" = none
  int batch;
  int geo;
};

// USD per 1M tokens, us-east-1, on-demand; global price for the Claude 4.5 generation.
constexpr Expected kModels[] = {
    {"anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", "0.25", "1.25", "", "", 50, 0},
    {"anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", "0.80", "4", "0.08", "1", 50,
     0},
    {"anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet", "3", "15", "", "", 50, 0},
    {"anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude 3.5 Sonnet v2", "3", "15", "0.30", "3.75",
     50, 0},
    {"us.anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet", "3", "15", "0.30", "3.75",
     50, 0},
    {"us.anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", "3", "15", "0.30", "3.75", 50,
     0},
    {"global.anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", "3", "15", "0.30",
     "3.75", 50, 10},
    {"anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5", "1", "5", "0.10", "1.25", 50,
     10},
    {"us.anthropic.claude-opus-4-20250514-v1:0", "Claude Opus 4", "15", "75", "1.50", "18.75", 50,
     0},
    {"us.anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1", "15", "75", "1.50", "18.75",
     50, 0},
    {"global.anthropic.claude-opus-4-5-20251101-v1:0", "Claude Opus 4.5", "5", "25", "0.50", "6.25",
     50, 10},
    {"amazon.nova-micro-v1:0", "Amazon Nova Micro", "0.035", "0.14", "0.00875", "0.035", 50, 0},
    {"us.amazon.nova-lite-v1:0", "Amazon Nova Lite", "0.06", "0.24", "0.015", "0.06", 50, 0},
    {"amazon.nova-pro-v1:0", "Amazon Nova Pro", "0.80", "3.20", "0.20", "0.80", 50, 0},
    {"us.amazon.nova-premier-v1:0", "Amazon Nova Premier", "2.50", "12.50", "0.625", "2.50", 50, 0},
    {"meta.llama3-8b-instruct-v1:0", "Llama 3 8B Instruct", "0.30", "0.60", "", "", 0, 0},
    {"meta.llama3-70b-instruct-v1:0", "Llama 3 70B Instruct", "2.65", "3.50", "", "", 0, 0},
    {"us.meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B Instruct", "0.22", "0.22", "", "", 50, 0},
    {"meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B Instruct", "0.72", "0.72", "", "", 50, 0},
    {"meta.llama3-1-405b-instruct-v1:0", "Llama 3.1 405B Instruct", "2.40", "2.40", "", "", 50, 0},
    {"us.meta.llama3-2-1b-instruct-v1:0", "Llama 3.2 1B Instruct", "0.10", "0.10", "", "", 50, 0},
    {"us.meta.llama3-2-3b-instruct-v1:0", "Llama 3.2 3B Instruct", "0.15", "0.15", "", "", 50, 0},
    {"us.meta.llama3-2-11b-instruct-v1:0", "Llama 3.2 11B Vision Instruct", "0.16", "0.16", "", "",
     50, 0},
    {"us.meta.llama3-2-90b-instruct-v1:0", "Llama 3.2 90B Vision Instruct", "0.72", "0.72", "", "",
     50, 0},
    {"meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B Instruct", "0.72", "0.72", "", "", 50, 0},
    {"mistral.mistral-7b-instruct-v0:2", "Mistral 7B Instruct", "0.15", "0.20", "", "", 0, 0},
    {"mistral.mixtral-8x7b-instruct-v0:1", "Mixtral 8x7B Instruct", "0.45", "0.70", "", "", 0, 0},
    {"mistral.mistral-large-2402-v1:0", "Mistral Large (24.02)", "4", "12", "", "", 0, 0},
    {"mistral.mistral-large-2407-v1:0", "Mistral Large 2 (24.07)", "2", "6", "", "", 50, 0},
    {"mistral.mistral-small-2402-v1:0", "Mistral Small (24.02)", "1", "3", "", "", 50, 0},
    {"cohere.command-r-v1:0", "Command R", "0.50", "1.50", "", "", 0, 0},
    {"cohere.command-r-plus-v1:0", "Command R+", "3", "15", "", "", 0, 0},
    {"cohere.embed-english-v3", "Embed English v3", "0.10", "0", "", "", 0, 0},
    {"cohere.embed-multilingual-v3", "Embed Multilingual v3", "0.10", "0", "", "", 0, 0},
    {"amazon.titan-text-express-v1", "Titan Text G1 - Express", "0.20", "0.60", "", "", 0, 0},
    {"amazon.titan-text-lite-v1", "Titan Text G1 - Lite", "0.15", "0.20", "", "", 0, 0},
    {"amazon.titan-text-premier-v1:0", "Titan Text G1 - Premier", "0.50", "1.50", "", "", 0, 0},
    {"amazon.titan-embed-text-v1", "Titan Text Embeddings G1", "0.10", "0", "", "", 0, 0},
    {"amazon.titan-embed-g1-text-02", "Titan Text Embeddings G1", "0.10", "0", "", "", 0, 0},
    {"amazon.titan-embed-text-v2:0", "Titan Text Embeddings V2", "0.02", "0", "", "", 50, 0},
    {"amazon.titan-embed-image-v1", "Titan Multimodal Embeddings G1", "0.80", "0", "", "", 50, 0},
    {"us.deepseek.r1-v1:0", "DeepSeek-R1", "1.35", "5.40", "", "", 0, 0},
};

int64_t Nanos(const char* usd) {
  Result<RatePerMillion> r = RatePerMillion::ParseUsd(usd);
  EXPECT_TRUE(r.ok()) << usd;
  return r.ok() ? r->nanos : -1;
}

TEST(EmbeddedCatalogTest, LoadsAndMatchesTheRepositoryFile) {
  Result<PriceCatalog> catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ(catalog->source(), "https://aws.amazon.com/bedrock/pricing/");
  EXPECT_FALSE(catalog->version().empty());
  EXPECT_FALSE(catalog->effective_date().empty());

  std::ifstream file(std::string(BUDGETEER_SOURCE_DIR) + "/data/prices/bedrock-prices.toml",
                     std::ios::binary);
  ASSERT_TRUE(file.good());
  std::ostringstream text;
  text << file.rdbuf();
  EXPECT_EQ(EmbeddedCatalogToml(), text.str()) << "the build did not re-embed the catalog";
}

TEST(EmbeddedCatalogTest, ContainsEveryPromisedModelByItsLoggedId) {
  Result<PriceCatalog> catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  for (const Expected& e : kModels) {
    const NormalizedModel n = NormalizeModelId(e.logged_id);
    const ModelPrice* m = catalog->Find(n.canonical);
    ASSERT_NE(m, nullptr) << e.logged_id;
    EXPECT_EQ(m->name, e.name) << e.logged_id;
    EXPECT_EQ(m->input.nanos, Nanos(e.input)) << e.logged_id;
    EXPECT_EQ(m->output.nanos, Nanos(e.output)) << e.logged_id;
    if (*e.cache_read == '\0') {
      EXPECT_FALSE(m->cache_read.has_value()) << e.logged_id;
    } else {
      ASSERT_TRUE(m->cache_read.has_value()) << e.logged_id;
      EXPECT_EQ(m->cache_read->nanos, Nanos(e.cache_read)) << e.logged_id;
    }
    if (*e.cache_write == '\0') {
      EXPECT_FALSE(m->cache_write.has_value()) << e.logged_id;
    } else {
      ASSERT_TRUE(m->cache_write.has_value()) << e.logged_id;
      EXPECT_EQ(m->cache_write->nanos, Nanos(e.cache_write)) << e.logged_id;
    }
    EXPECT_EQ(m->batch_discount_percent, e.batch) << e.logged_id;
    EXPECT_EQ(m->geo_premium_percent, e.geo) << e.logged_id;
    EXPECT_EQ(m->source, "https://aws.amazon.com/bedrock/pricing/") << e.logged_id;
    EXPECT_EQ(m->source_date.size(), 10U) << e.logged_id;
  }
  // Every catalog entry is covered by the table above (no untested entry slips in).
  EXPECT_EQ(catalog->models().size(), std::size(kModels) - 1);  // one alias row
}

TEST(EmbeddedCatalogTest, ArnsAndProfilesPriceAsTheModel) {
  Result<PriceCatalog> catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  const UnknownModelRule unknown = UnknownModelRule::FromCatalog(*catalog);
  struct Case {
    const char* raw;
    int64_t nanos;  // for 1000 input + 1000 output tokens
  };
  const Case cases[] = {
      {"arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-8b-instruct-v1:0", 900'000},
      {"arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
       "us.anthropic.claude-sonnet-4-20250514-v1:0",
       18'000'000},
      {"global.anthropic.claude-haiku-4-5-20251001-v1:0", 6'000'000},
      {"us.anthropic.claude-haiku-4-5-20251001-v1:0", 6'600'000},
      {"eu.anthropic.claude-opus-4-5-20251101-v1:0", 33'000'000},
      {"global.anthropic.claude-opus-4-5-20251101-v1:0", 30'000'000},
      {"jp.anthropic.claude-sonnet-4-5-20250929-v1:0", 19'800'000},
      {"deepseek.r1-v1:0", 6'750'000},
  };
  for (const Case& c : cases) {
    UsageRecord r;
    r.model_id = ModelId(std::string(c.raw));
    r.tokens.input = 1000;
    r.tokens.output = 1000;
    const PricedUsage p = PriceUsage(*catalog, unknown, r);
    EXPECT_FALSE(p.unpriced) << c.raw;
    EXPECT_EQ(p.cost.nanos(), c.nanos) << c.raw;
  }
}

TEST(EmbeddedCatalogTest, LongContextForSonnet4And45) {
  Result<PriceCatalog> catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  for (const char* id :
       {"anthropic.claude-sonnet-4-20250514-v1", "anthropic.claude-sonnet-4-5-20250929-v1"}) {
    const ModelPrice* m = catalog->Find(id);
    ASSERT_NE(m, nullptr) << id;
    ASSERT_TRUE(m->long_context.has_value()) << id;
    EXPECT_EQ(m->long_context->threshold_tokens, 200'000) << id;
    EXPECT_EQ(m->long_context->input.nanos, Nanos("6")) << id;
    EXPECT_EQ(m->long_context->output.nanos, Nanos("22.50")) << id;
    EXPECT_EQ(m->long_context->cache_read->nanos, Nanos("0.60")) << id;
    EXPECT_EQ(m->long_context->cache_write->nanos, Nanos("7.50")) << id;
  }
}

TEST(EmbeddedCatalogTest, UnknownRuleIsTheMostExpensiveModel) {
  Result<PriceCatalog> catalog = LoadEmbeddedCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  const UnknownModelRule rule = UnknownModelRule::FromCatalog(*catalog);
  EXPECT_EQ(rule.input.nanos, Nanos("15"));   // Claude Opus 4 / 4.1
  EXPECT_EQ(rule.output.nanos, Nanos("75"));  // Claude Opus 4 / 4.1
  EXPECT_TRUE(rule.Validate().ok());
}

}  // namespace
}  // namespace budgeteer
