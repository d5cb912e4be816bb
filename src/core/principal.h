// Who pays: maps the caller of a usage record to a PrincipalKey (PRODUCT §3).
//
//   arn:aws:iam::<acct>:user/<path>/<name>          -> user <name>
//   arn:aws:sts::<acct>:assumed-role/<role>/<sess>  -> role <role>, or role session
//                                                      <role>/<sess> when per-session budgets
//                                                      apply to <role>
//   federated-user, root, anything else              -> other, named after the ARN
//   "ACCOUNT:NAME" (canonical records only)          -> other <NAME> in ACCOUNT
//
// requestMetadata never takes part. Pure; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/status.h"

namespace budgeteer {

struct IdentityRules {
  // Roles whose sessions are budgeted one by one. Glob patterns with '*', matched against the
  // role name (e.g. "AWSReservedSSO_*"). Empty: every role is one principal.
  std::vector<std::string> per_session_roles;
};

// `caller` is an ARN or "ACCOUNT:NAME"; `record_account` is the record's accountId, used when
// the caller does not carry an account.
Result<PrincipalKey> ResolvePrincipal(std::string_view caller, std::string_view record_account,
                                      const IdentityRules& rules);

// Simple glob: '*' matches any run of characters, everything else matches itself.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace budgeteer
