// Bearer-token authentication with two roles: viewers read, admins also change. Tokens come
// from config as "token" or "name:token" (the name is the actor in the audit; unnamed tokens
// are "admin-N"/"viewer-N"). Compared in constant time. Immutable after construction;
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace budgeteer {

enum class Role { kViewer, kAdmin };

struct Caller {
  std::string name;
  Role role = Role::kViewer;
};

class TokenAuth {
 public:
  TokenAuth(const std::vector<std::string>& admin_tokens,
            const std::vector<std::string>& viewer_tokens);

  // `authorization` is the Authorization header. kUnauthenticated when missing or unknown,
  // kPermissionDenied when the token's role is below `needed`.
  Result<Caller> Check(std::string_view authorization, Role needed) const;

 private:
  struct Entry {
    std::string token;
    Caller caller;
  };
  std::vector<Entry> entries_;
};

}  // namespace budgeteer
