#include "aws/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace budgeteer::aws {

namespace {

bool IsUnreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

struct Sink {
  std::string* out;
  size_t limit;
  bool overflow = false;
};

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->out->size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->out->append(data, n);
  return n;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::vector<Header>*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after a 100 Continue, say) starts over
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return n;
}

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport(CURL* curl, size_t max_response_bytes)
      : curl_(curl), max_response_bytes_(max_response_bytes) {}
  ~CurlTransport() override { curl_easy_cleanup(curl_); }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request, const HttpTimeouts& timeouts) override {
    if (timeouts.connect_ms <= 0 || timeouts.total_ms <= 0) {
      return InvalidArgument("HTTP timeouts must be positive");
    }
    curl_easy_reset(curl_);
    curl_slist* list = nullptr;
    for (const auto& [name, value] : request.headers) {
      std::string line = name;
      line.append(": ").append(value);
      curl_slist* next = curl_slist_append(list, line.c_str());
      if (next == nullptr) {
        curl_slist_free_all(list);
        return Internal("curl_slist_append failed");
      }
      list = next;
    }
    // No "Expect: 100-continue" round trip, and no Content-Type curl would invent for a POST
    // (it would not be signed, and the service must see exactly what we signed).
    const bool has_type = std::any_of(
        request.headers.begin(), request.headers.end(),
        [](const Header& h) { return h.first == "Content-Type" || h.first == "content-type"; });
    std::vector<const char*> extras = {"Expect:", "Accept:"};
    if (!has_type) extras.push_back("Content-Type:");
    for (const char* extra : extras) {
      curl_slist* next = curl_slist_append(list, extra);
      if (next == nullptr) {
        curl_slist_free_all(list);
        return Internal("curl_slist_append failed");
      }
      list = next;
    }
    const std::string url = RequestUrl(request);
    HttpResponse response;
    Sink sink{&response.body, max_response_bytes_};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts.connect_ms));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts.total_ms));
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "bedrock-budgeteer");
    // Certificates are always verified; the proxy settings of the environment are ignored so a
    // request goes where it was signed for (IMDS and container endpoints must never be proxied).
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");
    if (request.method == "HEAD") {
      curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET" || !request.body.empty()) {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &CollectBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &CollectHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response.headers);
    const CURLcode code = curl_easy_perform(curl_);
    long http = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);

    const std::string where = request.method + " " + RedactedUrl(request);
    if (sink.overflow) {
      return ResourceExhausted(where + ": reply larger than " +
                               std::to_string(max_response_bytes_) + " bytes");
    }
    if (code != CURLE_OK) {
      // curl_easy_strerror is generic text: it never holds the URL or a header.
      const std::string m = where + ": " + curl_easy_strerror(code);
      if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
        return InvalidArgument(m);
      }
      if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
        return FailedPrecondition(m);
      }
      return Unavailable(m);
    }
    response.status = http;
    return response;
  }

 private:
  CURL* curl_;
  size_t max_response_bytes_;
};

}  // namespace

std::optional<std::string_view> HttpResponse::FindHeader(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0f]);
    }
  }
  return out;
}

std::string EncodeQuery(const std::vector<QueryParam>& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += "&";
    out += UriEncode(name, false) + "=" + UriEncode(value, false);
  }
  return out;
}

std::string RequestUrl(const HttpRequest& request) {
  std::string url = request.scheme + "://" + request.host + request.path;
  if (!request.query.empty()) url += "?" + EncodeQuery(request.query);
  return url;
}

std::string RedactedUrl(const HttpRequest& request) {
  return request.scheme + "://" + request.host + request.path;
}

Result<std::unique_ptr<HttpTransport>> MakeCurlTransport(size_t max_response_bytes) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  return std::unique_ptr<HttpTransport>(std::make_unique<CurlTransport>(curl, max_response_bytes));
}

}  // namespace budgeteer::aws
