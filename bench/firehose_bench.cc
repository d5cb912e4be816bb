// firehose_bench: load for `budgeteer serve`'s POST /v1/ingest/firehose from this machine.
// Sends gzip Firehose deliveries of N invocation-log records (from bench/log_gen) with a few
// client threads over keep-alive connections, and prints records/s, the client-side latency
// percentiles of a delivery, and the server's arrival-to-decision histogram (from /metrics).
// Usage: firehose_bench --port P --key K [--deliveries 400] [--records 500] [--threads 2]
//                       [--principals 10000] [--day YYYY-MM-DD]
//                       [--first-second S] [--span-seconds N]  (timestamps' window in the day)
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/log_gen.h"
#include "formats/input.h"

namespace {

using budgeteer::bench::GenOptions;
using budgeteer::bench::LogGenerator;

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

}  // namespace

int main(int argc, char** argv) {
  const int port = std::atoi(Arg(argc, argv, "--port", "0").c_str());
  const std::string key = Arg(argc, argv, "--key", "");
  const int deliveries = std::atoi(Arg(argc, argv, "--deliveries", "400").c_str());
  const int per = std::atoi(Arg(argc, argv, "--records", "500").c_str());
  const int threads = std::atoi(Arg(argc, argv, "--threads", "2").c_str());
  GenOptions g;
  g.records = static_cast<int64_t>(deliveries) * per;
  g.principals = std::atoll(Arg(argc, argv, "--principals", "10000").c_str());
  g.day = Arg(argc, argv, "--day", g.day);
  g.first_second = std::atoll(Arg(argc, argv, "--first-second", "0").c_str());
  g.span_seconds = std::atoll(Arg(argc, argv, "--span-seconds", "86400").c_str());
  if (port <= 0 || key.empty()) {
    std::cerr << "usage: firehose_bench --port P --key K [--deliveries N] [--records N]\n";
    return 2;
  }
  // Prepare every body first (gzip of a Firehose delivery whose records are base64 lines).
  const LogGenerator gen(g);
  std::vector<std::string> bodies;
  bodies.reserve(static_cast<size_t>(deliveries));
  for (int d = 0; d < deliveries; ++d) {
    std::string body = R"({"requestId":"bench-)" + std::to_string(d) +
                       R"(","timestamp":1700000000000,"records":[)";
    for (int k = 0; k < per; ++k) {
      std::string line;
      gen.AppendRecord(static_cast<int64_t>(d) * per + k, line);
      if (!line.empty() && line.back() == '\n') line.pop_back();
      body += (k ? "," : "") + std::string(R"({"data":")") + budgeteer::Base64Encode(line) + "\"}";
    }
    body += "]}";
    auto gz = budgeteer::Gzip(body);
    if (!gz.ok()) return 1;
    bodies.push_back(std::move(*gz));
  }

  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<int> failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(60, 0);
      const httplib::Headers headers = {{"X-Amz-Firehose-Access-Key", key},
                                        {"Content-Encoding", "gzip"}};
      for (int d = next++; d < deliveries; d = next++) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = client.Post("/v1/ingest/firehose", headers, bodies[static_cast<size_t>(d)],
                               "application/json");
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        if (!res || res->status != 200) ++failures;
        std::lock_guard<std::mutex> lock(mu);
        latencies.push_back(ms);
      }
    });
  }
  for (auto& t : pool) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double records = static_cast<double>(deliveries) * per;
  std::printf(
      "firehose  %d deliveries x %d records  %d threads  %.2f s  %.0f records/s  "
      "delivery latency p50 %.1f ms  p99 %.1f ms  failures %d\n",
      deliveries, per, threads, seconds, records / seconds, Percentile(latencies, 0.5),
      Percentile(latencies, 0.99), failures.load());

  // The server's view: arrival-to-decision (handler entry to committed batch).
  httplib::Client client("127.0.0.1", port);
  auto metrics = client.Get("/metrics");
  if (metrics && metrics->status == 200) {
    for (size_t pos = 0; pos < metrics->body.size();) {
      const size_t eol = metrics->body.find('\n', pos);
      const std::string line = metrics->body.substr(pos, eol - pos);
      if (line.rfind("budgeteer_decision_latency_seconds", 0) == 0) std::cout << line << '\n';
      if (eol == std::string::npos) break;
      pos = eol + 1;
    }
  }
  return failures.load() == 0 ? 0 : 1;
}
