#include "actions/ses/ses_notifier.h"

#include <gtest/gtest.h>

#include "actions/notification_text.h"
#include "util/json_writer.h"

namespace budgeteer {
namespace {

ActionMessage Suspended(const std::string& owner) {
  ActionMessage m;
  m.action_id = 9;
  m.kind = "notify";
  m.event = "suspended";
  m.now = Timestamp::FromUnixMillis(1'790'000'000'000);
  m.payload = R"({"qualified":"123456789012:alice","account":"123456789012","status":"suspended",)"
              R"("owner_email":")" +
              owner + R"(","message":"Bedrock access is denied."})";
  return m;
}

TEST(SesNotifierTest, SendEmailBodyHasTheSharedTextAndDeduplicatedRecipients) {
  SesConfig config{
      "ops", "budgets@example.com", {"ops@example.com", "alice@example.com"}, true, ""};
  const ActionMessage m = Suspended("alice@example.com");
  auto body = ComposeSesRequest(config, m);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  const NotificationText text = ComposeNotificationText(m);
  JsonWriter want;
  want.BeginObject().Field("FromEmailAddress", "budgets@example.com");
  want.Key("Destination").BeginObject().Key("ToAddresses").BeginArray();
  want.String("ops@example.com").String("alice@example.com").EndArray().EndObject();
  want.Key("Content").BeginObject().Key("Simple").BeginObject();
  want.Key("Subject").BeginObject().Field("Data", text.subject).Field("Charset", "UTF-8");
  want.EndObject().Key("Body").BeginObject().Key("Text").BeginObject();
  want.Field("Data", text.body).Field("Charset", "UTF-8").EndObject().EndObject();
  want.EndObject().EndObject().EndObject();
  EXPECT_EQ(*body, want.str());
  EXPECT_EQ(text.subject, "[Bedrock Budgeteer] 123456789012:alice: Bedrock access suspended");
}

TEST(SesNotifierTest, NobodyToSendToIsNothingToDo) {
  SesConfig config{"owner-only", "budgets@example.com", {}, true, ""};
  auto body = ComposeSesRequest(config, Suspended(""));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "");
  EXPECT_EQ(ComposeSesRequest(config, Suspended("bad address")).status().code(),
            Code::kInvalidArgument);
}

TEST(SesNotifierTest, ConfigIsChecked) {
  aws::MapEnvironment env;
  aws::StaticCredentialsProvider creds(aws::Credentials{"AKID", "secret", "", {}, "test"});
  FixedClock clock(Timestamp::FromUnixMillis(0));
  auto transport = aws::MakeCurlTransport();
  ASSERT_TRUE(transport.ok());
  AwsDeps deps{&env, &creds, transport->get(), &clock, "eu-west-1", {}};
  EXPECT_EQ(
      SesNotifier::Create(SesConfig{"a", "", {"x@example.com"}, false, ""}, deps).status().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(
      SesNotifier::Create(SesConfig{"a", "b@example.com", {}, false, ""}, deps).status().code(),
      Code::kInvalidArgument);
  deps.region.clear();
  EXPECT_EQ(
      SesNotifier::Create(SesConfig{"a", "b@example.com", {}, true, ""}, deps).status().code(),
      Code::kInvalidArgument);
}

}  // namespace
}  // namespace budgeteer
