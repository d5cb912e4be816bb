// The seed's budget defaults in AWS Systems Manager Parameter Store, read as a config source
// on top of the TOML file and the environment:
//   <prefix>/global/default_user_budget_usd       USD, exact decimal
//   <prefix>/global/thresholds_percent_warn       whole percent
//   <prefix>/global/thresholds_percent_critical   whole percent
//   <prefix>/global/grace_period_seconds          seconds
//   <prefix>/global/budget_refresh_period_days    days (the seed also used
//   <prefix>/<environment>/cost/budget_refresh_period_days, which wins when both exist)
// Parameters may be String or SecureString (read with decryption). Other names under the
// prefix are ignored.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/environment.h"
#include "core/clock.h"
#include "core/policy.h"
#include "core/status.h"

namespace budgeteer::sources {

struct SsmDefaultsOptions {
  std::string prefix = "/bedrock-budgeteer";
  std::string environment = "production";
};

// Every parameter under `path` (recursively, decrypted), by full name; follows NextToken.
// Refuses more than `max_parameters` (a misconfigured prefix must not pull a whole account).
Result<std::map<std::string, std::string>> FetchParametersByPath(aws::AwsClient& ssm,
                                                                 std::string_view path,
                                                                 size_t max_parameters = 1000);

// Pure: `base` with the recognised parameters applied. A bad value is InvalidArgument naming
// the parameter and what it must be; the result is validated as a whole (critical >= warn...).
Result<BudgetSettings> DefaultsFromParameters(const std::map<std::string, std::string>& params,
                                              const SsmDefaultsOptions& options,
                                              BudgetSettings base);

// The defaults as SSM says, ready to use: owns its AWS client (its own transport and cached
// credential chain, so it can run on its own thread). Region and endpoint come from the
// environment the way the AWS SDKs resolve them.
class SsmDefaultsSource {
 public:
  // kInvalidArgument when no region is configured.
  static Result<std::unique_ptr<SsmDefaultsSource>> Create(const aws::Environment& env,
                                                           const Clock& clock,
                                                           SsmDefaultsOptions options);
  // Reads the parameters now and returns `base` with them applied.
  Result<BudgetSettings> Read(const BudgetSettings& base);

 private:
  SsmDefaultsSource() = default;
  SsmDefaultsOptions options_;
  std::unique_ptr<aws::HttpTransport> transport_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::unique_ptr<aws::AwsClient> client_;
};

}  // namespace budgeteer::sources
