// End-to-end tests of what the dashboard needs from `budgeteer serve`: the embedded page and
// assets (content types, ETag/304, CSP, no path escape) and the JSON endpoints added for it
// (/v1/whoami, the paged and sorted /v1/budgets, /v1/health, /v1/unpriced_models). They run the
// real binary and need no npm: the assets are embedded from web/src at build time.
#include <gtest/gtest.h>

#include <string>

#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

constexpr char kAdmin[] = "admin-token-1";
constexpr char kViewer[] = "viewer-token-2";

class DashboardTest : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return std::string(R"([auth]
admin_tokens = ["ops:)") +
           kAdmin + R"("]
viewer_tokens = ["watcher:)" +
           kViewer + R"("]
[ingest.firehose]
access_key = ")" +
           kAccessKey +
           R"("
[defaults]
default_user_budget_usd = 1
grace_period_seconds = 3600
)";
  }

  static std::string Arn(const std::string& user) {
    return "arn:aws:iam::111122223333:user/" + user;
  }
};

TEST_F(DashboardTest, ServesThePageWithStrictPolicyAndAssetsWithEtags) {
  auto page = Client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_NE(page->body.find("/assets/app.js"), std::string::npos);
  EXPECT_EQ(page->body.find("<script>"), std::string::npos) << "no inline script";

  auto js = Client().Get("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("Cache-Control"), "no-cache");
  const std::string etag = js->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');
  auto css = Client().Get("/assets/app.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");

  auto again = Client().Get("/assets/app.js", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
}

TEST_F(DashboardTest, AssetPathsNeverLeaveTheEmbeddedTable) {
  for (const char* path : {"/assets/../CMakeLists.txt", "/assets/%2e%2e/%2e%2e/etc/passwd",
                           "/assets/nope.js", "/assets//etc/passwd", "/index.html/../x"}) {
    auto res = Client().Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->body.find("root:"), std::string::npos) << path;
  }
}

TEST_F(DashboardTest, WhoamiNamesTheCallerAndRole) {
  int status = 0;
  EXPECT_EQ(Get("/v1/whoami", kAdmin, &status), R"({"name":"ops","role":"admin"})");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Get("/v1/whoami", kViewer, &status), R"({"name":"watcher","role":"viewer"})");
  Get("/v1/whoami", "", &status);
  EXPECT_EQ(status, 401);
  Get("/v1/whoami", "wrong", &status);
  EXPECT_EQ(status, 401);
}

TEST_F(DashboardTest, BudgetsPageIsFilteredSortedAndPagedOnTheServer) {
  // alice $0.80 (warning), bob $0.10 (active), carol $1.20 (grace period); Haiku input is
  // $0.25 per million tokens.
  ASSERT_TRUE(Ingest("a1", 3'200'000, Arn("alice")));
  ASSERT_TRUE(Ingest("b1", 400'000, Arn("bob")));
  ASSERT_TRUE(Ingest("c1", 4'800'000, Arn("carol")));
  int status = 0;

  std::string body = Get("/v1/budgets?sort=-spent_usd&limit=2", kViewer, &status);
  EXPECT_EQ(status, 200) << body;
  EXPECT_EQ(JsonValue(body, "total"), "3");
  EXPECT_EQ(JsonValue(body, "spent_usd"), "2.1") << "the summary's total comes first";
  EXPECT_NE(body.find(R"("by_status":{"active":1,"critical":0,"exempt":0,"grace_period":1,)"
                      R"("suspended":0,"warning":1})"),
            std::string::npos)
      << body;
  const size_t carol = body.find(R"("qualified":"111122223333:carol")");
  const size_t alice = body.find(R"("qualified":"111122223333:alice")");
  EXPECT_NE(carol, std::string::npos);
  EXPECT_NE(alice, std::string::npos);
  EXPECT_LT(carol, alice);
  EXPECT_EQ(body.find("111122223333:bob"), std::string::npos) << "limit=2";

  body = Get("/v1/budgets?sort=-spent_usd&limit=2&offset=2", kViewer);
  EXPECT_NE(body.find(R"("qualified":"111122223333:bob")"), std::string::npos) << body;
  EXPECT_EQ(JsonValue(body, "offset"), "2");

  body = Get("/v1/budgets?q=ALI", kViewer);
  EXPECT_EQ(JsonValue(body, "total"), "1") << body;
  EXPECT_NE(body.find("111122223333:alice"), std::string::npos);
  EXPECT_EQ(JsonValue(body, "principals"), "3") << "the summary covers every principal";

  body = Get("/v1/budgets?status=active,grace_period&sort=principal", kViewer);
  EXPECT_EQ(JsonValue(body, "total"), "2") << body;
  EXPECT_LT(body.find("111122223333:bob"), body.find("111122223333:carol"));

  body = Get("/v1/budgets?sort=percent", kViewer);
  EXPECT_LT(body.find("111122223333:bob"), body.find("111122223333:alice")) << body;
  EXPECT_LT(body.find("111122223333:alice"), body.find("111122223333:carol")) << body;

  // Without paging parameters the reply is the plain array the CLI's --json prints.
  body = Get("/v1/budgets", kViewer);
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body.front(), '[');

  for (const char* bad : {"/v1/budgets?sort=cost", "/v1/budgets?limit=0", "/v1/budgets?limit=x",
                          "/v1/budgets?offset=-1", "/v1/budgets?status=broke"}) {
    body = Get(bad, kViewer, &status);
    EXPECT_EQ(status, 400) << bad;
    EXPECT_NE(body.find("INVALID_ARGUMENT"), std::string::npos) << body;
  }
  Get("/v1/budgets?limit=5", "", &status);
  EXPECT_EQ(status, 401);
}

TEST_F(DashboardTest, HealthSummarisesReadinessOutboxAndLastRecord) {
  ASSERT_TRUE(Ingest("h1", 4'800'000, Arn("dave")));  // over budget: a transition, an action
  int status = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Get("/v1/health", kViewer, &status).find(R"("scheduler_running":true)") !=
               std::string::npos;
      },
      std::chrono::seconds(5)));
  const std::string body = Get("/v1/health", kViewer, &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find(R"("ledger_writable":true)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("grace_period":1)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("outbox":{"dead":0,)"), std::string::npos) << body;
  EXPECT_NE(JsonValue(body, "last_record_at"), "null") << body;
  // The Firehose delivery shows in the per-source activity, with its arrival time.
  const size_t firehose = body.find(R"("sources":{"firehose":{"last_record_at":")");
  EXPECT_NE(firehose, std::string::npos) << body;
  EXPECT_NE(body.find(R"("applied":1,"duplicates":0,"rejected":0)", firehose), std::string::npos)
      << body;
  Get("/v1/health", "", &status);
  EXPECT_EQ(status, 401);
}

TEST_F(DashboardTest, UnpricedModelsAreListed) {
  LogRecord r;
  r.request_id = "u1";
  r.model = "acme.mystery-model-v9";
  r.input = 1000;
  r.timestamp = SystemClock().Now().PlusSeconds(-60).ToRfc3339();
  auto res = PostFirehose(Delivery("d-u1", {r.Json()}));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::string body = Get("/v1/unpriced_models", kViewer);
  EXPECT_NE(body.find("mystery-model-v9"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("requests":1)"), std::string::npos) << body;
}

}  // namespace
}  // namespace budgeteer::testing
