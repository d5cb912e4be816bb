// Config: one validated, immutable object built once at start-up from the TOML file and the
// environment (BUDGETEER_<SECTION>_<KEY>, e.g. BUDGETEER_DEFAULTS_GRACE_PERIOD_SECONDS), then
// passed down. Every key, its default and its environment variable is listed in ConfigKeys() and
// documented in docs/configuration.md (a test keeps the two in step); ConfigKeys() lists them.
// Unknown keys and invalid values are rejected, naming the key. No global state; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/policy.h"
#include "core/principal.h"
#include "core/status.h"
#include "formats/input.h"

namespace budgeteer {

struct PriceOverride {
  std::string model;  // canonical model id
  std::optional<RatePerMillion> input, output, cache_read, cache_write;
};

// [[notify.<channel>]] entries. `events` filters which events a channel gets (empty: all of
// them: warning, critical, grace_period, suspended, restored, period_refresh, exempt, active,
// and the operator alerts unpriced_model and dead_action).
struct NotifyWebhook {
  std::string name = "webhook";
  std::string url;
  std::string secret;  // HMAC-SHA256 key for X-Budgeteer-Signature
  std::vector<std::string> events;
  int64_t timeout_ms = 5000;
};
struct NotifySlack {
  std::string name = "slack";
  std::string webhook_url;
  std::vector<std::string> events;
  int64_t timeout_ms = 5000;
};
struct NotifyEmail {
  std::string name = "email";
  std::string smtp_url;  // smtp://host:port, smtps://host:port
  std::string username;
  std::string password;
  bool starttls = false;
  std::string from;
  std::vector<std::string> to;
  bool send_to_owner = true;  // also the principal's owner e-mail, when set
  std::vector<std::string> events;
  int64_t timeout_ms = 10000;
};
// SNS: exactly one of topic_arn (publish to a topic) and phone_number (direct SMS).
struct NotifySns {
  std::string name = "sns";
  std::string topic_arn;     // arn:aws:sns:<region>:<account>:<topic>
  std::string phone_number;  // E.164: "+15555550100"
  std::vector<std::string> events;
};
// SES v2 SendEmail: the same message as [[notify.email]], sent through the AWS API.
struct NotifySes {
  std::string name = "ses";
  std::string from;  // a verified SES identity
  std::vector<std::string> to;
  bool send_to_owner = true;  // also the principal's owner e-mail, when set
  std::string configuration_set;
  std::vector<std::string> events;
};

struct Config {
  // [ledger]
  std::string ledger_path;              // empty: the CLI's --db / $BUDGETEER_DB / ./budgeteer.db
  bool ledger_synchronous_full = true;  // fsync every commit (durable across power loss)
  int64_t ledger_cache_mib = 64;        // SQLite page cache
  // [defaults] (the seed's names)
  BudgetSettings defaults;
  // [identity]
  IdentityRules identity;
  int64_t max_new_principals_per_minute = 1000;  // serve only; 0: no cap
  // [ingest]
  int64_t dedup_window_hours = 168;
  int64_t max_future_skew_seconds = 300;
  ParseLimits limits;  // ingest.max_* (see formats/input.h)
  int64_t batch_records = 5000;
  // [pricing]
  std::string catalog_file;  // empty: the catalog built into the binary
  std::optional<RatePerMillion> unknown_input_per_million;
  std::optional<RatePerMillion> unknown_output_per_million;
  std::vector<PriceOverride> price_overrides;  // [pricing.overrides."<model>"]
  // [server], [auth], [ingest.firehose], [enforce]: used by `serve`.
  std::string server_listen = "127.0.0.1:8080";
  int64_t server_max_body_bytes = int64_t{64} << 20;
  int64_t server_read_timeout_seconds = 30;
  int64_t server_max_header_bytes = int64_t{64} << 10;
  int64_t server_body_timeout_seconds = 300;
  int64_t server_worker_threads = 32;  // connections served at once; more wait their turn
  // Origins ("https://host[:port]") whose browsers may call the API cross-origin; empty: none.
  std::vector<std::string> server_cors_origins;
  std::vector<std::string> admin_tokens;
  std::vector<std::string> viewer_tokens;
  std::string firehose_access_key;
  std::string enforce_mode = "log";
  std::string enforce_webhook_url;     // [enforce.webhook] url, for mode = "webhook"
  std::string enforce_webhook_secret;  // [enforce.webhook] secret
  std::string enforce_iam_account_id;  // [enforce.iam] account_id; empty: the credentials'
  // [aws]
  std::string aws_region;  // empty: AWS_REGION / AWS_DEFAULT_REGION / the profile's region
  // [notify]
  bool notify_log = true;  // [notify] log: every action also goes to the log channel
  std::vector<NotifyWebhook> notify_webhooks;
  std::vector<NotifySlack> notify_slack;
  std::vector<NotifyEmail> notify_email;
  std::vector<NotifySns> notify_sns;
  std::vector<NotifySes> notify_ses;
  // [outbox]
  int64_t outbox_max_attempts = 8;
  int64_t outbox_base_backoff_ms = 1000;
  int64_t outbox_max_backoff_ms = 300'000;
  // [ssm]: budget defaults from SSM Parameter Store (serve), over the file and the environment
  bool ssm_enabled = false;
  bool s3_enabled = false;          // [ingest.s3] enabled (with the ssm flag: no padding)
  bool cloudwatch_enabled = false;  // [ingest.cloudwatch] enabled
  std::string ssm_prefix = "/bedrock-budgeteer";
  std::string ssm_environment = "production";
  int64_t ssm_refresh_seconds = 60;
  // [ingest.s3]: poll Bedrock invocation-log objects in S3 (serve)
  std::string s3_bucket;
  std::string s3_prefix;  // "AWSLogs/<account>/BedrockModelInvocationLogs/<region>/"
  int64_t s3_poll_seconds = 30;
  int64_t s3_late_window_hours = 24;
  // [ingest.cloudwatch]: poll the invocation-log group in CloudWatch Logs (serve)
  std::string cloudwatch_log_group;
  int64_t cloudwatch_poll_seconds = 10;
  int64_t cloudwatch_settle_seconds = 60;
};

// One documented key.
struct ConfigKey {
  std::string_view path;  // "defaults.grace_period_seconds"
  std::string_view type;  // "integer", "string", "decimal", "bool", "string list"
  std::string_view default_value;
  std::string_view doc;
};
const std::vector<ConfigKey>& ConfigKeys();

// The environment variable overriding a key: BUDGETEER_ + path upper-cased, '.' -> '_'.
std::string EnvVarFor(std::string_view path);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// Channels settable from the environment per kind: BUDGETEER_NOTIFY_WEBHOOK_1_URL ... _16_.
inline constexpr int kMaxEnvChannels = 16;
EnvLookup ProcessEnv();

// Parses TOML text (may be empty) and applies environment overrides. `origin` names the file in
// errors.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin,
                           const EnvLookup& env);
// Reads `path` (empty: no file) and calls ParseConfig.
Result<Config> LoadConfig(const std::string& path, const EnvLookup& env);

}  // namespace budgeteer
