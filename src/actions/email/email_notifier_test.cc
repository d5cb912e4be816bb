#include "actions/email/email_notifier.h"

#include <gtest/gtest.h>

#include <chrono>

#include "actions/testing/http_receiver.h"
#include "actions/testing/sample.h"
#include "actions/testing/smtp_sink.h"

namespace budgeteer {
namespace {

using testing::SampleMessage;
using testing::SmtpMessage;
using testing::SmtpSink;
using testing::SmtpSinkOptions;

EmailConfig Config(const std::string& url) {
  EmailConfig c;
  c.smtp_url = url;
  c.from = "budgeteer@example.org";
  c.to = {"finops@example.org"};
  c.send_to_owner = true;
  c.connect_timeout_ms = 500;
  c.timeout_ms = 1000;
  return c;
}

TEST(EmailNotifier, SendsAWellFormedMessage) {
  SmtpSink sink;
  auto email = EmailNotifier::Create(Config(sink.Url()));
  ASSERT_TRUE(email.ok()) << email.status().ToString();
  EXPECT_EQ((*email)->name(), "email");
  const Status s = (*email)->Deliver(SampleMessage());
  ASSERT_TRUE(s.ok()) << s.ToString();
  email->reset();  // QUIT

  const auto messages = sink.messages();
  ASSERT_EQ(messages.size(), 1U);
  const SmtpMessage& m = messages[0];
  EXPECT_EQ(m.mail_from, "budgeteer@example.org");
  EXPECT_EQ(m.rcpt_to, (std::vector<std::string>{"finops@example.org", "alice@example.com"}));
  const std::string& d = m.data;
  EXPECT_NE(d.find("Date: Sat, 31 Jan 2026 12:00:00 +0000\r\n"), std::string::npos) << d;
  EXPECT_NE(d.find("From: budgeteer@example.org\r\n"), std::string::npos) << d;
  EXPECT_NE(d.find("To: finops@example.org, alice@example.com\r\n"), std::string::npos) << d;
  EXPECT_NE(d.find("Subject: [Bedrock Budgeteer] 123456789012/alice: over budget, grace "
                   "period\r\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("Message-ID: <budgeteer-action-42@example.org>\r\n"), std::string::npos) << d;
  EXPECT_NE(d.find("MIME-Version: 1.0\r\n"), std::string::npos) << d;
  EXPECT_NE(d.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos) << d;
  const std::string body = d.substr(d.find("\r\n\r\n"));
  EXPECT_NE(body.find("Principal: 123456789012/alice\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("Spent: $100.46\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("Limit: $100.00\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("Percent: 100.45%\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("State: critical -> grace_period\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("Suspension at: 2026-01-31T13:00:00Z\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("Period ends: 2026-02-01T00:00:00Z\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("What to do:\r\n123456789012/alice is over budget: raise the limit <now> "
                      "& retry."),
            std::string::npos)
      << body;
}

TEST(EmailNotifier, OwnerOnlyWhenEnabledAndSeveralMessagesOnOneNotifier) {
  SmtpSink sink;
  EmailConfig c = Config(sink.Url());
  c.send_to_owner = false;
  c.name = "smtp";
  auto email = EmailNotifier::Create(c);
  ASSERT_TRUE(email.ok());
  EXPECT_EQ((*email)->name(), "email:smtp");
  ASSERT_TRUE((*email)->Deliver(SampleMessage()).ok());
  ASSERT_TRUE((*email)->Deliver(SampleMessage("notify", "suspended")).ok());
  email->reset();
  const auto messages = sink.messages();
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].rcpt_to, std::vector<std::string>{"finops@example.org"});
  EXPECT_NE(messages[1].data.find("Subject: [Bedrock Budgeteer] 123456789012/alice: Bedrock "
                                  "access suspended\r\n"),
            std::string::npos);
}

TEST(EmailNotifier, NobodyToTellIsSuccessWithoutSending) {
  SmtpSink sink;
  EmailConfig c = Config(sink.Url());
  c.to.clear();
  auto email = EmailNotifier::Create(c);
  ASSERT_TRUE(email.ok());
  ActionMessage m = SampleMessage();
  m.payload = testing::SamplePayload("warning", "");
  EXPECT_TRUE((*email)->Deliver(m).ok());
  EXPECT_TRUE(sink.messages().empty());
}

TEST(EmailNotifier, RejectedRecipientIsPermanent) {
  SmtpSink sink(SmtpSinkOptions{"", "", "550 no such user"});
  auto email = EmailNotifier::Create(Config(sink.Url()));
  ASSERT_TRUE(email.ok());
  const Status s = (*email)->Deliver(SampleMessage());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable()) << s.ToString();
  EXPECT_NE(s.message().find("550"), std::string::npos) << s.ToString();
}

TEST(EmailNotifier, TemporaryFailureIsRetryable) {
  SmtpSink sink(SmtpSinkOptions{"", "", "451 try again later"});
  auto email = EmailNotifier::Create(Config(sink.Url()));
  ASSERT_TRUE(email.ok());
  const Status s = (*email)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_TRUE(s.retryable());
}

TEST(EmailNotifier, SilentServerTimesOutRetryablyWithoutLeakingSecrets) {
  testing::SilentListener listener;
  EmailConfig c = Config("smtp://127.0.0.1:" + std::to_string(listener.port()));
  c.username = "mailer";
  c.password = "hunter2-password";
  c.timeout_ms = 300;
  auto email = EmailNotifier::Create(c);
  ASSERT_TRUE(email.ok());
  const auto start = std::chrono::steady_clock::now();
  const Status s = (*email)->Deliver(SampleMessage());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_TRUE(s.retryable());
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
}

TEST(EmailNotifier, LoneDotLinesAreStuffed) {
  SmtpSink sink;
  auto email = EmailNotifier::Create(Config(sink.Url()));
  ASSERT_TRUE(email.ok());
  ActionMessage m = SampleMessage();
  m.payload = R"({"qualified":"a/b","message":"."})";
  ASSERT_TRUE((*email)->Deliver(m).ok());
  email->reset();
  const auto messages = sink.messages();
  ASSERT_EQ(messages.size(), 1U);
  // The lone "." went out stuffed (".."), so it did not end the message early: the sink,
  // which undoes the stuffing as a real server does, has it and everything after it.
  EXPECT_NE(messages[0].data.find("What to do:\r\n.\r\n"), std::string::npos) << messages[0].data;
  EXPECT_NE(messages[0].data.find("Bedrock Budgeteer, action 42"), std::string::npos);
}

TEST(EmailNotifier, LogsInWhenCredentialsAreSetAndWrongOnesArePermanent) {
  SmtpSink sink(SmtpSinkOptions{"mailer", "s3cret pass", "250 OK"});
  EmailConfig c = Config(sink.Url());
  c.username = "mailer";
  c.password = "s3cret pass";
  auto email = EmailNotifier::Create(c);
  ASSERT_TRUE(email.ok());
  const Status s = (*email)->Deliver(SampleMessage());
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(sink.messages().size(), 1U);
  EXPECT_EQ(sink.messages()[0].auth_user, "mailer");

  c.password = "wrong";
  auto wrong = EmailNotifier::Create(c);
  ASSERT_TRUE(wrong.ok());
  const Status denied = (*wrong)->Deliver(SampleMessage());
  EXPECT_EQ(denied.code(), Code::kUnauthenticated) << denied.ToString();
  EXPECT_FALSE(denied.retryable());
  EXPECT_EQ(denied.message().find("wrong"), std::string::npos) << denied.message();
  EXPECT_EQ(sink.auth_failures(), 1);
  EXPECT_EQ(sink.messages().size(), 1U);
}

TEST(EmailNotifier, StartTlsIsRequiredWhenConfigured) {
  SmtpSink sink;  // does not offer STARTTLS
  EmailConfig c = Config(sink.Url());
  c.starttls = true;
  auto email = EmailNotifier::Create(c);
  ASSERT_TRUE(email.ok());
  const Status s = (*email)->Deliver(SampleMessage());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(s.retryable());
  email->reset();
  EXPECT_TRUE(sink.messages().empty());
}

TEST(EmailNotifier, RejectsBadConfig) {
  EXPECT_EQ(EmailNotifier::Create(Config("http://mail.example.org")).status().code(),
            Code::kInvalidArgument);
  EmailConfig c = Config("smtps://mail.example.org");
  c.from = "nobody";
  EXPECT_EQ(EmailNotifier::Create(c).status().code(), Code::kInvalidArgument);
  c = Config("smtps://mail.example.org");
  c.to = {"a@example.org\r\nBcc: x@evil.example"};
  EXPECT_EQ(EmailNotifier::Create(c).status().code(), Code::kInvalidArgument);
  c = Config("smtps://mail.example.org");
  c.to.clear();
  c.send_to_owner = false;
  EXPECT_EQ(EmailNotifier::Create(c).status().code(), Code::kInvalidArgument);
}

TEST(ComposeEmail, HeadersCannotBeInjectedAndNonAsciiIsEncoded) {
  EmailConfig c = Config("smtp://127.0.0.1:25");
  ActionMessage m = SampleMessage();
  m.payload = R"({"qualified":"acct/zoë\r\nBcc: x@evil.example","owner_email":"",)"
              R"("message":"hi"})";
  const auto email = ComposeEmail(c, m);
  ASSERT_TRUE(email.ok()) << email.status().ToString();
  const std::string headers = email->data.substr(0, email->data.find("\r\n\r\n") + 2);
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Subject: =?UTF-8?B?"), std::string::npos) << headers;
  // Encoded words are folded: no header line is longer than 78 characters.
  size_t start = 0;
  for (size_t eol = headers.find("\r\n"); eol != std::string::npos;
       start = eol + 2, eol = headers.find("\r\n", start)) {
    EXPECT_LE(eol - start, 78U) << headers.substr(start, eol - start);
  }

  m.payload = R"({"owner_email":"bad address\r\nBcc: x@evil.example"})";
  EXPECT_EQ(ComposeEmail(c, m).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace budgeteer
