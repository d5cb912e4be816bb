#include "pricing/offer_file.h"

#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace budgeteer {

namespace {

namespace od = simdjson::ondemand;

// What a row needs from its product, kept per SKU while the terms are read (the offer file
// does not promise that `products` comes before `terms`).
struct ProductInfo {
  std::string offer_code;
  std::string region_code;
  std::string model;  // model / titanModel / ...Model / modelName
  std::string service_name;
  std::string usage_type;
  std::string inference_type;
  std::string feature;
};

struct PendingRow {
  std::string sku;
  std::string unit;
  std::string price_usd;
  std::string description;
};

Status JsonError(std::string_view origin, std::string_view where, simdjson::error_code e) {
  return InvalidArgument(std::string(origin) + ": " + std::string(where) + ": " +
                         simdjson::error_message(e));
}

// The model attribute has several names across the offers ("model", "titanModel", ...).
bool IsModelAttribute(std::string_view key) {
  return key == "model" || key == "modelName" ||
         (key.size() > 5 && key.substr(key.size() - 5) == "Model");
}

simdjson::error_code ReadString(od::value v, std::string& out) {
  std::string_view s;
  const auto e = v.get_string().get(s);
  if (e == simdjson::SUCCESS) out.assign(s);
  return e;
}

simdjson::error_code ReadAttributes(od::object attributes, ProductInfo& info) {
  for (auto field : attributes) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return e;
    od::value v;
    if (const auto e = field.value().get(v)) return e;
    std::string* target = nullptr;
    if (key == "regionCode") target = &info.region_code;
    if (key == "servicename") target = &info.service_name;
    if (key == "servicecode") target = &info.offer_code;
    if (key == "usagetype") target = &info.usage_type;
    if (key == "inferenceType") target = &info.inference_type;
    if (key == "feature") target = &info.feature;
    if (IsModelAttribute(key) && info.model.empty()) target = &info.model;
    if (target == nullptr) continue;
    if (const auto e = ReadString(v, *target)) return e;
  }
  return simdjson::SUCCESS;
}

// {"sku": ..., "productFamily": ..., "attributes": {...}}
simdjson::error_code ReadProduct(od::object product, std::string& sku, ProductInfo& info) {
  for (auto field : product) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return e;
    if (key == "sku") {
      od::value v;
      if (const auto e = field.value().get(v)) return e;
      if (const auto e = ReadString(v, sku)) return e;
    } else if (key == "attributes") {
      od::object attributes;
      if (const auto e = field.value().get_object().get(attributes)) return e;
      if (const auto e = ReadAttributes(attributes, info)) return e;
    }
  }
  return simdjson::SUCCESS;
}

// {"priceDimensions": {"<rateCode>": {"unit", "pricePerUnit": {"USD"}, "description"}}, ...}
simdjson::error_code ReadOfferTerm(od::object term, const std::string& sku,
                                   std::vector<PendingRow>& out) {
  for (auto field : term) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return e;
    if (key != "priceDimensions") continue;
    od::object dimensions;
    if (const auto e = field.value().get_object().get(dimensions)) return e;
    for (auto dim_field : dimensions) {
      od::object dim;
      if (const auto e = dim_field.value().get_object().get(dim)) return e;
      PendingRow row;
      row.sku = sku;
      for (auto f : dim) {
        std::string_view k;
        if (const auto e = f.unescaped_key().get(k)) return e;
        od::value v;
        if (const auto e = f.value().get(v)) return e;
        if (k == "unit") {
          if (const auto e = ReadString(v, row.unit)) return e;
        } else if (k == "description") {
          if (const auto e = ReadString(v, row.description)) return e;
        } else if (k == "pricePerUnit") {
          od::object prices;
          if (const auto e = v.get_object().get(prices)) return e;
          for (auto p : prices) {
            std::string_view currency;
            if (const auto e = p.unescaped_key().get(currency)) return e;
            if (currency != "USD") continue;
            od::value pv;
            if (const auto e = p.value().get(pv)) return e;
            if (const auto e = ReadString(pv, row.price_usd)) return e;
          }
        }
      }
      out.push_back(std::move(row));
    }
  }
  return simdjson::SUCCESS;
}

// {"<offerTermCode or sku.offerTermCode>": {term}, ...}
simdjson::error_code ReadTermsOfSku(od::object terms, const std::string& sku,
                                    std::vector<PendingRow>& out) {
  for (auto field : terms) {
    od::object term;
    if (const auto e = field.value().get_object().get(term)) return e;
    if (const auto e = ReadOfferTerm(term, sku, out)) return e;
  }
  return simdjson::SUCCESS;
}

// The OnDemand member of a "terms" object; Reserved and other term types are not ours.
simdjson::error_code FindOnDemand(od::object terms, od::object& on_demand, bool& found) {
  found = false;
  for (auto field : terms) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return e;
    if (key != "OnDemand") continue;
    if (const auto e = field.value().get_object().get(on_demand)) return e;
    found = true;
    return simdjson::SUCCESS;
  }
  return simdjson::SUCCESS;
}

OfferRow MakeRow(const PendingRow& pending, const ProductInfo* product, std::string_view origin,
                 const std::string& offer_code, const std::string& publication_date) {
  OfferRow row;
  row.origin = std::string(origin);
  row.sku = pending.sku;
  row.unit = pending.unit;
  row.price_usd = pending.price_usd;
  row.description = pending.description;
  row.publication_date = publication_date;
  row.offer_code = offer_code;
  if (product != nullptr) {
    if (!product->offer_code.empty()) row.offer_code = product->offer_code;
    row.region_code = product->region_code;
    row.model = product->model.empty() ? product->service_name : product->model;
    row.usage_type = product->usage_type;
    row.inference_type = product->inference_type;
    row.feature = product->feature;
  }
  return row;
}

Result<std::vector<OfferRow>> ParsePadded(const simdjson::padded_string& json,
                                          std::string_view origin) {
  od::parser parser;
  od::document doc;
  if (const auto e = parser.iterate(json).get(doc)) return JsonError(origin, "not JSON", e);
  od::object top;
  if (const auto e = doc.get_object().get(top)) {
    return JsonError(origin, "not a JSON object", e);
  }
  std::string offer_code;
  std::string publication_date;
  std::unordered_map<std::string, ProductInfo> products;
  std::vector<PendingRow> pending;
  bool has_products = false;
  bool has_on_demand = false;
  for (auto field : top) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return JsonError(origin, "a key", e);
    if (key == "offerCode" || key == "publicationDate") {
      od::value v;
      std::string& target = key == "offerCode" ? offer_code : publication_date;
      if (const auto e = field.value().get(v)) return JsonError(origin, key, e);
      if (const auto e = ReadString(v, target)) return JsonError(origin, key, e);
    } else if (key == "products") {
      od::object all;
      if (const auto e = field.value().get_object().get(all)) {
        return JsonError(origin, "products", e);
      }
      for (auto entry : all) {
        od::object product;
        if (const auto e = entry.value().get_object().get(product)) {
          return JsonError(origin, "products", e);
        }
        std::string sku;
        ProductInfo info;
        if (const auto e = ReadProduct(product, sku, info)) {
          return JsonError(origin, "products", e);
        }
        products.emplace(std::move(sku), std::move(info));
        has_products = true;
      }
    } else if (key == "terms") {
      od::object terms;
      od::object on_demand;
      if (const auto e = field.value().get_object().get(terms)) {
        return JsonError(origin, "terms", e);
      }
      if (const auto e = FindOnDemand(terms, on_demand, has_on_demand)) {
        return JsonError(origin, "terms", e);
      }
      if (!has_on_demand) continue;
      for (auto by_sku : on_demand) {
        std::string_view sku;
        od::object sku_terms;
        if (const auto e = by_sku.unescaped_key().get(sku)) {
          return JsonError(origin, "terms.OnDemand", e);
        }
        if (const auto e = by_sku.value().get_object().get(sku_terms)) {
          return JsonError(origin, "terms.OnDemand", e);
        }
        if (const auto e = ReadTermsOfSku(sku_terms, std::string(sku), pending)) {
          return JsonError(origin, "terms.OnDemand", e);
        }
      }
    }
  }
  // simdjson 3.0 checks the structure while iterating; trailing content after the top-level
  // object is not looked at (the offer files are written by AWS, not typed by hand).
  if (!IsBedrockOfferCode(offer_code)) {
    return InvalidArgument(std::string(origin) + ": offerCode '" + offer_code +
                           "' is not a Bedrock offer (AmazonBedrock, "
                           "AmazonBedrockFoundationModels or AmazonBedrockService)");
  }
  if (!has_products) return InvalidArgument(std::string(origin) + ": the offer has no products");
  if (!has_on_demand || pending.empty()) {
    return InvalidArgument(std::string(origin) + ": the offer has no on-demand prices");
  }
  std::vector<OfferRow> rows;
  rows.reserve(pending.size());
  for (const PendingRow& p : pending) {
    const auto it = products.find(p.sku);
    rows.push_back(MakeRow(p, it == products.end() ? nullptr : &it->second, origin, offer_code,
                           publication_date));
  }
  return rows;
}

// One PriceList entry: {"product": {...}, "serviceCode", "terms": {"OnDemand": {...}},
// "publicationDate", ...}.
Status ParsePriceListItem(std::string_view item, std::string_view origin,
                          std::vector<OfferRow>& out) {
  const simdjson::padded_string json(item);
  od::parser parser;
  od::document doc;
  if (const auto e = parser.iterate(json).get(doc)) return JsonError(origin, "PriceList entry", e);
  od::object top;
  if (const auto e = doc.get_object().get(top)) return JsonError(origin, "PriceList entry", e);
  std::string sku;
  std::string service_code;
  std::string publication_date;
  ProductInfo info;
  std::vector<PendingRow> pending;
  bool has_product = false;
  for (auto field : top) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return JsonError(origin, "entry key", e);
    if (key == "serviceCode" || key == "publicationDate") {
      od::value v;
      if (const auto e = field.value().get(v)) return JsonError(origin, key, e);
      if (const auto e = ReadString(v, key == "serviceCode" ? service_code : publication_date)) {
        return JsonError(origin, key, e);
      }
    } else if (key == "product") {
      od::object product;
      if (const auto e = field.value().get_object().get(product)) {
        return JsonError(origin, "product", e);
      }
      if (const auto e = ReadProduct(product, sku, info)) return JsonError(origin, "product", e);
      has_product = true;
    } else if (key == "terms") {
      od::object terms;
      od::object on_demand;
      bool found = false;
      if (const auto e = field.value().get_object().get(terms)) {
        return JsonError(origin, "terms", e);
      }
      if (const auto e = FindOnDemand(terms, on_demand, found)) {
        return JsonError(origin, "terms", e);
      }
      if (found) {
        // Keyed "<sku>.<offerTermCode>" here; the SKU itself comes from the product.
        if (const auto e = ReadTermsOfSku(on_demand, std::string(), pending)) {
          return JsonError(origin, "terms.OnDemand", e);
        }
      }
    }
  }
  if (!has_product || sku.empty()) {
    return InvalidArgument(std::string(origin) + ": a PriceList entry without product.sku");
  }
  for (PendingRow& p : pending) {
    p.sku = sku;
    out.push_back(MakeRow(p, &info, origin, service_code, publication_date));
  }
  return Status::Ok();
}

}  // namespace

bool IsBedrockOfferCode(std::string_view code) {
  return code == "AmazonBedrock" || code == "AmazonBedrockFoundationModels" ||
         code == "AmazonBedrockService";
}

Result<std::vector<OfferRow>> ParseOfferFile(std::string_view json, std::string_view origin) {
  return ParsePadded(simdjson::padded_string(json), origin);
}

Result<std::vector<OfferRow>> ReadOfferFile(const std::string& path) {
  simdjson::padded_string json;
  if (const auto e = simdjson::padded_string::load(path).get(json)) {
    return NotFound("cannot read offer file '" + path + "': " + simdjson::error_message(e));
  }
  return ParsePadded(json, path);
}

Result<PriceListPage> ParseGetProductsReply(std::string_view json, std::string_view origin) {
  const simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (const auto e = parser.iterate(padded).get(doc)) return JsonError(origin, "not JSON", e);
  od::object top;
  if (const auto e = doc.get_object().get(top)) return JsonError(origin, "not an object", e);
  PriceListPage page;
  bool has_list = false;
  for (auto field : top) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key)) return JsonError(origin, "a key", e);
    if (key == "NextToken") {
      od::value v;
      if (const auto e = field.value().get(v)) return JsonError(origin, key, e);
      if (v.is_null()) continue;
      if (const auto e = ReadString(v, page.next_token)) return JsonError(origin, key, e);
    } else if (key == "PriceList") {
      od::array list;
      if (const auto e = field.value().get_array().get(list)) {
        return JsonError(origin, "PriceList", e);
      }
      has_list = true;
      for (auto entry : list) {
        std::string_view item;  // each entry is a JSON document inside a JSON string
        if (const auto e = entry.get_string().get(item)) {
          return JsonError(origin, "PriceList entry", e);
        }
        RETURN_IF_ERROR(ParsePriceListItem(item, origin, page.rows));
        ++page.products;
      }
    }
  }
  if (!has_list) return InvalidArgument(std::string(origin) + ": the reply has no PriceList");
  return page;
}

}  // namespace budgeteer
