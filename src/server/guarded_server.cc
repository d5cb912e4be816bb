#include "server/guarded_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace budgeteer {

namespace {

using Clock = std::chrono::steady_clock;

// Waits until `sock` is readable (or writable) or `timeout` passed.
bool WaitFor(socket_t sock, short events, std::chrono::milliseconds timeout) {
  pollfd p{sock, events, 0};
  const int ms = static_cast<int>(std::max<int64_t>(timeout.count(), 0));
  int n = 0;
  do {
    n = ::poll(&p, 1, ms);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

std::chrono::milliseconds Millis(time_t sec, time_t usec) {
  return std::chrono::milliseconds(static_cast<int64_t>(sec) * 1000 +
                                   static_cast<int64_t>(usec) / 1000);
}

void Address(const sockaddr_storage& addr, std::string& ip, int& port) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (addr.ss_family == AF_INET) {
    sockaddr_in a{};
    std::memcpy(&a, &addr, sizeof(a));
    ::inet_ntop(AF_INET, &a.sin_addr, buf.data(), buf.size());
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    sockaddr_in6 a{};
    std::memcpy(&a, &addr, sizeof(a));
    ::inet_ntop(AF_INET6, &a.sin6_addr, buf.data(), buf.size());
    port = ntohs(a.sin6_port);
  }
  ip = buf.data();
}

// A connection's socket, read through a small buffer. Between StartRequest() and the blank line
// that ends the headers, the bytes handed out are counted and the clock is watched: past
// `max_header_bytes` or `header_timeout`, reads fail, and httplib answers 400 or drops the
// connection. After the headers, reads fail once `body_timeout` has passed.
class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(socket_t sock, std::chrono::milliseconds read_timeout,
                std::chrono::milliseconds write_timeout, size_t max_header_bytes,
                std::chrono::milliseconds header_timeout, std::chrono::milliseconds body_timeout)
      : sock_(sock),
        read_timeout_(read_timeout),
        write_timeout_(write_timeout),
        max_header_bytes_(max_header_bytes),
        header_timeout_(header_timeout),
        body_timeout_(body_timeout) {}

  void StartRequest() {
    in_headers_ = true;
    header_bytes_ = 0;
    tail_ = 0;
    deadline_ = Clock::now() + header_timeout_;
  }

  bool buffered() const { return begin_ < end_; }
  bool is_readable() const override { return begin_ < end_ || WaitFor(sock_, POLLIN, ReadWait()); }
  bool is_writable() const override { return WaitFor(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (Clock::now() >= deadline_) return -1;
      if (!WaitFor(sock_, POLLIN, ReadWait())) return -1;
      ssize_t n = 0;
      do {
        n = ::recv(sock_, buf_.data(), buf_.size(), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, end_ - begin_);
    if (in_headers_) {
      // Hand out bytes up to the end of the headers at most, counting them.
      for (size_t i = 0; i < n; ++i) {
        const char c = buf_[begin_ + i];
        tail_ = ((tail_ << 8) | static_cast<unsigned char>(c)) & 0xffffffffU;
        if (++header_bytes_ > max_header_bytes_) return -1;
        if (tail_ == 0x0d0a0d0aU) {  // "\r\n\r\n": the body (if any) has its own deadline
          in_headers_ = false;
          deadline_ = Clock::now() + body_timeout_;
          n = i + 1;
          break;
        }
      }
    }
    std::memcpy(ptr, buf_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n = 0;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      Address(addr, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      Address(addr, ip, port);
    }
  }
  socket_t socket() const override { return sock_; }

 private:
  // The read timeout, shortened to what is left of the request's deadline.
  std::chrono::milliseconds ReadWait() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    return std::max(std::chrono::milliseconds(0), std::min(read_timeout_, left));
  }

  socket_t sock_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  size_t max_header_bytes_;
  std::chrono::milliseconds header_timeout_;
  std::chrono::milliseconds body_timeout_;
  bool in_headers_ = false;
  size_t header_bytes_ = 0;
  uint32_t tail_ = 0;  // the last four bytes handed out in the headers
  // The end of the header block's time, then of the body's (far away between requests).
  Clock::time_point deadline_ = Clock::time_point::max();
  std::array<char, 4096> buf_{};
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace

void GuardedServer::PrepareRequest(httplib::Request& req) const {
  if (std::find(raw_body_paths_.begin(), raw_body_paths_.end(), req.path) ==
      raw_body_paths_.end()) {
    return;
  }
  req.headers.erase(kWireEncodingHeader);
  // All of them: httplib would inflate by the first one left.
  const auto [first, last] = req.headers.equal_range("Content-Encoding");
  if (first == last) return;
  std::string encoding = first->second;  // the one httplib would have used
  req.headers.erase(first, last);
  req.headers.emplace(kWireEncodingHeader, std::move(encoding));
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  GuardedStream stream(sock, Millis(read_timeout_sec_, read_timeout_usec_),
                       Millis(write_timeout_sec_, write_timeout_usec_), max_header_bytes_,
                       header_timeout_, body_timeout_);
  bool ok = false;
  // As httplib's own loop: up to keep_alive_max_count_ requests, each one awaited for at most
  // the keep-alive timeout, while the server runs.
  for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    if (!stream.buffered() &&
        !WaitFor(sock, POLLIN,
                 std::chrono::milliseconds(static_cast<int64_t>(keep_alive_timeout_sec_) * 1000))) {
      break;
    }
    stream.StartRequest();
    bool closed = false;
    ok = process_request(stream, /*close_connection=*/left == 1, closed,
                         [this](httplib::Request& req) { PrepareRequest(req); });
    if (!ok || closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace budgeteer
