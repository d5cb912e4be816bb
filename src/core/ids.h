// Strong identifier types: a request id, a model id and a principal are distinct types, so one
// cannot be passed where another is expected. Values only; thread-compatible.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace budgeteer {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  explicit StrongId(std::string_view value) : value_(value) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;

 private:
  std::string value_;
};

using RequestId = StrongId<struct RequestIdTag>;
// A model id as it arrived (raw) or after normalisation (canonical); see pricing/pricing.h.
using ModelId = StrongId<struct ModelIdTag>;

enum class PrincipalKind {
  kUser,         // arn:aws:iam::<acct>:user/<path>/<name>        name = <name>
  kRole,         // arn:aws:sts::<acct>:assumed-role/<role>/<s>   name = <role>
  kRoleSession,  // the same, when per-session budgets apply      name = <role>/<session>
  kOther,        // federated-user, root, anything else           name = the ARN
};

std::string_view PrincipalKindName(PrincipalKind kind);  // "user", "role", "role_session", "other"
bool ParsePrincipalKind(std::string_view text, PrincipalKind& out);

// Who pays. The account is part of the identity: the same name in two accounts is two principals.
struct PrincipalKey {
  std::string account;
  PrincipalKind kind = PrincipalKind::kOther;
  std::string name;

  // "ACCOUNT:NAME", the always-unambiguous display form.
  std::string Qualified() const { return account + ":" + name; }
  auto operator<=>(const PrincipalKey&) const = default;
};

struct PrincipalKeyHash {
  size_t operator()(const PrincipalKey& k) const {
    size_t h = std::hash<std::string>{}(k.account);
    h = h * 1000003U ^ std::hash<std::string>{}(k.name);
    return h * 31U + static_cast<size_t>(k.kind);
  }
};

}  // namespace budgeteer
