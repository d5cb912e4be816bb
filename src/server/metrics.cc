#include "server/metrics.h"

#include <array>
#include <chrono>
#include <cstdio>

namespace budgeteer {

namespace {
constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};

// The method label: a method the server routes, else "other". The method is whatever text the
// client sent, and one series per distinct text would let anyone grow /metrics, and our memory,
// without bound (found by fuzz/http_fuzzer).
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}
}  // namespace

std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

Histogram::Histogram() : buckets_(kBounds.size(), 0) {}

void Histogram::Observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets_[i];
      break;
    }
  }
  sum_ += seconds;
  ++count_;
}

void Histogram::Render(std::string& out, std::string_view name, std::string_view labels) const {
  int64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    out += std::string(name) + "_bucket{" + std::string(labels) + sep + "le=\"" +
           Number(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += std::string(name) + "_bucket{" + std::string(labels) + sep + "le=\"+Inf\"} " +
         std::to_string(count_) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out += std::string(name) + "_sum" + braces + " " + Number(sum_) + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(count_) + "\n";
}

void Metrics::CountRecords(std::string_view source, int64_t applied, int64_t duplicates,
                           int64_t rejected) {
  std::lock_guard<std::mutex> lock(mu_);
  records_[{std::string(source), "applied"}] += applied;
  records_[{std::string(source), "duplicate"}] += duplicates;
  records_[{std::string(source), "rejected"}] += rejected;
  if (applied + duplicates + rejected > 0) {
    last_record_ms_[std::string(source)] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count();
  }
}

void Metrics::CountDeferred(std::string_view source, int64_t deferred) {
  if (deferred <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  records_[{std::string(source), "deferred"}] += deferred;
}

std::map<std::string, Metrics::SourceActivity> Metrics::Sources() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, SourceActivity> out;
  for (const auto& [source, at] : last_record_ms_) out[source].last_record_ms = at;
  for (const auto& [key, n] : records_) {
    SourceActivity& a = out[key.first];
    if (key.second == "applied") a.applied = n;
    if (key.second == "duplicate") a.duplicates = n;
    if (key.second == "rejected") a.rejected = n;
  }
  return out;
}

void Metrics::ObserveHttp(std::string_view method, std::string_view route, int status,
                          double seconds) {
  const std::string key = std::string(MethodLabel(method)) + " " + std::string(route);
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{key, std::to_string(status)}];
  http_latency_[key].Observe(seconds);
}

void Metrics::ObserveDecision(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  decision_latency_.Observe(seconds);
}

std::string Metrics::Render(const std::string& gauges) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP budgeteer_records_total Usage records received, by source and outcome.\n";
  out += "# TYPE budgeteer_records_total counter\n";
  for (const auto& [k, v] : records_) {
    out += "budgeteer_records_total{source=\"" + LabelValue(k.first) + "\",outcome=\"" + k.second +
           "\"} " + std::to_string(v) + "\n";
  }
  out += "# HELP budgeteer_http_requests_total HTTP requests, by route and status code.\n";
  out += "# TYPE budgeteer_http_requests_total counter\n";
  for (const auto& [k, v] : requests_) {
    const size_t space = k.first.find(' ');
    out += "budgeteer_http_requests_total{method=\"" + k.first.substr(0, space) + "\",route=\"" +
           LabelValue(k.first.substr(space + 1)) + "\",code=\"" + k.second + "\"} " +
           std::to_string(v) + "\n";
  }
  out += "# HELP budgeteer_http_request_duration_seconds HTTP request latency, by route.\n";
  out += "# TYPE budgeteer_http_request_duration_seconds histogram\n";
  for (const auto& [k, h] : http_latency_) {
    const size_t space = k.find(' ');
    h.Render(
        out, "budgeteer_http_request_duration_seconds",
        "method=\"" + k.substr(0, space) + "\",route=\"" + LabelValue(k.substr(space + 1)) + "\"");
  }
  out +=
      "# HELP budgeteer_decision_latency_seconds Time from a delivery's arrival to the "
      "committed policy decision.\n";
  out += "# TYPE budgeteer_decision_latency_seconds histogram\n";
  decision_latency_.Render(out, "budgeteer_decision_latency_seconds", "");
  out += gauges;
  return out;
}

std::string RouteLabel(std::string_view method, std::string_view path) {
  (void)method;
  constexpr std::string_view kBudgets = "/v1/budgets/";
  constexpr std::string_view kPrices = "/v1/prices/";
  if (path.substr(0, kBudgets.size()) == kBudgets) {
    for (std::string_view action : {"/reset", "/suspend", "/restore", "/exempt"}) {
      if (path.size() > action.size() && path.substr(path.size() - action.size()) == action) {
        return "/v1/budgets/{principal}" + std::string(action);
      }
    }
    return "/v1/budgets/{principal}";
  }
  if (path.substr(0, kPrices.size()) == kPrices) return "/v1/prices/{model}";
  for (std::string_view known :
       {"/healthz", "/readyz", "/metrics", "/v1/ingest/firehose", "/v1/usage", "/v1/budgets",
        "/v1/audit", "/v1/outbox", "/v1/prices"}) {
    if (path == known) return std::string(known);
  }
  return "other";
}

}  // namespace budgeteer
