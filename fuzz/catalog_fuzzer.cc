// Fuzzes the price catalog's TOML (pricing.catalog_file, <ledger>.prices.toml written by
// `prices update`, [pricing.overrides]): LoadCatalogToml, then ApplyOverridesToml of the same
// text onto the bundled catalog. Invariants: an accepted catalog written with CatalogToToml
// reads back to the same TOML; overrides are all-or-nothing (a refused override leaves the
// catalog as it was), and an overridden catalog written with CatalogToToml reads back too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "pricing/catalog_file.h"
#include "pricing/pricing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  static const PriceCatalog* const bundled = [] {
    auto loaded = LoadEmbeddedCatalog();
    if (!loaded.ok()) fuzz::CheckFailed("LoadEmbeddedCatalog", __FILE__, __LINE__, "");
    return new PriceCatalog(std::move(*loaded));
  }();
  static const std::string bundled_toml = CatalogToToml(*bundled, "", "");
  const std::string_view text = fuzz::AsText(data, size);

  auto catalog = LoadCatalogToml(text, "fuzz.toml");
  if (catalog.ok()) {
    const std::string toml = CatalogToToml(*catalog, "us-east-1", "fuzz");
    auto reread = LoadCatalogToml(toml, "written.toml");
    FUZZ_CHECK(reread.ok(), reread.status().message() + "\n" + toml);
    FUZZ_CHECK(CatalogToToml(*reread, "us-east-1", "fuzz") == toml, toml);
  } else {
    FUZZ_CHECK(!catalog.status().message().empty(), "an error without a message");
  }

  PriceCatalog copy = *bundled;
  const Status applied = ApplyOverridesToml(copy, text, "overrides.toml");
  if (!applied.ok()) {
    FUZZ_CHECK(CatalogToToml(copy, "", "") == bundled_toml,
               "a refused override changed the catalog");
  } else {
    const std::string toml = CatalogToToml(copy, "", "");
    auto reread = LoadCatalogToml(toml, "overridden.toml");
    FUZZ_CHECK(reread.ok(), reread.status().message() + "\n" + toml);
    FUZZ_CHECK(CatalogToToml(*reread, "", "") == toml, toml);
  }
  return 0;
}
