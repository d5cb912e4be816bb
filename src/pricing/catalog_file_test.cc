#include "pricing/catalog_file.h"

#include <gtest/gtest.h>

#include <string>

namespace budgeteer {
namespace {

constexpr const char* kHeader = R"(schema_version = 1
version = "test.1"
effective_date = "2025-12-01"
currency = "USD"
unit = "per 1M tokens"
source = "https://aws.amazon.com/bedrock/pricing/"
)";

// One valid entry; `extra` lines are appended inside it.
std::string Entry(const std::string& id, const std::string& extra = "") {
  return "\n[[model]]\nid = \"" + id +
         "\"\nname = \"Test\"\nprovider = \"Test\"\ninput = \"0.25\"\noutput = \"1.25\"\n"
         "source = \"https://aws.amazon.com/bedrock/pricing/\"\nsource_date = \"2025-12-01\"\n" +
         extra;
}

TEST(LoadCatalogTomlTest, LoadsEveryField) {
  const std::string text = std::string(kHeader) + "region = \"us-east-1\"\n" +
                           Entry("vendor.a-v1",
                                 "aliases = [\"vendor.a-latest-v1\"]\n"
                                 "cache_read = \"0.03\"\ncache_write = \"0.30\"\n"
                                 "per_image = \"0.00006\"\nper_video_second = \"0.5\"\n"
                                 "batch_discount_percent = 50\ngeo_premium_percent = 10\n"
                                 "long_context_threshold = 200000\n"
                                 "long_context_input = \"0.5\"\nlong_context_output = \"2\"\n"
                                 "long_context_cache_read = \"0.05\"\n"
                                 "long_context_cache_write = \"0.6\"\nnote = \"hi\"\n") +
                           Entry("vendor.b-v1");
  Result<PriceCatalog> catalog = LoadCatalogToml(text, "test.toml");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ(catalog->version(), "test.1");
  EXPECT_EQ(catalog->effective_date(), "2025-12-01");
  EXPECT_EQ(catalog->source(), "https://aws.amazon.com/bedrock/pricing/");
  ASSERT_EQ(catalog->models().size(), 2U);
  const ModelPrice* a = catalog->Find("vendor.a-latest-v1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "vendor.a-v1");
  EXPECT_EQ(a->name, "Test");
  EXPECT_EQ(a->input.nanos, 250'000'000);
  EXPECT_EQ(a->output.nanos, 1'250'000'000);
  EXPECT_EQ(a->cache_read->nanos, 30'000'000);
  EXPECT_EQ(a->cache_write->nanos, 300'000'000);
  EXPECT_EQ(a->per_image->nanos(), 60'000);
  EXPECT_EQ(a->per_video_second->nanos(), 500'000'000);
  EXPECT_EQ(a->batch_discount_percent, 50);
  EXPECT_EQ(a->geo_premium_percent, 10);
  ASSERT_TRUE(a->long_context.has_value());
  EXPECT_EQ(a->long_context->threshold_tokens, 200'000);
  EXPECT_EQ(a->long_context->output.nanos, 2'000'000'000);
  EXPECT_EQ(a->long_context->cache_write->nanos, 600'000'000);
  EXPECT_EQ(a->source_date, "2025-12-01");

  const ModelPrice* b = catalog->Find("vendor.b-v1");
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->cache_read.has_value());
  EXPECT_FALSE(b->long_context.has_value());
  EXPECT_EQ(b->batch_discount_percent, 0);
}

struct ErrorCase {
  const char* name;
  std::string text;
  const char* message;
};

TEST(LoadCatalogTomlTest, ErrorsNameTheModelTheKeyAndTheProblem) {
  const std::string h = kHeader;
  const ErrorCase cases[] = {
      {"syntax", h + "[[model]\n", "test.toml:7:"},
      {"float price", h + Entry("vendor.a-v1", "cache_read = 0.03\n"),
       "test.toml: model 'vendor.a-v1' (entry 1): key 'cache_read': must be a quoted decimal "
       "string such as \"0.25\", not a float"},
      {"non-decimal price", h + Entry("vendor.a-v1", "cache_write = \"1e3\"\n"),
       "model 'vendor.a-v1' (entry 1): key 'cache_write': price '1e3' is not a plain decimal"},
      {"negative price", h + Entry("vendor.a-v1", "cache_read = \"-0.5\"\n"),
       "model 'vendor.a-v1' (entry 1): key 'cache_read': price '-0.5' is negative"},
      {"negative unit price", h + Entry("vendor.a-v1", "per_image = \"-1\"\n"),
       "model 'vendor.a-v1' (entry 1): key 'per_image': price '-1' is negative"},
      {"too many decimals", h + Entry("vendor.a-v1", "cache_read = \"0.0000000001\"\n"),
       "key 'cache_read': price '0.0000000001' has more than 9 decimals"},
      {"missing output",
       h + "[[model]]\nid = \"vendor.a-v1\"\nname = \"A\"\nprovider = \"P\"\ninput = \"1\"\n"
           "source = \"s\"\nsource_date = \"2025-12-01\"\n",
       "test.toml: model 'vendor.a-v1' (entry 1): missing required key 'output'"},
      {"missing input",
       h + "[[model]]\nid = \"vendor.a-v1\"\nname = \"A\"\nprovider = \"P\"\noutput = \"1\"\n"
           "source = \"s\"\nsource_date = \"2025-12-01\"\n",
       "model 'vendor.a-v1' (entry 1): missing required key 'input'"},
      {"missing id", h + "[[model]]\nname = \"A\"\n",
       "test.toml: model (entry 1): missing required key 'id'"},
      {"duplicate id", h + Entry("vendor.a-v1") + Entry("vendor.b-v1") + Entry("vendor.a-v1"),
       "test.toml: duplicate model id 'vendor.a-v1' (entries 1 and 3)"},
      {"duplicate alias",
       h + Entry("vendor.a-v1", "aliases = [\"vendor.x-v1\"]\n") +
           Entry("vendor.b-v1", "aliases = [\"vendor.x-v1\"]\n"),
       "test.toml: model 'vendor.b-v1': alias 'vendor.x-v1' is already an alias of model "
       "'vendor.a-v1'"},
      {"alias is an id",
       h + Entry("vendor.a-v1") + Entry("vendor.b-v1", "aliases = [\"vendor.a-v1\"]\n"),
       "alias 'vendor.a-v1' is the id of model 'vendor.a-v1'"},
      {"unknown key", h + Entry("vendor.a-v1", "inptu = \"1\"\n"),
       "test.toml: model 'vendor.a-v1' (entry 1): unknown key 'inptu'"},
      {"misspelt required key",
       h + "[[model]]\nid = \"vendor.a-v1\"\nname = \"A\"\nprovider = \"P\"\ninptu = \"1\"\n"
           "output = \"1\"\nsource = \"s\"\nsource_date = \"2025-12-01\"\n",
       "test.toml: model 'vendor.a-v1' (entry 1): unknown key 'inptu'"},
      {"unknown top-level key", h + "colour = \"blue\"\n" + Entry("vendor.a-v1"),
       "test.toml: unknown top-level key 'colour'"},
      {"versioned id", h + Entry("vendor.a-v1:0"),
       "model 'vendor.a-v1:0': id 'vendor.a-v1:0' is not a canonical model id (write "
       "'vendor.a-v1'"},
      {"percent range", h + Entry("vendor.a-v1", "batch_discount_percent = 150\n"),
       "model 'vendor.a-v1' (entry 1): key 'batch_discount_percent': 150 is not in 0..100"},
      {"percent type", h + Entry("vendor.a-v1", "geo_premium_percent = \"10\"\n"),
       "key 'geo_premium_percent': must be an integer, not a string"},
      {"bad date",
       h + Entry("vendor.a-v1").replace(Entry("vendor.a-v1").find("2025-12-01"), 10, "01/12/2025"),
       "key 'source_date': '01/12/2025' is not a date of the form YYYY-MM-DD"},
      {"half long context", h + Entry("vendor.a-v1", "long_context_input = \"6\"\n"),
       "model 'vendor.a-v1' (entry 1): missing key 'long_context_threshold'"},
      {"aliases type", h + Entry("vendor.a-v1", "aliases = \"vendor.b-v1\"\n"),
       "key 'aliases': must be an array of strings, not a string"},
      {"per 1K unit",
       "schema_version = 1\nversion = \"v\"\neffective_date = \"2025-12-01\"\ncurrency = "
       "\"USD\"\nunit = \"per 1K tokens\"\nsource = \"s\"\n" +
           Entry("vendor.a-v1"),
       "test.toml: unit 'per 1K tokens' is not supported"},
      {"currency",
       "schema_version = 1\nversion = \"v\"\neffective_date = \"2025-12-01\"\ncurrency = "
       "\"EUR\"\nunit = \"per 1M tokens\"\nsource = \"s\"\n" +
           Entry("vendor.a-v1"),
       "currency 'EUR' is not supported"},
      {"schema", "schema_version = 2\n" + Entry("vendor.a-v1"), "schema_version must be 1"},
      {"no models", h, "test.toml: no [[model]] entries"},
      {"missing version",
       "schema_version = 1\neffective_date = \"2025-12-01\"\ncurrency = \"USD\"\nunit = \"per 1M "
       "tokens\"\nsource = \"s\"\n" +
           Entry("vendor.a-v1"),
       "missing required top-level key 'version'"},
  };
  for (const ErrorCase& c : cases) {
    Result<PriceCatalog> catalog = LoadCatalogToml(c.text, "test.toml");
    ASSERT_FALSE(catalog.ok()) << c.name;
    EXPECT_EQ(catalog.status().code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(catalog.status().message().find(c.message), std::string::npos)
        << c.name << "\n  got:  " << catalog.status().message() << "\n  want: " << c.message;
  }
}

TEST(ApplyOverridesTomlTest, MergesReplacesAndAdds) {
  Result<PriceCatalog> loaded =
      LoadCatalogToml(std::string(kHeader) + Entry("vendor.a-v1", "cache_read = \"0.03\"\n") +
                          Entry("vendor.b-v1", "aliases = [\"vendor.b-alias-v1\"]\n"),
                      "test.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  PriceCatalog catalog = std::move(loaded).value();

  const Status s = ApplyOverridesToml(catalog,
                                      "[[model]]\nid = \"vendor.a-v1\"\ninput = \"0.20\"\n"
                                      "[[model]]\nid = \"vendor.new-v1\"\ninput = \"1\"\n"
                                      "output = \"2\"\nname = \"New\"\n",
                                      "config.toml");
  ASSERT_TRUE(s.ok()) << s.ToString();
  const ModelPrice* a = catalog.Find("vendor.a-v1");
  EXPECT_EQ(a->input.nanos, 200'000'000);       // overridden
  EXPECT_EQ(a->output.nanos, 1'250'000'000);    // kept
  EXPECT_EQ(a->cache_read->nanos, 30'000'000);  // kept
  EXPECT_EQ(a->source, "config.toml");
  EXPECT_EQ(catalog.Find("vendor.new-v1")->name, "New");
  EXPECT_EQ(catalog.Find("vendor.new-v1")->output.nanos, 2'000'000'000);
}

// An overridden catalog written out loads again and writes the same text: every model keeps
// a source_date (its own, the override's, or for a new id the catalog's effective_date).
TEST(ApplyOverridesTomlTest, AnOverriddenCatalogWritesOutAndLoadsAgain) {
  Result<PriceCatalog> loaded = LoadCatalogToml(
      std::string(kHeader) + Entry("vendor.a-v1") + Entry("vendor.b-v1"), "test.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  PriceCatalog catalog = std::move(loaded).value();
  const Status s = ApplyOverridesToml(catalog,
                                      "[[model]]\nid = \"vendor.a-v1\"\ninput = \"0.20\"\n"
                                      "[[model]]\nid = \"vendor.b-v1\"\noutput = \"3\"\n"
                                      "source_date = \"2026-02-03\"\n"
                                      "[[model]]\nid = \"vendor.new-v1\"\ninput = \"1\"\n"
                                      "output = \"2\"\n",
                                      "config.toml");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(catalog.Find("vendor.a-v1")->source_date, "2025-12-01");    // kept
  EXPECT_EQ(catalog.Find("vendor.b-v1")->source_date, "2026-02-03");    // the override's
  EXPECT_EQ(catalog.Find("vendor.new-v1")->source_date, "2025-12-01");  // effective_date

  const std::string text = CatalogToToml(catalog, "us-east-1", "");
  Result<PriceCatalog> back = LoadCatalogToml(text, "written.toml");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  ASSERT_EQ(back->models().size(), catalog.models().size());
  for (const ModelPrice& m : catalog.models()) {
    const ModelPrice* b = back->Find(m.id);
    ASSERT_NE(b, nullptr) << m.id;
    EXPECT_EQ(b->input.nanos, m.input.nanos) << m.id;
    EXPECT_EQ(b->output.nanos, m.output.nanos) << m.id;
    EXPECT_EQ(b->source, m.source) << m.id;
    EXPECT_EQ(b->source_date, m.source_date) << m.id;
  }
  EXPECT_EQ(back->Find("vendor.a-v1")->source, "config.toml");
  EXPECT_EQ(CatalogToToml(*back, "us-east-1", ""), text);
}

TEST(ApplyOverridesTomlTest, ErrorsLeaveTheCatalogUnchanged) {
  Result<PriceCatalog> loaded =
      LoadCatalogToml(std::string(kHeader) + Entry("vendor.a-v1") +
                          Entry("vendor.b-v1", "aliases = [\"vendor.b-alias-v1\"]\n"),
                      "test.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  PriceCatalog catalog = std::move(loaded).value();
  const ErrorCase cases[] = {
      {"new model without output", "[[model]]\nid = \"vendor.new-v1\"\ninput = \"1\"\n",
       "config.toml: model 'vendor.new-v1' (entry 1): not in the catalog, so it needs 'input' "
       "and 'output'"},
      {"alias", "[[model]]\nid = \"vendor.b-alias-v1\"\ninput = \"1\"\n",
       "(it is an alias of 'vendor.b-v1'; override that id instead)"},
      {"negative", "[[model]]\nid = \"vendor.a-v1\"\ninput = \"-1\"\n",
       "config.toml: model 'vendor.a-v1' (entry 1): key 'input': price '-1' is negative"},
      {"top-level key", "input = \"1\"\n", "config.toml: unknown top-level key 'input'"},
      // The first entry is fine, the second is not: nothing is applied.
      {"all or nothing",
       "[[model]]\nid = \"vendor.a-v1\"\ninput = \"9\"\n[[model]]\nid = \"vendor.b-v1\"\n"
       "typo = 1\n",
       "config.toml: model 'vendor.b-v1' (entry 2): unknown key 'typo'"},
  };
  for (const ErrorCase& c : cases) {
    const Status s = ApplyOverridesToml(catalog, c.text, "config.toml");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.message), std::string::npos)
        << c.name << "\n  got:  " << s.message() << "\n  want: " << c.message;
  }
  EXPECT_EQ(catalog.Find("vendor.a-v1")->input.nanos, 250'000'000);
  EXPECT_EQ(catalog.Find("vendor.new-v1"), nullptr);
}

}  // namespace
}  // namespace budgeteer
