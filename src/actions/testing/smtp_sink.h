// Test helper: a small, real SMTP server on 127.0.0.1:0 that records every message it accepts
// (envelope, data with dot-unstuffing undone, the authenticated user). Speaks EHLO/HELO, AUTH
// PLAIN and LOGIN (advertised and required only when credentials are set), MAIL FROM, RCPT TO,
// DATA, RSET, NOOP and QUIT; each connection is served on its own thread, several messages per
// connection. Thread-safe: server threads record, the test thread reads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace budgeteer::testing {

struct SmtpMessage {
  std::string mail_from;             // the reverse path, without angle brackets
  std::vector<std::string> rcpt_to;  // forward paths, without angle brackets
  std::string data;                  // headers + body, CRLF line endings, dots unstuffed
  std::string auth_user;             // who logged in on this connection ("" without AUTH)

  // The value of the first header named `name` (case-sensitive), unfolded; "" when absent.
  std::string Header(const std::string& name) const;
  // Everything after the blank line that ends the headers.
  std::string Body() const;
};

struct SmtpSinkOptions {
  std::string username;  // non-empty: AUTH is advertised and required before MAIL
  std::string password;
  std::string rcpt_reply = "250 OK";  // scripted answer to RCPT TO ("451 try later", ...)
};

class SmtpSink {
 public:
  explicit SmtpSink(SmtpSinkOptions options = {});
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  std::string Url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  std::vector<SmtpMessage> messages() const;
  // Waits until at least `count` messages were accepted or `timeout` passed; returns them.
  std::vector<SmtpMessage> WaitForMessages(size_t count, std::chrono::milliseconds timeout) const;
  // Failed AUTH attempts (wrong user or password).
  int auth_failures() const { return auth_failures_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);
  bool Authenticate(int fd, const std::string& args, std::string& buffer, std::string& user);

  SmtpSinkOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> auth_failures_{0};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<int> client_fds_;        // guarded by mu_
  std::vector<std::thread> sessions_;  // guarded by mu_
  std::vector<SmtpMessage> messages_;  // guarded by mu_
};

}  // namespace budgeteer::testing
