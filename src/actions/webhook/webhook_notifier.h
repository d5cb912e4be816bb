// Generic webhooks: WebhookNotifier (notifications) and WebhookEnforcer (suspend/restore access
// in another system) POST one signed JSON document per action. Not thread-safe: one call at a
// time (the dispatcher thread); the signature helpers are pure and thread-safe.
//
// Request: POST <url>, Content-Type: application/json, body
//   {"action_id":42,"kind":"notify","event":"warning","sent_at":"2026-01-31T12:00:00Z",
//    "payload":{...the outbox payload, as written by engine/events.cc...}}
// (a payload that is not a JSON object is sent as a JSON string; an empty one as null).
// Headers:
//   X-Budgeteer-Timestamp: <unix seconds of sent_at>
//   X-Budgeteer-Signature: sha256=<lower-case hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   X-Budgeteer-Action-Id: <action_id> (the same on every retry: receivers de-duplicate on it)
// Receivers check the signature with VerifyWebhookSignature and reject stale timestamps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "actions/http_client.h"
#include "actions/notifier.h"

namespace budgeteer {

struct WebhookConfig {
  std::string name;                   // "ops" -> the channel is named "webhook:ops"
  std::string url;                    // http:// or https:// (required)
  std::string secret;                 // HMAC key (required, never logged)
  int64_t connect_timeout_ms = 2000;  // TCP + TLS connection
  int64_t timeout_ms = 5000;          // the whole request
};

// "sha256=<hex>" for the timestamp and body.
std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);
// True when `header` is the signature of "<timestamp>.<body>" (constant-time comparison).
bool VerifyWebhookSignature(std::string_view secret, std::string_view timestamp,
                            std::string_view body, std::string_view header);
// As above, and the timestamp is within `tolerance_seconds` of `now` (replay protection).
bool VerifyWebhookSignature(std::string_view secret, std::string_view timestamp,
                            std::string_view body, std::string_view header, Timestamp now,
                            int64_t tolerance_seconds = 300);

// The body sent for one action (see the file comment).
std::string WebhookBody(const ActionMessage& message);

class WebhookNotifier final : public Notifier {
 public:
  static Result<std::unique_ptr<WebhookNotifier>> Create(WebhookConfig config);
  std::string name() const override;
  Status Deliver(const ActionMessage& message) override;

 private:
  WebhookNotifier(WebhookConfig config, std::unique_ptr<HttpPoster> http);
  WebhookConfig config_;
  std::unique_ptr<HttpPoster> http_;
};

// The same transport for "suspend_access" / "restore_access" actions; other kinds are refused
// (InvalidArgument, not retryable). The receiver must treat a repeated action as success.
class WebhookEnforcer final : public Enforcer {
 public:
  static Result<std::unique_ptr<WebhookEnforcer>> Create(WebhookConfig config);
  std::string name() const override;
  Status Apply(const ActionMessage& message) override;

 private:
  WebhookEnforcer(WebhookConfig config, std::unique_ptr<HttpPoster> http);
  WebhookConfig config_;
  std::unique_ptr<HttpPoster> http_;
};

}  // namespace budgeteer
