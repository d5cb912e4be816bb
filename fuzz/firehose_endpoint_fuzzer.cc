// Fuzzes IngestService::Firehose, the Firehose HTTP endpoint's body handling (access key,
// Content-Encoding gzip, parse, group commit into the ledger), against an in-memory ledger.
// The first input byte picks the request's shape (right or wrong key, body gzipped by us, or
// declared gzip as is); the rest is the body. Invariants: only the statuses of the Firehose
// contract; 200 replies exactly {"requestId":<the body's>,"timestamp":<ms>}; a wrong key is 401
// whatever the body; spend is never negative.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "formats/input.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/service.h"
#include "util/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  if (size == 0) return 0;
  // A fresh ledger now and then, so state from earlier inputs cannot pile up for ever.
  static std::unique_ptr<fuzz::Service> service;
  static int runs = 0;
  if (!service || ++runs % 512 == 0) service = std::make_unique<fuzz::Service>();

  const uint8_t shape = data[0];
  const std::string_view raw = fuzz::AsText(data + 1, size - 1);
  std::string body(raw);
  FirehoseRequest request;
  request.access_key = (shape & 1) != 0 ? "wrong-key" : fuzz::kFirehoseKey;
  if ((shape & 2) != 0) {
    auto gz = Gzip(raw);
    FUZZ_CHECK(gz.ok(), gz.status().message());
    body = std::move(*gz);
    request.content_encoding = "gzip";
  } else if ((shape & 4) != 0) {
    request.content_encoding = "gzip";  // declared, maybe not true
  }
  request.request_id_header = (shape & 8) != 0 ? "hdr-id" : "";
  request.body = body;

  const HttpReply reply = service->ingest().Firehose(request);
  const int s = reply.status;
  FUZZ_CHECK(s == 200 || s == 400 || s == 401 || s == 413 || s == 429 || s == 503,
             std::to_string(s) + " " + reply.body);
  if ((shape & 1) != 0) FUZZ_CHECK(s == 401, std::to_string(s) + " with a wrong key");
  FUZZ_CHECK(!reply.body.empty() && reply.body.front() == '{' && reply.body.back() == '}',
             reply.body);
  if (s == 200) {
    FUZZ_CHECK(reply.body.rfind("{\"requestId\":\"", 0) == 0, reply.body);
    FUZZ_CHECK(reply.body.find("\"timestamp\":") != std::string::npos, reply.body);
    FUZZ_CHECK(reply.body.find("errorMessage") == std::string::npos, reply.body);
    InputParser parser(fuzz::Service::Limits());
    struct Null : RecordSink {
      void OnRecord(UsageRecord&&, const Location&) override {}
      void OnReject(const Location&, std::string) override {}
    } null;
    std::string plain = body;  // what the service parsed: inflated when declared and gzip
    if (request.content_encoding == "gzip" && plain.size() >= 2 &&
        static_cast<unsigned char>(plain[0]) == 0x1f &&
        static_cast<unsigned char>(plain[1]) == 0x8b) {
      auto inflated = GunzipAll(plain, fuzz::Service::Limits().max_document_bytes);
      FUZZ_CHECK(inflated.ok(), "200 for a body that does not inflate");
      plain = std::move(*inflated);
    }
    auto delivery = parser.ParseFirehose(plain, "check", null);
    FUZZ_CHECK(delivery.ok(), "200 for a body the parser refuses");
    std::string quoted;
    AppendJsonString(quoted, delivery->request_id);
    FUZZ_CHECK(reply.body.find("{\"requestId\":" + quoted + ",") == 0, reply.body);
  } else {
    FUZZ_CHECK(reply.body.find("errorMessage") != std::string::npos, reply.body);
  }
  service->CheckBudgets();
  return 0;
}
