// GetProducts through aws::AwsClient and the credential chain against a fake Price List
// endpoint (testing/fake_price_list_server.h) that verifies every request's SigV4 signature.
#include "pricing/price_list_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "aws/environment.h"
#include "core/clock.h"
#include "pricing/catalog_file.h"
#include "pricing/testing/fake_price_list_server.h"

namespace budgeteer {
namespace {

using testing::FakePriceListServer;
constexpr const char* kAccessKey = testing::kPricingAccessKey;
constexpr const char* kSecret = testing::kPricingSecret;

// The client as `prices update --from-api` builds it: endpoint and credentials resolved from
// the environment through the standard chain.
struct PricingClient {
  PricingClient(const std::string& endpoint_url, const std::string& secret)
      : clock(Timestamp::Parse("2026-11-27T12:00:00Z").value()) {
    env.Set("AWS_ENDPOINT_URL_PRICING", endpoint_url);
    env.Set("AWS_ACCESS_KEY_ID", kAccessKey);
    env.Set("AWS_SECRET_ACCESS_KEY", secret);
    env.Set("AWS_EC2_METADATA_DISABLED", "true");
    transport = aws::MakeCurlTransport().value();
    credentials = aws::DefaultCredentialsChain(env, *transport, clock);
    Result<aws::Endpoint> endpoint = aws::ResolveEndpoint(kPricingService, kPricingApiRegion, env);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
    client = std::make_unique<aws::AwsClient>(kPricingService, *endpoint, credentials.get(),
                                              *transport, clock);
  }
  aws::MapEnvironment env;
  FixedClock clock;
  std::unique_ptr<aws::HttpTransport> transport;
  std::unique_ptr<aws::CredentialsProvider> credentials;
  std::unique_ptr<aws::AwsClient> client;
};

std::vector<std::string> AllCodes() {
  return {"AmazonBedrock", "AmazonBedrockFoundationModels", "AmazonBedrockService"};
}

TEST(FetchPriceList, ReadsEveryPageOfEveryServiceCodeSigned) {
  FakePriceListServer server;
  PricingClient pricing(server.Url(), kSecret);
  Result<PriceListFetch> fetch = FetchPriceList(*pricing.client, AllCodes());
  ASSERT_TRUE(fetch.ok()) << fetch.status().ToString();
  EXPECT_EQ(server.rejected(), 0);
  EXPECT_EQ(
      server.pages_served(),
      (std::vector<std::string>{
          "getproducts-AmazonBedrock-1.json", "getproducts-AmazonBedrock-2.json",
          "getproducts-AmazonBedrock-3.json", "getproducts-AmazonBedrockFoundationModels-1.json",
          "getproducts-AmazonBedrockService-1.json"}));
  EXPECT_EQ(fetch->pages, 5U);
  EXPECT_EQ(fetch->products, 13U + 11U);
  EXPECT_EQ(fetch->rows.size(), 13U + 11U);

  // The rows update the catalog exactly as the offer files do.
  UpdateOptions options;
  options.version = "pricelist-api";
  options.effective_date = "2026-11-27";
  options.source = "AWS Price List Query API";
  options.min_coverage_percent = 0;
  Result<PriceCatalog> embedded = LoadEmbeddedCatalog();
  ASSERT_TRUE(embedded.ok());
  Result<CatalogUpdate> update = UpdateCatalogFromOffers(*embedded, fetch->rows, options);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->catalog.Find("meta.llama3-8b-instruct-v1")->input.nanos, 220'000'000);
  EXPECT_EQ(update->catalog.Find("anthropic.claude-3-5-haiku-20241022-v1")->cache_write->nanos,
            1'250'000'000);
}

TEST(FetchPriceList, AWronglySignedRequestIsRejected) {
  FakePriceListServer server;
  PricingClient pricing(server.Url(), "not-the-secret");
  Result<PriceListFetch> fetch = FetchPriceList(*pricing.client, AllCodes());
  ASSERT_FALSE(fetch.ok());
  EXPECT_EQ(fetch.status().code(), Code::kUnauthenticated) << fetch.status().ToString();
  EXPECT_NE(fetch.status().message().find("InvalidSignatureException"), std::string::npos);
  EXPECT_NE(fetch.status().message().find("GetProducts AmazonBedrock page 1"), std::string::npos);
  EXPECT_EQ(fetch.status().message().find("not-the-secret"), std::string::npos);
  EXPECT_EQ(server.rejected(), 1);
  EXPECT_EQ(server.accepted(), 0);
}

TEST(FetchPriceList, AnUnknownServiceCodeIsAnError) {
  FakePriceListServer server;
  PricingClient pricing(server.Url(), kSecret);
  Result<PriceListFetch> fetch = FetchPriceList(*pricing.client, {"AmazonNothing"});
  ASSERT_FALSE(fetch.ok());
  EXPECT_NE(fetch.status().message().find("NotFoundException"), std::string::npos)
      << fetch.status().ToString();
}

}  // namespace
}  // namespace budgeteer
