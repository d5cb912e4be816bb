// What the IAM enforcer writes: which IAM user or role a principal maps to, the name of the
// inline deny policy it puts there, and that policy's document. Pure; thread-safe.
//
//   user  <name>            -> PutUserPolicy  UserName=<name> PolicyName=BedrockBudgeteerSuspension
//   role  <role>            -> PutRolePolicy  RoleName=<role> PolicyName=BedrockBudgeteerSuspension
//   role_session <role>/<s> -> PutRolePolicy  RoleName=<role>
//                              PolicyName=BedrockBudgeteerSuspension-<s>-<8 hex of sha256(s)>
//                              with the deny conditioned on aws:userid = "*:<s>"
//   other (federated users, root, ...) cannot be suspended through IAM: InvalidArgument.
//
// One policy per suspended session, rather than one policy listing every suspended session of a
// role: each suspend and restore is then one idempotent write that never reads, merges or races
// another instance's write. The cost is IAM's quota on a role's inline policies (10,240
// characters in total, whitespace not counted): about 30 sessions of one role can be suspended
// at once; beyond that IAM answers LimitExceeded, a permanent failure that raises an alert.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/status.h"

namespace budgeteer {

// The documented name of the inline deny policy (per-session policies add a suffix).
inline constexpr std::string_view kSuspensionPolicyName = "BedrockBudgeteerSuspension";

// The actions the deny policy names: model inference (SigV4 and API keys alike) and the use of
// Amazon Bedrock API keys on both endpoints that accept them.
const std::vector<std::string_view>& DeniedBedrockActions();

enum class IamEntityKind { kUser, kRole };

struct SuspensionTarget {
  IamEntityKind entity = IamEntityKind::kUser;
  std::string entity_name;  // the IAM user or role name
  std::string session;      // the role session name, for per-session principals; else empty
  std::string policy_name;
  std::string policy_document;  // compact JSON (IAM counts every non-blank character)
};

// The deny policy; with a session, conditioned on {"StringLike":{"aws:userid":"*:<session>"}}.
// (An assumed role's aws:userid is "<role id>:<session name>"; the policy sits on that one
// role, so the wildcard stands only for the role's own id.)
std::string DenyPolicyDocument(std::string_view session);

// "BedrockBudgeteerSuspension-<session>-<8 hex>": readable in the console, unique even where
// IAM compares names case-insensitively, and within IAM's 128-character limit (a session name
// has at most 64 characters, of the same character set as policy names).
std::string SessionPolicyName(std::string_view session);

// The target for a principal. InvalidArgument for principals IAM cannot suspend ("other") and
// for names IAM would refuse.
Result<SuspensionTarget> SuspensionTargetFor(const PrincipalKey& key);

}  // namespace budgeteer
