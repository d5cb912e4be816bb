// SlackNotifier: posts each notification to a Slack incoming webhook as
// {"text": <one-line fallback>, "blocks": [header, fields, what to do, context]}.
// The webhook URL's path is a secret: errors name it only as https://host/…
// Not thread-safe: one call at a time (the dispatcher thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actions/http_client.h"
#include "actions/notifier.h"

namespace budgeteer {

struct SlackConfig {
  std::string name;                   // optional: the channel is named "slack" or "slack:<name>"
  std::string webhook_url;            // https://hooks.slack.com/services/... (required, secret)
  int64_t connect_timeout_ms = 2000;  // TCP + TLS connection
  int64_t timeout_ms = 5000;          // the whole request
};

// The Slack message for one action. A payload that is not JSON is still sent, as plain text.
std::string SlackMessageJson(const ActionMessage& message);

class SlackNotifier final : public Notifier {
 public:
  static Result<std::unique_ptr<SlackNotifier>> Create(SlackConfig config);
  std::string name() const override;
  Status Deliver(const ActionMessage& message) override;

 private:
  SlackNotifier(SlackConfig config, std::unique_ptr<HttpPoster> http);
  SlackConfig config_;
  std::unique_ptr<HttpPoster> http_;
};

}  // namespace budgeteer
