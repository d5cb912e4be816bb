// HttpPoster: POSTs a body to one fixed http(s) URL through libcurl, reusing one easy handle
// (and its connection) across calls, and classifies the outcome for the outbox: 2xx is OK; 429,
// 5xx and network failures or timeouts are retryable; other 4xx are permanent. A 429 or 503
// that carries a valid Retry-After passes it on as the Status's retry_after_ms. Messages name
// the URL only as scheme://host/… (the path and query may be secret, e.g. a Slack webhook).
// Not thread-safe: one call at a time (the dispatcher thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace budgeteer {

// "https://hooks.slack.com/services/T0/B0/secret" -> "https://hooks.slack.com/…"; user info,
// path, query and fragment are dropped.
std::string RedactUrl(std::string_view url);

// Initialises libcurl once per process (thread-safe; the first call wins).
void EnsureCurlInitialized();

struct HttpTimeouts {
  int64_t connect_ms = 2000;  // TCP (and TLS) connection
  int64_t total_ms = 5000;    // the whole exchange
};

class HttpPoster {
 public:
  // InvalidArgument when the URL is not http:// or https:// or a timeout is not positive.
  static Result<std::unique_ptr<HttpPoster>> Create(std::string url, HttpTimeouts timeouts);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // `headers` are full lines ("Content-Type: application/json"). `now` is the caller's clock,
  // against which a Retry-After given as an HTTP-date is turned into a wait.
  Status Post(const std::vector<std::string>& headers, std::string_view body, Timestamp now);

  const std::string& redacted_url() const { return redacted_url_; }

 private:
  HttpPoster(std::string url, HttpTimeouts timeouts, void* curl);

  std::string url_;
  std::string redacted_url_;
  HttpTimeouts timeouts_;
  void* curl_;  // CURL*
};

}  // namespace budgeteer
