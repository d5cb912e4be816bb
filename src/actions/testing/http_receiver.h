// Test helpers: a loopback HTTP receiver (cpp-httplib on 127.0.0.1, port 0) that records each
// request and answers with a scripted status (and headers), and a listener that accepts connections
// but never answers. Thread-safe: the server thread records, the test thread reads.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace budgeteer::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  httplib::Headers headers;
  std::string body;

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpReceiver {
 public:
  explicit HttpReceiver(int status = 200, const std::string& reply = "ok",
                        const httplib::Headers& reply_headers = {}) {
    server_.Post(".*", [this, status, reply, reply_headers](const httplib::Request& req,
                                                            httplib::Response& res) {
      {
        const std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back({req.method, req.path, req.headers, req.body});
      }
      res.status = status;
      for (const auto& [name, value] : reply_headers) res.set_header(name, value);
      res.set_content(reply, "text/plain");
    });
    // Short keep-alive: stopping the server must not wait for an idle client connection.
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HttpReceiver() {
    server_.stop();
    thread_.join();
  }
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<RecordedRequest> requests() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
};

// Listens on 127.0.0.1:0 and never accepts: the kernel completes the handshake, the request
// is sent, and no reply ever comes.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace budgeteer::testing
