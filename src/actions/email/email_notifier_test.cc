#include "actions/email/email_notifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "actions/testing/http_receiver.h"
#include "actions/testing/sample.h"

namespace budgeteer {
namespace {

using testing::SampleMessage;

struct SmtpMessage {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;
};

// A minimal SMTP server on 127.0.0.1:0 that records each message. `rcpt_reply` scripts the
// answer to RCPT TO ("250 OK", "550 no such user", "451 try later").
class SmtpSink {
 public:
  explicit SmtpSink(std::string rcpt_reply = "250 OK") : rcpt_reply_(std::move(rcpt_reply)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~SmtpSink() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    const int client = client_fd_.load();
    if (client >= 0) ::shutdown(client, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::vector<SmtpMessage> messages() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  void Run() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      client_fd_ = fd;
      Serve(fd);
      client_fd_ = -1;
      ::close(fd);
    }
  }

  static void Send(int fd, const std::string& text) {
    const std::string line = text + "\r\n";
    (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  }

  // One line without CRLF; false at end of stream.
  static bool ReadLine(int fd, std::string& buffer, std::string& line) {
    while (true) {
      const size_t eol = buffer.find("\r\n");
      if (eol != std::string::npos) {
        line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        return true;
      }
      char chunk[1024];
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
    }
  }

  void Serve(int fd) {
    Send(fd, "220 sink ESMTP ready");
    std::string buffer;
    std::string line;
    SmtpMessage current;
    while (ReadLine(fd, buffer, line)) {
      const std::string verb = line.substr(0, 4);
      if (verb == "EHLO") {
        Send(fd, "250-sink greets you");
        Send(fd, "250 8BITMIME");
      } else if (verb == "HELO" || verb == "RSET" || verb == "NOOP") {
        Send(fd, "250 OK");
        if (verb == "RSET") current = {};
      } else if (verb == "MAIL") {
        current = {};
        current.mail_from = line.substr(line.find(':') + 1);
        Send(fd, "250 OK");
      } else if (verb == "RCPT") {
        current.rcpt_to.push_back(line.substr(line.find(':') + 1));
        Send(fd, rcpt_reply_);
      } else if (verb == "DATA") {
        Send(fd, "354 end with <CRLF>.<CRLF>");
        while (ReadLine(fd, buffer, line) && line != ".") current.data += line + "\r\n";
        {
          const std::lock_guard<std::mutex> lock(mu_);
          messages_.push_back(current);
        }
        Send(fd, "250 queued");
      } else if (verb == "QUIT") {
        Send(fd, "221 bye");
        return;
      } else {
        Send(fd, "502 not implemented");
      }
    }
  }

  std::string rcpt_reply_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> client_fd_{-1};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<SmtpMessage> messages_;
};

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
  EXPECT_EQ(m.mail_from, "<budgeteer@example.org>");
  EXPECT_EQ(m.rcpt_to, (std::vector<std::string>{"<finops@example.org>", "<alice@example.com>"}));
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
  EXPECT_EQ(messages[0].rcpt_to, std::vector<std::string>{"<finops@example.org>"});
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
  SmtpSink sink("550 no such user");
  auto email = EmailNotifier::Create(Config(sink.Url()));
  ASSERT_TRUE(email.ok());
  const Status s = (*email)->Deliver(SampleMessage());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable()) << s.ToString();
  EXPECT_NE(s.message().find("550"), std::string::npos) << s.ToString();
}

TEST(EmailNotifier, TemporaryFailureIsRetryable) {
  SmtpSink sink("451 try again later");
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
  // The sink does not undo dot-stuffing: the lone "." arrives as "..", the rest follows.
  EXPECT_NE(messages[0].data.find("What to do:\r\n..\r\n"), std::string::npos) << messages[0].data;
  EXPECT_NE(messages[0].data.find("Bedrock Budgeteer, action 42"), std::string::npos);
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
