#include "actions/webhook/webhook_notifier.h"

#include <gtest/gtest.h>

#include <chrono>

#include "actions/testing/http_receiver.h"
#include "actions/testing/sample.h"

namespace budgeteer {
namespace {

using testing::HttpReceiver;
using testing::SampleMessage;

WebhookConfig Config(std::string url) {
  WebhookConfig c;
  c.name = "ops";
  c.url = std::move(url);
  c.secret = "s3cret-key";
  c.connect_timeout_ms = 500;
  c.timeout_ms = 500;
  return c;
}

TEST(WebhookSignature, KnownVector) {
  // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
  EXPECT_EQ(WebhookSignature("key", "1700000000", R"({"a":1})"),
            "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
}

TEST(WebhookNotifier, PostsSignedBodyWithHeaders) {
  HttpReceiver receiver;
  auto notifier = WebhookNotifier::Create(Config(receiver.Url("/hook")));
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  EXPECT_EQ((*notifier)->name(), "webhook:ops");
  const ActionMessage m = SampleMessage();
  ASSERT_TRUE((*notifier)->Deliver(m).ok());

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  const auto& r = requests[0];
  EXPECT_EQ(r.path, "/hook");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("X-Budgeteer-Action-Id"), "42");
  EXPECT_EQ(r.Header("X-Budgeteer-Timestamp"), "1769860800");
  EXPECT_EQ(r.body, R"({"action_id":42,"kind":"notify","event":"grace_period",)"
                    R"("sent_at":"2026-01-31T12:00:00Z","payload":)" +
                        m.payload + "}");
  const std::string sig = r.Header("X-Budgeteer-Signature");
  const std::string ts = r.Header("X-Budgeteer-Timestamp");
  EXPECT_TRUE(VerifyWebhookSignature("s3cret-key", ts, r.body, sig));
  EXPECT_TRUE(VerifyWebhookSignature("s3cret-key", ts, r.body, sig, m.now.PlusSeconds(60)));
  // Tampered body, wrong secret, other timestamp, stale or future timestamp: rejected.
  std::string tampered = r.body;
  tampered[tampered.find("42")] = '9';
  EXPECT_FALSE(VerifyWebhookSignature("s3cret-key", ts, tampered, sig));
  EXPECT_FALSE(VerifyWebhookSignature("other", ts, r.body, sig));
  EXPECT_FALSE(VerifyWebhookSignature("s3cret-key", "1769860801", r.body, sig));
  EXPECT_FALSE(VerifyWebhookSignature("s3cret-key", ts, r.body, sig, m.now.PlusSeconds(301)));
  EXPECT_FALSE(VerifyWebhookSignature("s3cret-key", ts, r.body, sig, m.now.PlusSeconds(-301)));
  EXPECT_FALSE(VerifyWebhookSignature("s3cret-key", "12x", r.body, sig, m.now));
  EXPECT_FALSE(VerifyWebhookSignature("s3cret-key", ts, r.body, "", m.now));
}

TEST(WebhookBody, AlwaysValidJson) {
  ActionMessage m = SampleMessage();
  m.payload = "not \"json";
  EXPECT_EQ(WebhookBody(m), R"({"action_id":42,"kind":"notify","event":"grace_period",)"
                            R"("sent_at":"2026-01-31T12:00:00Z","payload":"not \"json"})");
  m.payload.clear();
  EXPECT_NE(WebhookBody(m).find(R"("payload":null})"), std::string::npos);
}

TEST(WebhookNotifier, ReusesTheHandleForSeveralMessages) {
  HttpReceiver receiver;
  auto notifier = WebhookNotifier::Create(Config(receiver.Url("/hook")));
  ASSERT_TRUE(notifier.ok());
  ActionMessage m = SampleMessage();
  for (int i = 0; i < 3; ++i) {
    m.action_id = i;
    ASSERT_TRUE((*notifier)->Deliver(m).ok());
  }
  ASSERT_EQ(receiver.requests().size(), 3U);
  EXPECT_EQ(receiver.requests()[2].Header("X-Budgeteer-Action-Id"), "2");
}

TEST(WebhookNotifier, ServerErrorIsRetryable) {
  HttpReceiver receiver(500, "boom");
  auto notifier = WebhookNotifier::Create(Config(receiver.Url("/secret-path?token=t")));
  ASSERT_TRUE(notifier.ok());
  const Status s = (*notifier)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_NE(s.message().find("HTTP 500"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("secret-path"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("s3cret"), std::string::npos) << s.message();
}

TEST(WebhookNotifier, TooManyRequestsIsRetryable) {
  HttpReceiver receiver(429);
  auto notifier = WebhookNotifier::Create(Config(receiver.Url("/hook")));
  ASSERT_TRUE(notifier.ok());
  const Status s = (*notifier)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_TRUE(s.retryable());
}

// The outcome of delivering the sample message to a receiver that answers `status` with
// `headers`.
Status DeliverTo(int status, const httplib::Headers& headers) {
  HttpReceiver receiver(status, "busy", headers);
  auto notifier = WebhookNotifier::Create(Config(receiver.Url("/hook")));
  if (!notifier.ok()) return notifier.status();
  return (*notifier)->Deliver(SampleMessage());
}

TEST(WebhookNotifier, RetryAfterOf429Or503IsPassedOn) {
  const Status seconds = DeliverTo(429, {{"Retry-After", "7"}});
  EXPECT_EQ(seconds.code(), Code::kResourceExhausted);
  EXPECT_TRUE(seconds.retryable());
  EXPECT_EQ(seconds.retry_after_ms(), 7000);
  // An HTTP-date counts from the message's clock (SampleMessage: 2026-01-31T12:00:00Z).
  const Status date = DeliverTo(503, {{"Retry-After", "Sat, 31 Jan 2026 12:01:30 GMT"}});
  EXPECT_EQ(date.code(), Code::kUnavailable);
  EXPECT_TRUE(date.retryable());
  EXPECT_EQ(date.retry_after_ms(), 90'000);
  // Malformed, or on another status: still retryable, but no hint (the backoff governs).
  const Status garbage = DeliverTo(429, {{"Retry-After", "soon"}});
  EXPECT_TRUE(garbage.retryable());
  EXPECT_FALSE(garbage.retry_after_ms().has_value());
  const Status other = DeliverTo(500, {{"Retry-After", "7"}});
  EXPECT_EQ(other.code(), Code::kUnavailable);
  EXPECT_FALSE(other.retry_after_ms().has_value());
}

TEST(WebhookNotifier, NotFoundIsPermanent) {
  HttpReceiver receiver(404, "no such hook");
  auto notifier = WebhookNotifier::Create(Config(receiver.Url("/hook")));
  ASSERT_TRUE(notifier.ok());
  const Status s = (*notifier)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_FALSE(s.retryable());
  EXPECT_NE(s.message().find("HTTP 404 (no such hook)"), std::string::npos) << s.message();
}

TEST(WebhookNotifier, SilentReceiverTimesOutRetryably) {
  testing::SilentListener listener;
  WebhookConfig c = Config(listener.Url("/hook"));
  c.timeout_ms = 300;
  auto notifier = WebhookNotifier::Create(c);
  ASSERT_TRUE(notifier.ok());
  const auto start = std::chrono::steady_clock::now();
  const Status s = (*notifier)->Deliver(SampleMessage());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
}

TEST(WebhookNotifier, ConnectionRefusedIsRetryable) {
  int port = 0;
  {
    testing::SilentListener listener;
    port = listener.port();
  }
  auto notifier =
      WebhookNotifier::Create(Config("http://127.0.0.1:" + std::to_string(port) + "/hook"));
  ASSERT_TRUE(notifier.ok());
  const Status s = (*notifier)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(s.retryable());
}

TEST(WebhookNotifier, RejectsBadConfig) {
  EXPECT_EQ(WebhookNotifier::Create(Config("ftp://example.com/x")).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(WebhookNotifier::Create(Config("file:///etc/passwd")).status().code(),
            Code::kInvalidArgument);
  WebhookConfig no_secret = Config("https://example.com/x");
  no_secret.secret.clear();
  EXPECT_EQ(WebhookNotifier::Create(no_secret).status().code(), Code::kInvalidArgument);
}

TEST(WebhookEnforcer, PostsAccessActionsOnly) {
  HttpReceiver receiver;
  auto enforcer = WebhookEnforcer::Create(Config(receiver.Url("/enforce")));
  ASSERT_TRUE(enforcer.ok());
  EXPECT_EQ((*enforcer)->name(), "webhook:ops");
  ASSERT_TRUE((*enforcer)->Apply(SampleMessage("suspend_access", "suspended")).ok());
  ASSERT_TRUE((*enforcer)->Apply(SampleMessage("restore_access", "restored")).ok());
  const Status s = (*enforcer)->Apply(SampleMessage("notify", "warning"));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_FALSE(s.retryable());
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_NE(requests[0].body.find(R"("kind":"suspend_access")"), std::string::npos);
  EXPECT_NE(requests[1].body.find(R"("kind":"restore_access")"), std::string::npos);
  EXPECT_TRUE(VerifyWebhookSignature("s3cret-key", requests[1].Header("X-Budgeteer-Timestamp"),
                                     requests[1].body,
                                     requests[1].Header("X-Budgeteer-Signature")));
}

}  // namespace
}  // namespace budgeteer
