// HttpServer: `budgeteer serve`'s one HTTP server (cpp-httplib, Debian's libcpp-httplib):
// the Firehose ingest endpoint, the budgets REST API with bearer-token roles, and /healthz,
// /readyz. Handlers run on the library's worker threads; every use of the engine and the
// ledger goes through one mutex (the engine and the SQLite connection are single-threaded).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "engine/engine.h"
#include "formats/input.h"
#include "server/auth.h"
#include "server/ingest_service.h"
#include "server/metrics.h"
#include "store/ledger.h"

namespace budgeteer {

struct ServerLimits {
  size_t max_body_bytes = size_t{64} << 20;  // a larger request gets 413
  // The request line and headers together; more gets 400. They must also arrive within
  // read_timeout_seconds of the request's first byte (GuardedServer).
  size_t max_header_bytes = size_t{64} << 10;
  int body_timeout_seconds = 300;  // a body must arrive within this after its headers
  int read_timeout_seconds = 30;   // a slow client is cut off after this
  int write_timeout_seconds = 30;
  int keep_alive_seconds = 30;
  int keep_alive_max_requests = 1000;
  // Connections served at once, one thread each; more queue. Clients that stall within the
  // timeouts can hold them all until they are cut off, so this bounds that denial.
  size_t worker_threads = 32;
};

struct ServerDeps {
  Engine& engine;
  LedgerStore& store;
  std::mutex& engine_mu;  // guards engine and store
  const Clock& clock;
  const TokenAuth& auth;
  IngestService& ingest;
  // Set by the scheduler after each tick; /readyz fails when it is older than a few seconds.
  const std::atomic<int64_t>& last_tick_ms;
  ParseLimits limits;  // for POST /v1/usage
  Metrics& metrics;
};

class HttpServer {
 public:
  HttpServer(ServerDeps deps, ServerLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "host:port" (port 0 picks a free one). Returns the bound port.
  Result<int> Bind(const std::string& listen);
  // Origins allowed to call the API cross-origin (server.cors_origins); call before Run().
  void SetCorsOrigins(std::vector<std::string> origins);
  // Serves until Stop() (blocking).
  void Run();
  // Stops accepting; in-flight requests finish. Thread-safe.
  void Stop();

  // Serves `request_bytes` as if they arrived on one connection (keep-alive: request after
  // request until the bytes run out or the connection would close) and returns the bytes the
  // server wrote back. No socket and no thread: for the HTTP fuzzer (fuzz/) and tests.
  std::string ServeBytes(std::string_view request_bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace budgeteer
