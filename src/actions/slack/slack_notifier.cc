#include "actions/slack/slack_notifier.h"

#include <vector>

#include "actions/payload.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

// Slack mrkdwn needs only &, < and > escaped.
std::string Mrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// At most `bytes` bytes of UTF-8 text, never cutting a character in two.
std::string Truncate(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

struct Headline {
  const char* emoji;
  const char* title;
};

Headline HeadlineFor(std::string_view kind, std::string_view event) {
  if (kind == "operator_alert") return {":mag:", "Operator alert"};
  if (event == "warning") return {":warning:", "Budget warning"};
  if (event == "critical") return {":rotating_light:", "Budget critical"};
  if (event == "grace_period") return {":hourglass_flowing_sand:", "Over budget, grace period"};
  if (event == "suspended") return {":no_entry:", "Bedrock access suspended"};
  if (event == "restored") return {":white_check_mark:", "Bedrock access restored"};
  if (event == "period_refresh") return {":arrows_counterclockwise:", "New budget period"};
  if (event == "active") return {":white_check_mark:", "Back under budget"};
  if (event == "exempt") return {":shield:", "Exempt from enforcement"};
  return {":bell:", "Budget notice"};
}

void TextObject(JsonWriter& w, const char* type, std::string_view text) {
  w.BeginObject().Field("type", type).Field("text", text).EndObject();
}

}  // namespace

std::string SlackMessageJson(const ActionMessage& message) {
  const auto parsed = PayloadFields::Parse(message.payload);
  const PayloadFields fields = parsed.ok() ? *parsed : PayloadFields();
  const Headline headline = HeadlineFor(message.kind, message.event);

  std::string who(fields.Get("qualified"));
  if (who.empty()) who = std::string(fields.Get("principal"));
  if (who.empty()) who = std::string(fields.Get("model"));
  std::string what(fields.Get("message"));
  if (what.empty() && !parsed.ok()) what = message.payload;

  const std::string spent = UsdCents(fields.Get("spent_usd"));
  const std::string limit = UsdCents(fields.Get("limit_usd"));
  const std::string percent(fields.Get("percent"));
  const bool has_budget = fields.Has("spent_usd") && fields.Has("limit_usd");

  std::string fallback = std::string(headline.emoji) + " " + headline.title;
  if (!who.empty()) fallback += ": " + who;
  if (has_budget) fallback += " (spent $" + spent + " of $" + limit + ", " + percent + "%)";

  JsonWriter w;
  w.BeginObject().Field("text", fallback);
  w.Key("blocks").BeginArray();

  // Header: plain text, at most 150 characters.
  std::string title = std::string(headline.emoji) + " " + headline.title;
  if (!who.empty()) title += ": " + who;
  if (title.size() > 150) title = Truncate(title, 147) + "...";
  w.BeginObject().Field("type", "header").Key("text");
  w.BeginObject().Field("type", "plain_text").Field("text", title).Field("emoji", true).EndObject();
  w.EndObject();

  std::vector<std::string> cells;
  if (!who.empty()) {
    cells.push_back(std::string(message.kind == "operator_alert" ? "*Model*\n" : "*Principal*\n") +
                    Mrkdwn(who));
  }
  if (has_budget) {
    cells.push_back("*Spent*\n$" + Mrkdwn(spent) + " of $" + Mrkdwn(limit) + " (" +
                    Mrkdwn(percent) + "%)");
  }
  if (fields.Has("status")) {
    std::string status = Mrkdwn(fields.Get("status"));
    if (fields.Has("previous_status")) {
      status = Mrkdwn(fields.Get("previous_status")) + " → " + status;
    }
    cells.push_back("*Status*\n" + status);
  }
  if (fields.Has("grace_deadline")) {
    cells.push_back("*Suspension at*\n" + Mrkdwn(fields.Get("grace_deadline")));
  } else if (fields.Has("period_end")) {
    cells.push_back("*Period ends*\n" + Mrkdwn(fields.Get("period_end")));
  }
  if (fields.Has("raw_model_id"))
    cells.push_back("*Model id*\n" + Mrkdwn(fields.Get("raw_model_id")));
  if (!cells.empty()) {
    w.BeginObject().Field("type", "section").Key("fields").BeginArray();
    for (const auto& cell : cells) TextObject(w, "mrkdwn", cell);
    w.EndArray().EndObject();
  }

  if (!what.empty()) {
    if (what.size() > 2900) what = Truncate(what, 2900) + "...";
    w.BeginObject().Field("type", "section").Key("text");
    TextObject(w, "mrkdwn", Mrkdwn(what));
    w.EndObject();
  }

  std::string context = "Bedrock Budgeteer · action " + std::to_string(message.action_id) + " · " +
                        message.now.ToRfc3339();
  w.BeginObject().Field("type", "context").Key("elements").BeginArray();
  TextObject(w, "mrkdwn", Mrkdwn(context));
  w.EndArray().EndObject();

  w.EndArray().EndObject();
  return w.Take();
}

Result<std::unique_ptr<SlackNotifier>> SlackNotifier::Create(SlackConfig config) {
  auto http =
      HttpPoster::Create(config.webhook_url, {config.connect_timeout_ms, config.timeout_ms});
  if (!http.ok()) return http.status().WithContext("slack");
  return std::unique_ptr<SlackNotifier>(
      new SlackNotifier(std::move(config), std::move(http).value()));
}

SlackNotifier::SlackNotifier(SlackConfig config, std::unique_ptr<HttpPoster> http)
    : config_(std::move(config)), http_(std::move(http)) {}

std::string SlackNotifier::name() const {
  return config_.name.empty() ? "slack" : "slack:" + config_.name;
}

Status SlackNotifier::Deliver(const ActionMessage& message) {
  return http_->Post({"Content-Type: application/json; charset=utf-8"}, SlackMessageJson(message),
                     message.now);
}

}  // namespace budgeteer
