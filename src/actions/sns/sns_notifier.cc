#include "actions/sns/sns_notifier.h"

#include <algorithm>
#include <vector>

#include "actions/notification_text.h"
#include "actions/payload.h"

namespace budgeteer {

namespace {

constexpr char kSnsVersion[] = "2010-03-31";

// An SMS longer than 1,600 characters is refused by SNS; ours stay well below.
constexpr size_t kMaxSmsChars = 1400;

// SNS subjects: printable ASCII, no line breaks, at most 100 characters.
std::string SnsSubject(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 && (u & 0xc0) == 0x80) continue;  // UTF-8 continuation: one '?' per character
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (out.size() > 100) out = out.substr(0, 97) + "...";
  return out;
}

// The region field of "arn:aws:sns:<region>:<account>:<topic>", or "" when malformed.
std::string TopicRegion(std::string_view arn) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (parts.size() < 5) {
    const size_t colon = arn.find(':', pos);
    if (colon == std::string_view::npos) return "";
    parts.push_back(arn.substr(pos, colon - pos));
    pos = colon + 1;
  }
  if (parts[0] != "arn" || parts[2] != "sns" || pos >= arn.size()) return "";
  return std::string(parts[3]);
}

bool IsPhoneNumber(std::string_view s) {
  return s.size() >= 8 && s.size() <= 16 && s[0] == '+' &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

SnsMessage ComposeSnsMessage(const SnsConfig& config, const ActionMessage& message) {
  const NotificationText text = ComposeNotificationText(message);
  SnsMessage out;
  if (!config.topic_arn.empty()) {
    out.subject = SnsSubject(text.subject);
    out.message = text.body;
    return out;
  }
  // SMS: the subject line and what to do; the figures are in the other channels and the API.
  const auto fields = PayloadFields::Parse(message.payload);
  out.message = text.subject;
  if (fields.ok() && !fields->Get("message").empty()) {
    out.message += "\n" + OneLine(fields->Get("message"));
  }
  if (out.message.size() > kMaxSmsChars) {
    size_t cut = kMaxSmsChars - 3;
    while (cut > 0 && (static_cast<unsigned char>(out.message[cut]) & 0xc0) == 0x80) --cut;
    out.message = out.message.substr(0, cut) + "...";
  }
  return out;
}

Result<std::unique_ptr<SnsNotifier>> SnsNotifier::Create(SnsConfig config, const AwsDeps& deps) {
  if (deps.env == nullptr || deps.credentials == nullptr || deps.transport == nullptr ||
      deps.clock == nullptr) {
    return InvalidArgument(
        "the SNS notifier needs an environment, credentials, a transport and "
        "a clock");
  }
  const std::string what = "sns:" + config.name;
  if (config.topic_arn.empty() == config.phone_number.empty()) {
    return InvalidArgument(what +
                           ": set exactly one of topic_arn and phone_number (use two "
                           "channels for both)");
  }
  std::string region = deps.region;
  if (!config.topic_arn.empty()) {
    region = TopicRegion(config.topic_arn);
    if (region.empty()) {
      return InvalidArgument(what + ": topic_arn '" + config.topic_arn +
                             "' is not arn:aws:sns:<region>:<account>:<topic>");
    }
  } else if (!IsPhoneNumber(config.phone_number)) {
    return InvalidArgument(what + ": phone_number '" + config.phone_number +
                           "' is not in E.164 form (+ and 7 to 15 digits)");
  }
  if (region.empty()) {
    return InvalidArgument(what + ": no AWS region for SMS (set [aws] region or AWS_REGION)");
  }
  ASSIGN_OR_RETURN(aws::Endpoint endpoint, aws::ResolveEndpoint(aws::kSns, region, *deps.env));
  aws::AwsClient client(aws::kSns, std::move(endpoint), deps.credentials, *deps.transport,
                        *deps.clock, deps.timeouts);
  return std::unique_ptr<SnsNotifier>(new SnsNotifier(std::move(config), std::move(client)));
}

Status SnsNotifier::Deliver(const ActionMessage& message) {
  const SnsMessage sns = ComposeSnsMessage(config_, message);
  std::vector<aws::QueryParam> params;
  if (!config_.topic_arn.empty()) {
    params = {{"TopicArn", config_.topic_arn}, {"Subject", sns.subject}, {"Message", sns.message}};
  } else {
    // Transactional: SNS delivers these for reliability; the default, Promotional, is
    // optimised for cost. A budget alert is not marketing.
    params = {{"PhoneNumber", config_.phone_number},
              {"Message", sns.message},
              {"MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType"},
              {"MessageAttributes.entry.1.Value.DataType", "String"},
              {"MessageAttributes.entry.1.Value.StringValue", "Transactional"}};
  }
  return client_.Query("Publish", kSnsVersion, params).status().WithContext(name());
}

}  // namespace budgeteer
