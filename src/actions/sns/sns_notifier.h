// SnsNotifier: publishes each notification with SNS Publish (query protocol), either to a topic
// (with a Subject, which e-mail subscribers see as the subject line) or straight to a phone
// number as an SMS. One channel has one target, so a topic and a phone number are two channels,
// each with its own retries and dead-letter state. The text is the e-mail notifier's
// (notification_text.h); an SMS carries the subject line and the "what to do" paragraph only.
// Not thread-safe: one call at a time (the dispatcher thread).
#pragma once

#include <memory>
#include <string>

#include "actions/aws_deps.h"
#include "actions/notifier.h"
#include "aws/client.h"

namespace budgeteer {

struct SnsConfig {
  std::string name;          // the channel is "sns:<name>"
  std::string topic_arn;     // arn:aws:sns:<region>:<account>:<topic>, or
  std::string phone_number;  // E.164, "+15555550100"
};

// What Publish carries for one action (exposed for tests). Subject: ASCII, one line, at most
// 100 characters (SNS's rules; longer or non-ASCII text is shortened / replaced by '?').
struct SnsMessage {
  std::string subject;  // empty for SMS (SNS ignores it there)
  std::string message;
};
SnsMessage ComposeSnsMessage(const SnsConfig& config, const ActionMessage& message);

class SnsNotifier final : public Notifier {
 public:
  // InvalidArgument unless exactly one of topic_arn / phone_number is set and well-formed. The
  // client is built for the topic's region (from its ARN) or, for SMS, deps.region.
  static Result<std::unique_ptr<SnsNotifier>> Create(SnsConfig config, const AwsDeps& deps);
  std::string name() const override { return "sns:" + config_.name; }
  Status Deliver(const ActionMessage& message) override;

 private:
  SnsNotifier(SnsConfig config, aws::AwsClient client)
      : config_(std::move(config)), client_(std::move(client)) {}
  SnsConfig config_;
  aws::AwsClient client_;
};

}  // namespace budgeteer
