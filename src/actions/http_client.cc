#include "actions/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "actions/payload.h"
#include "core/retry_after.h"

namespace budgeteer {

namespace {

constexpr size_t kMaxResponseBytes = 4096;
constexpr size_t kMaxSnippet = 200;

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (out->size() < kMaxResponseBytes)
    out->append(data, std::min(n, kMaxResponseBytes - out->size()));
  return n;
}

// Keeps the value of the final response's Retry-After header (curl passes each header line
// with its CRLF, and the status line of each response, interim 1xx ones included).
size_t CollectRetryAfter(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t n = size * count;
  constexpr std::string_view kName = "retry-after:";
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    out->clear();  // a new response begins
  } else if (line.size() > kName.size() && line.size() < 256) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      const char c = line[i];
      match = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == kName[i];
    }
    if (match) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
        value.remove_suffix(1);
      }
      out->assign(value);
    }
  }
  return n;
}

bool PermanentCurlError(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_LOGIN_DENIED:
    case CURLE_TOO_MANY_REDIRECTS:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "<url>";
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  return std::string(url.substr(0, scheme_end)) + "://" + std::string(rest) + "/…";
}

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<std::unique_ptr<HttpPoster>> HttpPoster::Create(std::string url, HttpTimeouts timeouts) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidArgument("URL " + RedactUrl(url) + " must start with http:// or https://");
  }
  if (timeouts.connect_ms <= 0 || timeouts.total_ms <= 0) {
    return InvalidArgument("HTTP timeouts must be positive");
  }
  EnsureCurlInitialized();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  return std::unique_ptr<HttpPoster>(new HttpPoster(std::move(url), timeouts, curl));
}

HttpPoster::HttpPoster(std::string url, HttpTimeouts timeouts, void* curl)
    : url_(std::move(url)), redacted_url_(RedactUrl(url_)), timeouts_(timeouts), curl_(curl) {}

HttpPoster::~HttpPoster() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Status HttpPoster::Post(const std::vector<std::string>& headers, std::string_view body,
                        Timestamp now) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_slist* list = nullptr;
  for (const auto& h : headers) {
    curl_slist* next = curl_slist_append(list, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(list);
      return Internal("curl_slist_append failed");
    }
    list = next;
  }
  // Suppress curl's "Expect: 100-continue" round trip for larger bodies.
  curl_slist* with_expect = curl_slist_append(list, "Expect:");
  if (with_expect == nullptr) {
    curl_slist_free_all(list);
    return Internal("curl_slist_append failed");
  }
  list = with_expect;
  std::string response;
  std::string retry_after;
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts_.connect_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts_.total_ms));
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "bedrock-budgeteer");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &CollectRetryAfter);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_after);
  const CURLcode code = curl_easy_perform(curl);
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, nullptr);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, nullptr);
  curl_slist_free_all(list);

  const std::string where = "POST " + redacted_url_;
  if (code != CURLE_OK) {
    // curl_easy_strerror is generic text: it never contains the URL.
    const std::string m = where + ": " + curl_easy_strerror(code);
    if (PermanentCurlError(code)) return FailedPrecondition(m);
    return Unavailable(m);
  }
  if (http >= 200 && http < 300) return Status::Ok();
  std::string snippet = OneLine(response.substr(0, kMaxSnippet));
  const std::string m =
      where + ": HTTP " + std::to_string(http) + (snippet.empty() ? "" : " (" + snippet + ")");
  if (http == 429 || http == 503) {
    // The receiver says when to come back: the dispatcher waits at least that long.
    Status busy = http == 429 ? Status(Code::kResourceExhausted, m, true) : Unavailable(m);
    if (const auto wait = ParseRetryAfterMs(retry_after, now)) {
      busy = busy.WithRetryAfterMs(*wait);
    }
    return busy;
  }
  if (http >= 500) return Unavailable(m);
  if (http == 401) return {Code::kUnauthenticated, m};
  if (http == 403) return {Code::kPermissionDenied, m};
  if (http == 404 || http == 410) return NotFound(m);
  return FailedPrecondition(m);  // other 4xx, 1xx, 3xx: the request will not succeed as is
}

}  // namespace budgeteer
