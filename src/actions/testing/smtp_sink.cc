#include "actions/testing/smtp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace budgeteer::testing {

namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string Base64Decode(const std::string& in) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) continue;  // '=' padding and whitespace
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

// "<a@b>" or "<a@b> SIZE=12" after "MAIL FROM:" / "RCPT TO:" -> "a@b".
std::string Path(const std::string& line) {
  const size_t colon = line.find(':');
  std::string rest = colon == std::string::npos ? "" : line.substr(colon + 1);
  const size_t open = rest.find('<');
  const size_t close = rest.find('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return rest.substr(open + 1, close - open - 1);
  }
  rest.erase(0, rest.find_first_not_of(' '));
  return rest.substr(0, rest.find(' '));
}

void Send(int fd, const std::string& text) {
  const std::string line = text + "\r\n";
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
}

// One line without its CRLF; false at the end of the stream.
bool ReadLine(int fd, std::string& buffer, std::string& line) {
  while (true) {
    const size_t eol = buffer.find("\r\n");
    if (eol != std::string::npos) {
      line = buffer.substr(0, eol);
      buffer.erase(0, eol + 2);
      return true;
    }
    std::array<char, 4096> chunk{};
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (n <= 0) return false;
    buffer.append(chunk.data(), static_cast<size_t>(n));
  }
}

}  // namespace

std::string SmtpMessage::Header(const std::string& name) const {
  const std::string headers = "\r\n" + data.substr(0, data.find("\r\n\r\n")) + "\r\n";
  const std::string prefix = "\r\n" + name + ": ";
  const size_t at = headers.find(prefix);
  if (at == std::string::npos) return "";
  std::string value;
  size_t pos = at + prefix.size();
  while (true) {  // unfold continuation lines (RFC 5322 2.2.3): drop the CRLF, keep the space
    const size_t eol = headers.find("\r\n", pos);
    value += headers.substr(pos, eol - pos);
    if (eol + 2 >= headers.size() || (headers[eol + 2] != ' ' && headers[eol + 2] != '\t')) {
      return value;
    }
    pos = eol + 2;
  }
}

std::string SmtpMessage::Body() const {
  const size_t at = data.find("\r\n\r\n");
  return at == std::string::npos ? "" : data.substr(at + 4);
}

SmtpSink::SmtpSink(SmtpSinkOptions options) : options_(std::move(options)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;  // port() stays 0: the test fails on connecting
  }
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

SmtpSink::~SmtpSink() {
  stopping_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> sessions;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    for (const int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
    sessions.swap(sessions_);
  }
  for (std::thread& t : sessions) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::vector<SmtpMessage> SmtpSink::messages() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::vector<SmtpMessage> SmtpSink::WaitForMessages(size_t count,
                                                   std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  return messages_;
}

void SmtpSink::AcceptLoop() {
  while (!stopping_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    const std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    client_fds_.push_back(fd);
    sessions_.emplace_back([this, fd] {
      Serve(fd);
      const std::lock_guard<std::mutex> session_lock(mu_);
      client_fds_.erase(std::find(client_fds_.begin(), client_fds_.end(), fd));
      ::close(fd);
    });
  }
}

// AUTH PLAIN [initial-response] or AUTH LOGIN; `args` is what follows "AUTH ".
bool SmtpSink::Authenticate(int fd, const std::string& args, std::string& buffer,
                            std::string& user) {
  const std::string mechanism = Upper(args.substr(0, args.find(' ')));
  const std::string initial =
      args.find(' ') == std::string::npos ? "" : args.substr(args.find(' ') + 1);
  std::string name;
  std::string password;
  std::string line;
  if (mechanism == "PLAIN") {
    std::string response = initial;
    if (response.empty()) {
      Send(fd, "334 ");
      if (!ReadLine(fd, buffer, response)) return false;
    }
    // authzid NUL authcid NUL passwd
    const std::string decoded = Base64Decode(response);
    const size_t first = decoded.find('\0');
    const size_t second = first == std::string::npos ? first : decoded.find('\0', first + 1);
    if (second != std::string::npos) {
      name = decoded.substr(first + 1, second - first - 1);
      password = decoded.substr(second + 1);
    }
  } else if (mechanism == "LOGIN") {
    if (initial.empty()) {
      Send(fd, "334 VXNlcm5hbWU6");  // "Username:"
      if (!ReadLine(fd, buffer, line)) return false;
      name = Base64Decode(line);
    } else {
      name = Base64Decode(initial);
    }
    Send(fd, "334 UGFzc3dvcmQ6");  // "Password:"
    if (!ReadLine(fd, buffer, line)) return false;
    password = Base64Decode(line);
  } else {
    Send(fd, "504 5.5.4 unrecognised authentication mechanism");
    return true;
  }
  if (name == options_.username && password == options_.password) {
    user = name;
    Send(fd, "235 2.7.0 authentication succeeded");
  } else {
    ++auth_failures_;
    Send(fd, "535 5.7.8 authentication credentials invalid");
  }
  return true;
}

void SmtpSink::Serve(int fd) {
  const bool auth_required = !options_.username.empty();
  Send(fd, "220 sink.test ESMTP ready");
  std::string buffer;
  std::string line;
  std::string user;
  SmtpMessage current;
  bool in_transaction = false;
  while (ReadLine(fd, buffer, line)) {
    const std::string verb = Upper(line.substr(0, line.find(' ')));
    const std::string args =
        line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
    if (verb == "EHLO") {
      Send(fd, "250-sink.test greets " + args);
      Send(fd, "250-8BITMIME");
      if (auth_required) Send(fd, "250-AUTH PLAIN LOGIN");
      Send(fd, "250 SIZE 10485760");
    } else if (verb == "HELO") {
      Send(fd, "250 sink.test");
    } else if (verb == "AUTH") {
      if (!auth_required || !user.empty()) {
        Send(fd, "503 5.5.1 AUTH not available now");
      } else if (!Authenticate(fd, args, buffer, user)) {
        return;
      }
    } else if (verb == "MAIL") {
      if (auth_required && user.empty()) {
        Send(fd, "530 5.7.0 authentication required");
        continue;
      }
      current = {};
      current.mail_from = Path(line);
      current.auth_user = user;
      in_transaction = true;
      Send(fd, "250 OK");
    } else if (verb == "RCPT") {
      if (!in_transaction) {
        Send(fd, "503 5.5.1 MAIL first");
        continue;
      }
      Send(fd, options_.rcpt_reply);
      if (options_.rcpt_reply.rfind('2', 0) == 0) current.rcpt_to.push_back(Path(line));
    } else if (verb == "DATA") {
      if (!in_transaction || current.rcpt_to.empty()) {
        Send(fd, "503 5.5.1 RCPT first");
        continue;
      }
      Send(fd, "354 end data with <CR><LF>.<CR><LF>");
      bool complete = false;
      while (ReadLine(fd, buffer, line)) {
        if (line == ".") {
          complete = true;
          break;
        }
        // RFC 5321 4.5.2: a line that starts with a dot had one more dot added.
        if (!line.empty() && line[0] == '.') line.erase(0, 1);
        current.data += line + "\r\n";
      }
      if (!complete) return;  // the client went away mid-message: nothing was accepted
      {
        const std::lock_guard<std::mutex> lock(mu_);
        messages_.push_back(current);
      }
      cv_.notify_all();
      current = {};
      in_transaction = false;
      Send(fd, "250 OK queued");
    } else if (verb == "RSET") {
      current = {};
      in_transaction = false;
      Send(fd, "250 OK");
    } else if (verb == "NOOP") {
      Send(fd, "250 OK");
    } else if (verb == "QUIT") {
      Send(fd, "221 bye");
      return;
    } else {
      Send(fd, "502 5.5.2 command not implemented");
    }
  }
}

}  // namespace budgeteer::testing
