// Status and Result<T>: the one error vocabulary of the project.
//
// A Status carries a canonical code, a message meant for the person who must act on it, a
// `retryable` flag for failures of outside systems and, for those, an optional hint from the
// outside system of how long to wait before trying again (an HTTP Retry-After).
// Result<T> holds a value or a non-OK Status.
// Exit codes (CLI) and HTTP statuses are derived from the code in one table (status.cc).
// Values only; thread-compatible.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace budgeteer {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // bad input from a caller: a record, a flag, a request body
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // a create that collides
  kFailedPrecondition,  // the state does not allow it (e.g. restore while over budget)
  kUnauthenticated,     // no or unknown credentials
  kPermissionDenied,    // credentials without the needed role
  kResourceExhausted,   // a size or rate limit was hit
  kUnavailable,         // an outside system is down or busy (usually retryable)
  kDataLoss,            // stored data is corrupt
  kInternal,            // a broken invariant or unexpected library failure
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message, bool retryable = false)
      : code_(code), message_(std::move(message)), retryable_(retryable) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  // The outside system's own "try again in" (milliseconds, >= 0), when it gave one: the
  // dispatcher waits at least this long (within its cap) before the next attempt.
  const std::optional<int64_t>& retry_after_ms() const { return retry_after_ms_; }
  // This status with a retry-after hint; a negative `ms` clears the hint.
  Status WithRetryAfterMs(int64_t ms) const;

  // "CODE: message" for logs and CLI output.
  std::string ToString() const;

  // Prefixes the message with context, keeping code, retryability and retry-after hint.
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  bool retryable_ = false;
  std::optional<int64_t> retry_after_ms_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m), true}; }

// The CLI's exit code for a failed command with this status (0 for OK).
int ExitCodeFor(const Status& status);
// The HTTP status code for a reply carrying this status (200 for OK).
int HttpStatusFor(const Status& status);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace budgeteer

#define BUDGETEER_CONCAT_INNER(a, b) a##b
#define BUDGETEER_CONCAT(a, b) BUDGETEER_CONCAT_INNER(a, b)

// The macros cannot parenthesise their arguments: `lhs` may be a declaration.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                  \
    ::budgeteer::Status tmp = (expr);   \
    if (!tmp.ok()) return tmp;          \
  } while (0)

#define RETURN_IF_ERROR(expr) RETURN_IF_ERROR_IMPL(BUDGETEER_CONCAT(status_macro_, __LINE__), expr)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(BUDGETEER_CONCAT(result_macro_, __LINE__), lhs, expr)
// NOLINTEND(bugprone-macro-parentheses)
