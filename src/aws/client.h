// AwsClient: one AWS service at one endpoint. It builds the request for the service's
// protocol, signs it (SigV4, with the time from the injected clock and credentials from the
// provider), sends it through the transport with explicit timeouts, and turns an error reply
// into a Status:
//   - retryable: throttling (Throttling*, RequestLimitExceeded, SlowDown, TooManyRequests...),
//     HTTP 5xx, 429, network failures and timeouts, expired tokens (a refresh fixes them);
//   - permanent: AccessDenied (PermissionDenied), NoSuchEntity/NoSuchKey/...NotFound
//     (NotFound), InvalidClientTokenId/SignatureDoesNotMatch (Unauthenticated), other 4xx.
// The message keeps the AWS error code and message: "iam GetUser: NoSuchEntity: The user with
// name x cannot be found. (HTTP 404)", with any secret of the credentials scrubbed out. A
// retryable error reply's Retry-After header becomes the Status's retry_after_ms.
// The client never retries by itself: the caller (the outbox) owns retries and backoff.
// Not thread-safe (the transport is not): one client per thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/http.h"
#include "core/clock.h"
#include "core/status.h"

namespace budgeteer::aws {

enum class Protocol { kQuery, kJson, kRestJson, kRestXml };

struct AwsError {
  int64_t http_status = 0;
  std::string code;     // "AccessDenied"; empty when the reply named none
  std::string message;  // AWS's message, possibly empty
};

// Reads the error code and message from an error reply in the given protocol.
AwsError ParseAwsError(Protocol protocol, const HttpResponse& response);
// The Status for an error reply; `what` names the call ("iam GetUser").
Status ClassifyAwsError(const AwsError& error, std::string_view what);

class AwsClient {
 public:
  // `credentials` may be null for unsigned calls (STS AssumeRoleWithWebIdentity).
  // Everything passed by reference must outlive the client.
  AwsClient(const ServiceSpec& service, Endpoint endpoint, CredentialsProvider* credentials,
            HttpTransport& transport, const Clock& clock, HttpTimeouts timeouts = {});

  // Query protocol (IAM, STS, SNS): POST Action=...&Version=...&params as a form; returns
  // the XML reply.
  Result<std::string> Query(std::string_view action, std::string_view version,
                            const std::vector<QueryParam>& params);

  // JSON 1.1 protocol (SSM "AmazonSSM", CloudWatch Logs "Logs_20140328"): POST with
  // X-Amz-Target: <target_prefix>.<operation>; returns the JSON reply.
  Result<std::string> Json(std::string_view target_prefix, std::string_view operation,
                           std::string body);

  // REST protocols (S3: REST-XML, SESv2: REST-JSON). `path` is the wire path below the
  // endpoint's base path (encode parts with UriEncode). Returns the 2xx response.
  Result<HttpResponse> Rest(std::string_view operation, std::string method, const std::string& path,
                            std::vector<QueryParam> query, std::vector<Header> headers,
                            std::string body, Protocol protocol);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  Result<HttpResponse> Send(HttpRequest request, std::string_view operation, Protocol protocol);

  const ServiceSpec& service_;
  Endpoint endpoint_;
  CredentialsProvider* credentials_;
  HttpTransport& transport_;
  const Clock& clock_;
  HttpTimeouts timeouts_;
};

// "a=b&c=d" form encoding as the query protocol sends it (the SigV4 unreserved set).
std::string FormEncode(const std::vector<QueryParam>& params);

}  // namespace budgeteer::aws
