// The price catalog as a TOML file: loading data/prices/bedrock-prices.toml (embedded in the
// binary at build time) and applying per-model overrides (negotiated prices) from config.
//
// File format (all prices are exact decimal strings, never TOML floats):
//
//   schema_version = 1
//   version = "2025.12.0"            # catalog version
//   effective_date = "2025-12-01"    # the date the prices describe
//   currency = "USD"                 # only USD
//   unit = "per 1M tokens"           # token rates per 1M tokens (per-1K figures are rejected)
//   region = "us-east-1"             # optional: the region the prices were read for
//   source = "https://aws.amazon.com/bedrock/pricing/"
//   notes = "..."                    # optional
//
//   [[model]]
//   id = "anthropic.claude-3-haiku-20240307-v1"   # canonical: no geo prefix, no ":0"
//   name = "Claude 3 Haiku"
//   provider = "Anthropic"
//   aliases = ["..."]                 # optional: other canonical ids priced the same
//   input = "0.25"                    # USD per 1M input tokens        (required)
//   output = "1.25"                   # USD per 1M output tokens       (required)
//   cache_read = "0.03"               # optional: absent = no prompt caching
//   cache_write = "0.30"              # optional
//   per_image = "0.00006"             # optional: USD per image
//   per_video_second = "0.08"         # optional: USD per generated video second
//   batch_discount_percent = 50       # optional, default 0 (no batch offering)
//   geo_premium_percent = 10          # optional, default 0 (in-region/geo over global.)
//   long_context_threshold = 200000   # optional, with long_context_input/_output and
//   long_context_input = "6"          #   optional long_context_cache_read/_cache_write
//   source = "https://aws.amazon.com/bedrock/pricing/"
//   source_date = "2025-12-01"        # the date the figure was taken
//   note = "..."                      # optional, free text
//
// Any other key is an error. Error messages name the origin, the model, the key and the problem.
// Functions here are pure (text in, values out); thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "pricing/pricing.h"

namespace budgeteer {

// Parses and validates a whole catalog.
Result<PriceCatalog> LoadCatalogToml(std::string_view text, std::string_view origin);

// The bundled data/prices/bedrock-prices.toml, as compiled into the binary.
std::string_view EmbeddedCatalogToml();
// LoadCatalogToml(EmbeddedCatalogToml(), ...). Fails only if the bundled file is broken (a
// build-time test guards against that).
Result<PriceCatalog> LoadEmbeddedCatalog();

// Applies per-model overrides written as [[model]] entries of the same format. An entry whose
// id is already in the catalog needs only the keys it changes (the rest are kept); an entry for
// a new id needs at least `input` and `output`. An overridden or added model's `source` becomes
// `origin`; its `source_date` is the entry's own when given, else the one it had, else (a new
// id) the catalog's effective_date, so CatalogToToml of the result loads again. All-or-nothing:
// on error the catalog is unchanged.
Status ApplyOverridesToml(PriceCatalog& catalog, std::string_view text, std::string_view origin);

// Writes a catalog in the format above, so that LoadCatalogToml reads back the same catalog
// (per-model `note`s are not kept in a PriceCatalog and are not written). `region` and
// `notes` fill the optional top-level keys (omitted when empty).
std::string CatalogToToml(const PriceCatalog& catalog, std::string_view region,
                          std::string_view notes);

}  // namespace budgeteer
