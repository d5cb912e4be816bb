// Reading Bedrock prices from the AWS Price List Query API (GetProducts, JSON 1.1 protocol,
// target prefix AWSPriceListService) through an aws::AwsClient, page by page until NextToken
// runs out. The API is served only from a few regions (us-east-1 among them):
// api.pricing.us-east-1.amazonaws.com, or AWS_ENDPOINT_URL_PRICING for an emulator.
// Not thread-safe (the client is not).
#pragma once

#include <string>
#include <vector>

#include "aws/client.h"
#include "aws/endpoint.h"
#include "core/status.h"
#include "pricing/offer_update.h"

namespace budgeteer {

inline constexpr aws::ServiceSpec kPricingService{"PRICING", "api.pricing", "pricing"};
// The region the Price List API is called in (prices of every region are served there).
inline constexpr std::string_view kPricingApiRegion = "us-east-1";

struct PriceListFetch {
  std::vector<OfferRow> rows;
  size_t pages = 0;
  size_t products = 0;
};

// GetProducts for each service code (e.g. AmazonBedrock, AmazonBedrockFoundationModels,
// AmazonBedrockService), all pages. Errors keep the client's classification (retryable or
// not) and name the service code and page; a reply that is not GetProducts JSON is
// InvalidArgument. More than `max_pages` pages for one code is ResourceExhausted (a server
// that never stops paginating must not keep us forever).
Result<PriceListFetch> FetchPriceList(aws::AwsClient& client,
                                      const std::vector<std::string>& service_codes,
                                      size_t max_pages = 1000);

}  // namespace budgeteer
