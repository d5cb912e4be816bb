// SesNotifier: sends each notification as a plain-text e-mail through Amazon SES v2 SendEmail
// (REST-JSON, POST /v2/email/outbound-emails, Simple content), an alternative to SMTP for
// services running on AWS. Subject and body are the SMTP notifier's (notification_text.h).
// Not thread-safe: one call at a time (the dispatcher thread). ComposeSesRequest is pure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actions/aws_deps.h"
#include "actions/notifier.h"
#include "aws/client.h"

namespace budgeteer {

struct SesConfig {
  std::string name;               // the channel is "ses:<name>"
  std::string from;               // a verified SES identity (address or domain)
  std::vector<std::string> to;    // fixed recipients
  bool send_to_owner = true;      // also the payload's owner_email when set
  std::string configuration_set;  // optional SES configuration set (event publishing)
};

// The SendEmail body for one action, or an empty string when there is nobody to send
// to. InvalidArgument for an address with control characters or no '@'.
Result<std::string> ComposeSesRequest(const SesConfig& config, const ActionMessage& message);

class SesNotifier final : public Notifier {
 public:
  // InvalidArgument for a missing from, no recipients (and send_to_owner off), or no region.
  static Result<std::unique_ptr<SesNotifier>> Create(SesConfig config, const AwsDeps& deps);
  std::string name() const override { return "ses:" + config_.name; }
  // OK without sending when there is nobody to send to.
  Status Deliver(const ActionMessage& message) override;

 private:
  SesNotifier(SesConfig config, aws::AwsClient client)
      : config_(std::move(config)), client_(std::move(client)) {}
  SesConfig config_;
  aws::AwsClient client_;
};

}  // namespace budgeteer
