// Reading bulk offer files and GetProducts replies into OfferRows, and refusing what is not one.
#include "pricing/offer_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace budgeteer {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(BUDGETEER_SOURCE_DIR) + "/src/pricing/testdata/" + name;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const OfferRow* BySku(const std::vector<OfferRow>& rows, const std::string& sku) {
  const auto it =
      std::find_if(rows.begin(), rows.end(), [&](const OfferRow& r) { return r.sku == sku; });
  return it == rows.end() ? nullptr : &*it;
}

void ExpectInvalid(std::string_view json, std::string_view needle) {
  Result<std::vector<OfferRow>> got = ParseOfferFile(json, "bad.json");
  ASSERT_FALSE(got.ok()) << json;
  EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
  EXPECT_NE(got.status().message().find("bad.json"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find(needle), std::string::npos) << got.status().message();
}

TEST(ReadOfferFile, ReadsEveryOnDemandDimensionWithItsProduct) {
  Result<std::vector<OfferRow>> rows = ReadOfferFile(Fixture("AmazonBedrock.json"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 13U);
  const OfferRow* llama = BySku(*rows, "B3VQ4K5ZKXW7YQ2A");
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->offer_code, "AmazonBedrock");
  EXPECT_EQ(llama->model, "Llama 3 8B Instruct");
  EXPECT_EQ(llama->region_code, "us-east-1");
  EXPECT_EQ(llama->usage_type, "USE1-Llama3-8B-input-tokens");
  EXPECT_EQ(llama->inference_type, "Input tokens");
  EXPECT_EQ(llama->unit, "1K tokens");
  EXPECT_EQ(llama->price_usd, "0.0002200000");  // kept as published, parsed exactly later
  EXPECT_EQ(llama->publication_date, "2026-11-20T18:00:00Z");
  EXPECT_NE(llama->origin.find("AmazonBedrock.json"), std::string::npos);
  // Titan products name their model in `titanModel`.
  const OfferRow* titan = BySku(*rows, "E6PW3NC8ZR2K7YTD");
  ASSERT_NE(titan, nullptr);
  EXPECT_EQ(titan->model, "Titan Text G1 - Express");
}

TEST(ReadOfferFile, MarketplaceOfferNamesTheModelInServicename) {
  Result<std::vector<OfferRow>> rows = ReadOfferFile(Fixture("AmazonBedrockFoundationModels.json"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->front().offer_code, "AmazonBedrockFoundationModels");
  EXPECT_EQ(rows->front().model, "Claude 3.5 Haiku (Amazon Bedrock Edition)");
}

TEST(ReadOfferFile, ServiceOfferIsAccepted) {
  Result<std::vector<OfferRow>> rows = ReadOfferFile(Fixture("AmazonBedrockService.json"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 1U);
  EXPECT_EQ(rows->front().feature, "Guardrails content filters");
}

TEST(ReadOfferFile, MissingFileIsNotFound) {
  Result<std::vector<OfferRow>> rows = ReadOfferFile(Fixture("no-such-offer.json"));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), Code::kNotFound);
  EXPECT_NE(rows.status().message().find("no-such-offer.json"), std::string::npos);
}

TEST(ParseOfferFile, RefusesWhatIsNotABedrockOffer) {
  ExpectInvalid("", "not");
  ExpectInvalid("this is not json", "not");
  ExpectInvalid("[1, 2]", "not a JSON object");
  ExpectInvalid("{}", "offerCode '' is not a Bedrock offer");
  ExpectInvalid(R"({"offerCode": "AmazonEC2", "products": {}, "terms": {}})",
                "offerCode 'AmazonEC2' is not a Bedrock offer");
  ExpectInvalid(R"({"offerCode": "AmazonBedrock", "products": {}, "terms": {"OnDemand": {}}})",
                "no products");
  ExpectInvalid(R"({"offerCode": "AmazonBedrock",
                    "products": {"A": {"sku": "A", "attributes": {"model": "X"}}},
                    "terms": {"Reserved": {}}})",
                "no on-demand prices");
  ExpectInvalid(R"({"offerCode": "AmazonBedrock", "products": {"A": )", "ended early");
  ExpectInvalid(R"({"offerCode": "AmazonBedrock", "products": [], "terms": {}})", "products");
}

TEST(ParseOfferFile, TermsMayComeBeforeProducts) {
  Result<std::vector<OfferRow>> rows = ParseOfferFile(R"({
    "offerCode": "AmazonBedrock",
    "terms": {"OnDemand": {"A": {"A.T": {"priceDimensions": {"A.T.R": {
      "unit": "1K tokens", "description": "input", "pricePerUnit": {"USD": "0.001"}}}}}}},
    "products": {"A": {"sku": "A", "attributes": {"model": "Nova Lite", "regionCode": "us-east-1",
                                                   "inferenceType": "Input tokens"}}}
  })",
                                                      "inline");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ(rows->front().model, "Nova Lite");
  EXPECT_EQ(rows->front().price_usd, "0.001");
}

TEST(ParseGetProductsReply, ReadsPriceListStringsAndTheNextToken) {
  Result<PriceListPage> page = ParseGetProductsReply(
      ReadText(Fixture("getproducts-AmazonBedrock-1.json")), "GetProducts page 1");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->products, 5U);
  EXPECT_EQ(page->rows.size(), 5U);
  EXPECT_EQ(page->next_token, "AmazonBedrock-token-2");
  const OfferRow* llama = BySku(page->rows, "B3VQ4K5ZKXW7YQ2A");
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->offer_code, "AmazonBedrock");
  EXPECT_EQ(llama->price_usd, "0.0002200000");
  EXPECT_EQ(llama->unit, "1K tokens");

  Result<PriceListPage> last = ParseGetProductsReply(
      ReadText(Fixture("getproducts-AmazonBedrock-3.json")), "GetProducts page 3");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->next_token.empty());
}

TEST(ParseGetProductsReply, RefusesMalformedReplies) {
  EXPECT_FALSE(ParseGetProductsReply("<xml/>", "p").ok());
  EXPECT_FALSE(ParseGetProductsReply(R"({"FormatVersion": "aws_v1"})", "p").ok());
  EXPECT_FALSE(ParseGetProductsReply(R"({"PriceList": [{"product": {}}]})", "p").ok());
  EXPECT_FALSE(ParseGetProductsReply(R"({"PriceList": ["{\"terms\": {}}"]})", "p").ok());
  Result<PriceListPage> empty =
      ParseGetProductsReply(R"({"PriceList": [], "NextToken": null})", "p");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->rows.empty());
}

}  // namespace
}  // namespace budgeteer
