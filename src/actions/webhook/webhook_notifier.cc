#include "actions/webhook/webhook_notifier.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <vector>

#include "actions/payload.h"
#include "util/constant_time.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

Result<std::unique_ptr<HttpPoster>> MakePoster(const WebhookConfig& config) {
  if (config.secret.empty()) {
    return InvalidArgument("webhook " + config.name + ": a secret is required to sign requests");
  }
  auto http = HttpPoster::Create(config.url, {config.connect_timeout_ms, config.timeout_ms});
  if (!http.ok()) return http.status().WithContext("webhook " + config.name);
  return std::move(http).value();
}

Status Send(HttpPoster& http, const WebhookConfig& config, const ActionMessage& message) {
  const std::string body = WebhookBody(message);
  const std::string timestamp = std::to_string(message.now.unix_seconds());
  const std::vector<std::string> headers = {
      "Content-Type: application/json",
      "X-Budgeteer-Timestamp: " + timestamp,
      "X-Budgeteer-Signature: " + WebhookSignature(config.secret, timestamp, body),
      "X-Budgeteer-Action-Id: " + std::to_string(message.action_id),
  };
  return http.Post(headers, body, message.now);
}

std::string ChannelName(const WebhookConfig& config) {
  return config.name.empty() ? "webhook" : "webhook:" + config.name;
}

}  // namespace

std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac,
       &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < mac_len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xf]);
  }
  return out;
}

bool VerifyWebhookSignature(std::string_view secret, std::string_view timestamp,
                            std::string_view body, std::string_view header) {
  return ConstantTimeEquals(WebhookSignature(secret, timestamp, body), header);
}

bool VerifyWebhookSignature(std::string_view secret, std::string_view timestamp,
                            std::string_view body, std::string_view header, Timestamp now,
                            int64_t tolerance_seconds) {
  int64_t seconds = 0;
  const auto [end, ec] =
      std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return false;
  const int64_t age = now.unix_seconds() - seconds;
  if (age > tolerance_seconds || age < -tolerance_seconds) return false;
  return VerifyWebhookSignature(secret, timestamp, body, header);
}

std::string WebhookBody(const ActionMessage& message) {
  JsonWriter w;
  w.BeginObject()
      .Field("action_id", message.action_id)
      .Field("kind", message.kind)
      .Field("event", message.event)
      .Field("sent_at", message.now.ToRfc3339());
  w.Key("payload");
  if (message.payload.empty()) {
    w.Null();
  } else if (PayloadFields::Parse(message.payload).ok()) {
    w.RawJson(message.payload);
  } else {
    w.String(message.payload);  // never emit invalid JSON: a malformed payload goes as text
  }
  w.EndObject();
  return w.Take();
}

Result<std::unique_ptr<WebhookNotifier>> WebhookNotifier::Create(WebhookConfig config) {
  ASSIGN_OR_RETURN(auto http, MakePoster(config));
  return std::unique_ptr<WebhookNotifier>(new WebhookNotifier(std::move(config), std::move(http)));
}

WebhookNotifier::WebhookNotifier(WebhookConfig config, std::unique_ptr<HttpPoster> http)
    : config_(std::move(config)), http_(std::move(http)) {}

std::string WebhookNotifier::name() const { return ChannelName(config_); }

Status WebhookNotifier::Deliver(const ActionMessage& message) {
  return Send(*http_, config_, message);
}

Result<std::unique_ptr<WebhookEnforcer>> WebhookEnforcer::Create(WebhookConfig config) {
  ASSIGN_OR_RETURN(auto http, MakePoster(config));
  return std::unique_ptr<WebhookEnforcer>(new WebhookEnforcer(std::move(config), std::move(http)));
}

WebhookEnforcer::WebhookEnforcer(WebhookConfig config, std::unique_ptr<HttpPoster> http)
    : config_(std::move(config)), http_(std::move(http)) {}

std::string WebhookEnforcer::name() const { return ChannelName(config_); }

Status WebhookEnforcer::Apply(const ActionMessage& message) {
  if (message.kind != "suspend_access" && message.kind != "restore_access") {
    return InvalidArgument(name() + ": cannot apply an action of kind '" + message.kind + "'");
  }
  return Send(*http_, config_, message);
}

}  // namespace budgeteer
