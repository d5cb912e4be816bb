// The AWS credential chain and region resolution.
//
// Providers, tried in this order by DefaultCredentialsChain:
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN];
//   2. shared files ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
//      AWS_CONFIG_FILE, AWS_PROFILE): static keys, or role_arn + source_profile through STS
//      AssumeRole, or role_arn + web_identity_token_file;
//   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]
//      through STS AssumeRoleWithWebIdentity;
//   4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (at 169.254.170.2) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
//      AWS_CONTAINER_AUTHORIZATION_TOKEN;
//   5. EC2 instance metadata, IMDSv2 only (AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the
//      endpoint; AWS_EC2_METADATA_DISABLED=true skips it).
// A provider that is not configured answers NotFound and the chain moves on; a provider that is
// configured but fails (a malformed file, STS refusing) stops the chain with its error, as the
// AWS SDKs do: falling through to other credentials would act as someone else.
//
// Thread-safety: CachingCredentialsProvider is thread-safe and serialises calls to the provider
// it wraps; the other providers are not, so production wraps the chain in a cache.
// Errors and logs never contain a secret key or session token.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/environment.h"
#include "aws/http.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/status.h"

namespace budgeteer::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // NotFound when this source is not configured.
  virtual Result<Credentials> Get() = 0;
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> Get() override { return c_; }

 private:
  Credentials c_;
};

// --- Shared config and credentials files.

// "[section]" -> key -> value; keys lower-cased, values trimmed; '#' and ';' start comments
// on their own line. The indented settings under "key =" are stored as "key.sub".
using IniFile = std::map<std::string, std::map<std::string, std::string>, std::less<>>;
IniFile ParseIni(std::string_view text);

// AWS_PROFILE or "default".
std::string ProfileName(const Environment& env);
std::string CredentialsFilePath(const Environment& env);  // may be empty (no HOME)
std::string ConfigFilePath(const Environment& env);

// The settings of one profile: ~/.aws/config's "[profile NAME]" ("[default]" for default),
// overlaid by ~/.aws/credentials' "[NAME]" (the credentials file wins, as in the SDKs).
// Missing files are empty; NotFound when neither file has the profile.
Result<std::map<std::string, std::string>> LoadProfile(const Environment& env,
                                                       std::string_view name);

// The endpoint the shared config file gives the current profile for a service: the
// `services = NAME` section's "<service_key>.endpoint_url" (service_key as "iam", "sesv2",
// "cloudwatch_logs"), else the profile's own `endpoint_url`; nullopt when neither is set.
std::optional<std::string> ConfiguredEndpointUrl(const Environment& env,
                                                 std::string_view service_key);

// AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`; nullopt when none is set.
std::optional<std::string> ResolveRegion(const Environment& env);

// --- STS, as the providers call it.

struct AssumeRoleRequest {
  std::string role_arn;
  std::string session_name;
  std::string external_id;  // optional
  int64_t duration_seconds = 3600;
  std::string web_identity_token;  // set: AssumeRoleWithWebIdentity (unsigned)
};

// Calls STS (endpoint from AWS_ENDPOINT_URL_STS/AWS_ENDPOINT_URL or sts.<region>) and returns
// the temporary credentials. `source` signs AssumeRole; it is unused for web identity.
Result<Credentials> CallAssumeRole(const AssumeRoleRequest& request, const Credentials* source,
                                   std::string_view region, const Environment& env,
                                   HttpTransport& transport, const Clock& clock);

// --- The providers.

std::unique_ptr<CredentialsProvider> MakeEnvironmentProvider(const Environment& env);
std::unique_ptr<CredentialsProvider> MakeProfileProvider(const Environment& env,
                                                         HttpTransport& transport,
                                                         const Clock& clock);
std::unique_ptr<CredentialsProvider> MakeWebIdentityProvider(const Environment& env,
                                                             HttpTransport& transport,
                                                             const Clock& clock);
std::unique_ptr<CredentialsProvider> MakeContainerProvider(const Environment& env,
                                                           HttpTransport& transport);
std::unique_ptr<CredentialsProvider> MakeImdsProvider(const Environment& env,
                                                      HttpTransport& transport);

// Tries each provider in order; see the file comment for how NotFound and errors differ.
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ChainCredentialsProvider(std::vector<std::unique_ptr<CredentialsProvider>> providers)
      : providers_(std::move(providers)) {}
  Result<Credentials> Get() override;

 private:
  std::vector<std::unique_ptr<CredentialsProvider>> providers_;
};

// Keeps the last credentials and asks the wrapped provider again only when they are missing or
// expire within `refresh_margin_seconds` (long-term keys, with no expiration, are kept for
// the process's life). When a refresh fails but the old credentials are still valid, they are
// used and the refresh is tried again on the next call.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::unique_ptr<CredentialsProvider> inner, const Clock& clock,
                             int64_t refresh_margin_seconds = 300)
      : inner_(std::move(inner)), clock_(clock), margin_s_(refresh_margin_seconds) {}
  Result<Credentials> Get() override;

 private:
  std::unique_ptr<CredentialsProvider> inner_;
  const Clock& clock_;
  int64_t margin_s_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// The standard chain, cached. `transport` and `clock` must outlive the provider.
std::unique_ptr<CredentialsProvider> DefaultCredentialsChain(const Environment& env,
                                                             HttpTransport& transport,
                                                             const Clock& clock);

// Parses the JSON the container and instance metadata endpoints return
// (AccessKeyId, SecretAccessKey, Token, Expiration).
Result<Credentials> ParseCredentialsJson(std::string_view json, std::string source);

}  // namespace budgeteer::aws
