// A whole `budgeteer serve` stack in memory for the service fuzzers: a private in-memory SQLite
// ledger, the embedded price catalog, a fixed clock, the engine, token auth (admin token
// "fuzz-admin", viewer token "fuzz-viewer"), the Firehose ingest service (access key
// "fuzz-key") and the HTTP server with every route mounted. Header-only; not thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "engine/engine.h"
#include "fuzz/fuzz_check.h"
#include "pricing/catalog_file.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/ingest_service.h"
#include "server/metrics.h"
#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer::fuzz {

inline constexpr char kFirehoseKey[] = "fuzz-key";

class Service {
 public:
  // Limits small enough for the fuzzers to reach (body size, records per delivery).
  static ParseLimits Limits() {
    ParseLimits limits;
    limits.max_line_bytes = 4096;
    limits.max_document_bytes = 64 << 10;
    limits.max_decompressed_bytes = 256 << 10;
    limits.max_records_per_envelope = 64;
    limits.max_json_depth = 16;
    return limits;
  }

  Service()
      : clock_(Timestamp::FromUnixSeconds(1'793'577'600)),  // 2026-11-02T00:00:00Z
        auth_({"fuzz-admin"}, {"fuzz-viewer"}) {
    auto catalog = LoadEmbeddedCatalog();
    if (!catalog.ok()) CheckFailed("LoadEmbeddedCatalog", __FILE__, __LINE__, "");
    catalog_ = std::make_unique<PriceCatalog>(std::move(*catalog));
    SqliteOptions sqlite;
    sqlite.cache_mib = 1;  // a big page cache costs ASan a large allocation per transaction
    auto store = OpenSqliteLedger(":memory:", sqlite);
    if (!store.ok()) CheckFailed("OpenSqliteLedger", __FILE__, __LINE__, store.status().message());
    store_ = std::move(*store);
    auto engine = Engine::Open(*store_, *catalog_, EngineOptions{}, clock_);
    if (!engine.ok()) CheckFailed("Engine::Open", __FILE__, __LINE__, engine.status().message());
    engine_ = std::move(*engine);
    ingest_ = std::make_unique<IngestService>(*engine_, engine_mu_, clock_, kFirehoseKey, Limits(),
                                              &metrics_);
    ServerLimits server_limits;
    server_limits.max_body_bytes = 128 << 10;
    server_limits.keep_alive_max_requests = 16;
    server_ = std::make_unique<HttpServer>(ServerDeps{*engine_, *store_, engine_mu_, clock_, auth_,
                                                      *ingest_, last_tick_ms_, Limits(), metrics_},
                                           server_limits);
    last_tick_ms_.store(clock_.Now().unix_millis());
  }

  IngestService& ingest() { return *ingest_; }
  size_t MetricsBytes() const { return metrics_.Render("").size(); }
  HttpServer& server() { return *server_; }

  // Money invariants over every principal: spend is never negative.
  void CheckBudgets() {
    std::lock_guard<std::mutex> lock(engine_mu_);
    auto budgets = engine_->ListBudgets();
    FUZZ_CHECK(budgets.ok(), budgets.status().message());
    for (const auto& view : *budgets) {
      FUZZ_CHECK(view.row.state.spent.nanos() >= 0, "negative spend: " + view.row.key.Qualified());
      FUZZ_CHECK(view.settings.limit.nanos() >= 0, "negative limit: " + view.row.key.Qualified());
    }
  }

 private:
  FixedClock clock_;
  TokenAuth auth_;
  std::unique_ptr<PriceCatalog> catalog_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<Engine> engine_;
  std::mutex engine_mu_;
  std::atomic<int64_t> last_tick_ms_{0};
  Metrics metrics_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace budgeteer::fuzz
