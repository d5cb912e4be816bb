// The HTTP request/response values every AWS call is made of, and the transport port that sends
// them. CurlTransport is the real adapter (libcurl); tests script their own transport or run
// against a real emulator. A transport never retries: retrying is the caller's decision, made
// from the Status's `retryable` flag. CurlTransport is not thread-safe (one call at a time);
// make one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace budgeteer::aws {

using Header = std::pair<std::string, std::string>;
using QueryParam = std::pair<std::string, std::string>;

struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";
  // The authority the Host header carries: "iam.amazonaws.com" or "127.0.0.1:5000".
  std::string host;
  // The path as it goes on the wire, already percent-encoded (see EncodePathSegment).
  std::string path = "/";
  // Decoded names and values; encoded once, the same way, for the wire and for signing.
  std::vector<QueryParam> query;
  std::vector<Header> headers;
  std::string body;
};

struct HttpResponse {
  int64_t status = 0;
  std::vector<Header> headers;  // names as received
  std::string body;

  // The first header with this name, compared case-insensitively.
  std::optional<std::string_view> FindHeader(std::string_view name) const;
};

struct HttpTimeouts {
  int64_t connect_ms = 3000;  // TCP (and TLS) connection
  int64_t total_ms = 10000;   // the whole exchange
};

// "%"-encodes everything but the unreserved characters (A-Z a-z 0-9 - _ . ~), as SigV4 and
// S3 require; `keep_slash` leaves '/' alone (object keys, paths).
std::string UriEncode(std::string_view text, bool keep_slash);
// The query string as sent: name=value pairs, encoded, in the given order.
std::string EncodeQuery(const std::vector<QueryParam>& query);
// scheme://host/path?query. Holds whatever the query holds (a presigned URL's signature).
std::string RequestUrl(const HttpRequest& request);
// scheme://host/path without the query, for messages: a query may carry a signature or a
// session token, so errors never show it.
std::string RedactedUrl(const HttpRequest& request);

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // OK with the response for any HTTP status (classifying 4xx/5xx is the caller's job);
  // Unavailable (retryable) for network failures and timeouts.
  virtual Result<HttpResponse> Send(const HttpRequest& request, const HttpTimeouts& timeouts) = 0;
};

// `max_response_bytes` bounds what a reply may hold (a larger one is an error, not truncated).
Result<std::unique_ptr<HttpTransport>> MakeCurlTransport(size_t max_response_bytes = 64u << 20);

}  // namespace budgeteer::aws
