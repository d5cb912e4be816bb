#include "aws/client.h"

#include <algorithm>
#include <array>
#include <utility>

#include "aws/json_fields.h"
#include "aws/xml.h"
#include "core/retry_after.h"

namespace budgeteer::aws {

namespace {

constexpr size_t kMaxMessage = 400;

bool OneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool IsThrottle(std::string_view code) {
  return OneOf(
      code, {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
             "TooManyRequestsException", "ProvisionedThroughputExceededException",
             "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
             "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"});
}

bool IsTransient(std::string_view code) {
  return OneOf(code, {"RequestTimeout", "RequestTimeoutException", "InternalError",
                      "InternalFailure", "InternalServerError", "ServiceUnavailable",
                      "ServiceUnavailableException", "IDPCommunicationError"});
}

// One line, bounded, and without any secret of the credentials used (a service may echo
// what it was sent).
std::string Scrub(std::string text, const Credentials* creds) {
  if (creds != nullptr) {
    for (const std::string* secret : {&creds->secret_access_key, &creds->session_token}) {
      if (secret->empty()) continue;
      for (size_t at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at)) {
        text.replace(at, secret->size(), "<redacted>");
      }
    }
  }
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > kMaxMessage) text = text.substr(0, kMaxMessage) + "...";
  return text;
}

// "com.amazon.coral.service#AccessDeniedException" and "AccessDenied:http://..." -> the code.
std::string BareCode(std::string_view code) {
  const size_t hash = code.rfind('#');
  if (hash != std::string_view::npos) code.remove_prefix(hash + 1);
  const size_t colon = code.find(':');
  if (colon != std::string_view::npos) code = code.substr(0, colon);
  return std::string(code);
}

}  // namespace

std::string FormEncode(const std::vector<QueryParam>& params) {
  // application/x-www-form-urlencoded as botocore writes it (space as '+'). AWS hashes the
  // body as sent, so either form is valid there; emulators that re-encode the parsed form
  // before checking the signature (moto) only agree with this one.
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    for (const std::string* part : {&name, &value}) {
      std::string encoded = UriEncode(*part, /*keep_slash=*/false);
      for (size_t at = encoded.find("%20"); at != std::string::npos;
           at = encoded.find("%20", at + 1)) {
        encoded.replace(at, 3, "+");
      }
      out += encoded;
      if (part == &name) out += '=';
    }
  }
  return out;
}

AwsError ParseAwsError(Protocol protocol, const HttpResponse& response) {
  AwsError e;
  e.http_status = response.status;
  auto read_xml = [&] {
    // Query protocol: <ErrorResponse><Error><Code/><Message/></Error>; S3: <Error><Code/>...
    e.code = XmlText(response.body, "Code").value_or("");
    e.message = XmlText(response.body, "Message").value_or("");
  };
  auto read_json = [&] {
    if (auto t = response.FindHeader("x-amzn-ErrorType")) e.code = BareCode(*t);
    if (e.code.empty()) e.code = BareCode(JsonStringField(response.body, "__type").value_or(""));
    if (e.code.empty()) e.code = BareCode(JsonStringField(response.body, "code").value_or(""));
    e.message = JsonStringField(response.body, "message")
                    .value_or(JsonStringField(response.body, "Message").value_or(""));
  };
  // A front end (a proxy, or an authentication layer shared across protocols) may answer in
  // the other format than the protocol's own, so each falls back to the other.
  if (protocol == Protocol::kQuery || protocol == Protocol::kRestXml) {
    read_xml();
    if (e.code.empty()) read_json();
  } else {
    read_json();
    if (e.code.empty()) read_xml();
  }
  if (e.code.empty() && response.status == 404) e.code = "NotFound";
  return e;
}

Status ClassifyAwsError(const AwsError& error, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += error.code.empty() ? "(no error code)" : error.code;
  if (!error.message.empty()) m += ": " + error.message;
  m += " (HTTP " + std::to_string(error.http_status) + ")";
  const std::string_view code = error.code;
  if (IsThrottle(code) || error.http_status == 429) {
    return {Code::kResourceExhausted, m, true};
  }
  if (IsTransient(code) || error.http_status >= 500) return Unavailable(m);
  // Temporary credentials ran out between fetch and use: fetching them again fixes it.
  if (OneOf(code, {"ExpiredToken", "ExpiredTokenException", "RequestExpired"})) {
    return {Code::kUnauthenticated, m, true};
  }
  if (OneOf(code, {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                   "AuthorizationError", "Forbidden"})) {
    return {Code::kPermissionDenied, m};
  }
  if (OneOf(code,
            {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
             "InvalidAccessKeyId", "IncompleteSignature", "MissingAuthenticationToken",
             "AuthFailure", "InvalidSignatureException", "InvalidToken", "InvalidIdentityToken"})) {
    return {Code::kUnauthenticated, m};
  }
  if (OneOf(code, {"NoSuchEntity", "NoSuchKey", "NoSuchBucket", "NotFound", "NotFoundException",
                   "ResourceNotFoundException", "ParameterNotFound"})) {
    return NotFound(m);
  }
  if (OneOf(code, {"EntityAlreadyExists", "ResourceAlreadyExistsException",
                   "ParameterAlreadyExists", "AlreadyExistsException"})) {
    return {Code::kAlreadyExists, m};
  }
  if (OneOf(code, {"ValidationError", "ValidationException", "InvalidParameterValue",
                   "InvalidParameter", "InvalidParameterException", "MalformedPolicyDocument",
                   "InvalidInput", "BadRequestException"})) {
    return InvalidArgument(m);
  }
  if (error.http_status == 401) return {Code::kUnauthenticated, m};
  if (error.http_status == 403) return {Code::kPermissionDenied, m};
  if (error.http_status == 404) return NotFound(m);
  return FailedPrecondition(m);  // other 4xx (and odd 1xx/3xx): will not succeed as sent
}

AwsClient::AwsClient(const ServiceSpec& service, Endpoint endpoint,
                     CredentialsProvider* credentials, HttpTransport& transport, const Clock& clock,
                     HttpTimeouts timeouts)
    : service_(service),
      endpoint_(std::move(endpoint)),
      credentials_(credentials),
      transport_(transport),
      clock_(clock),
      timeouts_(timeouts) {}

Result<HttpResponse> AwsClient::Send(HttpRequest request, std::string_view operation,
                                     Protocol protocol) {
  const std::string what = std::string(service_.signing_name) + " " + std::string(operation);
  request.scheme = endpoint_.scheme;
  request.host = endpoint_.host;
  std::optional<Credentials> creds;
  if (credentials_ != nullptr) {
    auto got = credentials_->Get();
    if (!got.ok()) {
      // "No credentials" must not read as NotFound to a caller: an enforcer treats a missing
      // user or policy as "already done".
      const Status& s = got.status();
      if (s.code() == Code::kNotFound) {
        return Status(Code::kUnauthenticated, what + ": " + s.message(), s.retryable());
      }
      return s.WithContext(what);
    }
    creds = std::move(got).value();
    SigningOptions options =
        OptionsForService(std::string(service_.signing_name), endpoint_.signing_region);
    auto signed_ok = SignRequest(request, *creds, options, clock_.Now());
    if (!signed_ok.ok()) return signed_ok.status().WithContext(what);
  }
  ASSIGN_OR_RETURN(HttpResponse response, transport_.Send(request, timeouts_));
  if (response.status >= 200 && response.status < 300) return response;
  AwsError error = ParseAwsError(protocol, response);
  error.message = Scrub(std::move(error.message), creds ? &*creds : nullptr);
  error.code = Scrub(std::move(error.code), creds ? &*creds : nullptr);
  Status failed = ClassifyAwsError(error, what);
  // A throttling or unavailable reply may say when to come back; the outbox waits that long.
  if (failed.retryable()) {
    if (const auto value = response.FindHeader("Retry-After")) {
      if (const auto wait = ParseRetryAfterMs(*value, clock_.Now())) {
        failed = failed.WithRetryAfterMs(*wait);
      }
    }
  }
  return failed;
}

Result<std::string> AwsClient::Query(std::string_view action, std::string_view version,
                                     const std::vector<QueryParam>& params) {
  std::vector<QueryParam> form;
  form.reserve(params.size() + 2);
  form.emplace_back("Action", std::string(action));
  form.emplace_back("Version", std::string(version));
  form.insert(form.end(), params.begin(), params.end());
  HttpRequest r;
  r.method = "POST";
  r.path = endpoint_.base_path.empty() ? "/" : endpoint_.base_path + "/";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.body = FormEncode(form);
  ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(r), action, Protocol::kQuery));
  return std::move(response.body);
}

Result<std::string> AwsClient::Json(std::string_view target_prefix, std::string_view operation,
                                    std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.path = endpoint_.base_path.empty() ? "/" : endpoint_.base_path + "/";
  r.headers = {{"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", std::string(target_prefix) + "." + std::string(operation)}};
  r.body = std::move(body);
  ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(r), operation, Protocol::kJson));
  return std::move(response.body);
}

Result<HttpResponse> AwsClient::Rest(std::string_view operation, std::string method,
                                     const std::string& path, std::vector<QueryParam> query,
                                     std::vector<Header> headers, std::string body,
                                     Protocol protocol) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = endpoint_.base_path + (path.starts_with('/') ? path : "/" + path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return Send(std::move(r), operation, protocol);
}

}  // namespace budgeteer::aws
