#include "server/ingest_service.h"

#include <chrono>
#include <iostream>
#include <vector>

#include "server/body_encoding.h"
#include "util/constant_time.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

// Collects a delivery's records and its rejections (Firehose cannot be told about a record, so
// the good records are applied and the rejections counted and logged).
class CollectingSink final : public RecordSink {
 public:
  void OnRecord(UsageRecord&& record, const Location&) override {
    records.push_back(std::move(record));
  }
  void OnReject(const Location& where, std::string reason) override {
    rejections.push_back(where.ToString() + ": " + reason);
  }
  std::vector<UsageRecord> records;
  std::vector<std::string> rejections;
};

}  // namespace

GroupCommit::Outcome GroupCommit::Apply(std::vector<UsageRecord> records,
                                        const std::string& source) {
  auto slot = std::make_shared<Slot>();
  slot->records = std::move(records);
  std::unique_lock<std::mutex> lock(mu_);
  pending_.push_back(slot);
  while (!slot->done) {
    if (!leading_) {
      Lead(lock, source);
    } else {
      cv_.wait(lock);
    }
  }
  return slot->outcome;
}

void GroupCommit::Lead(std::unique_lock<std::mutex>& lock, const std::string& source) {
  leading_ = true;
  // Take the waiting deliveries, oldest first, up to the batch size (always at least one).
  std::vector<std::shared_ptr<Slot>> batch;
  size_t total = 0;
  size_t take = 0;
  while (take < pending_.size() &&
         (take == 0 || total + pending_[take]->records.size() <= max_records_)) {
    total += pending_[take]->records.size();
    ++take;
  }
  batch.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(take));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(take));
  lock.unlock();

  std::vector<UsageRecord> records;
  records.reserve(total);
  std::vector<size_t> ends;  // end offset of each slot's records
  for (const auto& s : batch) {
    for (UsageRecord& r : s->records) records.push_back(std::move(r));
    ends.push_back(records.size());
  }
  Result<BatchOutcome> outcome = Status(Code::kInternal, "not applied");
  {
    std::lock_guard<std::mutex> engine_lock(engine_mu_);
    outcome = engine_.ApplyBatch(records, source);
  }
  lock.lock();
  size_t begin = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    Outcome& o = batch[i]->outcome;
    o.status = outcome.ok() ? Status::Ok() : outcome.status();
    const int64_t count = static_cast<int64_t>(ends[i] - begin);
    if (outcome.ok()) {
      for (const BatchRejection& r : outcome->rejected) {
        if (r.index >= begin && r.index < ends[i]) ++o.rejected;
      }
      for (size_t d : outcome->duplicate_indices) {
        if (d >= begin && d < ends[i]) ++o.duplicates;
      }
      for (size_t d : outcome->deferred_indices) {
        if (d >= begin && d < ends[i]) ++o.deferred;
      }
      o.applied = count - o.rejected - o.duplicates - o.deferred;
    }
    batch[i]->done = true;
    begin = ends[i];
  }
  leading_ = false;
  cv_.notify_all();
}

HttpReply IngestService::FirehoseError(int status, std::string_view request_id,
                                       const std::string& message) {
  JsonWriter w;
  w.BeginObject()
      .Field("requestId", request_id)
      .Field("timestamp", clock_.Now().unix_millis())
      .Field("errorMessage", message)
      .EndObject();
  return HttpReply{status, w.Take()};
}

HttpReply IngestService::TooLarge(std::string_view request_id_header) {
  return FirehoseError(413, request_id_header,
                       "the delivery is larger than server.max_body_bytes, or than "
                       "ingest.max_document_bytes once inflated; send smaller batches or raise "
                       "the limit");
}

HttpReply IngestService::Unreadable(std::string_view request_id_header) {
  return FirehoseError(400, request_id_header,
                       "the delivery body could not be read (the connection ended or stalled "
                       "before the end of its Content-Length)");
}

HttpReply IngestService::Firehose(const FirehoseRequest& request) {
  const auto arrived = std::chrono::steady_clock::now();
  if (access_key_.empty()) {
    return FirehoseError(401, request.request_id_header,
                         "the Firehose endpoint is disabled: set ingest.firehose.access_key");
  }
  if (!ConstantTimeEquals(request.access_key, access_key_)) {
    return FirehoseError(401, request.request_id_header,
                         "missing or wrong X-Amz-Firehose-Access-Key");
  }
  // The body arrives as sent (GuardedServer::set_raw_body_paths) and is inflated here, where
  // a stream cut short is noticed. Such a body will never succeed: 400, and Firehose keeps it
  // for its error output once its retries are spent.
  std::string inflated;
  std::string_view body = request.body;
  if (!IsIdentityEncoding(request.content_encoding)) {
    auto decoded = DecodeBody(request.content_encoding, body, limits_.max_document_bytes);
    if (!decoded.ok()) {
      if (decoded.status().code() == Code::kResourceExhausted) {
        return TooLarge(request.request_id_header);
      }
      return FirehoseError(400, request.request_id_header, decoded.status().message());
    }
    inflated = std::move(*decoded);
    body = inflated;
  }
  if (body.size() > limits_.max_document_bytes) {
    return FirehoseError(413, request.request_id_header,
                         "the delivery is larger than ingest.max_document_bytes");
  }
  InputParser parser(limits_);
  CollectingSink sink;
  auto delivery = parser.ParseFirehose(body, "firehose", sink);
  if (!delivery.ok()) {
    return FirehoseError(400, request.request_id_header, delivery.status().message());
  }
  if (!sink.rejections.empty()) {
    // A record that cannot be read will not become readable when sent again: it is left out,
    // and the log names it (the first of the delivery; once every 10 s at most, so that a
    // stream of bad records cannot fill the disk through the log).
    const int64_t now_ms = clock_.Now().unix_millis();
    int64_t last = rejection_logged_ms_.load();
    if (now_ms - last >= 10'000 && rejection_logged_ms_.compare_exchange_strong(last, now_ms)) {
      std::cerr << "firehose: delivery " << delivery->request_id << ": rejected "
                << sink.rejections.size() << " (of " << sink.rejections.size() + sink.records.size()
                << " usage records read; see budgeteer_records_total{outcome=\"rejected\"}); "
                   "first: "
                << sink.rejections.front() << '\n';
    }
  }
  const GroupCommit::Outcome outcome = group_.Apply(std::move(sink.records), "firehose");
  if (!outcome.status.ok()) {
    // Not acknowledged: Firehose retries the delivery, and de-duplication makes that safe.
    return FirehoseError(outcome.status.retryable() ? 503 : 500, delivery->request_id,
                         outcome.status.message());
  }
  if (metrics_ != nullptr) {
    metrics_->ObserveDecision(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count());
    metrics_->CountRecords("firehose", outcome.applied, outcome.duplicates,
                           static_cast<int64_t>(sink.rejections.size()) + outcome.rejected);
    metrics_->CountDeferred("firehose", outcome.deferred);
  }
  if (outcome.deferred > 0) {
    const std::string message =
        std::to_string(outcome.deferred) +
        " records would create more new principals than identity.max_new_principals_per_minute "
        "allows; the delivery's other records were applied; send it again later";
    // Once a minute at most in the log: a flood must not fill the disk through the log either.
    const int64_t now_ms = clock_.Now().unix_millis();
    int64_t last = deferral_logged_ms_.load();
    if (now_ms - last >= 60'000 && deferral_logged_ms_.compare_exchange_strong(last, now_ms)) {
      std::cerr << "ingest: new-principal cap reached: " << message
                << " (429; see budgeteer_records_total{outcome=\"deferred\"})\n";
    }
    return FirehoseError(429, delivery->request_id, message);
  }
  JsonWriter w;
  w.BeginObject()
      .Field("requestId", delivery->request_id)
      .Field("timestamp", clock_.Now().unix_millis())
      .EndObject();
  return HttpReply{200, w.Take()};
}

}  // namespace budgeteer
