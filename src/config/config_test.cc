#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace budgeteer {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigTest, DefaultsAreTheSeeds) {
  auto c = ParseConfig("", "test", FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->defaults.limit, Money::FromUsd(1));
  EXPECT_EQ(c->defaults.warn_percent, 70);
  EXPECT_EQ(c->defaults.critical_percent, 90);
  EXPECT_EQ(c->defaults.grace_seconds, 300);
  EXPECT_EQ(c->defaults.period.ToString(), "30d");
  EXPECT_EQ(c->server_listen, "127.0.0.1:8080");
  EXPECT_EQ(c->dedup_window_hours, 168);
}

TEST(ConfigTest, ReadsTheDocumentedKeys) {
  auto c = ParseConfig(R"(
[server]
listen = "127.0.0.1:9090"
[auth]
admin_tokens = ["alice:s3cret"]
viewer_tokens = ["view"]
[ingest.firehose]
access_key = "fh"
[defaults]
default_user_budget_usd = 2.5
thresholds_percent_warn = 60
thresholds_percent_critical = 85
grace_period_seconds = 0
budget_refresh_period_days = 7
[identity]
per_session_roles = ["AWSReservedSSO_*"]
[enforce]
mode = "log"
[pricing.overrides."anthropic.claude-3-haiku-20240307-v1"]
input = "0.2"
output = "1"
)",
                       "test.toml", FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->defaults.limit, *Money::ParseUsd("2.5"));
  EXPECT_EQ(c->defaults.warn_percent, 60);
  EXPECT_EQ(c->defaults.grace_seconds, 0);
  EXPECT_EQ(c->defaults.period.ToString(), "7d");
  EXPECT_EQ(c->admin_tokens, std::vector<std::string>{"alice:s3cret"});
  EXPECT_EQ(c->identity.per_session_roles, std::vector<std::string>{"AWSReservedSSO_*"});
  ASSERT_EQ(c->price_overrides.size(), 1U);
  EXPECT_EQ(c->price_overrides[0].input->nanos, 200'000'000);
}

TEST(ConfigTest, ReadsNotificationChannels) {
  auto c = ParseConfig(R"(
[notify]
log = false
[[notify.webhook]]
url = "http://127.0.0.1:9000/hook"
secret = "whsec"
events = ["suspended", "restored"]
[[notify.slack]]
webhook_url = "https://hooks.slack.com/services/T/B/X"
[[notify.email]]
smtp_url = "smtp://127.0.0.1:2525"
from = "budgeteer@example.com"
to = ["ops@example.com"]
starttls = true
[enforce]
mode = "webhook"
[enforce.webhook]
url = "http://127.0.0.1:9001/enforce"
secret = "ensec"
)",
                       "n.toml", FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->notify_log);
  ASSERT_EQ(c->notify_webhooks.size(), 1U);
  EXPECT_EQ(c->notify_webhooks[0].name, "webhook:1");
  EXPECT_EQ(c->notify_webhooks[0].events.size(), 2U);
  ASSERT_EQ(c->notify_slack.size(), 1U);
  ASSERT_EQ(c->notify_email.size(), 1U);
  EXPECT_TRUE(c->notify_email[0].starttls);
  EXPECT_EQ(c->enforce_webhook_url, "http://127.0.0.1:9001/enforce");

  auto bad = ParseConfig(R"([[notify.email]]
smtp_url = "http://x"
from = "a@b"
)",
                         "b.toml", FakeEnv({}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("notify.email[1]"), std::string::npos);
  auto typo = ParseConfig(R"([[notify.webhook]]
url = "http://x"
secrt = "s"
)",
                          "t.toml", FakeEnv({}));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("notify.webhook[1].secrt"), std::string::npos);
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  auto c = ParseConfig("[defaults]\ngrace_period_seconds = 60\n", "t.toml",
                       FakeEnv({{"BUDGETEER_DEFAULTS_GRACE_PERIOD_SECONDS", "5"},
                                {"BUDGETEER_DEFAULTS_BUDGET_PERIOD", "monthly"},
                                {"BUDGETEER_AUTH_VIEWER_TOKENS", "a,b"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->defaults.grace_seconds, 5);
  EXPECT_EQ(c->defaults.period.kind, PeriodKind::kMonthly);
  EXPECT_EQ(c->viewer_tokens.size(), 2U);
}

TEST(ConfigTest, ChannelsAndPriceOverridesFromTheEnvironment) {
  auto c = ParseConfig(
      R"([[notify.webhook]]
url = "http://file.example/hook"
secret = "from-file"
)",
      "t.toml",
      FakeEnv({{"BUDGETEER_NOTIFY_WEBHOOK_1_SECRET", "from-env"},
               {"BUDGETEER_NOTIFY_EMAIL_1_SMTP_URL", "smtp://127.0.0.1:2525"},
               {"BUDGETEER_NOTIFY_EMAIL_1_FROM", "bb@example.com"},
               {"BUDGETEER_NOTIFY_EMAIL_1_TO", "a@example.com,b@example.com"},
               {"BUDGETEER_NOTIFY_EMAIL_1_STARTTLS", "true"},
               {"BUDGETEER_NOTIFY_SLACK_2_WEBHOOK_URL", "https://hooks/x"},
               {"BUDGETEER_NOTIFY_SLACK_1_WEBHOOK_URL", "https://hooks/y"},
               {"BUDGETEER_PRICING_OVERRIDES", R"({ "anthropic.claude-3-haiku-20240307-v1" = )"
                                               R"({ input = "0.20", output = "1.00" } })"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->notify_webhooks.size(), 1U);
  EXPECT_EQ(c->notify_webhooks[0].url, "http://file.example/hook");
  EXPECT_EQ(c->notify_webhooks[0].secret, "from-env");
  ASSERT_EQ(c->notify_email.size(), 1U);
  EXPECT_EQ(c->notify_email[0].to, (std::vector<std::string>{"a@example.com", "b@example.com"}));
  EXPECT_TRUE(c->notify_email[0].starttls);
  ASSERT_EQ(c->notify_slack.size(), 2U);
  EXPECT_EQ(c->notify_slack[1].webhook_url, "https://hooks/x");
  ASSERT_EQ(c->price_overrides.size(), 1U);
  EXPECT_EQ(c->price_overrides[0].model, "anthropic.claude-3-haiku-20240307-v1");

  // A channel only partly set from the environment is refused, naming the key.
  auto bad = ParseConfig("", "t.toml", FakeEnv({{"BUDGETEER_NOTIFY_WEBHOOK_2_URL", "http://x/"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("notify.webhook[1].url"), std::string::npos)
      << bad.status().message();
  auto bad_toml = ParseConfig("", "t.toml", FakeEnv({{"BUDGETEER_PRICING_OVERRIDES", "{ x = "}}));
  ASSERT_FALSE(bad_toml.ok());
  EXPECT_NE(bad_toml.status().message().find("$BUDGETEER_PRICING_OVERRIDES"), std::string::npos);
}

TEST(ConfigTest, InvalidConfigNamesTheKey) {
  struct Case {
    const char* toml;
    const char* needle;
  };
  const Case cases[] = {
      {"[defaults]\nthresholds_percent_warn = 170\n", "defaults.thresholds_percent_warn"},
      {"[defaults]\nnonsense = 1\n", "unknown key 'defaults.nonsense'"},
      {"[defaults]\ndefault_user_budget_usd = \"abc\"\n", "defaults.default_user_budget_usd"},
      {"[defaults]\nthresholds_percent_warn = 95\n", "thresholds_percent_critical"},
      {"[enforce]\nmode = \"magic\"\n", "enforce.mode"},
      {"[ingest]\ndedup_window_hours = 12\n", "ingest.dedup_window_hours"},
      {"[defaults\n", "invalid TOML"},
      {"[pricing.overrides.\"m\"]\ninput = \"-1\"\n", "negative"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.toml, "bad.toml", FakeEnv({}));
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("bad.toml"), std::string::npos) << r.status().message();
  }
  auto env = ParseConfig("", "x", FakeEnv({{"BUDGETEER_DEFAULTS_GRACE_PERIOD_SECONDS", "soon"}}));
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("$BUDGETEER_DEFAULTS_GRACE_PERIOD_SECONDS"),
            std::string::npos);
}

TEST(ConfigTest, ReadsAwsChannelsAndTheIamEnforcer) {
  auto c = ParseConfig(R"(
[aws]
region = "eu-west-1"
[enforce]
mode = "iam"
[enforce.iam]
account_id = "123456789012"
[[notify.sns]]
name = "ops"
topic_arn = "arn:aws:sns:eu-west-1:123456789012:budgets"
events = ["suspended"]
[[notify.sns]]
phone_number = "+15555550100"
[[notify.ses]]
from = "budgets@example.com"
to = ["ops@example.com"]
send_to_owner = false
)",
                       "aws.toml",
                       FakeEnv({{"BUDGETEER_NOTIFY_SES_2_FROM", "b@example.com"},
                                {"BUDGETEER_NOTIFY_SES_2_TO", "x@example.com,y@example.com"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->aws_region, "eu-west-1");
  EXPECT_EQ(c->enforce_mode, "iam");
  EXPECT_EQ(c->enforce_iam_account_id, "123456789012");
  ASSERT_EQ(c->notify_sns.size(), 2U);
  EXPECT_EQ(c->notify_sns[0].name, "ops");
  EXPECT_EQ(c->notify_sns[0].events, std::vector<std::string>{"suspended"});
  EXPECT_EQ(c->notify_sns[1].name, "sns:2");
  EXPECT_EQ(c->notify_sns[1].phone_number, "+15555550100");
  ASSERT_EQ(c->notify_ses.size(), 2U);
  EXPECT_FALSE(c->notify_ses[0].send_to_owner);
  EXPECT_EQ(c->notify_ses[1].from, "b@example.com");
  EXPECT_EQ(c->notify_ses[1].to, (std::vector<std::string>{"x@example.com", "y@example.com"}));
  EXPECT_TRUE(c->notify_ses[1].send_to_owner);

  auto both = ParseConfig(
      "[[notify.sns]]\ntopic_arn = \"arn:aws:sns:us-east-1:1:t\"\n"
      "phone_number = \"+15555550100\"\n",
      "b.toml", FakeEnv({}));
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("notify.sns[1] needs exactly one"), std::string::npos)
      << both.status().ToString();
  auto account = ParseConfig("[enforce.iam]\naccount_id = \"12345\"\n", "a.toml", FakeEnv({}));
  ASSERT_FALSE(account.ok());
  EXPECT_NE(account.status().message().find("enforce.iam.account_id"), std::string::npos);
  auto typo = ParseConfig("[[notify.ses]]\nfrom = \"a@b\"\nto = [\"c@d\"]\nsmtp_url = \"x\"\n",
                          "t.toml", FakeEnv({}));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("notify.ses[1].smtp_url"), std::string::npos);
}

TEST(ConfigTest, PollersNeedTheirBucketPrefixAndGroup) {
  auto c = ParseConfig(
      "[ingest.s3]\nenabled = true\nbucket = \"logs\"\n"
      "prefix = \"AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/\"\n"
      "[ingest.cloudwatch]\nenabled = true\nlog_group = \"/aws/bedrock/modelinvocations\"\n",
      "p.toml", FakeEnv({{"BUDGETEER_INGEST_S3_POLL_SECONDS", "5"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->s3_enabled && c->cloudwatch_enabled);
  EXPECT_EQ(c->s3_poll_seconds, 5);
  EXPECT_EQ(c->s3_late_window_hours, 24);
  EXPECT_EQ(c->cloudwatch_poll_seconds, 10);
  EXPECT_EQ(c->cloudwatch_settle_seconds, 60);
  auto no_prefix =
      ParseConfig("[ingest.s3]\nenabled = true\nbucket = \"logs\"\n", "p.toml", FakeEnv({}));
  ASSERT_FALSE(no_prefix.ok());
  EXPECT_NE(no_prefix.status().message().find("ingest.s3.prefix"), std::string::npos);
  auto no_group =
      ParseConfig("", "p.toml", FakeEnv({{"BUDGETEER_INGEST_CLOUDWATCH_ENABLED", "true"}}));
  ASSERT_FALSE(no_group.ok());
  EXPECT_NE(no_group.status().message().find("ingest.cloudwatch.log_group"), std::string::npos);
  auto slash = ParseConfig("[ingest.s3]\nprefix = \"/AWSLogs/\"\n", "p.toml", FakeEnv({}));
  EXPECT_FALSE(slash.ok());
}

TEST(ConfigTest, ServiceGuardsDefaultToLoopbackNoCorsAndACappedNewPrincipalRate) {
  auto c = ParseConfig("", "p.toml", FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server_listen, "127.0.0.1:8080");
  EXPECT_TRUE(c->server_cors_origins.empty());
  EXPECT_EQ(c->max_new_principals_per_minute, 1000);

  c = ParseConfig(
      "[server]\ncors_origins = [\"https://dash.example.com\", \"http://localhost:3000\"]\n"
      "[identity]\nmax_new_principals_per_minute = 0\n",
      "p.toml", FakeEnv({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server_cors_origins,
            (std::vector<std::string>{"https://dash.example.com", "http://localhost:3000"}));
  EXPECT_EQ(c->max_new_principals_per_minute, 0);
  c = ParseConfig("", "p.toml", FakeEnv({{"BUDGETEER_SERVER_CORS_ORIGINS", "https://a.example"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server_cors_origins, (std::vector<std::string>{"https://a.example"}));

  for (const char* bad :
       {"*", "https://dash.example.com/", "dash.example.com", "https://*.example.com",
        "https://a.example/path", "ftp://a.example", "https://"}) {
    SCOPED_TRACE(bad);
    auto r = ParseConfig(std::string("[server]\ncors_origins = [\"") + bad + "\"]\n", "p.toml",
                         FakeEnv({}));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("server.cors_origins"), std::string::npos)
        << r.status().message();
  }
  EXPECT_FALSE(
      ParseConfig("[identity]\nmax_new_principals_per_minute = -1\n", "p.toml", FakeEnv({})).ok());
}

TEST(ConfigTest, EveryKeyIsDocumented) {
  std::ifstream in(std::string(BUDGETEER_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const ConfigKey& key : ConfigKeys()) {
    EXPECT_NE(doc.find("`" + std::string(key.path) + "`"), std::string::npos) << key.path;
    EXPECT_NE(doc.find(EnvVarFor(key.path)), std::string::npos) << key.path;
  }
}

}  // namespace
}  // namespace budgeteer
