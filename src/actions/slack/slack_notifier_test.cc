#include "actions/slack/slack_notifier.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "actions/testing/http_receiver.h"
#include "actions/testing/sample.h"

namespace budgeteer {
namespace {

using testing::HttpReceiver;
using testing::SampleMessage;

SlackConfig Config(std::string url) {
  SlackConfig c;
  c.webhook_url = std::move(url);
  c.connect_timeout_ms = 500;
  c.timeout_ms = 500;
  return c;
}

TEST(SlackNotifier, PostsTextAndBlocks) {
  HttpReceiver receiver;
  auto slack = SlackNotifier::Create(Config(receiver.Url("/services/T0/B0/XYZ")));
  ASSERT_TRUE(slack.ok()) << slack.status().ToString();
  EXPECT_EQ((*slack)->name(), "slack");
  ASSERT_TRUE((*slack)->Deliver(SampleMessage()).ok());
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].path, "/services/T0/B0/XYZ");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json; charset=utf-8");

  simdjson::dom::parser parser;
  const simdjson::dom::element doc = parser.parse(requests[0].body);
  EXPECT_EQ(std::string_view(doc["text"]),
            ":hourglass_flowing_sand: Over budget, grace period: 123456789012/alice "
            "(spent $100.46 of $100.00, 100.45%)");
  const simdjson::dom::array blocks = doc["blocks"];
  ASSERT_EQ(blocks.size(), 4U);
  EXPECT_EQ(std::string_view(blocks.at(0)["type"]), "header");
  EXPECT_EQ(std::string_view(blocks.at(0)["text"]["type"]), "plain_text");
  EXPECT_EQ(std::string_view(blocks.at(0)["text"]["text"]),
            ":hourglass_flowing_sand: Over budget, grace period: 123456789012/alice");
  const simdjson::dom::array cells = blocks.at(1)["fields"];
  ASSERT_EQ(cells.size(), 4U);
  EXPECT_EQ(std::string_view(cells.at(0)["text"]), "*Principal*\n123456789012/alice");
  EXPECT_EQ(std::string_view(cells.at(1)["text"]), "*Spent*\n$100.46 of $100.00 (100.45%)");
  EXPECT_EQ(std::string_view(cells.at(2)["text"]), "*Status*\ncritical → grace_period");
  EXPECT_EQ(std::string_view(cells.at(3)["text"]), "*Suspension at*\n2026-01-31T13:00:00Z");
  // The message is escaped for mrkdwn.
  EXPECT_EQ(std::string_view(blocks.at(2)["text"]["text"]),
            "123456789012/alice is over budget: raise the limit &lt;now&gt; &amp; retry.");
  EXPECT_EQ(std::string_view(blocks.at(3)["type"]), "context");
}

TEST(SlackMessageJson, EmojiByStateAndPeriodEndWithoutDeadline) {
  struct Case {
    const char* event;
    const char* emoji;
  };
  for (const Case c : {Case{"warning", ":warning:"}, Case{"critical", ":rotating_light:"},
                       Case{"grace_period", ":hourglass_flowing_sand:"},
                       Case{"suspended", ":no_entry:"}, Case{"restored", ":white_check_mark:"}}) {
    const std::string json = SlackMessageJson(SampleMessage("notify", c.event));
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(json);
    EXPECT_EQ(std::string_view(doc["text"]).substr(0, std::string_view(c.emoji).size()), c.emoji)
        << c.event;
  }
  ActionMessage m = SampleMessage("notify", "warning");
  const size_t at = m.payload.find(R"("2026-01-31T13:00:00Z")");
  m.payload.replace(at, std::string_view(R"("2026-01-31T13:00:00Z")").size(), "null");
  const std::string json = SlackMessageJson(m);
  EXPECT_NE(json.find("*Period ends*\\n2026-02-01T00:00:00Z"), std::string::npos) << json;
  EXPECT_EQ(json.find("Suspension at"), std::string::npos) << json;
}

TEST(SlackMessageJson, LongHeaderIsCutOnACharacterBoundary) {
  ActionMessage m = SampleMessage("notify", "warning");
  std::string name;
  for (int i = 0; i < 100; ++i) name += "é";
  m.payload = R"({"qualified":")" + name + R"(","message":"x"})";
  simdjson::dom::parser parser;
  const std::string json = SlackMessageJson(m);
  const simdjson::dom::element doc = parser.parse(json);  // throws on invalid UTF-8
  const std::string_view title = doc["blocks"].at(0)["text"]["text"];
  EXPECT_LE(title.size(), 150U);
  EXPECT_EQ(title.substr(title.size() - 3), "...");
}

TEST(SlackMessageJson, OperatorAlert) {
  ActionMessage m;
  m.action_id = 9;
  m.kind = "operator_alert";
  m.event = "unpriced_model";
  m.payload = R"({"model":"acme.x-v1","raw_model_id":"acme.x-v1:0","message":"add a price"})";
  simdjson::dom::parser parser;
  const std::string json = SlackMessageJson(m);
  const simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(std::string_view(doc["text"]), ":mag: Operator alert: acme.x-v1");
  EXPECT_NE(json.find("*Model id*\\nacme.x-v1:0"), std::string::npos) << json;
  EXPECT_NE(json.find("add a price"), std::string::npos) << json;
}

TEST(SlackNotifier, NotFoundIsPermanentAndRedacted) {
  HttpReceiver gone(404, "no_service");
  auto slack = SlackNotifier::Create(Config(gone.Url("/services/T0/B0/SECRETPATH")));
  ASSERT_TRUE(slack.ok());
  const Status s = (*slack)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.message().find("SECRETPATH"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("no_service"), std::string::npos) << s.message();
}

TEST(SlackNotifier, ServerErrorIsRetryableAndRedacted) {
  HttpReceiver down(503);
  auto slack = SlackNotifier::Create(Config(down.Url("/services/T0/B0/SECRETPATH")));
  ASSERT_TRUE(slack.ok());
  const Status s = (*slack)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.message().find("SECRETPATH"), std::string::npos) << s.message();
}

TEST(SlackNotifier, RateLimitedPassesRetryAfterOn) {
  // Slack answers a rate-limited incoming webhook with 429 and Retry-After in seconds.
  HttpReceiver limited(429, "rate_limited", {{"Retry-After", "30"}});
  auto slack = SlackNotifier::Create(Config(limited.Url("/services/T0/B0/SECRETPATH")));
  ASSERT_TRUE(slack.ok());
  const Status s = (*slack)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.retry_after_ms(), 30'000);
}

TEST(SlackNotifier, SilentReceiverTimesOutRetryably) {
  testing::SilentListener listener;
  SlackConfig c = Config(listener.Url("/services/T0/B0/SECRETPATH"));
  c.timeout_ms = 200;
  auto slack = SlackNotifier::Create(c);
  ASSERT_TRUE(slack.ok());
  const Status s = (*slack)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.message().find("SECRETPATH"), std::string::npos) << s.message();
}

TEST(SlackNotifier, RejectsNonHttpUrl) {
  const auto s = SlackNotifier::Create(Config("gopher://hooks.example.com/services/SECRET"));
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s.status().message().find("SECRET"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace budgeteer
