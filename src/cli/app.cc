#include "cli/app.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pricing/catalog_file.h"
#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer::cli {

namespace {

Result<PriceCatalog> LoadCatalog(const Config& config) {
  PriceCatalog catalog;
  if (config.catalog_file.empty()) {
    ASSIGN_OR_RETURN(catalog, LoadEmbeddedCatalog());
  } else {
    std::ifstream in(config.catalog_file, std::ios::binary);
    if (!in) {
      return InvalidArgument("cannot read price catalog '" + config.catalog_file +
                             "' (pricing.catalog_file)");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    ASSIGN_OR_RETURN(catalog, LoadCatalogToml(ss.str(), config.catalog_file));
  }
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
  ASSIGN_OR_RETURN(app->catalog, LoadCatalog(app->config));
  app->actor = ActorName();
  if (!with_ledger) return app;

  app->db_path = options.db;
  if (app->db_path.empty()) {
    const char* env = std::getenv("BUDGETEER_DB");  // NOLINT(concurrency-mt-unsafe)
    if (env != nullptr && *env != '\0') app->db_path = env;
  }
  if (app->db_path.empty()) app->db_path = app->config.ledger_path;
  if (app->db_path.empty()) app->db_path = "./budgeteer.db";

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
