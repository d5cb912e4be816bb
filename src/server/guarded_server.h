// GuardedServer: cpp-httplib's Server with its connections read through a stream that bounds
// what a request may send before its body. Debian's cpp-httplib 0.11 caps each header line at
// 8 KiB but neither the number of lines nor the time a client takes to send them: one client
// could make the server hold gigabytes of headers, or hold a worker thread for as long as it
// sends a byte every few seconds. Here the request line and headers together are limited to
// `max_header_bytes` (beyond it: 400 and the connection closed) and must arrive within
// `header_timeout` of the request's first byte; the body must then arrive within
// `body_timeout` (a client trickling a byte every few seconds no longer holds a worker until
// its body ends). Keep-alive, timeouts and the request loop are otherwise httplib's. Configure
// before listening; thread-safe as httplib::Server is.
//
// Bodies that a route inflates itself: cpp-httplib inflates a gzip request body before the
// handler reads it and does not notice a stream cut short (its inflater stops at the last byte
// without asking whether the gzip member ended), so a truncated body reaches the handler as
// valid-looking, shortened data. For the paths given to set_raw_body_paths, PrepareRequest moves
// Content-Encoding to kWireEncodingHeader before the body is read: httplib hands the body over
// as sent, and the handler inflates it with a check for the end of the stream.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace budgeteer {

class GuardedServer : public httplib::Server {
 public:
  // Where PrepareRequest puts the Content-Encoding of a raw-body path (a client's own header of
  // that name is dropped there).
  static constexpr char kWireEncodingHeader[] = "X-Budgeteer-Wire-Content-Encoding";

  void set_raw_body_paths(std::vector<std::string> paths) { raw_body_paths_ = std::move(paths); }

  // Called between the headers and the routing of each request.
  void PrepareRequest(httplib::Request& req) const;

  void set_request_limits(size_t max_header_bytes, std::chrono::milliseconds header_timeout,
                          std::chrono::milliseconds body_timeout) {
    max_header_bytes_ = max_header_bytes;
    header_timeout_ = header_timeout;
    body_timeout_ = body_timeout;
  }

 private:
  bool process_and_close_socket(socket_t sock) override;

  std::vector<std::string> raw_body_paths_;
  size_t max_header_bytes_ = size_t{64} << 10;
  std::chrono::milliseconds header_timeout_{30'000};
  std::chrono::milliseconds body_timeout_{300'000};
};

}  // namespace budgeteer
