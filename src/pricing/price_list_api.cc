#include "pricing/price_list_api.h"

#include "pricing/offer_file.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

std::string GetProductsBody(const std::string& service_code, const std::string& next_token) {
  JsonWriter w;
  w.BeginObject();
  w.Field("ServiceCode", service_code).Field("FormatVersion", "aws_v1");
  w.Field("MaxResults", int64_t{100});
  if (!next_token.empty()) w.Field("NextToken", next_token);
  w.EndObject();
  return w.str();
}

}  // namespace

Result<PriceListFetch> FetchPriceList(aws::AwsClient& client,
                                      const std::vector<std::string>& service_codes,
                                      size_t max_pages) {
  PriceListFetch fetch;
  for (const std::string& code : service_codes) {
    std::string token;
    for (size_t page = 1;; ++page) {
      if (page > max_pages) {
        return ResourceExhausted("GetProducts " + code + ": more than " +
                                 std::to_string(max_pages) + " pages");
      }
      const std::string origin = "GetProducts " + code + " page " + std::to_string(page);
      Result<std::string> reply =
          client.Json("AWSPriceListService", "GetProducts", GetProductsBody(code, token));
      if (!reply.ok()) return reply.status().WithContext(origin);
      ASSIGN_OR_RETURN(PriceListPage parsed, ParseGetProductsReply(*reply, origin));
      ++fetch.pages;
      fetch.products += parsed.products;
      for (OfferRow& row : parsed.rows) fetch.rows.push_back(std::move(row));
      if (parsed.next_token.empty()) break;
      if (parsed.next_token == token) {
        return InvalidArgument(origin + ": the same NextToken again");
      }
      token = std::move(parsed.next_token);
    }
  }
  return fetch;
}

}  // namespace budgeteer
