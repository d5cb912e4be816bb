#include "server/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace budgeteer {
namespace {

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Found by fuzz/http_fuzzer: every distinct request method a client sent became its own series,
// so junk methods grew /metrics (and the server's memory) without bound.
TEST(MetricsTest, UnknownMethodsShareOneSeries) {
  Metrics metrics;
  for (int i = 0; i < 1000; ++i) {
    metrics.ObserveHttp("JUNK" + std::to_string(i), "other", 400, 0.001);
  }
  metrics.ObserveHttp("GET", "/v1/budgets", 200, 0.001);
  metrics.ObserveHttp("PATCH", "/v1/budgets/{principal}", 200, 0.001);
  const std::string out = metrics.Render("");
  EXPECT_EQ(CountOccurrences(out, "JUNK"), 0u);
  EXPECT_EQ(CountOccurrences(out, "budgeteer_http_requests_total{method=\"other\""), 1u) << out;
  EXPECT_NE(out.find("budgeteer_http_requests_total{method=\"other\",route=\"other\",code=\"400\"} "
                     "1000"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("method=\"GET\",route=\"/v1/budgets\""), std::string::npos) << out;
  EXPECT_NE(out.find("method=\"PATCH\""), std::string::npos) << out;
}

}  // namespace
}  // namespace budgeteer
