// Fuzzes `budgeteer serve`'s request path: raw bytes of one HTTP connection (request line,
// headers, body; keep-alive, so several requests) go through cpp-httplib's request parser into
// our routes (REST API, Firehose ingest, /v1/usage, dashboard, metrics, health) mounted on an
// in-memory ledger, via HttpServer::ServeBytes (no socket). Invariants: every reply is a well-
// formed HTTP/1.1 status line; no handler lets an exception escape (httplib would turn it into
// a 500 with an EXCEPTION_WHAT header) and no reply is 500; a reply without a valid token to a
// mutating route is 401 or 403; spend is never negative; /metrics stays bounded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "fuzz/service.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  static std::unique_ptr<fuzz::Service> service;
  static int runs = 0;
  if (!service || ++runs % 512 == 0) service = std::make_unique<fuzz::Service>();

  const std::string_view request = fuzz::AsText(data, size);
  const std::string reply = service->server().ServeBytes(request);
  FUZZ_CHECK(reply.find("\r\nEXCEPTION_WHAT:") == std::string::npos, reply.substr(0, 2000));
  // Every reply starts with a status line; a 500 means a handler failed.
  size_t pos = 0;
  while (pos < reply.size()) {
    FUZZ_CHECK(reply.compare(pos, 9, "HTTP/1.1 ") == 0, reply.substr(pos, 200));
    FUZZ_CHECK(reply.compare(pos + 9, 3, "500") != 0, reply.substr(pos, 2000));
    const size_t next = reply.find("\r\nHTTP/1.1 ", pos + 1);
    if (next == std::string::npos) break;
    pos = next + 2;
  }
  // Without any token, nothing can change: no mutating request may succeed.
  if (request.find("fuzz-admin") == std::string_view::npos &&
      request.find("fuzz-key") == std::string_view::npos) {
    for (std::string_view method : {"POST ", "PATCH ", "PUT ", "DELETE "}) {
      if (request.rfind(method, 0) == 0) {
        FUZZ_CHECK(reply.rfind("HTTP/1.1 2", 0) != 0, reply.substr(0, 2000));
      }
    }
  }
  service->CheckBudgets();
  // /metrics stays small whatever clients send (labels come from a fixed set).
  FUZZ_CHECK(service->MetricsBytes() < size_t{512} * 1024, "/metrics keeps growing");
  return 0;
}
