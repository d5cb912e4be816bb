// `budgeteer prices update`: the AWS Price List (bulk offer files or GetProducts) turned into
// a new catalog version, stored next to the ledger. See docs/pricing.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/environment.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "pricing/catalog_file.h"
#include "pricing/offer_file.h"
#include "pricing/price_list_api.h"

namespace budgeteer::cli {

namespace {

std::vector<std::string> BedrockOfferCodes() {
  return {"AmazonBedrock", "AmazonBedrockFoundationModels", "AmazonBedrockService"};
}

Result<std::vector<OfferRow>> RowsFromFiles(const std::vector<std::string>& files) {
  std::vector<OfferRow> rows;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(std::vector<OfferRow> file_rows, ReadOfferFile(file));
    rows.insert(rows.end(), std::make_move_iterator(file_rows.begin()),
                std::make_move_iterator(file_rows.end()));
  }
  return rows;
}

// The composition of the Price List client: endpoint (AWS_ENDPOINT_URL_PRICING, the config
// file, or api.pricing.us-east-1.amazonaws.com) and the standard credential chain.
Result<std::vector<OfferRow>> RowsFromApi(const Clock& clock) {
  const aws::ProcessEnvironment env;
  ASSIGN_OR_RETURN(std::unique_ptr<aws::HttpTransport> transport, aws::MakeCurlTransport());
  const std::unique_ptr<aws::CredentialsProvider> credentials =
      aws::DefaultCredentialsChain(env, *transport, clock);
  ASSIGN_OR_RETURN(aws::Endpoint endpoint,
                   aws::ResolveEndpoint(kPricingService, kPricingApiRegion, env));
  aws::AwsClient client(kPricingService, endpoint, credentials.get(), *transport, clock);
  ASSIGN_OR_RETURN(PriceListFetch fetch, FetchPriceList(client, BedrockOfferCodes()));
  std::cout << "read " << fetch.products << " products in " << fetch.pages
            << " GetProducts pages from " << endpoint.scheme << "://" << endpoint.host << '\n';
  return std::move(fetch.rows);
}

// The new version is named after the newest publication among the rows, so two updates from
// the same Price List publication give the same version; the clock only when none says.
void NameVersion(const std::vector<OfferRow>& rows, const Clock& clock, UpdateOptions& options) {
  std::string newest;
  for (const OfferRow& r : rows) newest = std::max(newest, r.publication_date);
  if (newest.size() < 19) newest = clock.Now().ToRfc3339();
  options.effective_date = newest.substr(0, 10);
  std::string digits;
  for (const char c : newest.substr(0, 19)) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  options.version = "pricelist-" + digits;
}

Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Internal("cannot write '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  return Status::Ok();
}

void PrintUpdate(const CatalogUpdate& update, const PricesUpdateOptions& options) {
  std::cout << update.rows_total << " price rows: " << update.rows_used << " used, "
            << update.refused.size() << " refused, " << update.rows_other_region
            << " for other regions than " << options.region << ", " << update.rows_not_applicable
            << " not on-demand inference (provisioned throughput, other routing, ...); "
            << update.models_priced.size() << " of " << update.catalog.models().size()
            << " catalog models priced\n";
  if (update.changes.empty()) {
    std::cout << "no rate changed\n";
  } else {
    std::cout << update.changes.size() << " rates changed (USD per 1M tokens; per image/second):\n";
    Table t({"MODEL", "RATE", "OLD", "NEW"});
    for (const RateChange& c : update.changes) t.Add({c.model, c.rate, c.old_value, c.new_value});
    t.Print(std::cout);
  }
  if (!update.refused.empty()) {
    std::cout << update.refused.size() << " rows refused (their rates are left as they were):\n";
    Table t({"ORIGIN", "SKU", "PRODUCT", "REASON"});
    for (const RefusedRow& r : update.refused) t.Add({r.origin, r.sku, r.what, r.reason});
    t.Print(std::cout);
  }
}

}  // namespace

int RunPricesUpdate(App& app, const PricesUpdateOptions& options) {
  if (options.offer_files.empty() == !options.from_api) {
    return PrintError(InvalidArgument("prices update: give --offer-file FILE... or --from-api"));
  }
  if (!app.config.catalog_file.empty()) {
    // The configured file wins over a stored update, so storing one would change nothing.
    return PrintError(FailedPrecondition(
        "pricing.catalog_file is set ('" + app.config.catalog_file +
        "'): that file is the catalog; edit it, or unset it to use `prices update`"));
  }
  Result<std::vector<OfferRow>> rows =
      options.from_api ? RowsFromApi(*app.clock) : RowsFromFiles(options.offer_files);
  if (!rows.ok()) return PrintError(rows.status().WithContext("prices update"));

  UpdateOptions update_options;
  update_options.region = options.region;
  update_options.min_coverage_percent = options.partial ? 0 : 50;
  NameVersion(*rows, *app.clock, update_options);
  update_options.source = options.from_api ? "AWS Price List Query API (GetProducts)"
                                           : "AWS Price List bulk offer files";
  Result<CatalogUpdate> update = UpdateCatalogFromOffers(app.base_catalog, *rows, update_options);
  if (!update.ok()) return PrintError(update.status().WithContext("prices update"));
  PrintUpdate(*update, options);

  for (const PriceOverride& o : app.config.price_overrides) {
    std::cout << "pricing.overrides." << o.model << " still applies on top of the new catalog\n";
  }
  if (options.dry_run) {
    std::cout << "dry run: nothing stored (catalog " << app.base_catalog.version() << " stays)\n";
    return 0;
  }
  const std::string path = UpdatedCatalogPath(app.db_path);
  const std::string notes = "Written by `budgeteer prices update` from " + update_options.source +
                            ", region " + options.region + ", replacing catalog " +
                            app.base_catalog.version() + " (" + app.catalog_origin + ").";
  const Status written =
      WriteAtomically(path, CatalogToToml(update->catalog, options.region, notes));
  if (!written.ok()) return PrintError(written.WithContext("prices update"));
  std::cout << "stored catalog " << update->catalog.version() << " (effective "
            << update->catalog.effective_date() << ") in " << path
            << "; the CLI uses it now, `budgeteer serve` from its next start\n";
  return 0;
}

}  // namespace budgeteer::cli
