// AWS Signature Version 4: canonical request, string to sign, signing key, the Authorization
// header and query presigning. Pure: the time is an argument, nothing is read from the clock or
// the environment. Thread-safe (no state).
//
// Per-service rules live in SigningOptions: S3 signs the path exactly as sent (no
// normalisation, no second encoding) and states its payload hash in x-amz-content-sha256,
// possibly as UNSIGNED-PAYLOAD; every other service normalises the path and encodes it a
// second time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "aws/crypto.h"
#include "aws/http.h"
#include "core/status.h"
#include "core/time.h"

namespace budgeteer::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;            // empty for long-term keys
  std::optional<Timestamp> expiration;  // set for temporary credentials
  std::string source;                   // which provider produced them ("environment", ...)
};

struct SigningOptions {
  std::string region;   // "us-east-1"
  std::string service;  // the signing name: "iam", "s3", "ses", "logs", ...
  bool normalize_path = true;
  bool double_encode_path = true;
  bool add_content_sha256_header = false;  // x-amz-content-sha256 (S3)
  bool unsigned_payload = false;           // UNSIGNED-PAYLOAD instead of the body's hash (S3)
};

// The options AWS SDKs use for a service: S3 gets the S3 rules (signed payload: we send small
// bodies and want them covered), everything else the defaults.
SigningOptions OptionsForService(std::string service, std::string region);

// What signing produced, for tests and debugging. Holds no secret (the signature is derived).
struct SigningDetails {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string signed_headers;
  std::string authorization;  // empty when presigning
};

// "20150830T123600Z" and "20150830".
std::string AmzDate(Timestamp t);
std::string AmzDay(Timestamp t);

std::string CanonicalUri(std::string_view wire_path, const SigningOptions& options);
std::string CanonicalQuery(const std::vector<QueryParam>& query);
// Removes "." and ".." segments and empty segments (double slashes), keeping a final slash.
std::string NormalizePath(std::string_view path);

Digest SigningKey(std::string_view secret, std::string_view day, std::string_view region,
                  std::string_view service);

// Signs in place: sets X-Amz-Date, Host (when absent), X-Amz-Security-Token (for temporary
// credentials, signed), x-amz-content-sha256 (when the options ask) and Authorization.
// An x-amz-content-sha256 header already present is taken as the payload hash.
// InvalidArgument for missing credentials or options.
Result<SigningDetails> SignRequest(HttpRequest& request, const Credentials& credentials,
                                   const SigningOptions& options, Timestamp now);

// Presigns in place: adds X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
// (-Security-Token) and -Signature to the query. Only the headers already on the request (and
// Host) are signed. `expires_seconds` must be 1..604800 (seven days).
Result<SigningDetails> PresignRequest(HttpRequest& request, const Credentials& credentials,
                                      const SigningOptions& options, Timestamp now,
                                      int64_t expires_seconds);

}  // namespace budgeteer::aws
