#include "actions/iam/iam_enforcer.h"

#include <algorithm>

#include "actions/payload.h"
#include "aws/xml.h"

namespace budgeteer {

namespace {

constexpr char kIamVersion[] = "2010-05-08";
constexpr char kStsVersion[] = "2011-06-15";

bool IsAccountId(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view EntityWord(IamEntityKind kind) {
  return kind == IamEntityKind::kUser ? "User" : "Role";
}

// "user BedrockAPIKey-x" / "role Dev session alice", for messages.
std::string Describe(const SuspensionTarget& t) {
  std::string out = t.entity == IamEntityKind::kUser ? "user " : "role ";
  out += t.entity_name;
  if (!t.session.empty()) out += " session " + t.session;
  return out;
}

Result<aws::AwsClient> MakeClient(const aws::ServiceSpec& service, std::string_view region,
                                  const AwsDeps& deps) {
  ASSIGN_OR_RETURN(aws::Endpoint endpoint, aws::ResolveEndpoint(service, region, *deps.env));
  return aws::AwsClient(service, std::move(endpoint), deps.credentials, *deps.transport,
                        *deps.clock, deps.timeouts);
}

}  // namespace

Result<std::unique_ptr<IamEnforcer>> IamEnforcer::Create(IamEnforcerConfig config,
                                                         const AwsDeps& deps) {
  if (deps.env == nullptr || deps.credentials == nullptr || deps.transport == nullptr ||
      deps.clock == nullptr) {
    return InvalidArgument(
        "the IAM enforcer needs an environment, credentials, a transport and "
        "a clock");
  }
  if (!config.account_id.empty() && !IsAccountId(config.account_id)) {
    return InvalidArgument("enforce.iam.account_id '" + config.account_id +
                           "' is not a 12-digit AWS account id");
  }
  ASSIGN_OR_RETURN(aws::AwsClient iam, MakeClient(aws::kIam, deps.region, deps));
  // STS answers GetCallerIdentity in every region; us-east-1 when none is configured.
  ASSIGN_OR_RETURN(aws::AwsClient sts,
                   MakeClient(aws::kSts, deps.region.empty() ? "us-east-1" : deps.region, deps));
  return std::unique_ptr<IamEnforcer>(
      new IamEnforcer(std::move(config), std::move(iam), std::move(sts)));
}

Result<std::string> IamEnforcer::EnforcedAccount() {
  if (account_) return *account_;
  ASSIGN_OR_RETURN(const std::string reply, sts_.Query("GetCallerIdentity", kStsVersion, {}));
  const std::string account = aws::XmlText(reply, "Account").value_or("");
  if (!IsAccountId(account)) {
    return Status(Code::kUnavailable, "sts GetCallerIdentity: no account in the reply", true);
  }
  if (!config_.account_id.empty() && account != config_.account_id) {
    return FailedPrecondition("the AWS credentials belong to account " + account +
                              ", not enforce.iam.account_id " + config_.account_id +
                              ": refusing to change IAM in the wrong account");
  }
  account_ = account;
  return account;
}

Status IamEnforcer::Apply(const ActionMessage& message) {
  const bool suspend = message.kind == "suspend_access";
  if (!suspend && message.kind != "restore_access") {
    return InvalidArgument("the IAM enforcer only takes suspend_access and restore_access, not '" +
                           message.kind + "'");
  }
  ASSIGN_OR_RETURN(const PayloadFields fields, PayloadFields::Parse(message.payload));
  PrincipalKey key;
  key.account = std::string(fields.Get("account"));
  key.name = std::string(fields.Get("principal"));
  if (key.account.empty() || key.name.empty() ||
      !ParsePrincipalKind(fields.Get("kind"), key.kind)) {
    return InvalidArgument("action " + std::to_string(message.action_id) +
                           ": the payload lacks the principal's account, name or kind");
  }
  ASSIGN_OR_RETURN(const std::string account, EnforcedAccount());
  if (key.account != account) {
    return FailedPrecondition(key.Qualified() + " is in account " + key.account +
                              ", and this IAM enforcer acts only in account " + account +
                              " (the account of its credentials)");
  }
  ASSIGN_OR_RETURN(const SuspensionTarget target, SuspensionTargetFor(key));
  const Status done = suspend ? Suspend(target) : Restore(target);
  return done.WithContext(std::string(suspend ? "suspend " : "restore ") + key.Qualified());
}

Status IamEnforcer::Suspend(const SuspensionTarget& target) {
  const std::string word(EntityWord(target.entity));
  // Put overwrites: putting the same document again is the idempotent "already there".
  auto put = iam_.Query("Put" + word + "Policy", kIamVersion,
                        {{word + "Name", target.entity_name},
                         {"PolicyName", target.policy_name},
                         {"PolicyDocument", target.policy_document}});
  return put.status();
}

Status IamEnforcer::Restore(const SuspensionTarget& target) {
  const std::string word(EntityWord(target.entity));
  auto deleted =
      iam_.Query("Delete" + word + "Policy", kIamVersion,
                 {{word + "Name", target.entity_name}, {"PolicyName", target.policy_name}});
  if (deleted.ok() || deleted.status().code() != Code::kNotFound) return deleted.status();
  // NoSuchEntity names either the policy (already gone: success) or the user/role itself (a
  // permanent failure the operator must see). IAM says which only in prose, so ask.
  auto entity = iam_.Query("Get" + word, kIamVersion, {{word + "Name", target.entity_name}});
  if (entity.ok()) return Status::Ok();
  if (entity.status().code() == Code::kNotFound) {
    return NotFound("IAM " + Describe(target) + " does not exist: " + entity.status().message());
  }
  return entity.status();
}

}  // namespace budgeteer
