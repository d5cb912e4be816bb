// IngestService: the HTTP ingest endpoints' logic without HTTP — the Amazon Data Firehose
// HTTP-endpoint delivery contract and our canonical /v1/usage — so it can be tested directly.
// Thread-safe: parsing runs on the caller's thread; the engine is used under `engine_mu`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

// Group commit: concurrent deliveries are applied together in one ledger transaction (one
// fsync) by whichever request finds no commit in progress (the leader); the others wait until
// the transaction that holds their records has committed. Each caller learns the fate of its
// own records. Thread-safe.
class GroupCommit {
 public:
  GroupCommit(Engine& engine, std::mutex& engine_mu, size_t max_records = 20'000)
      : engine_(engine), engine_mu_(engine_mu), max_records_(max_records) {}

  struct Outcome {
    Status status;        // of the transaction that held the records
    int64_t applied = 0;  // of this caller's records
    int64_t duplicates = 0;
    int64_t rejected = 0;
    int64_t deferred = 0;  // over the new-principal cap: not applied, to be sent again
  };
  Outcome Apply(std::vector<UsageRecord> records, const std::string& source);

 private:
  struct Slot {
    std::vector<UsageRecord> records;
    Outcome outcome;
    bool done = false;
  };
  void Lead(std::unique_lock<std::mutex>& lock, const std::string& source);

  Engine& engine_;
  std::mutex& engine_mu_;
  const size_t max_records_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Slot>> pending_;
  bool leading_ = false;
};

class IngestService {
 public:
  // `access_key` empty disables the Firehose endpoint (every delivery is refused).
  IngestService(Engine& engine, std::mutex& engine_mu, const Clock& clock, std::string access_key,
                ParseLimits limits, Metrics* metrics = nullptr)
      : clock_(clock),
        access_key_(std::move(access_key)),
        limits_(limits),
        metrics_(metrics),
        group_(engine, engine_mu) {}

  // Firehose contract: 200 with exactly {"requestId":<same>,"timestamp":<ms>} once the batch is
  // durably applied; 401 for a wrong key; 400 for a body that is not a delivery; 413 when the
  // inflated body exceeds the limit; 503 (retryable) when the ledger is unavailable; 429
  // (retryable) when some records would create more new principals than
  // identity.max_new_principals_per_minute allows (the delivery's other records are applied,
  // and the retry applies the rest once the minute has passed). Errors carry "errorMessage". A
  // redelivery is applied once (records are de-duplicated).
  HttpReply Firehose(const FirehoseRequest& request);
  // The 413 reply for a delivery larger than server.max_body_bytes on the wire, or than
  // ingest.max_document_bytes once inflated (checked while it is read).
  HttpReply TooLarge(std::string_view request_id_header);
  // The 400 reply for a body that could not be read (cut short, or broken gzip).
  HttpReply Unreadable(std::string_view request_id_header);

 private:
  HttpReply FirehoseError(int status, std::string_view request_id, const std::string& message);

  const Clock& clock_;
  const std::string access_key_;
  const ParseLimits limits_;
  Metrics* metrics_;
  GroupCommit group_;
  std::atomic<int64_t> deferral_logged_ms_{0};   // when a deferral was last logged
  std::atomic<int64_t> rejection_logged_ms_{0};  // when a rejected record was last logged
};

}  // namespace budgeteer
