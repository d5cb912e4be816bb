#include "core/status.h"

namespace budgeteer {

namespace {
struct CodeInfo {
  Code code;
  std::string_view name;
  int exit_code;
  int http_status;
};

// The one table mapping codes to names, CLI exit codes and HTTP statuses.
// Exit codes: 1 runtime failure, 2 usage/config error, 3 partial rejection (set by `ingest`).
constexpr CodeInfo kCodes[] = {
    {Code::kOk, "OK", 0, 200},
    {Code::kInvalidArgument, "INVALID_ARGUMENT", 2, 400},
    {Code::kNotFound, "NOT_FOUND", 4, 404},
    {Code::kAlreadyExists, "ALREADY_EXISTS", 1, 409},
    {Code::kFailedPrecondition, "FAILED_PRECONDITION", 5, 409},
    {Code::kUnauthenticated, "UNAUTHENTICATED", 1, 401},
    {Code::kPermissionDenied, "PERMISSION_DENIED", 1, 403},
    {Code::kResourceExhausted, "RESOURCE_EXHAUSTED", 1, 413},
    {Code::kUnavailable, "UNAVAILABLE", 1, 503},
    {Code::kDataLoss, "DATA_LOSS", 1, 500},
    {Code::kInternal, "INTERNAL", 1, 500},
};

const CodeInfo& Info(Code code) {
  for (const auto& info : kCodes) {
    if (info.code == code) return info;
  }
  return kCodes[sizeof(kCodes) / sizeof(kCodes[0]) - 1];
}
}  // namespace

std::string_view CodeName(Code code) { return Info(code).name; }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  Status out(code_, std::move(m), retryable_);
  out.retry_after_ms_ = retry_after_ms_;
  return out;
}

Status Status::WithRetryAfterMs(int64_t ms) const {
  Status out = *this;
  out.retry_after_ms_ = ms >= 0 ? std::optional<int64_t>(ms) : std::nullopt;
  return out;
}

int ExitCodeFor(const Status& status) { return Info(status.code()).exit_code; }
int HttpStatusFor(const Status& status) { return Info(status.code()).http_status; }

}  // namespace budgeteer
