#include "sources/ssm_defaults.h"

#include <simdjson.h>

#include <charconv>

#include "util/json_writer.h"

namespace budgeteer::sources {

namespace {

Result<int64_t> WholeNumber(const std::string& name, const std::string& value, int64_t lo,
                            int64_t hi) {
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || out < lo || out > hi) {
    return InvalidArgument("SSM parameter " + name + ": '" + value +
                           "' is not a whole number in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]; fix it with aws ssm put-parameter --overwrite");
  }
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> FetchParametersByPath(aws::AwsClient& ssm,
                                                                 std::string_view path,
                                                                 size_t max_parameters) {
  std::map<std::string, std::string> out;
  std::string next_token;
  simdjson::ondemand::parser parser;
  for (int page = 0;; ++page) {
    JsonWriter body;
    body.BeginObject()
        .Field("Path", path)
        .Field("Recursive", true)
        .Field("WithDecryption", true)
        .Field("MaxResults", int64_t{10});
    if (!next_token.empty()) body.Field("NextToken", next_token);
    body.EndObject();
    ASSIGN_OR_RETURN(std::string reply, ssm.Json("AmazonSSM", "GetParametersByPath", body.Take()));
    simdjson::padded_string padded(reply);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
      return Status(Code::kUnavailable, "ssm GetParametersByPath: the reply is not JSON");
    }
    next_token.clear();
    simdjson::ondemand::object root;
    if (doc.get_object().get(root) != simdjson::SUCCESS) {
      return Status(Code::kUnavailable, "ssm GetParametersByPath: the reply is not an object");
    }
    for (auto field : root) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) continue;
      if (key == "NextToken") {
        std::string_view token;
        if (field.value().get_string().get(token) == simdjson::SUCCESS) next_token = token;
      } else if (key == "Parameters") {
        simdjson::ondemand::array params;
        if (field.value().get_array().get(params) != simdjson::SUCCESS) continue;
        for (auto item : params) {
          simdjson::ondemand::object p;
          if (item.get_object().get(p) != simdjson::SUCCESS) continue;
          std::string name;
          std::string value;
          for (auto pf : p) {
            std::string_view pk;
            std::string_view text;
            if (pf.unescaped_key().get(pk) != simdjson::SUCCESS) continue;
            if ((pk == "Name" || pk == "Value") &&
                pf.value().get_string().get(text) == simdjson::SUCCESS) {
              (pk == "Name" ? name : value) = std::string(text);
            }
          }
          if (name.empty()) continue;
          out[name] = value;
          if (out.size() > max_parameters) {
            return InvalidArgument("ssm: more than " + std::to_string(max_parameters) +
                                   " parameters under '" + std::string(path) +
                                   "'; point ssm.prefix at the budgeteer parameters only");
          }
        }
      }
    }
    if (next_token.empty()) break;
    if (page > 1000) return Status(Code::kInternal, "ssm: pagination does not end");
  }
  return out;
}

Result<BudgetSettings> DefaultsFromParameters(const std::map<std::string, std::string>& params,
                                              const SsmDefaultsOptions& options,
                                              BudgetSettings base) {
  const std::string global = options.prefix + "/global/";
  auto find = [&](const std::string& name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };
  if (const std::string* v = find(global + "default_user_budget_usd")) {
    Result<Money> limit = Money::ParseUsd(*v);
    if (!limit.ok() || limit->nanos() <= 0) {
      return InvalidArgument("SSM parameter " + global + "default_user_budget_usd: '" + *v +
                             "' is not a positive amount in USD (e.g. 25 or 2.50)");
    }
    base.limit = *limit;
  }
  if (const std::string* v = find(global + "thresholds_percent_warn")) {
    ASSIGN_OR_RETURN(const int64_t p, WholeNumber(global + "thresholds_percent_warn", *v, 1, 100));
    base.warn_percent = static_cast<int>(p);
  }
  if (const std::string* v = find(global + "thresholds_percent_critical")) {
    ASSIGN_OR_RETURN(const int64_t p,
                     WholeNumber(global + "thresholds_percent_critical", *v, 1, 100));
    base.critical_percent = static_cast<int>(p);
  }
  if (const std::string* v = find(global + "grace_period_seconds")) {
    ASSIGN_OR_RETURN(base.grace_seconds,
                     WholeNumber(global + "grace_period_seconds", *v, 0, int64_t{86400} * 30));
  }
  const std::string env_days =
      options.prefix + "/" + options.environment + "/cost/budget_refresh_period_days";
  for (const std::string& name : {global + "budget_refresh_period_days", env_days}) {
    if (const std::string* v = find(name)) {
      ASSIGN_OR_RETURN(const int64_t days, WholeNumber(name, *v, 1, 3660));
      base.period.kind = PeriodKind::kRollingDays;
      base.period.days = static_cast<int>(days);
    }
  }
  if (base.critical_percent < base.warn_percent) {
    return InvalidArgument(
        "SSM parameters: thresholds_percent_critical (" + std::to_string(base.critical_percent) +
        ") is below thresholds_percent_warn (" + std::to_string(base.warn_percent) + ")");
  }
  RETURN_IF_ERROR(base.Validate().WithContext("SSM parameters"));
  return base;
}

Result<std::unique_ptr<SsmDefaultsSource>> SsmDefaultsSource::Create(const aws::Environment& env,
                                                                     const Clock& clock,
                                                                     SsmDefaultsOptions options) {
  const std::optional<std::string> region = aws::ResolveRegion(env);
  if (!region) {
    return InvalidArgument(
        "ssm.enabled needs an AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in "
        "the AWS profile)");
  }
  ASSIGN_OR_RETURN(aws::Endpoint endpoint, aws::ResolveEndpoint(aws::kSsm, *region, env));
  std::unique_ptr<SsmDefaultsSource> source(new SsmDefaultsSource());
  source->options_ = std::move(options);
  ASSIGN_OR_RETURN(source->transport_, aws::MakeCurlTransport(size_t{16} << 20));
  source->credentials_ = aws::DefaultCredentialsChain(env, *source->transport_, clock);
  source->client_ =
      std::make_unique<aws::AwsClient>(aws::kSsm, std::move(endpoint), source->credentials_.get(),
                                       *source->transport_, clock, aws::HttpTimeouts{});
  return source;
}

Result<BudgetSettings> SsmDefaultsSource::Read(const BudgetSettings& base) {
  ASSIGN_OR_RETURN(const auto params, FetchParametersByPath(*client_, options_.prefix));
  return DefaultsFromParameters(params, options_, base);
}

}  // namespace budgeteer::sources
