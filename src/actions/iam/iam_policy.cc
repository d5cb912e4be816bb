#include "actions/iam/iam_policy.h"

#include <algorithm>

#include "aws/crypto.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

// IAM's character set for user, role, session and policy names: [\w+=,.@-].
bool IsIamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

bool IsIamName(std::string_view name, size_t max_length) {
  return !name.empty() && name.size() <= max_length &&
         std::all_of(name.begin(), name.end(), IsIamNameChar);
}

}  // namespace

const std::vector<std::string_view>& DeniedBedrockActions() {
  static const std::vector<std::string_view> actions = {
      "bedrock:InvokeModel",
      "bedrock:InvokeModelWithResponseStream",
      "bedrock:Converse",
      "bedrock:ConverseStream",
      "bedrock:CallWithBearerToken",
      // API keys also work on the OpenAI-compatible endpoint, authorised separately.
      "bedrock-mantle:CallWithBearerToken",
  };
  return actions;
}

std::string DenyPolicyDocument(std::string_view session) {
  JsonWriter w;
  w.BeginObject().Field("Version", "2012-10-17").Key("Statement").BeginArray().BeginObject();
  w.Field("Sid", "BedrockBudgeteerSuspension").Field("Effect", "Deny");
  w.Key("Action").BeginArray();
  for (std::string_view action : DeniedBedrockActions()) w.String(action);
  w.EndArray().Field("Resource", "*");
  if (!session.empty()) {
    w.Key("Condition").BeginObject().Key("StringLike").BeginObject();
    w.Field("aws:userid", "*:" + std::string(session));
    w.EndObject().EndObject();
  }
  w.EndObject().EndArray().EndObject();
  return w.Take();
}

std::string SessionPolicyName(std::string_view session) {
  return std::string(kSuspensionPolicyName) + "-" + std::string(session) + "-" +
         aws::Sha256Hex(session).substr(0, 8);
}

Result<SuspensionTarget> SuspensionTargetFor(const PrincipalKey& key) {
  SuspensionTarget t;
  switch (key.kind) {
    case PrincipalKind::kUser:
      t.entity = IamEntityKind::kUser;
      t.entity_name = key.name;
      if (!IsIamName(t.entity_name, 64)) {
        return InvalidArgument("'" + key.name + "' is not a valid IAM user name");
      }
      break;
    case PrincipalKind::kRole:
      t.entity = IamEntityKind::kRole;
      t.entity_name = key.name;
      if (!IsIamName(t.entity_name, 64)) {
        return InvalidArgument("'" + key.name + "' is not a valid IAM role name");
      }
      break;
    case PrincipalKind::kRoleSession: {
      const size_t slash = key.name.find('/');
      t.entity = IamEntityKind::kRole;
      t.entity_name = key.name.substr(0, slash);
      t.session = slash == std::string::npos ? "" : key.name.substr(slash + 1);
      if (!IsIamName(t.entity_name, 64) || !IsIamName(t.session, 64)) {
        return InvalidArgument("'" + key.name + "' is not a valid IAM role/session name");
      }
      break;
    }
    case PrincipalKind::kOther:
      return InvalidArgument("'" + key.name +
                             "' is neither an IAM user nor an assumed role: IAM cannot suspend "
                             "it (use enforce.mode = \"webhook\" for such principals)");
  }
  t.policy_name =
      t.session.empty() ? std::string(kSuspensionPolicyName) : SessionPolicyName(t.session);
  t.policy_document = DenyPolicyDocument(t.session);
  return t;
}

}  // namespace budgeteer
