// Metrics: the service's counters and histograms in the Prometheus text format (version
// 0.0.4). Counters and histograms live in memory (since start); gauges that the ledger knows
// (principals by status, outbox by channel and status, cost by model) are read at scrape time.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace budgeteer {

class Histogram {
 public:
  Histogram();
  void Observe(double seconds);
  // Appends "<name>_bucket{<labels>le="..."} n" lines, _sum and _count.
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::vector<int64_t> buckets_;  // cumulative at render time
  double sum_ = 0;
  int64_t count_ = 0;
};

class Metrics {
 public:
  // Also notes the wall-clock time records last came from `source` (see LastRecordBySource).
  void CountRecords(std::string_view source, int64_t applied, int64_t duplicates, int64_t rejected);
  // Records deferred by the new-principal cap (identity.max_new_principals_per_minute).
  void CountDeferred(std::string_view source, int64_t deferred);
  void ObserveHttp(std::string_view method, std::string_view route, int status, double seconds);
  // Time from a delivery's arrival to the committed policy decision its records caused.
  void ObserveDecision(double seconds);

  // Per source (since start): when records last arrived (unix ms), and how many applied,
  // duplicated and rejected.
  struct SourceActivity {
    int64_t last_record_ms = 0;
    int64_t applied = 0;
    int64_t duplicates = 0;
    int64_t rejected = 0;
  };
  std::map<std::string, SourceActivity> Sources() const;

  // Everything kept in memory, rendered; `gauges` (already rendered lines) are appended.
  std::string Render(const std::string& gauges) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, int64_t> records_;   // (source, outcome)
  std::map<std::string, int64_t> last_record_ms_;                    // source -> unix ms
  std::map<std::pair<std::string, std::string>, int64_t> requests_;  // (route, code)
  std::map<std::string, Histogram> http_latency_;                    // route
  Histogram decision_latency_;
};

// The route label of a request path: "/v1/budgets/{principal}", ... (bounded cardinality).
std::string RouteLabel(std::string_view method, std::string_view path);

// Escapes a Prometheus label value.
std::string LabelValue(std::string_view v);

}  // namespace budgeteer
