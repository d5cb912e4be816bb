// Which URL an AWS service is called at, and with which signing region, resolved the way the
// AWS SDKs do: AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_IAM), then AWS_ENDPOINT_URL,
// then the shared config file (the profile's `services` section, then its `endpoint_url`), then
// the service's default endpoint for the region; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
// skips the overrides. IAM is global: iam.amazonaws.com,
// signed for us-east-1 (iam.cn-north-1.amazonaws.com.cn in China). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "aws/environment.h"
#include "core/status.h"

namespace budgeteer::aws {

struct ServiceSpec {
  std::string_view env_name;      // the suffix of AWS_ENDPOINT_URL_<...>: "IAM", "SESV2"
  std::string_view host_prefix;   // "iam", "email" (SESv2), "logs"
  std::string_view signing_name;  // the SigV4 service: "iam", "ses", "logs"
  bool global = false;            // one endpoint for all regions (IAM)
};

inline constexpr ServiceSpec kIam{"IAM", "iam", "iam", true};
inline constexpr ServiceSpec kSts{"STS", "sts", "sts"};
inline constexpr ServiceSpec kSns{"SNS", "sns", "sns"};
inline constexpr ServiceSpec kSsm{"SSM", "ssm", "ssm"};
inline constexpr ServiceSpec kS3{"S3", "s3", "s3"};
inline constexpr ServiceSpec kLogs{"CLOUDWATCH_LOGS", "logs", "logs"};
inline constexpr ServiceSpec kSesV2{"SESV2", "email", "ses"};

struct Endpoint {
  std::string scheme = "https";
  std::string host;       // with ":port" when one was given
  std::string base_path;  // a path prefix from an override URL ("" or "/prefix", no final '/')
  std::string signing_region;
};

// Parses "https://host[:port][/path]" (http allowed, for emulators). InvalidArgument otherwise.
Result<Endpoint> ParseEndpointUrl(std::string_view url);

// `region` must be set (see ResolveRegion in credentials.h) unless the service is global.
// Reads the shared config file named by `env` (see ConfiguredEndpointUrl).
Result<Endpoint> ResolveEndpoint(const ServiceSpec& service, std::string_view region,
                                 const Environment& env);

}  // namespace budgeteer::aws
