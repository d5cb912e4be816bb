// IamEnforcer: enforcement mode "iam". Suspension puts the inline deny policy of iam_policy.h on
// the principal's IAM user or role (PutUserPolicy / PutRolePolicy); restoration deletes it
// (DeleteUserPolicy / DeleteRolePolicy). Both are idempotent: putting a policy that is there
// rewrites it, deleting one that is gone is success.
//
// Errors (AwsClient classifies them):
//   retryable: throttling, HTTP 5xx, network failures, expired tokens;
//   permanent: AccessDenied, the user or role does not exist (NoSuchEntity on Put, or on Delete
//   when GetUser/GetRole confirms the entity is missing), LimitExceeded, malformed names,
//   principals that are not IAM users or roles, and principals of another account.
// The dispatcher dead-letters a permanent failure and raises an operator alert.
//
// One enforcer acts in one account: the account of its credentials, read once with
// sts:GetCallerIdentity. A principal of any other account is refused rather than matched by
// name in the wrong account. Not thread-safe: one call at a time (the dispatcher thread).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "actions/aws_deps.h"
#include "actions/iam/iam_policy.h"
#include "actions/notifier.h"
#include "aws/client.h"

namespace budgeteer {

struct IamEnforcerConfig {
  // The account whose principals are enforced. Empty: the credentials' account. When set and
  // the credentials belong to another account, every action fails permanently.
  std::string account_id;
};

class IamEnforcer final : public Enforcer {
 public:
  // InvalidArgument when deps are incomplete or the account id is not 12 digits; the endpoint
  // errors of aws::ResolveEndpoint.
  static Result<std::unique_ptr<IamEnforcer>> Create(IamEnforcerConfig config, const AwsDeps& deps);
  std::string name() const override { return "enforce:iam"; }
  Status Apply(const ActionMessage& message) override;

 private:
  IamEnforcer(IamEnforcerConfig config, aws::AwsClient iam, aws::AwsClient sts)
      : config_(std::move(config)), iam_(std::move(iam)), sts_(std::move(sts)) {}
  // The account the credentials act in (GetCallerIdentity, once), checked against the config.
  Result<std::string> EnforcedAccount();
  Status Suspend(const SuspensionTarget& target);
  Status Restore(const SuspensionTarget& target);

  IamEnforcerConfig config_;
  aws::AwsClient iam_;
  aws::AwsClient sts_;
  std::optional<std::string> account_;
};

}  // namespace budgeteer
