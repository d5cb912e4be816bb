// Fuzzes the AWS Price List readers: bulk offer files (ParseOfferFile) and GetProducts replies
// (ParseGetProductsReply); the first byte picks which. Accepted rows then go through the pure
// catalog update against the bundled catalog. Invariants: errors are InvalidArgument; a price
// that DecimalToNanos accepts is never negative; an updated catalog passes the catalog's own
// validation and re-reads identically from its TOML.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "pricing/catalog_file.h"
#include "pricing/offer_file.h"
#include "pricing/offer_update.h"
#include "pricing/pricing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  if (size == 0) return 0;
  static const PriceCatalog* const catalog = [] {
    auto loaded = LoadEmbeddedCatalog();
    if (!loaded.ok()) fuzz::CheckFailed("LoadEmbeddedCatalog", __FILE__, __LINE__, "");
    return new PriceCatalog(std::move(*loaded));
  }();
  const std::string_view json = fuzz::AsText(data + 1, size - 1);

  std::vector<OfferRow> rows;
  if ((data[0] & 1) == 0) {
    auto parsed = ParseOfferFile(json, "fuzz.json");
    if (!parsed.ok()) {
      FUZZ_CHECK(parsed.status().code() == Code::kInvalidArgument, parsed.status().message());
      return 0;
    }
    rows = std::move(*parsed);
  } else {
    auto page = ParseGetProductsReply(json, "fuzz page");
    if (!page.ok()) {
      FUZZ_CHECK(page.status().code() == Code::kInvalidArgument, page.status().message());
      return 0;
    }
    rows = std::move(page->rows);
  }
  for (const OfferRow& row : rows) {
    // row.offer_code is the product's servicecode when it has one (any text): not checked.
    auto nanos = DecimalToNanos(row.price_usd, 1000);
    if (nanos.ok()) FUZZ_CHECK(*nanos >= 0, row.price_usd);
  }
  UpdateOptions options;
  options.version = "fuzz";
  options.effective_date = "2026-11-01";
  options.source = "fuzz";
  options.min_coverage_percent = 0;
  auto update = UpdateCatalogFromOffers(*catalog, rows, options);
  if (!update.ok()) return 0;
  FUZZ_CHECK(update->rows_used <= update->rows_total, "more rows used than read");
  const std::string toml = CatalogToToml(update->catalog, "us-east-1", "fuzz");
  auto reread = LoadCatalogToml(toml, "fuzz.toml");
  FUZZ_CHECK(reread.ok(), reread.status().message() + "\n" + toml);
  FUZZ_CHECK(CatalogToToml(*reread, "us-east-1", "fuzz") == toml, toml);
  return 0;
}
