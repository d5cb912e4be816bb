#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace budgeteer {

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      {"ledger.path", "string", "./budgeteer.db",
       "SQLite ledger file. The CLI's --db and $BUDGETEER_DB take precedence."},
      {"ledger.synchronous_full", "bool", "true",
       "fsync on every commit (durable across power loss). false keeps crash safety (kill -9) "
       "but may lose the last commits on power loss."},
      {"ledger.cache_mib", "integer", "64",
       "SQLite page cache in MiB. Bounds the ledger's share of memory; the principals and pages "
       "a batch touches should fit (64 MiB covers ~100,000 principals)."},
      {"defaults.default_user_budget_usd", "decimal", "1",
       "Budget of a principal seen for the first time, in USD (exact, up to 9 decimals)."},
      {"defaults.thresholds_percent_warn", "integer", "70",
       "Warning threshold, percent of the limit."},
      {"defaults.thresholds_percent_critical", "integer", "90",
       "Critical threshold, percent of the limit."},
      {"defaults.grace_period_seconds", "integer", "300",
       "Seconds between crossing 100% and suspension. 0 suspends on the crossing record."},
      {"defaults.budget_refresh_period_days", "integer", "30",
       "Length of a rolling budget period in days (ignored when budget_period is set)."},
      {"defaults.budget_period", "string", "",
       "Calendar-aligned periods instead: \"monthly\" or \"weekly\" (UTC), or \"Nd\"."},
      {"identity.per_session_roles", "string list", "[]",
       "Roles whose sessions get one budget each (globs with '*', e.g. \"AWSReservedSSO_*\"). "
       "Other roles are one principal per role."},
      {"identity.max_new_principals_per_minute", "integer", "1000",
       "`serve` creates at most this many principals (identities seen for the first time) in any "
       "minute; records that would create more are deferred: Firehose gets 429 and sends the "
       "delivery again, POST /v1/usage answers 429, the pollers read them again; known "
       "principals are not held up. 0 turns the cap off."},
      {"ingest.dedup_window_hours", "integer", "168",
       "How long a Bedrock requestId is remembered to drop duplicates (at least 48)."},
      {"ingest.max_future_skew_seconds", "integer", "300",
       "Records stamped further in the future than this are rejected."},
      {"ingest.max_line_bytes", "integer", "1048576",
       "Longest accepted input line / record; longer ones are rejected with a reason."},
      {"ingest.batch_records", "integer", "5000", "Records applied per ledger transaction."},
      {"ingest.max_document_bytes", "integer", "67108864",
       "Largest whole JSON document held in memory (a JSON array, a pretty-printed envelope, a "
       "Firehose body, data inflated from one Firehose record)."},
      {"ingest.max_decompressed_bytes", "integer", "1073741824",
       "Most bytes one gzip stream may inflate to (zip-bomb guard)."},
      {"ingest.max_records_per_envelope", "integer", "100000",
       "Most records in one CloudWatch Logs payload or Firehose delivery."},
      {"ingest.max_tokens_per_counter", "integer", "100000000",
       "A token counter above this is absurd: the record is rejected."},
      {"ingest.max_media_per_record", "integer", "1000000",
       "Most images or video seconds in one record."},
      {"ingest.max_json_depth", "integer", "64", "Deepest JSON nesting accepted."},
      {"ingest.max_request_id_bytes", "integer", "256", "Longest accepted requestId."},
      {"ingest.max_tags", "integer", "50",
       "requestMetadata entries kept per record (the rest are dropped, never rejected)."},
      {"ingest.max_tag_bytes", "integer", "256", "Longest requestMetadata key or value kept."},
      {"pricing.catalog_file", "string", "",
       "A price catalog TOML file to use instead of the one built into the binary."},
      {"pricing.unknown_model_input_per_million_usd", "decimal", "(highest in catalog)",
       "Input rate for models missing from the catalog (never zero)."},
      {"pricing.unknown_model_output_per_million_usd", "decimal", "(highest in catalog)",
       "Output rate for models missing from the catalog (never zero)."},
      {"server.listen", "string", "127.0.0.1:8080",
       "Address of budgeteer serve (loopback by default)."},
      {"server.max_body_bytes", "integer", "67108864",
       "Largest request body accepted (413 beyond it)."},
      {"server.read_timeout_seconds", "integer", "30",
       "A client that sends nothing for this long is disconnected (slow-client guard)."},
      {"server.max_header_bytes", "integer", "65536",
       "Most bytes of a request line and headers together (each header line is also capped at "
       "8 KiB); more gets 400 and the connection is closed. They must also arrive within "
       "server.read_timeout_seconds."},
      {"server.body_timeout_seconds", "integer", "300",
       "A request body must arrive within this many seconds of its headers, however steadily "
       "it trickles (slow-client guard); then the request is refused and the connection closed."},
      {"server.worker_threads", "integer", "32",
       "Connections served at once (one thread each); more wait their turn. As many clients "
       "stalling within the timeouts delay the others until they are cut off."},
      {"server.cors_origins", "string list", "[]",
       "Origins (\"https://host[:port]\", exactly as browsers send them) allowed to call the "
       "API from another origin (CORS, preflight included). Empty: no CORS header is ever sent, "
       "so browsers keep other sites' pages from reading the API."},
      {"auth.admin_tokens", "string list", "[]",
       "Bearer tokens with the admin role; \"name:token\" names the actor in the audit."},
      {"auth.viewer_tokens", "string list", "[]",
       "Bearer tokens with the viewer role (read only)."},
      {"ingest.firehose.access_key", "string", "",
       "Access key Amazon Data Firehose sends in X-Amz-Firehose-Access-Key."},
      {"enforce.mode", "string", "log", "How suspensions are enforced: log | webhook | iam."},
      {"enforce.webhook.url", "string", "",
       "With enforce.mode = \"webhook\": where suspend/restore actions are POSTed (signed)."},
      {"enforce.webhook.secret", "string", "", "HMAC key for the enforcement webhook's signature."},
      {"enforce.iam.account_id", "string", "",
       "With enforce.mode = \"iam\": the account whose principals are suspended; empty means the "
       "account of the service's AWS credentials. Principals of other accounts are refused."},
      {"aws.region", "string", "",
       "Region of the SNS (SMS) and SES calls; empty means AWS_REGION, AWS_DEFAULT_REGION or the "
       "profile's region. IAM is global; a topic's region comes from its ARN."},
      {"notify.log", "bool", "true", "Also write every notification to the service's log."},
      {"outbox.max_attempts", "integer", "8",
       "Delivery attempts (with exponential backoff and jitter) before an action is dead and "
       "an operator alert is raised."},
      {"outbox.base_backoff_ms", "integer", "1000",
       "Delay before the second attempt of a failed action, in milliseconds; it doubles with "
       "each further attempt (plus up to 50% jitter)."},
      {"outbox.max_backoff_ms", "integer", "300000",
       "Longest delay between two attempts of one action, in milliseconds."},
      {"ssm.enabled", "bool", "false",
       "`serve` reads the budget defaults from SSM Parameter Store (the seed's names, under "
       "ssm.prefix) at start-up and every ssm.refresh_seconds; they override the file."},
      {"ssm.prefix", "string", "/bedrock-budgeteer",
       "Parameter path prefix: <prefix>/global/default_user_budget_usd, ..."},
      {"ssm.environment", "string", "production",
       "Also read <prefix>/<environment>/cost/budget_refresh_period_days (the seed's path)."},
      {"ssm.refresh_seconds", "integer", "60",
       "How often `serve` reads the parameters again; a change takes effect without a restart "
       "(audited as defaults_changed by actor ssm)."},
      {"ingest.s3.enabled", "bool", "false",
       "`serve` polls the Bedrock invocation-log objects under ingest.s3.prefix in "
       "ingest.s3.bucket (needs both)."},
      {"ingest.s3.bucket", "string", "", "The bucket Bedrock's invocation logging writes to."},
      {"ingest.s3.prefix", "string", "",
       "Key prefix to list: AWSLogs/<account>/BedrockModelInvocationLogs/<region>/ (after the "
       "logging configuration's own key prefix, if it has one)."},
      {"ingest.s3.poll_seconds", "integer", "30", "How often the bucket is listed (1 to 3600)."},
      {"ingest.s3.late_window_hours", "integer", "24",
       "How long an object stays in the checkpoint's list of objects read, so an object that "
       "appears late in an older hour is still read (1 to 720)."},
      {"ingest.cloudwatch.enabled", "bool", "false",
       "`serve` polls the invocation-log group ingest.cloudwatch.log_group (FilterLogEvents)."},
      {"ingest.cloudwatch.log_group", "string", "",
       "The CloudWatch Logs group Bedrock's invocation logging writes to."},
      {"ingest.cloudwatch.poll_seconds", "integer", "10",
       "How often the group is read (1 to 3600)."},
      {"ingest.cloudwatch.settle_seconds", "integer", "60",
       "Only events older than this are read, so an event CloudWatch ingests late is not "
       "passed by the checkpoint (0 to 3600)."},
  };
  return keys;
}

std::string EnvVarFor(std::string_view path) {
  std::string out = "BUDGETEER_";
  for (char c : path) {
    out += c == '.' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return out;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

namespace {

// A value from the file or the environment, as text (lists as several items).
struct RawValue {
  std::vector<std::string> items;
  bool is_list = false;
  std::string where;  // "file.toml:12" or "$BUDGETEER_..."
};

Status Bad(const RawValue& v, std::string_view key, const std::string& why) {
  return InvalidArgument(v.where + ": " + std::string(key) + ": " + why);
}

Result<int64_t> AsInt(const RawValue& v, std::string_view key, int64_t lo, int64_t hi) {
  if (v.is_list || v.items.size() != 1) return Bad(v, key, "expected an integer");
  const std::string& s = v.items[0];
  int64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Bad(v, key, "'" + s + "' is not an integer");
  }
  if (out < lo || out > hi) {
    return Bad(v, key,
               std::to_string(out) + " is out of range [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  }
  return out;
}

Result<std::string> AsString(const RawValue& v, std::string_view key) {
  if (v.is_list || v.items.size() != 1) return Bad(v, key, "expected a string");
  return v.items[0];
}

Result<bool> AsBool(const RawValue& v, std::string_view key) {
  if (!v.is_list && v.items.size() == 1) {
    if (v.items[0] == "true" || v.items[0] == "1") return true;
    if (v.items[0] == "false" || v.items[0] == "0") return false;
  }
  return Bad(v, key, "expected true or false");
}

Result<Money> AsMoney(const RawValue& v, std::string_view key) {
  ASSIGN_OR_RETURN(const std::string s, AsString(v, key));
  auto m = Money::ParseUsd(s);
  if (!m.ok()) return Bad(v, key, m.status().message());
  if (m->nanos() < 0) return Bad(v, key, "must not be negative");
  return *m;
}

Result<RatePerMillion> AsRate(const RawValue& v, std::string_view key) {
  ASSIGN_OR_RETURN(const std::string s, AsString(v, key));
  auto r = RatePerMillion::ParseUsd(s);
  if (!r.ok()) return Bad(v, key, r.status().message());
  return *r;
}

Status Apply(Config& c, std::string_view key, const RawValue& v, bool& period_set) {
  if (key == "ledger.path") {
    ASSIGN_OR_RETURN(c.ledger_path, AsString(v, key));
  } else if (key == "ledger.synchronous_full") {
    ASSIGN_OR_RETURN(c.ledger_synchronous_full, AsBool(v, key));
  } else if (key == "ledger.cache_mib") {
    ASSIGN_OR_RETURN(c.ledger_cache_mib, AsInt(v, key, 1, 65536));
  } else if (key == "defaults.default_user_budget_usd") {
    ASSIGN_OR_RETURN(c.defaults.limit, AsMoney(v, key));
  } else if (key == "defaults.thresholds_percent_warn") {
    ASSIGN_OR_RETURN(const int64_t p, AsInt(v, key, 1, 100));
    c.defaults.warn_percent = static_cast<int>(p);
  } else if (key == "defaults.thresholds_percent_critical") {
    ASSIGN_OR_RETURN(const int64_t p, AsInt(v, key, 1, 100));
    c.defaults.critical_percent = static_cast<int>(p);
  } else if (key == "defaults.grace_period_seconds") {
    ASSIGN_OR_RETURN(c.defaults.grace_seconds, AsInt(v, key, 0, int64_t{30} * 86400));
  } else if (key == "defaults.budget_refresh_period_days") {
    ASSIGN_OR_RETURN(const int64_t d, AsInt(v, key, 1, 3660));
    if (!period_set) c.defaults.period = PeriodSpec{PeriodKind::kRollingDays, static_cast<int>(d)};
  } else if (key == "defaults.budget_period") {
    ASSIGN_OR_RETURN(const std::string s, AsString(v, key));
    if (!s.empty()) {
      auto p = PeriodSpec::Parse(s);
      if (!p.ok()) return Bad(v, key, p.status().message());
      c.defaults.period = *p;
      period_set = true;
    }
  } else if (key == "identity.per_session_roles") {
    c.identity.per_session_roles = v.items;
  } else if (key == "identity.max_new_principals_per_minute") {
    ASSIGN_OR_RETURN(c.max_new_principals_per_minute, AsInt(v, key, 0, 10'000'000));
  } else if (key == "ingest.dedup_window_hours") {
    ASSIGN_OR_RETURN(c.dedup_window_hours, AsInt(v, key, 48, int64_t{24} * 3660));
  } else if (key == "ingest.max_future_skew_seconds") {
    ASSIGN_OR_RETURN(c.max_future_skew_seconds, AsInt(v, key, 0, 86400));
  } else if (key == "ingest.max_line_bytes") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 1024, int64_t{256} << 20));
    c.limits.max_line_bytes = static_cast<size_t>(n);
  } else if (key == "ingest.max_document_bytes") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 1024, int64_t{1} << 32));
    c.limits.max_document_bytes = static_cast<size_t>(n);
  } else if (key == "ingest.max_decompressed_bytes") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 1024, int64_t{1} << 40));
    c.limits.max_decompressed_bytes = static_cast<size_t>(n);
  } else if (key == "ingest.max_records_per_envelope") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 1, 10'000'000));
    c.limits.max_records_per_envelope = static_cast<size_t>(n);
  } else if (key == "ingest.max_tokens_per_counter") {
    ASSIGN_OR_RETURN(c.limits.max_tokens_per_counter, AsInt(v, key, 1, int64_t{1} << 40));
  } else if (key == "ingest.max_media_per_record") {
    ASSIGN_OR_RETURN(c.limits.max_media_per_record, AsInt(v, key, 1, int64_t{1} << 40));
  } else if (key == "ingest.max_json_depth") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 4, 1024));
    c.limits.max_json_depth = static_cast<size_t>(n);
  } else if (key == "ingest.max_request_id_bytes") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 16, 4096));
    c.limits.max_request_id_bytes = static_cast<size_t>(n);
  } else if (key == "ingest.max_tags") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 0, 1000));
    c.limits.max_tags = static_cast<size_t>(n);
  } else if (key == "ingest.max_tag_bytes") {
    ASSIGN_OR_RETURN(const int64_t n, AsInt(v, key, 1, 65536));
    c.limits.max_tag_bytes = static_cast<size_t>(n);
  } else if (key == "ingest.batch_records") {
    ASSIGN_OR_RETURN(c.batch_records, AsInt(v, key, 1, 1'000'000));
  } else if (key == "pricing.catalog_file") {
    ASSIGN_OR_RETURN(c.catalog_file, AsString(v, key));
  } else if (key == "pricing.unknown_model_input_per_million_usd") {
    ASSIGN_OR_RETURN(c.unknown_input_per_million, AsRate(v, key));
    if (c.unknown_input_per_million->nanos == 0) return Bad(v, key, "must not be zero");
  } else if (key == "pricing.unknown_model_output_per_million_usd") {
    ASSIGN_OR_RETURN(c.unknown_output_per_million, AsRate(v, key));
    if (c.unknown_output_per_million->nanos == 0) return Bad(v, key, "must not be zero");
  } else if (key == "server.listen") {
    ASSIGN_OR_RETURN(c.server_listen, AsString(v, key));
  } else if (key == "server.max_body_bytes") {
    ASSIGN_OR_RETURN(c.server_max_body_bytes, AsInt(v, key, 1024, int64_t{1} << 32));
  } else if (key == "server.read_timeout_seconds") {
    ASSIGN_OR_RETURN(c.server_read_timeout_seconds, AsInt(v, key, 1, 3600));
  } else if (key == "server.max_header_bytes") {
    ASSIGN_OR_RETURN(c.server_max_header_bytes, AsInt(v, key, 8192, int64_t{1} << 20));
  } else if (key == "server.body_timeout_seconds") {
    ASSIGN_OR_RETURN(c.server_body_timeout_seconds, AsInt(v, key, 1, 86400));
  } else if (key == "server.worker_threads") {
    ASSIGN_OR_RETURN(c.server_worker_threads, AsInt(v, key, 2, 1024));
  } else if (key == "server.cors_origins") {
    for (const std::string& origin : v.items) {
      const size_t scheme = origin.find("://");
      const bool http = origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0;
      if (!http || scheme + 3 >= origin.size() ||
          origin.find_first_of("/*?# ", scheme + 3) != std::string::npos) {
        return Bad(v, key,
                   "'" + origin +
                       "' is not an origin: write scheme://host[:port] exactly, e.g. "
                       "\"https://dash.example.com\" (no path, no trailing slash, no wildcard)");
      }
    }
    c.server_cors_origins = v.items;
  } else if (key == "auth.admin_tokens") {
    c.admin_tokens = v.items;
  } else if (key == "auth.viewer_tokens") {
    c.viewer_tokens = v.items;
  } else if (key == "ingest.firehose.access_key") {
    ASSIGN_OR_RETURN(c.firehose_access_key, AsString(v, key));
  } else if (key == "enforce.webhook.url") {
    ASSIGN_OR_RETURN(c.enforce_webhook_url, AsString(v, key));
  } else if (key == "enforce.webhook.secret") {
    ASSIGN_OR_RETURN(c.enforce_webhook_secret, AsString(v, key));
  } else if (key == "enforce.iam.account_id") {
    ASSIGN_OR_RETURN(c.enforce_iam_account_id, AsString(v, key));
    const bool digits =
        std::all_of(c.enforce_iam_account_id.begin(), c.enforce_iam_account_id.end(),
                    [](char ch) { return ch >= '0' && ch <= '9'; });
    if (!c.enforce_iam_account_id.empty() && (c.enforce_iam_account_id.size() != 12 || !digits)) {
      return Bad(v, key, "'" + c.enforce_iam_account_id + "' is not a 12-digit AWS account id");
    }
  } else if (key == "aws.region") {
    ASSIGN_OR_RETURN(c.aws_region, AsString(v, key));
  } else if (key == "notify.log") {
    ASSIGN_OR_RETURN(c.notify_log, AsBool(v, key));
  } else if (key == "outbox.max_attempts") {
    ASSIGN_OR_RETURN(c.outbox_max_attempts, AsInt(v, key, 1, 100));
  } else if (key == "outbox.base_backoff_ms") {
    ASSIGN_OR_RETURN(c.outbox_base_backoff_ms, AsInt(v, key, 1, 3'600'000));
  } else if (key == "outbox.max_backoff_ms") {
    ASSIGN_OR_RETURN(c.outbox_max_backoff_ms, AsInt(v, key, 1, 86'400'000));
  } else if (key == "ssm.enabled") {
    ASSIGN_OR_RETURN(c.ssm_enabled, AsBool(v, key));
  } else if (key == "ssm.prefix") {
    ASSIGN_OR_RETURN(c.ssm_prefix, AsString(v, key));
    if (c.ssm_prefix.empty() || c.ssm_prefix[0] != '/' || c.ssm_prefix.back() == '/') {
      return Bad(v, key, "'" + c.ssm_prefix + "' must start with '/' and not end with '/'");
    }
  } else if (key == "ssm.environment") {
    ASSIGN_OR_RETURN(c.ssm_environment, AsString(v, key));
  } else if (key == "ssm.refresh_seconds") {
    ASSIGN_OR_RETURN(c.ssm_refresh_seconds, AsInt(v, key, 5, 86'400));
  } else if (key == "ingest.s3.enabled") {
    ASSIGN_OR_RETURN(c.s3_enabled, AsBool(v, key));
  } else if (key == "ingest.s3.bucket") {
    ASSIGN_OR_RETURN(c.s3_bucket, AsString(v, key));
  } else if (key == "ingest.s3.prefix") {
    ASSIGN_OR_RETURN(c.s3_prefix, AsString(v, key));
    if (!c.s3_prefix.empty() && c.s3_prefix[0] == '/') {
      return Bad(v, key, "'" + c.s3_prefix + "' must not start with '/' (S3 keys do not)");
    }
  } else if (key == "ingest.s3.poll_seconds") {
    ASSIGN_OR_RETURN(c.s3_poll_seconds, AsInt(v, key, 1, 3'600));
  } else if (key == "ingest.s3.late_window_hours") {
    ASSIGN_OR_RETURN(c.s3_late_window_hours, AsInt(v, key, 1, 720));
  } else if (key == "ingest.cloudwatch.enabled") {
    ASSIGN_OR_RETURN(c.cloudwatch_enabled, AsBool(v, key));
  } else if (key == "ingest.cloudwatch.log_group") {
    ASSIGN_OR_RETURN(c.cloudwatch_log_group, AsString(v, key));
  } else if (key == "ingest.cloudwatch.poll_seconds") {
    ASSIGN_OR_RETURN(c.cloudwatch_poll_seconds, AsInt(v, key, 1, 3'600));
  } else if (key == "ingest.cloudwatch.settle_seconds") {
    ASSIGN_OR_RETURN(c.cloudwatch_settle_seconds, AsInt(v, key, 0, 3'600));
  } else if (key == "enforce.mode") {
    ASSIGN_OR_RETURN(c.enforce_mode, AsString(v, key));
    if (c.enforce_mode != "log" && c.enforce_mode != "webhook" && c.enforce_mode != "iam") {
      return Bad(v, key, "'" + c.enforce_mode + "' is not one of log, webhook, iam");
    }
  } else {
    return InvalidArgument(v.where + ": unknown key '" + std::string(key) +
                           "'; see docs/configuration.md for the keys");
  }
  return Status::Ok();
}

std::string Where(std::string_view origin, const toml::node& node) {
  if (node.source().begin.line == 0) return "(environment)";  // set by ApplyChannelEnv
  // Nodes parsed from an environment variable carry its name as their path.
  const auto& path = node.source().path;
  return (path ? *path : std::string(origin)) + ":" + std::to_string(node.source().begin.line);
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// BUDGETEER_PRICING_OVERRIDES holds a TOML inline table of models (model ids have dots and
// colons, which environment variable names cannot carry); each model in it replaces the file's
// entry for that model.
Status ApplyPriceOverridesEnv(toml::table& root, const EnvLookup& env) {
  constexpr char kVar[] = "BUDGETEER_PRICING_OVERRIDES";
  std::optional<std::string> value = env(kVar);
  if (!value) return Status::Ok();
  toml::table parsed;
  try {
    parsed = toml::parse("overrides = " + *value, std::string("$") + kVar);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(std::string("$") + kVar + ": expected a TOML inline table such as " +
                           R"({ "anthropic.claude-3-haiku-20240307-v1" = { input = "0.20", )" +
                           R"(output = "1.00" } }: )" + std::string(e.description()));
  }
  toml::table* models = parsed["overrides"].as_table();
  if (models == nullptr) {
    return InvalidArgument(std::string("$") + kVar + ": must be a TOML inline table of models");
  }
  if (!root.contains("pricing")) root.insert("pricing", toml::table{});
  toml::table* pricing = root["pricing"].as_table();
  if (pricing == nullptr) return Status::Ok();  // Flatten reports a non-table [pricing]
  if (!pricing->contains("overrides")) pricing->insert("overrides", toml::table{});
  toml::table* target = (*pricing)["overrides"].as_table();
  if (target == nullptr) return Status::Ok();
  for (auto& [model, fields] : *models) target->insert_or_assign(model, std::move(fields));
  return Status::Ok();
}

// BUDGETEER_NOTIFY_<KIND>_<N>_<FIELD> sets FIELD of the N-th (from 1) [[notify.<kind>]] channel,
// adding empty channels up to N when the file has fewer (so a channel can come wholly from the
// environment). List fields are comma-separated. Values go in as text; ParseChannels types
// and checks them like the file's.
void ApplyChannelEnv(toml::table& root, const EnvLookup& env) {
  struct Kind {
    const char* name;
    std::vector<std::string_view> scalars;
    std::vector<std::string_view> lists;
  };
  static const Kind kKinds[] = {
      {"webhook", {"name", "url", "secret", "timeout_ms"}, {"events"}},
      {"slack", {"name", "webhook_url", "timeout_ms"}, {"events"}},
      {"email",
       {"name", "smtp_url", "username", "password", "starttls", "from", "send_to_owner",
        "timeout_ms"},
       {"to", "events"}},
      {"sns", {"name", "topic_arn", "phone_number"}, {"events"}},
      {"ses", {"name", "from", "send_to_owner", "configuration_set"}, {"to", "events"}},
  };
  for (const Kind& kind : kKinds) {
    for (int n = 1; n <= kMaxEnvChannels; ++n) {
      auto set = [&](std::string_view field, bool is_list) {
        const std::string var =
            "BUDGETEER_NOTIFY_" + Upper(kind.name) + "_" + std::to_string(n) + "_" + Upper(field);
        std::optional<std::string> value = env(var);
        if (!value) return;
        if (!root.contains("notify")) root.insert("notify", toml::table{});
        toml::table* notify = root["notify"].as_table();
        if (notify == nullptr) return;  // not a table: Flatten reports it
        if (!notify->contains(kind.name)) notify->insert(kind.name, toml::array{});
        toml::array* channels = (*notify)[kind.name].as_array();
        if (channels == nullptr) return;  // ParseChannels reports it
        while (channels->size() < static_cast<size_t>(n)) channels->push_back(toml::table{});
        toml::table* channel = channels->get(static_cast<size_t>(n - 1))->as_table();
        if (channel == nullptr) return;
        if (is_list) {
          toml::array items;
          std::stringstream ss(*value);
          std::string item;
          while (std::getline(ss, item, ',')) {
            if (!item.empty()) items.push_back(item);
          }
          channel->insert_or_assign(field, std::move(items));
        } else {
          channel->insert_or_assign(field, *value);
        }
      };
      for (std::string_view f : kind.scalars) set(f, false);
      for (std::string_view f : kind.lists) set(f, true);
    }
  }
}

// Text of a scalar TOML value; decimals keep the shortest form that reads back the same.
std::optional<std::string> ScalarText(const toml::node& node) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
  if (auto b = node.value_exact<bool>()) return *b ? "true" : "false";
  if (auto d = node.value_exact<double>()) {
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    if (ec == std::errc()) return std::string(buf, p);
  }
  return std::nullopt;
}

// [[notify.webhook]], [[notify.slack]], [[notify.email]], [[notify.sns]], [[notify.ses]]: arrays
// of tables, one per channel.
Status ParseChannels(const std::string& key, const toml::node& node, std::string_view origin,
                     Config& config) {
  const toml::array* entries = node.as_array();
  if (entries == nullptr) {
    return InvalidArgument(Where(origin, node) + ": " + key + " must be an array of tables ([[" +
                           key + "]])");
  }
  int index = 0;
  for (const toml::node& entry : *entries) {
    ++index;
    const toml::table* t = entry.as_table();
    const std::string base = key + "[" + std::to_string(index) + "]";
    if (t == nullptr)
      return InvalidArgument(Where(origin, entry) + ": " + base + " must be a table");
    NotifyWebhook webhook;
    NotifySlack slack;
    NotifyEmail email;
    NotifySns sns;
    NotifySes ses;
    webhook.name = "webhook:" + std::to_string(index);
    slack.name = "slack:" + std::to_string(index);
    email.name = "email:" + std::to_string(index);
    sns.name = "sns:" + std::to_string(index);
    ses.name = "ses:" + std::to_string(index);
    for (const auto& [field_key, value] : *t) {
      const std::string field(field_key.str());
      std::string fk = base;
      fk += '.';
      fk += field;
      RawValue v;
      v.where = Where(origin, value);
      if (const toml::array* arr = value.as_array()) {
        v.is_list = true;
        for (const auto& item : *arr) {
          auto s = item.value_exact<std::string>();
          if (!s) return InvalidArgument(v.where + ": " + fk + ": expected a list of strings");
          v.items.push_back(*s);
        }
      } else {
        auto text = ScalarText(value);
        if (!text) return InvalidArgument(v.where + ": " + fk + ": unsupported value type");
        v.items.push_back(*text);
      }
      auto unknown = [&](const char* allowed) {
        return InvalidArgument(v.where + ": unknown key '" + fk + "' (expected " + allowed + ")");
      };
      if (key == "notify.webhook") {
        if (field == "name") {
          ASSIGN_OR_RETURN(webhook.name, AsString(v, fk));
        } else if (field == "url") {
          ASSIGN_OR_RETURN(webhook.url, AsString(v, fk));
        } else if (field == "secret") {
          ASSIGN_OR_RETURN(webhook.secret, AsString(v, fk));
        } else if (field == "events") {
          webhook.events = v.items;
        } else if (field == "timeout_ms") {
          ASSIGN_OR_RETURN(webhook.timeout_ms, AsInt(v, fk, 100, 120000));
        } else {
          return unknown("name, url, secret, events, timeout_ms");
        }
      } else if (key == "notify.slack") {
        if (field == "name") {
          ASSIGN_OR_RETURN(slack.name, AsString(v, fk));
        } else if (field == "webhook_url") {
          ASSIGN_OR_RETURN(slack.webhook_url, AsString(v, fk));
        } else if (field == "events") {
          slack.events = v.items;
        } else if (field == "timeout_ms") {
          ASSIGN_OR_RETURN(slack.timeout_ms, AsInt(v, fk, 100, 120000));
        } else {
          return unknown("name, webhook_url, events, timeout_ms");
        }
      } else if (key == "notify.sns") {
        if (field == "name") {
          ASSIGN_OR_RETURN(sns.name, AsString(v, fk));
        } else if (field == "topic_arn") {
          ASSIGN_OR_RETURN(sns.topic_arn, AsString(v, fk));
        } else if (field == "phone_number") {
          ASSIGN_OR_RETURN(sns.phone_number, AsString(v, fk));
        } else if (field == "events") {
          sns.events = v.items;
        } else {
          return unknown("name, topic_arn, phone_number, events");
        }
      } else if (key == "notify.ses") {
        if (field == "name") {
          ASSIGN_OR_RETURN(ses.name, AsString(v, fk));
        } else if (field == "from") {
          ASSIGN_OR_RETURN(ses.from, AsString(v, fk));
        } else if (field == "to") {
          ses.to = v.items;
        } else if (field == "send_to_owner") {
          ASSIGN_OR_RETURN(ses.send_to_owner, AsBool(v, fk));
        } else if (field == "configuration_set") {
          ASSIGN_OR_RETURN(ses.configuration_set, AsString(v, fk));
        } else if (field == "events") {
          ses.events = v.items;
        } else {
          return unknown("name, from, to, send_to_owner, configuration_set, events");
        }
      } else {
        if (field == "name") {
          ASSIGN_OR_RETURN(email.name, AsString(v, fk));
        } else if (field == "smtp_url") {
          ASSIGN_OR_RETURN(email.smtp_url, AsString(v, fk));
        } else if (field == "username") {
          ASSIGN_OR_RETURN(email.username, AsString(v, fk));
        } else if (field == "password") {
          ASSIGN_OR_RETURN(email.password, AsString(v, fk));
        } else if (field == "starttls") {
          ASSIGN_OR_RETURN(email.starttls, AsBool(v, fk));
        } else if (field == "from") {
          ASSIGN_OR_RETURN(email.from, AsString(v, fk));
        } else if (field == "to") {
          email.to = v.items;
        } else if (field == "send_to_owner") {
          ASSIGN_OR_RETURN(email.send_to_owner, AsBool(v, fk));
        } else if (field == "events") {
          email.events = v.items;
        } else if (field == "timeout_ms") {
          ASSIGN_OR_RETURN(email.timeout_ms, AsInt(v, fk, 100, 120000));
        } else {
          return unknown(
              "name, smtp_url, username, password, starttls, from, to, send_to_owner, events, "
              "timeout_ms");
        }
      }
    }
    const std::string where = Where(origin, entry) + ": " + base;
    if (key == "notify.webhook") {
      if (webhook.url.rfind("http://", 0) != 0 && webhook.url.rfind("https://", 0) != 0) {
        return InvalidArgument(where + ".url must be an http:// or https:// URL");
      }
      config.notify_webhooks.push_back(std::move(webhook));
    } else if (key == "notify.slack") {
      if (slack.webhook_url.rfind("https://", 0) != 0 &&
          slack.webhook_url.rfind("http://", 0) != 0) {
        return InvalidArgument(where + ".webhook_url must be an http(s):// URL");
      }
      config.notify_slack.push_back(std::move(slack));
    } else if (key == "notify.sns") {
      // One target per channel: each has its own retries and dead-letter state.
      if (sns.topic_arn.empty() == sns.phone_number.empty()) {
        return InvalidArgument(where +
                               " needs exactly one of topic_arn and phone_number (use two "
                               "[[notify.sns]] channels for both)");
      }
      if (!sns.topic_arn.empty() && sns.topic_arn.rfind("arn:", 0) != 0) {
        return InvalidArgument(where + ".topic_arn must be an SNS topic ARN");
      }
      if (!sns.phone_number.empty() && sns.phone_number.rfind('+', 0) != 0) {
        return InvalidArgument(where + ".phone_number must be in E.164 form (+15555550100)");
      }
      config.notify_sns.push_back(std::move(sns));
    } else if (key == "notify.ses") {
      if (ses.from.empty() || (ses.to.empty() && !ses.send_to_owner)) {
        return InvalidArgument(where + " needs from and at least one address in to");
      }
      config.notify_ses.push_back(std::move(ses));
    } else {
      if (email.smtp_url.rfind("smtp://", 0) != 0 && email.smtp_url.rfind("smtps://", 0) != 0) {
        return InvalidArgument(where + ".smtp_url must start with smtp:// or smtps://");
      }
      if (email.from.empty() || (email.to.empty() && !email.send_to_owner)) {
        return InvalidArgument(where + " needs from and at least one address in to");
      }
      config.notify_email.push_back(std::move(email));
    }
  }
  return Status::Ok();
}

Status Flatten(const toml::table& table, const std::string& prefix, std::string_view origin,
               std::vector<std::pair<std::string, RawValue>>& out, Config& config) {
  for (const auto& [k, node] : table) {
    const std::string key =
        prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (key == "notify.webhook" || key == "notify.slack" || key == "notify.email" ||
        key == "notify.sns" || key == "notify.ses") {
      RETURN_IF_ERROR(ParseChannels(key, node, origin, config));
      continue;
    }
    if (key == "pricing.overrides") {
      const toml::table* models = node.as_table();
      if (models == nullptr)
        return InvalidArgument(Where(origin, node) +
                               ": pricing.overrides must be a table of models");
      for (const auto& [model, fields] : *models) {
        const toml::table* f = fields.as_table();
        const std::string base = "pricing.overrides.\"" + std::string(model.str()) + "\"";
        if (f == nullptr)
          return InvalidArgument(Where(origin, fields) + ": " + base + " must be a table");
        PriceOverride o;
        o.model = std::string(model.str());
        for (const auto& [field, value] : *f) {
          const auto text = ScalarText(value);
          RawValue v{{text.value_or("")}, false, Where(origin, value)};
          const std::string fk = base + "." + std::string(field.str());
          std::optional<RatePerMillion>* slot = nullptr;
          if (field.str() == "input") slot = &o.input;
          if (field.str() == "output") slot = &o.output;
          if (field.str() == "cache_read") slot = &o.cache_read;
          if (field.str() == "cache_write") slot = &o.cache_write;
          if (slot == nullptr) {
            return InvalidArgument(v.where + ": unknown key '" + fk +
                                   "' (expected input, output, cache_read, cache_write in USD "
                                   "per million tokens)");
          }
          ASSIGN_OR_RETURN(*slot, AsRate(v, fk));
        }
        config.price_overrides.push_back(std::move(o));
      }
      continue;
    }
    if (const toml::table* sub = node.as_table()) {
      RETURN_IF_ERROR(Flatten(*sub, key, origin, out, config));
      continue;
    }
    RawValue v;
    v.where = Where(origin, node);
    if (const toml::array* arr = node.as_array()) {
      v.is_list = true;
      for (const auto& item : *arr) {
        auto s = item.value_exact<std::string>();
        if (!s) return InvalidArgument(v.where + ": " + key + ": expected a list of strings");
        v.items.push_back(*s);
      }
    } else {
      auto text = ScalarText(node);
      if (!text) return InvalidArgument(v.where + ": " + key + ": unsupported value type");
      v.items.push_back(*text);
    }
    out.emplace_back(key, std::move(v));
  }
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view origin,
                           const EnvLookup& env) {
  Config config;
  std::vector<std::pair<std::string, RawValue>> values;
  toml::table table;
  if (!toml_text.empty()) {
    try {
      table = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
      return InvalidArgument(std::string(origin) + ":" + std::to_string(e.source().begin.line) +
                             ": invalid TOML: " + std::string(e.description()));
    }
  }
  ApplyChannelEnv(table, env);
  RETURN_IF_ERROR(ApplyPriceOverridesEnv(table, env));
  RETURN_IF_ERROR(Flatten(table, "", origin, values, config));
  // Environment overrides, after the file.
  for (const ConfigKey& key : ConfigKeys()) {
    const std::string var = EnvVarFor(key.path);
    auto value = env(var);
    if (!value) continue;
    RawValue v;
    v.where = "$" + var;
    if (key.type == "string list") {
      v.is_list = true;
      std::stringstream ss(*value);
      std::string item;
      while (std::getline(ss, item, ',')) {
        if (!item.empty()) v.items.push_back(item);
      }
    } else {
      v.items.push_back(*value);
    }
    values.emplace_back(std::string(key.path), std::move(v));
  }
  // budget_period wins over budget_refresh_period_days wherever each comes from.
  bool period_set = false;
  for (const auto& [key, v] : values) {
    if (key == "defaults.budget_period") RETURN_IF_ERROR(Apply(config, key, v, period_set));
  }
  for (const auto& [key, v] : values) {
    if (key != "defaults.budget_period") RETURN_IF_ERROR(Apply(config, key, v, period_set));
  }
  if (config.defaults.critical_percent < config.defaults.warn_percent) {
    return InvalidArgument(std::string(origin) + ": defaults.thresholds_percent_critical (" +
                           std::to_string(config.defaults.critical_percent) +
                           ") must not be below defaults.thresholds_percent_warn (" +
                           std::to_string(config.defaults.warn_percent) + ")");
  }
  RETURN_IF_ERROR(config.defaults.Validate().WithContext(std::string(origin) + ": defaults"));
  if (config.s3_enabled && (config.s3_bucket.empty() || config.s3_prefix.empty())) {
    return InvalidArgument(std::string(origin) +
                           ": ingest.s3.enabled needs ingest.s3.bucket and ingest.s3.prefix "
                           "(AWSLogs/<account>/BedrockModelInvocationLogs/<region>/)");
  }
  if (config.cloudwatch_enabled && config.cloudwatch_log_group.empty()) {
    return InvalidArgument(std::string(origin) +
                           ": ingest.cloudwatch.enabled needs ingest.cloudwatch.log_group");
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, const EnvLookup& env) {
  if (path.empty()) return ParseConfig("", "(defaults)", env);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("cannot read config file '" + path +
                           "': check the path given to --config");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path, env);
}

}  // namespace budgeteer
