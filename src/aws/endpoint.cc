#include "aws/endpoint.h"

#include <cctype>

#include "aws/credentials.h"

namespace budgeteer::aws {

namespace {

bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  for (const char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ||
                    c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<Endpoint> ParseEndpointUrl(std::string_view url) {
  Endpoint e;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    e.scheme = "http";
    rest = url.substr(7);
  } else {
    return InvalidArgument("endpoint URL must start with https:// or http://: " +
                           std::string(url.substr(0, 100)));
  }
  const size_t slash = rest.find('/');
  e.host = std::string(rest.substr(0, slash));
  if (!ValidHost(e.host) || e.host.find('@') != std::string::npos) {
    return InvalidArgument("endpoint URL has no valid host: " + std::string(url.substr(0, 100)));
  }
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    if (path.find_first_of("?#") != std::string_view::npos) {
      return InvalidArgument("endpoint URL must not carry a query or fragment");
    }
    while (path.ends_with('/')) path.remove_suffix(1);
    e.base_path = std::string(path);
  }
  return e;
}

Result<Endpoint> ResolveEndpoint(const ServiceSpec& service, std::string_view region,
                                 const Environment& env) {
  const bool china = region.starts_with("cn-");
  std::string signing_region(region);
  if (service.global) signing_region = china ? "cn-north-1" : "us-east-1";
  if (signing_region.empty()) {
    return FailedPrecondition("no AWS region: set AWS_REGION or a profile's region");
  }
  const bool ignore_configured =
      env.Get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("") == "true";
  if (!ignore_configured) {
    auto use = [&](const std::string& url, const std::string& from) -> Result<Endpoint> {
      auto parsed = ParseEndpointUrl(url);
      if (!parsed.ok()) return parsed.status().WithContext(from);
      parsed->signing_region = signing_region;
      return parsed;
    };
    const std::string specific = "AWS_ENDPOINT_URL_" + std::string(service.env_name);
    for (const std::string& name : {specific, std::string("AWS_ENDPOINT_URL")}) {
      if (auto url = env.Get(name)) return use(*url, name);
    }
    std::string key(service.env_name);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto url = ConfiguredEndpointUrl(env, key)) return use(*url, "shared config endpoint_url");
  }
  Endpoint e;
  e.signing_region = signing_region;
  const std::string suffix = china ? "amazonaws.com.cn" : "amazonaws.com";
  if (service.global) {
    e.host = china ? std::string(service.host_prefix) + ".cn-north-1." + suffix
                   : std::string(service.host_prefix) + "." + suffix;
  } else {
    e.host = std::string(service.host_prefix) + "." + signing_region + "." + suffix;
  }
  return e;
}

}  // namespace budgeteer::aws
