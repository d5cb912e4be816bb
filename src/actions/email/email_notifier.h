// EmailNotifier: sends each notification as a plain-text e-mail over SMTP through libcurl:
// smtp:// (optionally upgraded with STARTTLS, then required) or smtps://, with optional login.
// Not thread-safe: one call at a time (the dispatcher thread). ComposeEmail is pure.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actions/notifier.h"

namespace budgeteer {

struct EmailConfig {
  std::string name;                   // optional: the channel is "email" or "email:<name>"
  std::string smtp_url;               // smtp://host[:port] or smtps://host[:port] (required)
  std::string username;               // empty: no AUTH
  std::string password;               // never logged
  std::string from;                   // envelope and From: address (required)
  std::vector<std::string> to;        // fixed recipients
  bool starttls = false;              // smtp:// only: require STARTTLS before sending
  bool send_to_owner = false;         // also send to the payload's owner_email when set
  int64_t connect_timeout_ms = 5000;  // TCP (+ TLS) connection
  int64_t timeout_ms = 15000;         // the whole SMTP exchange
};

struct ComposedEmail {
  std::vector<std::string> recipients;  // envelope recipients (RCPT TO), de-duplicated
  std::string data;                     // headers + body, CRLF line endings
};

// The message for one action. Message-ID is derived from the action id, so a retried action
// keeps its Message-ID. InvalidArgument for an address with control characters or no '@'.
Result<ComposedEmail> ComposeEmail(const EmailConfig& config, const ActionMessage& message);

class EmailNotifier final : public Notifier {
 public:
  // InvalidArgument for a URL that is not smtp:// or smtps://, a missing from, no recipients
  // (and send_to_owner off), or non-positive timeouts.
  static Result<std::unique_ptr<EmailNotifier>> Create(EmailConfig config);
  ~EmailNotifier() override;
  EmailNotifier(const EmailNotifier&) = delete;
  EmailNotifier& operator=(const EmailNotifier&) = delete;

  std::string name() const override;
  // OK without sending when there is nobody to send to (no fixed recipients, no owner_email).
  // SMTP 4xx replies and network failures are retryable; 5xx replies and login failures not.
  Status Deliver(const ActionMessage& message) override;

 private:
  EmailNotifier(EmailConfig config, void* curl);
  EmailConfig config_;
  std::string redacted_url_;
  void* curl_;  // CURL*, reused across messages
};

}  // namespace budgeteer
