#include "server/ingest_service.h"

#include <chrono>
#include <vector>

#include "util/constant_time.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

// Collects a delivery's records; rejections are counted (Firehose cannot report them per
// record, so they are logged by the caller and the good records applied).
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
  std::string inflated;
  std::string_view body = request.body;
  const bool gzip_magic = body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
                          static_cast<unsigned char>(body[1]) == 0x8b;
  // The HTTP layer may already have inflated a gzip body; inflate only what is still gzip.
  if (request.content_encoding == "gzip" && gzip_magic) {
    auto out = GunzipAll(body, limits_.max_document_bytes);
    if (!out.ok()) {
      const int status = out.status().code() == Code::kResourceExhausted ? 413 : 400;
      return FirehoseError(status, request.request_id_header,
                           "cannot inflate the gzip body: " + out.status().message());
    }
    inflated = std::move(*out);
    body = inflated;
  } else if (!request.content_encoding.empty() && request.content_encoding != "identity" &&
             request.content_encoding != "gzip") {
    return FirehoseError(400, request.request_id_header,
                         "unsupported Content-Encoding '" + std::string(request.content_encoding) +
                             "' (gzip or none)");
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
  {
    std::lock_guard<std::mutex> lock(engine_mu_);
    auto outcome = engine_.ApplyBatch(sink.records, "firehose");
    if (!outcome.ok()) {
      // Not acknowledged: Firehose retries the delivery, and de-duplication makes that safe.
      return FirehoseError(outcome.status().retryable() ? 503 : 500, delivery->request_id,
                           outcome.status().message());
    }
    if (metrics_ != nullptr) {
      metrics_->ObserveDecision(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count());
      metrics_->CountRecords(
          "firehose", outcome->applied, outcome->duplicates,
          static_cast<int64_t>(sink.rejections.size() + outcome->rejected.size()));
    }
  }
  JsonWriter w;
  w.BeginObject()
      .Field("requestId", delivery->request_id)
      .Field("timestamp", clock_.Now().unix_millis())
      .EndObject();
  return HttpReply{200, w.Take()};
}

}  // namespace budgeteer
