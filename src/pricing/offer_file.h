// Reading AWS Price List data for Bedrock into OfferRows: bulk offer files (one JSON document
// per offer, with `products` keyed by SKU and `terms.OnDemand.<sku>.<offerTermCode>
// .priceDimensions.<rateCode>`) and the Price List Query API's GetProducts replies (a
// `PriceList` array of JSON strings, one product with its terms each).
//
// Offer files run to tens of megabytes: they are parsed with simdjson's on-demand API, which
// keeps only the document and a small record per product, never a tree of the whole file.
// Only the offers AmazonBedrock, AmazonBedrockFoundationModels and AmazonBedrockService are
// accepted. Errors name the origin (the file) and the problem. Pure except ReadOfferFile;
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pricing/offer_update.h"

namespace budgeteer {

// True for the three Bedrock offer codes.
bool IsBedrockOfferCode(std::string_view code);

// Every on-demand price dimension of a bulk offer file. InvalidArgument when the text is not
// JSON, is not a Bedrock offer, or has no products or no on-demand terms.
Result<std::vector<OfferRow>> ParseOfferFile(std::string_view json, std::string_view origin);
// Reads `path` and parses it; NotFound when it cannot be read.
Result<std::vector<OfferRow>> ReadOfferFile(const std::string& path);

// One GetProducts reply: the rows of every PriceList entry, and the NextToken (empty on the
// last page). InvalidArgument when the reply or an entry is not what the API sends.
struct PriceListPage {
  std::vector<OfferRow> rows;
  std::string next_token;
  size_t products = 0;
};
Result<PriceListPage> ParseGetProductsReply(std::string_view json, std::string_view origin);

}  // namespace budgeteer
