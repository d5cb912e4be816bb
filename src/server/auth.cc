#include "server/auth.h"

#include "util/constant_time.h"

namespace budgeteer {

TokenAuth::TokenAuth(const std::vector<std::string>& admin_tokens,
                     const std::vector<std::string>& viewer_tokens) {
  auto add = [this](const std::vector<std::string>& tokens, Role role, const char* prefix) {
    int n = 0;
    for (const std::string& t : tokens) {
      ++n;
      const size_t colon = t.find(':');
      Entry e;
      e.caller.role = role;
      if (colon != std::string::npos && colon > 0 && colon + 1 < t.size()) {
        e.caller.name = t.substr(0, colon);
        e.token = t.substr(colon + 1);
      } else {
        e.caller.name = std::string(prefix) + std::to_string(n);
        e.token = t;
      }
      if (!e.token.empty()) entries_.push_back(std::move(e));
    }
  };
  add(admin_tokens, Role::kAdmin, "admin-");
  add(viewer_tokens, Role::kViewer, "viewer-");
}

Result<Caller> TokenAuth::Check(std::string_view authorization, Role needed) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return Status(Code::kUnauthenticated,
                  "missing bearer token: send 'Authorization: Bearer <token>' (auth.viewer_tokens "
                  "or auth.admin_tokens)");
  }
  const std::string_view token = authorization.substr(kBearer.size());
  // Every entry is compared, so the time does not tell which one matched.
  const Caller* found = nullptr;
  for (const Entry& e : entries_) {
    if (ConstantTimeEquals(token, e.token) && found == nullptr) found = &e.caller;
  }
  if (found == nullptr) return Status(Code::kUnauthenticated, "unknown bearer token");
  if (needed == Role::kAdmin && found->role != Role::kAdmin) {
    return Status(Code::kPermissionDenied, "this action needs an admin token");
  }
  return *found;
}

}  // namespace budgeteer
