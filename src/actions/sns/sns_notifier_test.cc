#include "actions/sns/sns_notifier.h"

#include <gtest/gtest.h>

#include "actions/notification_text.h"

namespace budgeteer {
namespace {

ActionMessage Warning() {
  ActionMessage m;
  m.action_id = 42;
  m.kind = "notify";
  m.event = "warning";
  m.now = Timestamp::FromUnixMillis(1'790'000'000'000);
  m.payload =
      R"({"principal":"alice","account":"123456789012","qualified":"123456789012:alice",)"
      R"("kind":"user","spent_usd":0.75,"limit_usd":1,"percent":75.00,"status":"warning",)"
      R"("previous_status":"active","period_end":"2026-12-01T00:00:00Z",)"
      R"("message":"123456789012:alice reached its warning threshold (70%). Ask for more. ü"})";
  return m;
}

TEST(SnsNotifierTest, TopicMessagesCarryTheEmailTextAndAnAsciiSubject) {
  SnsConfig config{"ops", "arn:aws:sns:eu-west-1:123456789012:budgets", ""};
  ActionMessage m = Warning();
  const SnsMessage sns = ComposeSnsMessage(config, m);
  EXPECT_EQ(sns.subject, "[Bedrock Budgeteer] 123456789012:alice: budget warning");
  EXPECT_EQ(sns.message, ComposeNotificationText(m).body);
  EXPECT_NE(sns.message.find("Spent: $0.75"), std::string::npos) << sns.message;

  m.payload = R"({"qualified":")" + std::string(200, 'r') + R"(ü"})";
  const SnsMessage long_one = ComposeSnsMessage(config, m);
  EXPECT_EQ(long_one.subject.size(), 100u);
  EXPECT_TRUE(long_one.subject.ends_with("..."));
}

TEST(SnsNotifierTest, SmsIsTheSubjectAndWhatToDo) {
  SnsConfig config{"oncall", "", "+15555550100"};
  const SnsMessage sms = ComposeSnsMessage(config, Warning());
  EXPECT_EQ(sms.subject, "");
  EXPECT_EQ(sms.message,
            "[Bedrock Budgeteer] 123456789012:alice: budget warning\n"
            "123456789012:alice reached its warning threshold (70%). Ask for more. ü");
}

TEST(SnsNotifierTest, ConfigIsChecked) {
  aws::MapEnvironment env;
  aws::StaticCredentialsProvider creds(aws::Credentials{"AKID", "secret", "", {}, "test"});
  FixedClock clock(Timestamp::FromUnixMillis(0));
  auto transport = aws::MakeCurlTransport();
  ASSERT_TRUE(transport.ok());
  AwsDeps deps{&env, &creds, transport->get(), &clock, "", {}};
  EXPECT_EQ(SnsNotifier::Create(SnsConfig{"a", "", ""}, deps).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SnsNotifier::Create(SnsConfig{"a", "arn:aws:sns:us-east-1:1:t", "+15555550100"}, deps)
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SnsNotifier::Create(SnsConfig{"a", "not-an-arn", ""}, deps).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SnsNotifier::Create(SnsConfig{"a", "", "5555550100"}, deps).status().code(),
            Code::kInvalidArgument);
  // SMS needs a region; a topic brings its own.
  EXPECT_EQ(SnsNotifier::Create(SnsConfig{"a", "", "+15555550100"}, deps).status().code(),
            Code::kInvalidArgument);
  auto topic =
      SnsNotifier::Create(SnsConfig{"ops", "arn:aws:sns:eu-west-1:123456789012:t", ""}, deps);
  ASSERT_TRUE(topic.ok()) << topic.status().ToString();
  EXPECT_EQ((*topic)->name(), "sns:ops");
}

}  // namespace
}  // namespace budgeteer
