#include "actions/ses/ses_notifier.h"

#include <algorithm>

#include "actions/notification_text.h"
#include "actions/payload.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

bool ValidAddress(std::string_view address) {
  if (address.empty() || address.find('@') == std::string_view::npos) return false;
  return std::none_of(address.begin(), address.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x21 || u == 0x7f || c == '<' || c == '>' || c == ',';
  });
}

}  // namespace

Result<std::string> ComposeSesRequest(const SesConfig& config, const ActionMessage& message) {
  const auto fields = PayloadFields::Parse(message.payload);
  std::vector<std::string> recipients;
  auto add = [&recipients](std::string_view address) -> Status {
    if (!ValidAddress(address)) {
      return InvalidArgument("invalid e-mail address '" + OneLine(address) + "'");
    }
    if (std::find(recipients.begin(), recipients.end(), address) == recipients.end()) {
      recipients.emplace_back(address);
    }
    return Status::Ok();
  };
  for (const auto& to : config.to) RETURN_IF_ERROR(add(to));
  if (config.send_to_owner && fields.ok() && !fields->Get("owner_email").empty()) {
    RETURN_IF_ERROR(add(fields->Get("owner_email")));
  }
  if (!ValidAddress(config.from)) {
    return InvalidArgument("invalid From address '" + OneLine(config.from) + "'");
  }
  if (recipients.empty()) return std::string();

  const NotificationText text = ComposeNotificationText(message);
  JsonWriter w;
  w.BeginObject().Field("FromEmailAddress", config.from);
  w.Key("Destination").BeginObject().Key("ToAddresses").BeginArray();
  for (const auto& r : recipients) w.String(r);
  w.EndArray().EndObject();
  w.Key("Content").BeginObject().Key("Simple").BeginObject();
  w.Key("Subject").BeginObject().Field("Data", text.subject).Field("Charset", "UTF-8").EndObject();
  w.Key("Body").BeginObject().Key("Text").BeginObject();
  w.Field("Data", text.body).Field("Charset", "UTF-8").EndObject().EndObject();
  w.EndObject().EndObject();
  if (!config.configuration_set.empty()) {
    w.Field("ConfigurationSetName", config.configuration_set);
  }
  w.EndObject();
  return w.Take();
}

Result<std::unique_ptr<SesNotifier>> SesNotifier::Create(SesConfig config, const AwsDeps& deps) {
  if (deps.env == nullptr || deps.credentials == nullptr || deps.transport == nullptr ||
      deps.clock == nullptr) {
    return InvalidArgument(
        "the SES notifier needs an environment, credentials, a transport and "
        "a clock");
  }
  const std::string what = "ses:" + config.name;
  if (!ValidAddress(config.from)) {
    return InvalidArgument(what + ": from '" + OneLine(config.from) + "' is not an address");
  }
  if (config.to.empty() && !config.send_to_owner) {
    return InvalidArgument(what + ": needs at least one address in to, or send_to_owner");
  }
  if (deps.region.empty()) {
    return InvalidArgument(what + ": no AWS region (set [aws] region or AWS_REGION)");
  }
  ASSIGN_OR_RETURN(aws::Endpoint endpoint,
                   aws::ResolveEndpoint(aws::kSesV2, deps.region, *deps.env));
  aws::AwsClient client(aws::kSesV2, std::move(endpoint), deps.credentials, *deps.transport,
                        *deps.clock, deps.timeouts);
  return std::unique_ptr<SesNotifier>(new SesNotifier(std::move(config), std::move(client)));
}

Status SesNotifier::Deliver(const ActionMessage& message) {
  ASSIGN_OR_RETURN(std::string body, ComposeSesRequest(config_, message));
  if (body.empty()) return Status::Ok();  // nobody to send to (no owner e-mail yet)
  auto sent = client_.Rest("SendEmail", "POST", "/v2/email/outbound-emails", {},
                           {{"Content-Type", "application/json"}}, std::move(body),
                           aws::Protocol::kRestJson);
  return sent.status().WithContext(name());
}

}  // namespace budgeteer
