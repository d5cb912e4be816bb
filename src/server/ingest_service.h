// IngestService: the HTTP ingest endpoints' logic without HTTP — the Amazon Data Firehose
// HTTP-endpoint delivery contract and our canonical /v1/usage — so it can be tested directly.
// Thread-safe: parsing runs on the caller's thread; the engine is used under `engine_mu`.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "engine/engine.h"
#include "formats/input.h"
#include "server/metrics.h"

namespace budgeteer {

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
  std::string content_type = "application/json";
};

struct FirehoseRequest {
  std::string_view access_key;         // X-Amz-Firehose-Access-Key
  std::string_view content_encoding;   // Content-Encoding ("gzip" or empty)
  std::string_view request_id_header;  // X-Amz-Firehose-Request-Id (optional)
  std::string_view body;
};

class IngestService {
 public:
  // `access_key` empty disables the Firehose endpoint (every delivery is refused).
  IngestService(Engine& engine, std::mutex& engine_mu, const Clock& clock, std::string access_key,
                ParseLimits limits, Metrics* metrics = nullptr)
      : engine_(engine),
        engine_mu_(engine_mu),
        clock_(clock),
        access_key_(std::move(access_key)),
        limits_(limits),
        metrics_(metrics) {}

  // Firehose contract: 200 with exactly {"requestId":<same>,"timestamp":<ms>} once the batch is
  // durably applied; 401 for a wrong key; 400 for a body that is not a delivery; 413 when the
  // inflated body exceeds the limit; 503 (retryable) when the ledger is unavailable. Errors
  // carry "errorMessage". A redelivery is applied once (records are de-duplicated).
  HttpReply Firehose(const FirehoseRequest& request);

 private:
  HttpReply FirehoseError(int status, std::string_view request_id, const std::string& message);

  Engine& engine_;
  std::mutex& engine_mu_;
  const Clock& clock_;
  const std::string access_key_;
  const ParseLimits limits_;
  Metrics* metrics_;
};

}  // namespace budgeteer
