// RestartableServer: a cpp-httplib server on a loopback port that a test can take down
// (connections are refused) and bring back on the same port, for receivers and proxies that
// fail and recover. The owner installs its routes through a function, called again at each
// Up(). Up() and Down() are for the test thread; the routes run on the server's threads, so
// what they share with the test must be synchronised by the owner.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace budgeteer::testing {

class RestartableServer {
 public:
  using Routes = std::function<void(httplib::Server&)>;

  // Listens on a free port at once.
  explicit RestartableServer(Routes routes) : routes_(std::move(routes)) { Up(); }
  ~RestartableServer() { Down(); }
  RestartableServer(const RestartableServer&) = delete;
  RestartableServer& operator=(const RestartableServer&) = delete;

  // Stops listening: connections are refused (the port stays ours to reuse).
  void Down() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  // Listens again, on the port of the first Up().
  void Up() {
    if (server_) return;
    server_ = std::make_unique<httplib::Server>();
    routes_(*server_);
    // Short keep-alive: stopping the server must not wait for an idle client connection.
    server_->set_keep_alive_timeout(1);
    if (port_ == 0) {
      port_ = server_->bind_to_any_port("127.0.0.1");
    } else if (!server_->bind_to_port("127.0.0.1", port_)) {
      server_.reset();
      FAIL() << "port " << port_ << " could not be bound again";
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  // "http://127.0.0.1:<port>", without a trailing slash.
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  Routes routes_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace budgeteer::testing
