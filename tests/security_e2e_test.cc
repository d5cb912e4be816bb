// Security properties of `budgeteer serve`, end to end against the real binary:
//   - every route the server code registers is enumerated from its source, and each one that
//     is not public refuses a missing or unknown token (401), each mutating one a viewer token
//     (403): a route added without authentication fails this test;
//   - secrets (tokens, the Firehose key, webhook secrets, the Slack webhook URL, the SMTP
//     password, AWS keys and session token) never reach stdout, stderr, the ledger (audit and
//     outbox error columns) or an API reply, through failing deliveries, failing AWS calls and
//     bad-token requests;
//   - dashboard paths cannot leave the embedded assets (../, %2e%2e, encoded slashes,
//     backslashes, absolute paths);
//   - serve listens on loopback by default and refuses a non-loopback address without tokens;
//   - CORS is off unless server.cors_origins lists the origin (simple requests and preflight);
//   - a webhook receiver can verify the signature with only the secret and the documented
//     algorithm (OpenSSL's HMAC here, not our helper), and detect a replay by its timestamp.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actions/testing/http_receiver.h"
#include "actions/testing/smtp_sink.h"
#include "config/config.h"
#include "tests/serve_fixture.h"

namespace budgeteer::testing {
namespace {

using std::chrono::milliseconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sends `request` as is on a fresh connection and returns everything the server answered
// before closing (or within 3 s).
std::string RawExchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  timeval tv{0, 100'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline) {
    std::array<char, 4096> buf{};
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) break;
    if (n > 0) reply.append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

// A port nothing listens on (bound, then closed).
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// ---------------------------------------------------------------------------------------------
// Routes, taken from the server's source.

struct Route {
  std::string method;   // Get, Post, Patch, Put, Delete, Options
  std::string pattern;  // as registered (a regular expression for httplib)
};

std::vector<Route> RoutesInSource() {
  std::vector<Route> routes;
  const std::regex registration(
      R"re(server\.(Get|Post|Patch|Put|Delete|Options)\(\s*(?:R"\((.*?)\)"|"([^"]*)"))re");
  for (const char* file : {"/src/server/http_server.cc", "/src/server/dashboard.cc"}) {
    const std::string text = ReadAll(std::string(BUDGETEER_SOURCE_DIR) + file);
    EXPECT_FALSE(text.empty()) << file;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), registration);
         it != std::sregex_iterator(); ++it) {
      const std::smatch& m = *it;
      routes.push_back({m[1].str(), m[2].matched ? m[2].str() : m[3].str()});
    }
  }
  return routes;
}

// Concrete paths for a route pattern: "(.+)" becomes a principal name, "(a|b)" each choice.
std::vector<std::string> PathsFor(const std::string& pattern) {
  std::vector<std::string> paths = {""};
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '(') {
      const size_t close = pattern.find(')', i);
      const std::string group = pattern.substr(i + 1, close - i - 1);
      std::vector<std::string> choices;
      if (group == ".+" || group == ".*") {
        choices = {"BedrockAPIKey-abc"};
      } else {
        std::stringstream ss(group);
        std::string choice;
        while (std::getline(ss, choice, '|')) choices.push_back(choice);
      }
      std::vector<std::string> next;
      for (const auto& p : paths) {
        for (const auto& c : choices) next.push_back(p + c);
      }
      paths = next;
      i = close + 1;
    } else {
      for (auto& p : paths) p += pattern[i];
      ++i;
    }
  }
  return paths;
}

class SecurityE2E : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return R"(
[auth]
admin_tokens = ["alice:adm1n-token"]
viewer_tokens = ["v1ewer-token"]
[ingest.firehose]
access_key = "fh-secret-key"
)";
  }

  httplib::Result Send(const std::string& method, const std::string& path,
                       const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto c = Client();
    if (method == "Get") return c.Get(path, headers);
    if (method == "Post") return c.Post(path, headers, "{}", "application/json");
    if (method == "Patch") {
      return c.Patch(path, headers, R"({"limit_usd":"1000"})", "application/json");
    }
    if (method == "Put") return c.Put(path, headers, "{}", "application/json");
    if (method == "Delete") return c.Delete(path, headers);
    return c.Options(path, headers);
  }
};

TEST_F(SecurityE2E, EveryRouteFromTheSourceRefusesCallersWithoutTheRightToken) {
  ASSERT_TRUE(Ingest("seed-1", 1'000'000));  // BedrockAPIKey-abc exists, $0.25, active
  const std::string before = Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token");

  // Public on purpose: the dashboard's static page and assets (no data in them), liveness,
  // readiness and Prometheus metrics; Firehose authenticates with its own access key.
  const std::set<std::string> public_gets = {"/", "/assets/(.+)", "/healthz", "/readyz",
                                             "/metrics"};
  const std::vector<Route> routes = RoutesInSource();
  ASSERT_GE(routes.size(), 19U) << "the route parser found too few routes";
  int checked = 0;
  for (const Route& route : routes) {
    const bool mutating = route.method != "Get" && route.method != "Options";
    for (const std::string& path : PathsFor(route.pattern)) {
      SCOPED_TRACE(route.method + " " + path);
      if (route.method == "Get" && public_gets.count(route.pattern) > 0) continue;
      if (route.pattern == "/v1/ingest/firehose") {
        // Bearer tokens are no substitute for the access key, an admin's included.
        for (const char* token : {"", "v1ewer-token", "adm1n-token"}) {
          auto res = Send(route.method, path, token);
          ASSERT_TRUE(res);
          EXPECT_EQ(res->status, 401) << res->body;
        }
        continue;
      }
      for (const char* token : {"", "wrong-token"}) {
        auto res = Send(route.method, path, token);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 401) << token << ": " << res->body;
        EXPECT_NE(res->body.find("UNAUTHENTICATED"), std::string::npos) << res->body;
      }
      auto viewer = Send(route.method, path, "v1ewer-token");
      ASSERT_TRUE(viewer);
      if (mutating) {
        EXPECT_EQ(viewer->status, 403) << viewer->body;
        EXPECT_NE(viewer->body.find("PERMISSION_DENIED"), std::string::npos) << viewer->body;
      } else {
        EXPECT_NE(viewer->status, 401);
        EXPECT_NE(viewer->status, 403);
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 16);
  // Nothing changed: same budget, and the audit holds only the principal's creation.
  EXPECT_EQ(Get("/v1/budgets/BedrockAPIKey-abc", "v1ewer-token"), before);
  const std::string audit = Get("/v1/audit", "v1ewer-token");
  EXPECT_EQ(Count(audit, "\"actor\":"), 1U) << audit;
  EXPECT_EQ(Count(audit, "principal_created"), 1U) << audit;
}

TEST_F(SecurityE2E, DashboardPathsCannotLeaveTheEmbeddedAssets) {
  // Something worth stealing next to the server: its own ledger, and /etc/passwd.
  const std::vector<std::string> attacks = {
      "/assets/../ledger.db",
      "/assets/../../../../../../etc/passwd",
      "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/assets/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
      "/assets/..%252f..%252fetc%252fpasswd",
      "/assets/..\\..\\..\\..\\etc\\passwd",
      "/assets/..%5c..%5c..%5cetc%5cpasswd",
      "/assets//etc/passwd",
      "/assets/%2fetc%2fpasswd",
      "/assets/app.js/../../../etc/passwd",
      "/assets/app.js%00.png",
      "/../../../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "//etc/passwd",
      "/etc/passwd",
      "/ledger.db",
      "/index.html/../../ledger.db",
      "/assets/....//....//etc/passwd",
      "/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
      "http://127.0.0.1/etc/passwd",
      "/assets/C:\\Windows\\win.ini",
  };
  for (const std::string& path : attacks) {
    SCOPED_TRACE(path);
    const std::string reply = RawExchange(
        port_, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    ASSERT_FALSE(reply.empty());
    EXPECT_TRUE(reply.rfind("HTTP/1.1 404 ", 0) == 0 || reply.rfind("HTTP/1.1 400 ", 0) == 0)
        << reply.substr(0, 200);
    EXPECT_EQ(reply.find("root:"), std::string::npos);
    EXPECT_EQ(reply.find("SQLite format"), std::string::npos);
  }
  // The same lookups find the real assets, so the attacks above failed for the right reason.
  const std::string ok =
      RawExchange(port_, "GET /assets/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 ", 0), 0U) << ok.substr(0, 200);
}

TEST_F(SecurityE2E, CorsIsOffUnlessConfigured) {
  httplib::Headers cross = {{"Origin", "https://evil.example"},
                            {"Authorization", "Bearer v1ewer-token"}};
  auto res = Client().Get("/v1/budgets", cross);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  // A preflight gets no permission either.
  httplib::Headers preflight = {{"Origin", "https://evil.example"},
                                {"Access-Control-Request-Method", "PATCH"},
                                {"Access-Control-Request-Headers", "authorization,content-type"}};
  res = Client().Options("/v1/budgets/BedrockAPIKey-abc", preflight);
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Methods"));
  EXPECT_GE(res->status, 400);
}

class CorsE2E : public SecurityE2E {
 protected:
  std::string ConfigToml() override {
    return SecurityE2E::ConfigToml() +
           "[server]\ncors_origins = [\"https://dash.example.com\", \"http://localhost:3000\"]\n";
  }
};

TEST_F(CorsE2E, ListedOriginsOnlyAndPreflightDoesNotBypassAuth) {
  httplib::Headers listed = {{"Origin", "https://dash.example.com"},
                             {"Authorization", "Bearer v1ewer-token"}};
  auto res = Client().Get("/v1/budgets", listed);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://dash.example.com");
  EXPECT_NE(res->get_header_value("Vary").find("Origin"), std::string::npos);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Credentials"));

  // Preflight from a listed origin.
  httplib::Headers preflight = {{"Origin", "http://localhost:3000"},
                                {"Access-Control-Request-Method", "PATCH"},
                                {"Access-Control-Request-Headers", "authorization,content-type"}};
  res = Client().Options("/v1/budgets/BedrockAPIKey-abc", preflight);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_NE(res->get_header_value("Access-Control-Allow-Methods").find("PATCH"), std::string::npos);
  EXPECT_NE(res->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_TRUE(res->has_header("Access-Control-Max-Age"));

  // The preflight grants the right to ask, not the right to act: no token is still 401, and
  // errors carry the header so a browser can show them.
  httplib::Headers no_token = {{"Origin", "https://dash.example.com"}};
  res = Client().Patch("/v1/budgets/BedrockAPIKey-abc", no_token, R"({"limit_usd":"5"})",
                       "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://dash.example.com");

  // Other origins (a look-alike, another scheme, another port) get nothing.
  for (const char* origin : {"https://dash.example.com.evil.example", "http://dash.example.com",
                             "http://localhost:3001", "null"}) {
    SCOPED_TRACE(origin);
    httplib::Headers other = {{"Origin", origin}, {"Authorization", "Bearer v1ewer-token"}};
    res = Client().Get("/v1/budgets", other);
    ASSERT_TRUE(res);
    EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
    httplib::Headers other_preflight = {{"Origin", origin},
                                        {"Access-Control-Request-Method", "POST"}};
    res = Client().Options("/v1/budgets/BedrockAPIKey-abc/suspend", other_preflight);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403);
    EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  }
}

// ---------------------------------------------------------------------------------------------
// The listen address.

TEST(ListenTest, DefaultIsLoopback) {
  auto config = ParseConfig("", "empty.toml", [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  });
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->server_listen, "127.0.0.1:8080");
}

TEST(ListenTest, NonLoopbackWithoutTokensIsRefused) {
  CliHarness h;
  h.set_config(h.Write("open.toml", "[ingest.firehose]\naccess_key = \"k\"\n"));
  for (const char* listen : {"0.0.0.0:0", "[::]:0", ":0"}) {
    SCOPED_TRACE(listen);
    RunResult r = h.Run({"serve", "--listen", listen});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("auth.admin_tokens"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;
  }
}

TEST(ListenTest, NonLoopbackWithTokensStartsAndWarns) {
  CliHarness h;
  const std::string config = h.Write("tokens.toml", "[auth]\nviewer_tokens = [\"v\"]\n");
  const std::string out = h.dir() + "/out";
  const std::string err = h.dir() + "/err";
  std::vector<std::string> args = {BUDGETEER_BINARY, "--db",     h.dir() + "/ledger.db",
                                   "--config",       config,     "serve",
                                   "--listen",       "0.0.0.0:0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  const bool started = WaitUntil(
      [&] { return ReadAll(out).find("listening on http://0.0.0.0:") != std::string::npos; },
      milliseconds(15'000));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_TRUE(started) << ReadAll(err);
  EXPECT_NE(ReadAll(err).find("WARNING: listening on 0.0.0.0:0, reachable from other machines"),
            std::string::npos)
      << ReadAll(err);
}

// ---------------------------------------------------------------------------------------------
// Secrets never leave the process except to where they belong.

class SecretsE2E : public ServeFixture {
 protected:
  // Obviously fake values, each unique enough to grep for.
  static constexpr const char* kSecrets[] = {
      "adm-SECRET-TOKEN-1111",
      "vw-SECRET-TOKEN-2222",
      "fh-SECRET-KEY-3333",
      "whsec-SECRET-4444",
      "whsec-SECRET-4445",
      "URL-SECRET-TOKEN-4446",
      "SLACK-SECRET-PATH-5555",
      "smtp-SECRET-PASS-6666",
      "AKIASECRETKEYID77777",
      "aws-SECRET-ACCESS-KEY-8888/abcdefghijklmnopq",
      "aws-SECRET-SESSION-TOKEN-9999",
  };

  void SetUp() override {
    setenv("AWS_ACCESS_KEY_ID", "AKIASECRETKEYID77777", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "aws-SECRET-ACCESS-KEY-8888/abcdefghijklmnopq", 1);
    setenv("AWS_SESSION_TOKEN", "aws-SECRET-SESSION-TOKEN-9999", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ENDPOINT_URL", aws_.Url("").c_str(), 1);
    unsetenv("AWS_PROFILE");
    ServeFixture::SetUp();
  }
  void TearDown() override {
    ServeFixture::TearDown();
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"}) {
      unsetenv(v);
    }
  }

  std::string ConfigToml() override {
    const int closed = ClosedPort();
    return R"(
[auth]
admin_tokens = ["ops:adm-SECRET-TOKEN-1111"]
viewer_tokens = ["vw-SECRET-TOKEN-2222"]
[ingest.firehose]
access_key = "fh-SECRET-KEY-3333"
[defaults]
grace_period_seconds = 0
[enforce]
mode = "iam"
[enforce.iam]
account_id = "111122223333"
[outbox]
max_attempts = 2
base_backoff_ms = 50
max_backoff_ms = 100
[[notify.webhook]]
name = "failing"
url = ")" + failing_.Url("/hook?token=URL-SECRET-TOKEN-4446") +
           R"("
secret = "whsec-SECRET-4444"
timeout_ms = 1000
[[notify.webhook]]
name = "down"
url = "http://127.0.0.1:)" +
           std::to_string(closed) + R"(/hook"
secret = "whsec-SECRET-4445"
timeout_ms = 500
[[notify.slack]]
webhook_url = "http://127.0.0.1:)" +
           std::to_string(closed) + R"(/services/T000/B000/SLACK-SECRET-PATH-5555"
timeout_ms = 500
[[notify.email]]
smtp_url = ")" +
           smtp_.Url() +
           R"("
username = "mailer"
password = "smtp-SECRET-PASS-6666"
from = "budgeteer@example.com"
to = ["ops@example.com"]
timeout_ms = 2000
[[notify.sns]]
topic_arn = "arn:aws:sns:us-east-1:111122223333:alerts"
)";
  }

  // A receiver that answers every webhook with 500, an SMTP server that refuses the password,
  // and an "AWS" that refuses the credentials, as AWS does.
  HttpReceiver failing_{500, "internal error"};
  SmtpSink smtp_{SmtpSinkOptions{"mailer", "the-right-password", "250 OK"}};
  HttpReceiver aws_{403,
                    "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
                    "<Message>The security token included in the request is invalid.</Message>"
                    "</Error><RequestId>1</RequestId></ErrorResponse>"};
};

TEST_F(SecretsE2E, NoSecretInLogsLedgerOrReplies) {
  std::vector<std::string> replies;
  auto keep = [&](const httplib::Result& res) {
    ASSERT_TRUE(res);
    replies.push_back(res->body);
    for (const auto& [name, value] : res->headers) replies.push_back(name + ": " += value);
  };
  // Bad tokens and keys: a wrong one, a viewer on an admin route, the admin token sent as the
  // Firehose key, the Firehose key sent as a bearer token.
  keep(Client().Get("/v1/budgets", {{"Authorization", "Bearer not-the-token"}}));
  keep(Client().Post("/v1/budgets/BedrockAPIKey-abc/suspend",
                     {{"Authorization", "Bearer vw-SECRET-TOKEN-2222"}}, "{}", "application/json"));
  keep(PostFirehose(Delivery("bad-key", {Record("x1", 10)}), "adm-SECRET-TOKEN-1111"));
  keep(Client().Get("/v1/budgets", {{"Authorization", "Bearer fh-SECRET-KEY-3333"}}));
  // Over budget at once (grace 0): suspended, so a notification to every channel and a
  // suspend_access through IAM; every one of them fails.
  auto res = PostFirehose(Delivery("d-1", {Record("r1", 8'000'000)}), "fh-SECRET-KEY-3333");
  keep(res);
  ASSERT_EQ(res->status, 200) << res->body;
  // Wait until the dispatcher has given up on every action (two attempts each).
  const bool settled = WaitUntil(
      [&] {
        const std::string health = Get("/v1/health", "vw-SECRET-TOKEN-2222");
        return JsonValue(health, "dead") != "0" && JsonValue(health, "pending") == "0" &&
               JsonValue(health, "failed") == "0";
      },
      milliseconds(30'000));
  EXPECT_TRUE(settled) << Get("/v1/outbox", "vw-SECRET-TOKEN-2222");
  for (const char* path : {"/v1/outbox", "/v1/audit", "/v1/health", "/v1/budgets", "/v1/whoami",
                           "/v1/budgets/BedrockAPIKey-abc", "/v1/usage", "/v1/unpriced_models"}) {
    keep(Client().Get(path, {{"Authorization", "Bearer adm-SECRET-TOKEN-1111"}}));
  }
  keep(Client().Get("/metrics"));
  keep(Client().Get("/readyz"));
  // A failure of each kind really happened (otherwise this test proves nothing).
  EXPECT_FALSE(failing_.requests().empty());
  EXPECT_GE(smtp_.auth_failures(), 1);
  EXPECT_FALSE(aws_.requests().empty());
  const std::string outbox = Get("/v1/outbox", "adm-SECRET-TOKEN-1111");
  EXPECT_NE(outbox.find("suspend_access"), std::string::npos) << outbox;

  KillHard();
  struct Place {
    std::string name;
    std::string text;
  };
  std::vector<Place> places = {
      {"stdout", ReadAll(h_.dir() + "/serve.out")},
      {"stderr", ReadAll(h_.dir() + "/serve.err")},
      {"ledger", ReadAll(h_.dir() + "/ledger.db")},
      {"ledger wal", ReadAll(h_.dir() + "/ledger.db-wal")},
      {"CLI outbox", h_.Run({"outbox", "--json"}).out},
      {"CLI audit", h_.Run({"audit", "--json"}).out},
  };
  for (const std::string& r : replies) places.push_back({"API reply", r});
  // What the receivers saw: the webhook body and headers carry a signature, not the secret.
  for (const RecordedRequest& r : failing_.requests()) {
    std::string all = r.body;
    for (const auto& [name, value] : r.headers) all.append(name).append(": ").append(value) += '\n';
    places.push_back({"webhook request", all});
  }
  // The failures were recorded (last_error), so there was something to leak.
  EXPECT_LT(Count(outbox, R"("last_error":"")"), Count(outbox, R"("last_error":)")) << outbox;
  for (const Place& place : places) {
    for (const char* secret : kSecrets) {
      EXPECT_EQ(place.text.find(secret), std::string::npos)
          << "secret " << secret << " found in " << place.name << ":\n"
          << place.text.substr(0, 4000);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Webhook signatures, checked the way a receiver would: with the secret, the documented
// algorithm (hex HMAC-SHA256 of "<X-Budgeteer-Timestamp>.<body>") and OpenSSL directly.

std::string HexHmacSha256(const std::string& key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 0xf];
  }
  return hex;
}

// What docs/reliability.md recommends to receivers: the signature matches, and the timestamp
// is within 300 s of the receiver's clock (an older request is a replay, or too late to matter;
// the action id in the body de-duplicates retries inside the window).
bool ReceiverAccepts(const std::string& secret, const RecordedRequest& r, int64_t now_seconds) {
  const std::string timestamp = r.Header("X-Budgeteer-Timestamp");
  const std::string expected = "sha256=" + HexHmacSha256(secret, timestamp + "." + r.body);
  if (timestamp.empty() || r.Header("X-Budgeteer-Signature") != expected) return false;
  const int64_t age = now_seconds - std::stoll(timestamp);
  return age <= 300 && age >= -300;
}

class WebhookSignatureE2E : public ServeFixture {
 protected:
  std::string ConfigToml() override {
    return R"(
[ingest.firehose]
access_key = "fh-secret-key"
[defaults]
grace_period_seconds = 0
[[notify.webhook]]
name = "ops"
url = ")" + receiver_.Url("/hook") +
           R"("
secret = "whsec-receiver-test"
)";
  }
  HttpReceiver receiver_;
};

TEST_F(WebhookSignatureE2E, ReceiverVerifiesWithTheSecretAndDetectsReplays) {
  ASSERT_TRUE(Ingest("w1", 8'000'000));  // $2 on a $1 budget: suspended, notified
  ASSERT_TRUE(WaitUntil([&] { return !receiver_.requests().empty(); }, milliseconds(10'000)));
  const RecordedRequest r = receiver_.requests().front();
  const int64_t now = SystemClock().Now().unix_seconds();
  EXPECT_TRUE(ReceiverAccepts("whsec-receiver-test", r, now))
      << r.Header("X-Budgeteer-Timestamp") << " " << r.Header("X-Budgeteer-Signature");
  // The timestamp is the time of sending, and the signature covers it.
  EXPECT_LE(std::abs(now - std::stoll(r.Header("X-Budgeteer-Timestamp"))), 5);
  // Another secret, a changed body or a moved timestamp: refused.
  EXPECT_FALSE(ReceiverAccepts("whsec-other", r, now));
  RecordedRequest tampered = r;
  tampered.body.replace(tampered.body.find("suspended"), 9, "active!!!");
  EXPECT_FALSE(ReceiverAccepts("whsec-receiver-test", tampered, now));
  RecordedRequest moved = r;
  for (auto& [name, value] : moved.headers) {
    if (name == "X-Budgeteer-Timestamp") value = std::to_string(now);
  }
  if (r.Header("X-Budgeteer-Timestamp") != std::to_string(now)) {
    EXPECT_FALSE(ReceiverAccepts("whsec-receiver-test", moved, now));
  }
  // The same request captured and replayed six minutes later: refused by its timestamp.
  EXPECT_FALSE(ReceiverAccepts("whsec-receiver-test", r, now + 360));
}

}  // namespace
}  // namespace budgeteer::testing
