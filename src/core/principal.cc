#include "core/principal.h"

#include <algorithm>

namespace budgeteer {

std::string_view PrincipalKindName(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::kUser:
      return "user";
    case PrincipalKind::kRole:
      return "role";
    case PrincipalKind::kRoleSession:
      return "role_session";
    case PrincipalKind::kOther:
      return "other";
  }
  return "other";
}

bool ParsePrincipalKind(std::string_view text, PrincipalKind& out) {
  for (auto k : {PrincipalKind::kUser, PrincipalKind::kRole, PrincipalKind::kRoleSession,
                 PrincipalKind::kOther}) {
    if (PrincipalKindName(k) == text) {
      out = k;
      return true;
    }
  }
  return false;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] != '*' && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool IsAccountId(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits "arn:partition:service:region:account:resource" into its six fields.
bool SplitArn(std::string_view arn, std::string_view (&fields)[6]) {
  for (int i = 0; i < 5; ++i) {
    const size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return false;
    fields[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  fields[5] = arn;
  return fields[0] == "arn";
}

}  // namespace

Result<PrincipalKey> ResolvePrincipal(std::string_view caller, std::string_view record_account,
                                      const IdentityRules& rules) {
  if (caller.empty()) {
    return InvalidArgument("caller identity is empty (identity.arn or principal is required)");
  }
  if (caller.size() > 2048) {
    return InvalidArgument("caller identity is longer than 2048 characters");
  }
  PrincipalKey key;
  std::string_view f[6];
  if (!SplitArn(caller, f)) {
    // "ACCOUNT:NAME" from a canonical record.
    const size_t colon = caller.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == caller.size()) {
      return InvalidArgument("caller '" + std::string(caller) +
                             "' is neither an ARN nor ACCOUNT:NAME");
    }
    key.account = std::string(caller.substr(0, colon));
    key.kind = PrincipalKind::kOther;
    key.name = std::string(caller.substr(colon + 1));
    return key;
  }
  const std::string_view service = f[2];
  std::string_view account = f[4];
  const std::string_view resource = f[5];
  if (account.empty()) account = record_account;
  if (account.empty()) {
    return InvalidArgument("caller '" + std::string(caller) +
                           "' has no account and the record has no accountId");
  }
  if (!IsAccountId(account) && account != record_account) {
    return InvalidArgument("caller '" + std::string(caller) + "' has a malformed account '" +
                           std::string(account) + "'");
  }
  key.account = std::string(account);

  if (service == "iam" && resource.starts_with("user/")) {
    // user/<path>/<name>: the name is the last segment; user names are unique per account.
    const std::string_view rest = resource.substr(5);
    const size_t slash = rest.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
    if (!name.empty()) {
      key.kind = PrincipalKind::kUser;
      key.name = std::string(name);
      return key;
    }
  } else if (service == "sts" && resource.starts_with("assumed-role/")) {
    const std::string_view rest = resource.substr(13);
    const size_t slash = rest.find('/');
    const std::string_view role = rest.substr(0, slash);
    const std::string_view session =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!role.empty()) {
      const bool per_session =
          !session.empty() &&
          std::any_of(rules.per_session_roles.begin(), rules.per_session_roles.end(),
                      [&](const std::string& pattern) { return GlobMatch(pattern, role); });
      key.kind = per_session ? PrincipalKind::kRoleSession : PrincipalKind::kRole;
      key.name = per_session ? std::string(role) + "/" + std::string(session) : std::string(role);
      return key;
    }
  }
  // federated-user, root, service principals, anything else: named after the ARN, never dropped.
  key.kind = PrincipalKind::kOther;
  key.name = std::string(caller);
  return key;
}

}  // namespace budgeteer
