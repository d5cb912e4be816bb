#include "cli/app.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pricing/catalog_file.h"
#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer::cli {

namespace {

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("cannot read price catalog '" + path + "' (" + std::string(what) + ")");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The base catalog, in order of precedence: the configured pricing.catalog_file, the catalog
// `prices update` stored next to the ledger, the one built into the binary. A stored catalog
// that does not load is an error, never a silent fallback to older prices.
Result<PriceCatalog> LoadBaseCatalog(const Config& config, const std::string& db_path,
                                     std::string& origin) {
  if (!config.catalog_file.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadWholeFile(config.catalog_file, "pricing.catalog_file"));
    origin = "pricing.catalog_file " + config.catalog_file;
    return LoadCatalogToml(text, config.catalog_file);
  }
  const std::string updated = UpdatedCatalogPath(db_path);
  std::error_code ec;
  if (!db_path.empty() && std::filesystem::exists(updated, ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadWholeFile(updated, "stored by prices update"));
    origin = "prices update " + updated;
    return LoadCatalogToml(text, updated);
  }
  origin = "built-in";
  return LoadEmbeddedCatalog();
}

Result<PriceCatalog> ApplyConfigOverrides(PriceCatalog catalog, const Config& config) {
  for (const PriceOverride& o : config.price_overrides) {
    ModelPrice price;
    const NormalizedModel normalized = NormalizeModelId(o.model);
    if (const ModelPrice* existing = catalog.Find(normalized.canonical)) {
      price = *existing;
    } else {
      price.id = normalized.canonical.str();
      price.name = o.model;
      if (!o.input || !o.output) {
        return InvalidArgument("pricing.overrides.\"" + o.model +
                               "\": a model missing from the catalog needs input and output");
      }
    }
    if (o.input) price.input = *o.input;
    if (o.output) price.output = *o.output;
    if (o.cache_read) price.cache_read = *o.cache_read;
    if (o.cache_write) price.cache_write = *o.cache_write;
    price.source = "config override (pricing.overrides)";
    RETURN_IF_ERROR(catalog.Override(price));
  }
  return catalog;
}

std::string ActorName() {
  const char* user = std::getenv("USER");  // NOLINT(concurrency-mt-unsafe)
  return std::string("cli:") + (user != nullptr && *user != '\0' ? user : "unknown");
}

}  // namespace

std::string UpdatedCatalogPath(const std::string& db_path) { return db_path + ".prices.toml"; }

std::string WatchedCatalogPath(const Config& config, const std::string& db_path) {
  return config.catalog_file.empty() ? UpdatedCatalogPath(db_path) : config.catalog_file;
}

Result<PriceCatalog> LoadActiveCatalog(const Config& config, const std::string& db_path,
                                       std::string& origin) {
  ASSIGN_OR_RETURN(PriceCatalog base, LoadBaseCatalog(config, db_path, origin));
  return ApplyConfigOverrides(std::move(base), config);
}

Result<std::unique_ptr<App>> BuildApp(const GlobalOptions& options, bool with_ledger) {
  auto app = std::make_unique<App>();
  ASSIGN_OR_RETURN(app->config, LoadConfig(options.config_file, ProcessEnv()));
  if (options.now.empty()) {
    app->clock = std::make_unique<SystemClock>();
  } else {
    auto now = Timestamp::Parse(options.now);
    if (!now.ok()) return now.status().WithContext("--now");
    app->clock = std::make_unique<FixedClock>(*now);
  }
  app->db_path = options.db;
  if (app->db_path.empty()) {
    const char* env = std::getenv("BUDGETEER_DB");  // NOLINT(concurrency-mt-unsafe)
    if (env != nullptr && *env != '\0') app->db_path = env;
  }
  if (app->db_path.empty()) app->db_path = app->config.ledger_path;
  if (app->db_path.empty()) app->db_path = "./budgeteer.db";
  ASSIGN_OR_RETURN(app->base_catalog,
                   LoadBaseCatalog(app->config, app->db_path, app->catalog_origin));
  ASSIGN_OR_RETURN(app->catalog, ApplyConfigOverrides(app->base_catalog, app->config));
  app->actor = ActorName();
  if (!with_ledger) return app;

  SqliteOptions sqlite;
  sqlite.synchronous_full = app->config.ledger_synchronous_full;
  sqlite.cache_mib = static_cast<int>(app->config.ledger_cache_mib);
  ASSIGN_OR_RETURN(app->store, OpenSqliteLedger(app->db_path, sqlite));

  EngineOptions engine;
  engine.defaults = app->config.defaults;
  engine.identity = app->config.identity;
  engine.dedup_window_seconds = app->config.dedup_window_hours * 3600;
  engine.max_future_skew_seconds = app->config.max_future_skew_seconds;
  if (app->config.unknown_input_per_million || app->config.unknown_output_per_million) {
    UnknownModelRule rule = UnknownModelRule::FromCatalog(app->catalog);
    if (app->config.unknown_input_per_million) rule.input = *app->config.unknown_input_per_million;
    if (app->config.unknown_output_per_million) {
      rule.output = *app->config.unknown_output_per_million;
    }
    engine.unknown_model = rule;
  }
  ASSIGN_OR_RETURN(app->engine, Engine::Open(*app->store, app->catalog, engine, *app->clock));
  return app;
}

}  // namespace budgeteer::cli
