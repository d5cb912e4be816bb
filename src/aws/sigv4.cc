#include "aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

namespace budgeteer::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr int64_t kMaxPresignSeconds = int64_t{7} * 24 * 3600;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Trims the value and collapses each run of spaces into one, as the canonical form requires.
std::string CanonicalHeaderValue(std::string_view value) {
  while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsSpace(value.back())) value.remove_suffix(1);
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (IsSpace(c)) {
      if (!out.empty() && out.back() == ' ') continue;
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Headers that a proxy or the HTTP library may change on the way, so signing them would make a
// valid request fail; AWS SDKs leave them out for the same reason.
bool IsUnsignable(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id" || lower_name == "connection";
}

struct CanonicalHeaders {
  std::string text;         // "name:value\n" per header
  std::string signed_list;  // "host;x-amz-date"
};

CanonicalHeaders BuildCanonicalHeaders(const std::vector<Header>& headers) {
  // Stable sort by lower-cased name keeps the values of a repeated header in their order.
  std::vector<std::pair<std::string, std::string>> lowered;
  lowered.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    std::string lname = Lower(name);
    if (IsUnsignable(lname)) continue;
    lowered.emplace_back(std::move(lname), CanonicalHeaderValue(value));
  }
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (size_t i = 0; i < lowered.size(); ++i) {
    const bool repeat = i > 0 && lowered[i].first == lowered[i - 1].first;
    if (repeat) {
      out.text.pop_back();  // the '\n' of the previous line
      out.text += "," + lowered[i].second + "\n";
      continue;
    }
    out.text += lowered[i].first + ":" + lowered[i].second + "\n";
    if (!out.signed_list.empty()) out.signed_list += ";";
    out.signed_list += lowered[i].first;
  }
  return out;
}

bool HasHeader(const std::vector<Header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const Header& h) { return EqualsIgnoreCase(h.first, name); });
}

void SetHeader(std::vector<Header>& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

Status CheckInputs(const HttpRequest& request, const Credentials& credentials,
                   const SigningOptions& options) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return {Code::kUnauthenticated, "no AWS credentials to sign with"};
  }
  if (options.region.empty() || options.service.empty()) {
    return InvalidArgument("SigV4 needs a region and a service name");
  }
  if (request.host.empty()) return InvalidArgument("SigV4 needs the request's host");
  return Status::Ok();
}

std::string Scope(Timestamp now, const SigningOptions& options) {
  return AmzDay(now) + "/" + options.region + "/" + options.service + "/aws4_request";
}

std::string BuildCanonicalRequest(const HttpRequest& request, const CanonicalHeaders& headers,
                                  const SigningOptions& options, std::string_view payload_hash) {
  std::string out;
  out += request.method + "\n";
  out += CanonicalUri(request.path, options) + "\n";
  out += CanonicalQuery(request.query) + "\n";
  out += headers.text + "\n";
  out += headers.signed_list + "\n";
  out += payload_hash;
  return out;
}

SigningDetails Finish(std::string canonical_request, std::string signed_headers, Timestamp now,
                      const Credentials& credentials, const SigningOptions& options) {
  SigningDetails d;
  d.string_to_sign = std::string(kAlgorithm) + "\n" + AmzDate(now) + "\n" + Scope(now, options) +
                     "\n" + Sha256Hex(canonical_request);
  const Digest key =
      SigningKey(credentials.secret_access_key, AmzDay(now), options.region, options.service);
  d.signature = HexEncode(HmacSha256(AsView(key), d.string_to_sign));
  d.canonical_request = std::move(canonical_request);
  d.signed_headers = std::move(signed_headers);
  return d;
}

}  // namespace

SigningOptions OptionsForService(std::string service, std::string region) {
  SigningOptions o;
  o.region = std::move(region);
  o.service = std::move(service);
  if (o.service == "s3") {
    o.normalize_path = false;
    o.double_encode_path = false;
    o.add_content_sha256_header = true;
  }
  return o;
}

std::string AmzDate(Timestamp t) {
  const int64_t day = DayOf(t);
  const CivilDate d = CivilFromDays(day);
  const int64_t secs = t.unix_seconds() - day * 86400;  // 0..86399
  auto two = [](int64_t v) {
    return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
  };
  std::string year = std::to_string(d.year);
  if (year.size() < 4) year.insert(0, 4 - year.size(), '0');
  return year + two(d.month) + two(d.day) + "T" + two(secs / 3600) + two(secs / 60 % 60) +
         two(secs % 60) + "Z";
}

std::string AmzDay(Timestamp t) { return AmzDate(t).substr(0, 8); }

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += "/";
    out += segments[i];
  }
  const bool trailing =
      !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (trailing && out.size() > 1) out += "/";
  return out;
}

std::string CanonicalUri(std::string_view wire_path, const SigningOptions& options) {
  if (wire_path.empty()) return "/";
  std::string path = options.normalize_path ? NormalizePath(wire_path) : std::string(wire_path);
  // The wire path is already encoded once; services other than S3 sign it encoded again.
  if (options.double_encode_path) path = UriEncode(path, /*keep_slash=*/true);
  return path;
}

std::string CanonicalQuery(const std::vector<QueryParam>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());  // by encoded name, then value
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

Digest SigningKey(std::string_view secret, std::string_view day, std::string_view region,
                  std::string_view service) {
  const Digest k_date = HmacSha256("AWS4" + std::string(secret), day);
  const Digest k_region = HmacSha256(AsView(k_date), region);
  const Digest k_service = HmacSha256(AsView(k_region), service);
  return HmacSha256(AsView(k_service), "aws4_request");
}

Result<SigningDetails> SignRequest(HttpRequest& request, const Credentials& credentials,
                                   const SigningOptions& options, Timestamp now) {
  RETURN_IF_ERROR(CheckInputs(request, credentials, options));
  std::erase_if(request.headers,
                [](const Header& h) { return EqualsIgnoreCase(h.first, "authorization"); });
  if (!HasHeader(request.headers, "host")) request.headers.emplace_back("Host", request.host);
  SetHeader(request.headers, "X-Amz-Date", AmzDate(now));
  if (!credentials.session_token.empty()) {
    SetHeader(request.headers, "X-Amz-Security-Token", credentials.session_token);
  }
  std::string payload_hash;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "x-amz-content-sha256")) payload_hash = value;
  }
  if (payload_hash.empty()) {
    payload_hash =
        options.unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(request.body);
    if (options.add_content_sha256_header) {
      request.headers.emplace_back("x-amz-content-sha256", payload_hash);
    }
  }
  CanonicalHeaders headers = BuildCanonicalHeaders(request.headers);
  SigningDetails d = Finish(BuildCanonicalRequest(request, headers, options, payload_hash),
                            headers.signed_list, now, credentials, options);
  d.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                    Scope(now, options) + ", SignedHeaders=" + d.signed_headers +
                    ", Signature=" + d.signature;
  request.headers.emplace_back("Authorization", d.authorization);
  return d;
}

Result<SigningDetails> PresignRequest(HttpRequest& request, const Credentials& credentials,
                                      const SigningOptions& options, Timestamp now,
                                      int64_t expires_seconds) {
  RETURN_IF_ERROR(CheckInputs(request, credentials, options));
  if (expires_seconds < 1 || expires_seconds > kMaxPresignSeconds) {
    return InvalidArgument("a presigned URL expires after 1 to 604800 seconds");
  }
  if (!HasHeader(request.headers, "host")) request.headers.emplace_back("Host", request.host);
  CanonicalHeaders headers = BuildCanonicalHeaders(request.headers);
  std::erase_if(request.query, [](const QueryParam& p) { return p.first.starts_with("X-Amz-"); });
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential",
                             credentials.access_key_id + "/" + Scope(now, options));
  request.query.emplace_back("X-Amz-Date", AmzDate(now));
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  request.query.emplace_back("X-Amz-SignedHeaders", headers.signed_list);
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  // Whoever uses the URL chooses the body, so S3 presigned URLs sign UNSIGNED-PAYLOAD.
  const bool unsigned_body = options.unsigned_payload || options.add_content_sha256_header;
  const std::string payload_hash =
      unsigned_body ? std::string(kUnsignedPayload) : Sha256Hex(request.body);
  SigningDetails d = Finish(BuildCanonicalRequest(request, headers, options, payload_hash),
                            headers.signed_list, now, credentials, options);
  request.query.emplace_back("X-Amz-Signature", d.signature);
  return d;
}

}  // namespace budgeteer::aws
