#include "actions/notification_text.h"

#include "actions/payload.h"

namespace budgeteer {

namespace {

std::string StateWords(std::string_view kind, std::string_view event) {
  if (kind == "operator_alert") return "operator alert";
  if (event == "warning") return "budget warning";
  if (event == "critical") return "budget critical";
  if (event == "grace_period") return "over budget, grace period";
  if (event == "suspended") return "Bedrock access suspended";
  if (event == "restored") return "Bedrock access restored";
  if (event == "period_refresh") return "new budget period";
  if (event == "active") return "back under budget";
  if (event == "exempt") return "exempt from enforcement";
  return std::string(event);
}

// Breaks a paragraph into lines of at most ~76 characters at spaces.
std::string Wrap(std::string_view text) {
  std::string out;
  size_t col = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    if (word.empty()) {
      pos = end + 1;
      continue;
    }
    if (col > 0 && col + 1 + word.size() > 76) {
      out += '\n';
      col = 0;
    } else if (col > 0) {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    pos = end + 1;
  }
  return out;
}

}  // namespace

NotificationText ComposeNotificationText(const ActionMessage& message) {
  const auto parsed = PayloadFields::Parse(message.payload);
  const PayloadFields fields = parsed.ok() ? *parsed : PayloadFields();

  std::string who(fields.Get("qualified"));
  if (who.empty()) who = std::string(fields.Get("principal"));
  if (who.empty()) who = std::string(fields.Get("model"));
  const std::string state = StateWords(message.kind, message.event);

  NotificationText out;
  out.subject = OneLine("[Bedrock Budgeteer] " + (who.empty() ? "" : who + ": ") + state);
  std::string& d = out.body;
  auto line = [&d](std::string_view label, std::string_view value) {
    if (value.empty()) return;
    d += std::string(label) + ": " + OneLine(value) + "\n";
  };
  d += Wrap("Bedrock Budgeteer: " + OneLine(state) + (who.empty() ? "" : " for " + who) + ".") +
       "\n\n";
  if (message.kind == "operator_alert") {
    line("Model", fields.Get("model"));
    line("Model id", fields.Get("raw_model_id"));
  } else {
    line("Principal", who);
    line("Account", fields.Get("account"));
    if (fields.Has("spent_usd")) line("Spent", "$" + UsdCents(fields.Get("spent_usd")));
    if (fields.Has("limit_usd")) line("Limit", "$" + UsdCents(fields.Get("limit_usd")));
    if (fields.Has("percent")) line("Percent", std::string(fields.Get("percent")) + "%");
    if (fields.Has("previous_status")) {
      line("State",
           std::string(fields.Get("previous_status")) + " -> " + std::string(fields.Get("status")));
    } else {
      line("State", fields.Get("status"));
    }
    line("Suspension at", fields.Get("grace_deadline"));
    line("Period ends", fields.Get("period_end"));
  }
  std::string what(fields.Get("message"));
  if (what.empty() && !parsed.ok()) what = message.payload;
  if (!what.empty()) d += "\nWhat to do:\n" + Wrap(OneLine(what)) + "\n";
  d += "\n-- \nBedrock Budgeteer, action " + std::to_string(message.action_id) + " at " +
       message.now.ToRfc3339() + "\n";
  return out;
}

}  // namespace budgeteer
