// The SNS and SES notifiers against moto_server with signature verification on: a topic
// publish, a direct SMS and an SES v2 e-mail are accepted and recorded by moto (read back from
// its backend state at /moto-api/data.json).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "actions/notification_text.h"
#include "actions/ses/ses_notifier.h"
#include "actions/sns/sns_notifier.h"
#include "aws/client.h"
#include "aws/testing/moto_account.h"
#include "aws/xml.h"
#include "util/json_writer.h"

namespace budgeteer {
namespace {

class SnsSesMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    auto moto = aws::testing::MotoAccount::Start("budgeteer");
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    deps_ =
        AwsDeps{&moto_->env(), moto_->credentials(), &moto_->transport(), &clock_, "us-east-1", {}};
  }

  // moto's recorded state of every backend, as JSON text.
  std::string MotoData() {
    std::string data = moto_->Data();
    EXPECT_FALSE(data.empty());
    return data;
  }

  static ActionMessage Critical() {
    ActionMessage m;
    m.action_id = 31;
    m.kind = "notify";
    m.event = "critical";
    m.now = Timestamp::FromUnixMillis(1'790'000'000'000);
    m.payload =
        R"({"principal":"BedrockAPIKey-x","account":"123456789012","qualified":)"
        R"("123456789012:BedrockAPIKey-x","kind":"user","spent_usd":0.9,"limit_usd":1,)"
        R"("percent":90.00,"status":"critical","previous_status":"warning",)"
        R"("owner_email":"owner@example.com","message":"Raise the limit to avoid suspension."})";
    return m;
  }

  // The text as JSON would carry it (moto's data.json escapes newlines and quotes).
  static std::string AsJsonString(std::string_view text) {
    JsonWriter w;
    w.String(text);
    return w.Take();
  }

  SystemClock clock_;
  std::unique_ptr<aws::testing::MotoAccount> moto_;
  AwsDeps deps_;
};

TEST_F(SnsSesMotoTest, TopicPublishIsAcceptedAndRecorded) {
  auto topic =
      moto_->Client(aws::kSns).Query("CreateTopic", "2010-03-31", {{"Name", "budget-alerts"}});
  ASSERT_TRUE(topic.ok()) << topic.status().ToString();
  const std::string arn = aws::XmlText(*topic, "TopicArn").value_or("");
  auto notifier = SnsNotifier::Create(SnsConfig{"ops", arn, ""}, deps_);
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  const ActionMessage m = Critical();
  const Status sent = (*notifier)->Deliver(m);
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  const std::string data = MotoData();
  const SnsMessage want = ComposeSnsMessage(SnsConfig{"ops", arn, ""}, m);
  EXPECT_NE(data.find(AsJsonString(want.message)), std::string::npos) << data.substr(0, 3000);
  EXPECT_NE(data.find(AsJsonString(want.subject)), std::string::npos);
}

TEST_F(SnsSesMotoTest, SmsIsAcceptedAndRecorded) {
  auto notifier = SnsNotifier::Create(SnsConfig{"oncall", "", "+15555550100"}, deps_);
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  const ActionMessage m = Critical();
  ASSERT_TRUE((*notifier)->Deliver(m).ok());
  const std::string data = MotoData();
  const SnsMessage want = ComposeSnsMessage(SnsConfig{"oncall", "", "+15555550100"}, m);
  EXPECT_NE(data.find(AsJsonString(want.message)), std::string::npos) << data.substr(0, 3000);
  EXPECT_NE(data.find(R"("phone_number": "+15555550100")"), std::string::npos);
}

TEST_F(SnsSesMotoTest, PublishingToAMissingTopicIsPermanent) {
  auto notifier = SnsNotifier::Create(
      SnsConfig{"ops", "arn:aws:sns:us-east-1:123456789012:no-such-topic", ""}, deps_);
  ASSERT_TRUE(notifier.ok());
  const Status s = (*notifier)->Deliver(Critical());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable()) << s.ToString();
  EXPECT_NE(s.message().find("sns:ops"), std::string::npos) << s.ToString();
}

TEST_F(SnsSesMotoTest, SesEmailIsAcceptedAndRecorded) {
  auto identity = moto_->Client(aws::kSesV2)
                      .Rest("CreateEmailIdentity", "POST", "/v2/email/identities", {},
                            {{"Content-Type", "application/json"}},
                            R"({"EmailIdentity":"budgets@example.com"})", aws::Protocol::kRestJson);
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  auto notifier = SesNotifier::Create(
      SesConfig{"ops", "budgets@example.com", {"ops@example.com"}, true, ""}, deps_);
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  const ActionMessage m = Critical();
  const Status sent = (*notifier)->Deliver(m);
  ASSERT_TRUE(sent.ok()) << sent.ToString();
  const std::string data = MotoData();
  const NotificationText text = ComposeNotificationText(m);
  EXPECT_NE(data.find(AsJsonString(text.subject)), std::string::npos) << data.substr(0, 3000);
  EXPECT_NE(data.find(AsJsonString(text.body)), std::string::npos);
  EXPECT_NE(data.find(R"({"ToAddresses": ["ops@example.com", "owner@example.com"]})"),
            std::string::npos);
}

}  // namespace
}  // namespace budgeteer
