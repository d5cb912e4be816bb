// End to end: `budgeteer prices update` from offer files and from the Price List API (a fake,
// signature-checking endpoint), then `prices show` / `prices list` / `ingest` with the new
// catalog, config overrides still on top, and refusals that leave the catalog untouched; a
// running `serve` on the same ledger picks the new catalog up without a restart.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/clock.h"
#include "pricing/testing/fake_price_list_server.h"
#include "tests/cli_harness.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

std::string Offer(const std::string& name) {
  return std::string(BUDGETEER_SOURCE_DIR) + "/src/pricing/testdata/" + name;
}

class PricesUpdateE2E : public ::testing::Test {
 protected:
  RunResult UpdateFromFixtures(const std::vector<std::string>& extra = {"--partial"}) {
    std::vector<std::string> args = {"prices",
                                     "update",
                                     "--offer-file",
                                     Offer("AmazonBedrock.json"),
                                     Offer("AmazonBedrockFoundationModels.json"),
                                     Offer("AmazonBedrockService.json")};
    args.insert(args.end(), extra.begin(), extra.end());
    return h_.Run(args);
  }
  std::string Show(const std::string& model, const std::string& key) {
    RunResult show = h_.Run({"prices", "show", "--json", model});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    return JsonValue(show.out, key);
  }
  bool Stored() const { return std::filesystem::exists(h_.dir() + "/ledger.db.prices.toml"); }

  CliHarness h_;
};

TEST_F(PricesUpdateE2E, OfferFilesUpdateTheCatalogThatShowAndListUse) {
  EXPECT_EQ(Show("meta.llama3-8b-instruct-v1:0", "input_per_million_usd"), "0.3");
  RunResult update = UpdateFromFixtures();
  ASSERT_EQ(update.exit_code, 0) << update.err << update.out;
  // The diff: model, rate, old -> new.
  EXPECT_NE(update.out.find("meta.llama3-8b-instruct-v1              input        0.3      0.22"),
            std::string::npos)
      << update.out;
  EXPECT_NE(update.out.find("unknown unit '1K Characters'"), std::string::npos);
  EXPECT_NE(update.out.find("price '0.6O00000000'"), std::string::npos);
  EXPECT_TRUE(Stored());

  EXPECT_EQ(Show("meta.llama3-8b-instruct-v1:0", "input_per_million_usd"), "0.22");
  EXPECT_EQ(Show("us.anthropic.claude-3-5-haiku-20241022-v1:0", "cache_write_per_million_usd"),
            "1.25");
  RunResult list = h_.Run({"prices", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("catalog pricelist-20261121090000 (effective 2026-11-21"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("prices update " + h_.dir() + "/ledger.db.prices.toml"),
            std::string::npos)
      << list.out;

  // Usage is priced at the new rate: 1M input tokens of Llama 3 8B cost 0.22 USD.
  h_.set_config(h_.Write("big.toml", "[defaults]\ndefault_user_budget_usd = 100\n"));
  LogRecord r;
  r.request_id = "llama-1";
  r.model = "meta.llama3-8b-instruct-v1:0";
  r.input = 1'000'000;
  r.output = 0;
  const std::string log = h_.Write("llama.jsonl", r.Json() + "\n");
  RunResult ingest = h_.Run({"ingest", log, "--json"}, "2026-03-01T10:00:00Z");
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  RunResult budget =
      h_.Run({"budgets", "show", "BedrockAPIKey-abc", "--json"}, "2026-03-01T10:00:00Z");
  EXPECT_EQ(JsonValue(budget.out, "spent_usd"), "0.22") << budget.out;
}

TEST_F(PricesUpdateE2E, ConfigOverridesStayOnTop) {
  h_.set_config(h_.Write("overrides.toml",
                         "[pricing.overrides.\"meta.llama3-8b-instruct-v1\"]\ninput = \"0.10\"\n"));
  RunResult update = UpdateFromFixtures();
  ASSERT_EQ(update.exit_code, 0) << update.err << update.out;
  EXPECT_NE(update.out.find("pricing.overrides.meta.llama3-8b-instruct-v1 still applies"),
            std::string::npos)
      << update.out;
  EXPECT_EQ(Show("meta.llama3-8b-instruct-v1:0", "input_per_million_usd"), "0.1");
  EXPECT_EQ(Show("meta.llama3-8b-instruct-v1:0", "output_per_million_usd"), "0.72");
}

TEST_F(PricesUpdateE2E, RefusalsLeaveTheCatalogAlone) {
  // Too few models without --partial.
  RunResult few = UpdateFromFixtures({});
  EXPECT_NE(few.exit_code, 0);
  EXPECT_NE(few.err.find("price only 6 of the catalog's 41 models"), std::string::npos) << few.err;
  // Garbage, named in the message.
  const std::string garbage = h_.Write("garbage.json", "<html>503 Service Unavailable</html>");
  RunResult bad = h_.Run({"prices", "update", "--partial", "--offer-file", garbage});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(garbage), std::string::npos) << bad.err;
  // A well-formed offer with nothing in it.
  const std::string empty = h_.Write(
      "empty.json", R"({"offerCode": "AmazonBedrock", "products": {}, "terms": {"OnDemand": {}}})");
  RunResult none = h_.Run({"prices", "update", "--partial", "--offer-file", empty});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("no products"), std::string::npos) << none.err;
  // A missing file.
  RunResult missing = h_.Run({"prices", "update", "--offer-file", h_.dir() + "/nope.json"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;
  // Neither source.
  EXPECT_NE(h_.Run({"prices", "update"}).exit_code, 0);

  EXPECT_FALSE(Stored());
  EXPECT_EQ(Show("meta.llama3-8b-instruct-v1:0", "input_per_million_usd"), "0.3");
}

TEST_F(PricesUpdateE2E, DryRunStoresNothing) {
  RunResult dry = UpdateFromFixtures({"--partial", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("0.22"), std::string::npos);
  EXPECT_FALSE(Stored());
}

class PricesUpdateServeE2E : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return "[auth]\nadmin_tokens = [\"alice:adm1n-token\"]\n"
           "[ingest.firehose]\naccess_key = \"" +
           std::string(kAccessKey) + "\"\n[defaults]\ndefault_user_budget_usd = 100\n";
  }
  // 1M input tokens of Llama 3 8B, a minute ago (the server runs on the system clock).
  bool IngestLlama(const std::string& id) {
    LogRecord r;
    r.request_id = id;
    r.model = "meta.llama3-8b-instruct-v1:0";
    r.input = 1'000'000;
    r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
    auto res = PostFirehose(Delivery(id, {r.Json()}));
    return res && res->status == 200;
  }
  std::string Spent() {
    return JsonValue(Get("/v1/budgets/111122223333:BedrockAPIKey-abc", "adm1n-token"), "spent_usd");
  }
};

TEST_F(PricesUpdateServeE2E, ARunningServicePricesNewRecordsWithTheUpdatedCatalog) {
  ASSERT_TRUE(IngestLlama("before"));
  EXPECT_EQ(Spent(), "0.3");
  const std::string built_in = JsonValue(Get("/v1/prices", "adm1n-token"), "version");

  RunResult update =
      h_.Run({"prices", "update", "--partial", "--offer-file", Offer("AmazonBedrock.json"),
              Offer("AmazonBedrockFoundationModels.json"), Offer("AmazonBedrockService.json")});
  ASSERT_EQ(update.exit_code, 0) << update.err << update.out;
  // The scheduler looks at the stored catalog every 5 s.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return JsonValue(Get("/v1/prices", "adm1n-token"), "version") == "pricelist-20261121090000";
      },
      std::chrono::seconds(20)))
      << ServerLog();
  // Usage already applied keeps its cost; new records are priced at the new rate (0.22).
  ASSERT_TRUE(IngestLlama("after"));
  EXPECT_EQ(Spent(), "0.52");
  const std::string audit = Get("/v1/audit", "adm1n-token");
  EXPECT_NE(audit.find("catalog_changed"), std::string::npos) << audit;
  EXPECT_NE(audit.find(built_in), std::string::npos) << audit;
  EXPECT_NE(ServerLog().find("prices: catalog pricelist-20261121090000"), std::string::npos)
      << ServerLog();

  // A catalog that does not load is reported, and the one in force stays.
  h_.Write("ledger.db.prices.toml", "not a catalog");
  ASSERT_TRUE(WaitUntil([&] { return ServerLog().find("prices: keeping") != std::string::npos; },
                        std::chrono::seconds(20)))
      << ServerLog();
  EXPECT_EQ(JsonValue(Get("/v1/prices", "adm1n-token"), "version"), "pricelist-20261121090000");
  ASSERT_TRUE(IngestLlama("after-garbage"));
  EXPECT_EQ(Spent(), "0.74");
}

// The child `budgeteer` inherits this process's environment: the fake endpoint and the test
// keys reach it through AWS_ENDPOINT_URL_PRICING and the environment credentials.
void PointAwsAt(const std::string& url, const std::string& secret) {
  // NOLINTBEGIN(concurrency-mt-unsafe): set before the child starts, read only by it.
  setenv("AWS_ENDPOINT_URL_PRICING", url.c_str(), 1);
  setenv("AWS_ACCESS_KEY_ID", kPricingAccessKey, 1);
  setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config", 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials", 1);
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_PROFILE");
  // NOLINTEND(concurrency-mt-unsafe)
}

TEST_F(PricesUpdateE2E, FromApiReadsGetProductsSigned) {
  FakePriceListServer server;
  PointAwsAt(server.Url(), "wrong-secret");
  RunResult wrong = h_.Run({"prices", "update", "--from-api", "--partial"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("InvalidSignatureException"), std::string::npos) << wrong.err;
  EXPECT_EQ(server.rejected(), 1);
  EXPECT_FALSE(Stored());

  PointAwsAt(server.Url(), kPricingSecret);
  RunResult update = h_.Run({"prices", "update", "--from-api", "--partial"});
  ASSERT_EQ(update.exit_code, 0) << update.err << update.out;
  EXPECT_NE(update.out.find("read 24 products in 5 GetProducts pages"), std::string::npos)
      << update.out;
  EXPECT_EQ(server.pages_served().size(), 5U);
  EXPECT_EQ(Show("meta.llama3-8b-instruct-v1:0", "input_per_million_usd"), "0.22");
  RunResult list = h_.Run({"prices", "list"});
  EXPECT_NE(list.out.find("AWS Price List Query API (GetProducts)"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace budgeteer::testing
