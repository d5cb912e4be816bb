#include "aws/credentials.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "aws/client.h"
#include "aws/endpoint.h"
#include "aws/json_fields.h"
#include "aws/xml.h"

namespace budgeteer::aws {

namespace {

constexpr std::string_view kStsVersion = "2011-06-15";
constexpr int kMaxRoleChain = 5;
// Metadata endpoints answer in milliseconds or not at all (not on EC2 / not in a container):
// short timeouts keep the chain from hanging on a laptop.
constexpr HttpTimeouts kMetadataTimeouts{1000, 2000};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// NotFound when the file does not exist; the path is named, the content never.
Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::optional<std::string> Lookup(const std::map<std::string, std::string>& m,
                                  std::string_view key) {
  const auto it = m.find(std::string(key));
  if (it == m.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string DefaultSessionName(const Clock& clock) {
  return "bedrock-budgeteer-" + std::to_string(clock.Now().unix_seconds());
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// A GET (or PUT) request for a full URL, for the metadata endpoints (never signed).
Result<HttpRequest> RequestForUrl(std::string method, std::string_view url) {
  const size_t q = url.find('?');
  const std::string_view without_query = url.substr(0, q);
  ASSIGN_OR_RETURN(Endpoint e, ParseEndpointUrl(without_query));
  HttpRequest r;
  r.method = std::move(method);
  r.scheme = e.scheme;
  r.host = e.host;
  // The path exactly as given: the metadata service tells "dir/" from "dir".
  const size_t path_at = without_query.find('/', without_query.find("://") + 3);
  r.path = path_at == std::string_view::npos ? "/" : std::string(without_query.substr(path_at));
  if (q != std::string_view::npos) {
    std::string_view query = url.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      r.query.emplace_back(PercentDecode(pair.substr(0, eq)),
                           eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return r;
}

Status HttpFailure(std::string_view what, const HttpResponse& response) {
  const std::string m = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (response.status >= 500 || response.status == 429) return Unavailable(m);
  if (response.status == 404) return NotFound(m);
  return {Code::kUnauthenticated, m};
}

// --- Environment.

class EnvironmentProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentProvider(const Environment& env) : env_(env) {}
  Result<Credentials> Get() override {
    auto id = env_.Get("AWS_ACCESS_KEY_ID");
    auto secret = env_.Get("AWS_SECRET_ACCESS_KEY");
    if (!id && !secret) return NotFound("environment: AWS_ACCESS_KEY_ID is not set");
    if (!id || !secret) {
      return FailedPrecondition(
          "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
    }
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token = env_.Get("AWS_SESSION_TOKEN").value_or("");
    c.source = "environment";
    return c;
  }

 private:
  const Environment& env_;
};

// --- Web identity (environment or profile).

Result<Credentials> AssumeWithWebIdentity(const std::string& token_file,
                                          const std::string& role_arn, std::string session_name,
                                          const Environment& env, HttpTransport& transport,
                                          const Clock& clock) {
  // Read on every call: the orchestrator rotates the token file.
  auto token = ReadFile(token_file);
  if (!token.ok()) {
    return FailedPrecondition("web identity: cannot read the token file " + token_file);
  }
  AssumeRoleRequest req;
  req.role_arn = role_arn;
  req.session_name = session_name.empty() ? DefaultSessionName(clock) : std::move(session_name);
  req.web_identity_token = std::string(Trim(*token));
  if (req.web_identity_token.empty()) {
    return FailedPrecondition("web identity: the token file " + token_file + " is empty");
  }
  auto c =
      CallAssumeRole(req, nullptr, ResolveRegion(env).value_or("us-east-1"), env, transport, clock);
  if (c.ok()) c->source = "web identity";
  return c;
}

class WebIdentityProvider final : public CredentialsProvider {
 public:
  WebIdentityProvider(const Environment& env, HttpTransport& transport, const Clock& clock)
      : env_(env), transport_(transport), clock_(clock) {}
  Result<Credentials> Get() override {
    auto file = env_.Get("AWS_WEB_IDENTITY_TOKEN_FILE");
    auto role = env_.Get("AWS_ROLE_ARN");
    if (!file && !role) return NotFound("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set");
    if (!file || !role) {
      return FailedPrecondition(
          "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together");
    }
    return AssumeWithWebIdentity(*file, *role, env_.Get("AWS_ROLE_SESSION_NAME").value_or(""), env_,
                                 transport_, clock_);
  }

 private:
  const Environment& env_;
  HttpTransport& transport_;
  const Clock& clock_;
};

// --- Container credentials.

bool AllowedContainerHost(const Endpoint& e) {
  if (e.scheme == "https") return true;
  // Plain HTTP only to the link-local container endpoints or to this machine, as the SDKs
  // allow: anything else could be an attacker's server reading the authorization token.
  std::string_view host = e.host;
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]" ||
         host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

class ContainerProvider final : public CredentialsProvider {
 public:
  ContainerProvider(const Environment& env, HttpTransport& transport)
      : env_(env), transport_(transport) {}
  Result<Credentials> Get() override {
    std::string url;
    if (auto rel = env_.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      url = "http://169.254.170.2" + (rel->starts_with('/') ? *rel : "/" + *rel);
    } else if (auto full = env_.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      url = *full;
    } else {
      return NotFound("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI are not set");
    }
    auto request = RequestForUrl("GET", url);
    if (!request.ok()) return request.status().WithContext("container credentials URI");
    const Endpoint host{request->scheme, request->host, "", ""};
    if (!AllowedContainerHost(host)) {
      return FailedPrecondition("container: refusing plain-HTTP credentials endpoint " +
                                RedactedUrl(*request) +
                                " (only loopback and the ECS/EKS link-local addresses)");
    }
    std::optional<std::string> token;
    if (auto file = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      auto text = ReadFile(*file);
      if (!text.ok()) return FailedPrecondition("container: cannot read the token file " + *file);
      token = std::string(Trim(*text));
    } else if (auto t = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
      token = *t;
    }
    if (token) {
      if (token->find_first_of("\r\n") != std::string::npos) {
        return FailedPrecondition("container: the authorization token holds a line break");
      }
      request->headers.emplace_back("Authorization", *token);
    }
    const std::string what = "container credentials " + RedactedUrl(*request);
    ASSIGN_OR_RETURN(HttpResponse response, transport_.Send(*request, kMetadataTimeouts));
    if (response.status != 200) return HttpFailure(what, response);
    return ParseCredentialsJson(response.body, "container");
  }

 private:
  const Environment& env_;
  HttpTransport& transport_;
};

// --- EC2 instance metadata (IMDSv2).

class ImdsProvider final : public CredentialsProvider {
 public:
  ImdsProvider(const Environment& env, HttpTransport& transport)
      : env_(env), transport_(transport) {}
  Result<Credentials> Get() override {
    if (Lower(env_.Get("AWS_EC2_METADATA_DISABLED").value_or("")) == "true") {
      return NotFound("instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    }
    std::string base =
        env_.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
    while (base.ends_with('/')) base.pop_back();
    // IMDSv2: a session token first (PUT), then every read carries it.
    auto put = RequestForUrl("PUT", base + "/latest/api/token");
    if (!put.ok()) return put.status().WithContext("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    put->headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    auto token_reply = transport_.Send(*put, kMetadataTimeouts);
    if (!token_reply.ok()) {
      return NotFound("instance metadata: no answer from " + RedactedUrl(*put) + " (" +
                      token_reply.status().message() + ")");
    }
    if (token_reply->status != 200) {
      return HttpFailure("instance metadata token", *token_reply);
    }
    const std::string token(Trim(token_reply->body));
    const std::string dir = base + "/latest/meta-data/iam/security-credentials/";
    ASSIGN_OR_RETURN(std::string roles, Read(dir, token));
    const std::string role(Trim(std::string_view(roles).substr(0, roles.find('\n'))));
    if (role.empty()) return NotFound("instance metadata: no IAM role is attached");
    ASSIGN_OR_RETURN(std::string doc, Read(dir + role, token));
    if (auto code = JsonStringField(doc, "Code"); code && *code != "Success") {
      return Unavailable("instance metadata: credentials not ready (" + *code + ")");
    }
    return ParseCredentialsJson(doc, "instance metadata");
  }

 private:
  Result<std::string> Read(const std::string& url, const std::string& token) {
    ASSIGN_OR_RETURN(HttpRequest get, RequestForUrl("GET", url));
    get.headers.emplace_back("X-aws-ec2-metadata-token", token);
    ASSIGN_OR_RETURN(HttpResponse reply, transport_.Send(get, kMetadataTimeouts));
    if (reply.status != 200) return HttpFailure("instance metadata " + get.path, reply);
    return std::move(reply.body);
  }

  const Environment& env_;
  HttpTransport& transport_;
};

// --- Shared profiles.

class ProfileProvider final : public CredentialsProvider {
 public:
  ProfileProvider(const Environment& env, HttpTransport& transport, const Clock& clock)
      : env_(env), transport_(transport), clock_(clock) {}

  Result<Credentials> Get() override {
    const std::string name = ProfileName(env_);
    const bool chosen = env_.Get("AWS_PROFILE").has_value();
    auto settings = LoadProfile(env_, name);
    if (!settings.ok()) {
      if (settings.status().code() == Code::kNotFound && !chosen) return settings.status();
      if (settings.status().code() == Code::kNotFound) {
        return FailedPrecondition("AWS_PROFILE names profile '" + name +
                                  "', which is in neither shared file");
      }
      return settings.status();
    }
    auto c = Resolve(name, *settings, 0);
    if (!c.ok() && c.status().code() == Code::kNotFound && chosen) {
      return FailedPrecondition(c.status().message());
    }
    return c;
  }

 private:
  Result<Credentials> Resolve(const std::string& name, const std::map<std::string, std::string>& p,
                              int depth) {
    if (depth > kMaxRoleChain) {
      return FailedPrecondition("profile '" + name + "': role chain longer than " +
                                std::to_string(kMaxRoleChain) + " (a source_profile loop?)");
    }
    auto role = Lookup(p, "role_arn");
    if (!role) return StaticKeys(name, p);
    const std::string session = Lookup(p, "role_session_name").value_or("");
    if (auto token_file = Lookup(p, "web_identity_token_file")) {
      return AssumeWithWebIdentity(*token_file, *role, session, env_, transport_, clock_);
    }
    Credentials source;
    if (auto source_name = Lookup(p, "source_profile")) {
      auto sp = LoadProfile(env_, *source_name);
      if (!sp.ok()) {
        return FailedPrecondition("profile '" + name + "': source_profile '" + *source_name +
                                  "' not found");
      }
      // A profile that names itself as its source signs with its own static keys (how the
      // SDKs let one profile hold both the keys and the role); any other source is resolved
      // in full, so roles chain.
      if (*source_name == name) {
        ASSIGN_OR_RETURN(source, StaticKeys(*source_name, *sp));
      } else {
        ASSIGN_OR_RETURN(source, Resolve(*source_name, *sp, depth + 1));
      }
    } else if (auto cs = Lookup(p, "credential_source")) {
      std::unique_ptr<CredentialsProvider> from;
      if (*cs == "Environment") {
        from = MakeEnvironmentProvider(env_);
      } else if (*cs == "EcsContainer") {
        from = MakeContainerProvider(env_, transport_);
      } else if (*cs == "Ec2InstanceMetadata") {
        from = MakeImdsProvider(env_, transport_);
      } else {
        return FailedPrecondition("profile '" + name + "': unknown credential_source '" + *cs +
                                  "'");
      }
      ASSIGN_OR_RETURN(source, from->Get());
    } else {
      return FailedPrecondition("profile '" + name +
                                "': role_arn needs source_profile, credential_source or "
                                "web_identity_token_file");
    }
    AssumeRoleRequest req;
    req.role_arn = *role;
    req.session_name = session.empty() ? DefaultSessionName(clock_) : session;
    req.external_id = Lookup(p, "external_id").value_or("");
    if (const std::optional<std::string> d = Lookup(p, "duration_seconds")) {
      const std::string& text = *d;
      const char* const end = text.data() + text.size();
      int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), end, v);
      if (ec != std::errc() || ptr != end || v < 900 || v > 43200) {
        return FailedPrecondition("profile '" + name + "': duration_seconds must be 900..43200");
      }
      req.duration_seconds = v;
    }
    const std::string region =
        Lookup(p, "region").value_or(ResolveRegion(env_).value_or("us-east-1"));
    auto c = CallAssumeRole(req, &source, region, env_, transport_, clock_);
    if (c.ok()) c->source = "profile " + name + " (assumed role)";
    return c;
  }

  static Result<Credentials> StaticKeys(const std::string& name,
                                        const std::map<std::string, std::string>& p) {
    auto id = Lookup(p, "aws_access_key_id");
    auto secret = Lookup(p, "aws_secret_access_key");
    if (!id && !secret) return NotFound("profile '" + name + "' has no credentials");
    if (!id || !secret) {
      return FailedPrecondition("profile '" + name +
                                "': aws_access_key_id and aws_secret_access_key go together");
    }
    Credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token = Lookup(p, "aws_session_token").value_or("");
    c.source = "profile " + name;
    return c;
  }

  const Environment& env_;
  HttpTransport& transport_;
  const Clock& clock_;
};

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile out;
  std::string section;
  bool in_section = false;
  std::string parent;  // "key =" with an empty value: indented lines below are "key.sub"
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      out[section];
      in_section = true;
      parent.clear();
      continue;
    }
    if (!in_section) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = Lower(Trim(line.substr(0, eq)));
    const std::string_view value = Trim(line.substr(eq + 1));
    if (indented && !parent.empty()) {
      std::string nested_key = parent;
      nested_key.append(".").append(key);
      out[section][nested_key] = std::string(value);
      continue;
    }
    parent = value.empty() ? key : "";
    if (!value.empty()) out[section][key] = std::string(value);
  }
  return out;
}

std::string ProfileName(const Environment& env) {
  return env.Get("AWS_PROFILE").value_or("default");
}

std::string CredentialsFilePath(const Environment& env) {
  if (auto p = env.Get("AWS_SHARED_CREDENTIALS_FILE")) return *p;
  if (auto home = env.Get("HOME")) return *home + "/.aws/credentials";
  return "";
}

std::string ConfigFilePath(const Environment& env) {
  if (auto p = env.Get("AWS_CONFIG_FILE")) return *p;
  if (auto home = env.Get("HOME")) return *home + "/.aws/config";
  return "";
}

Result<std::map<std::string, std::string>> LoadProfile(const Environment& env,
                                                       std::string_view name) {
  std::map<std::string, std::string> merged;
  bool found = false;
  if (const std::string path = ConfigFilePath(env); !path.empty()) {
    if (auto text = ReadFile(path); text.ok()) {
      const IniFile ini = ParseIni(*text);
      const std::string section =
          name == "default" ? std::string("default") : "profile " + std::string(name);
      for (const std::string& s : {section, "profile " + std::string(name)}) {
        if (auto it = ini.find(s); it != ini.end()) {
          found = true;
          for (const auto& [k, v] : it->second) merged[k] = v;
          break;
        }
      }
    }
  }
  if (const std::string path = CredentialsFilePath(env); !path.empty()) {
    if (auto text = ReadFile(path); text.ok()) {
      const IniFile ini = ParseIni(*text);
      if (auto it = ini.find(name); it != ini.end()) {
        found = true;
        for (const auto& [k, v] : it->second) merged[k] = v;
      }
    }
  }
  if (!found) return NotFound("profile '" + std::string(name) + "' is in neither shared file");
  return merged;
}

std::optional<std::string> ConfiguredEndpointUrl(const Environment& env,
                                                 std::string_view service_key) {
  auto profile = LoadProfile(env, ProfileName(env));
  if (!profile.ok()) return std::nullopt;
  if (auto services = Lookup(*profile, "services")) {
    if (auto text = ReadFile(ConfigFilePath(env)); text.ok()) {
      const IniFile ini = ParseIni(*text);
      if (auto it = ini.find("services " + *services); it != ini.end()) {
        if (auto url = Lookup(it->second, std::string(service_key) + ".endpoint_url")) return url;
      }
    }
  }
  return Lookup(*profile, "endpoint_url");
}

std::optional<std::string> ResolveRegion(const Environment& env) {
  if (auto r = env.Get("AWS_REGION")) return r;
  if (auto r = env.Get("AWS_DEFAULT_REGION")) return r;
  auto profile = LoadProfile(env, ProfileName(env));
  if (profile.ok()) return Lookup(*profile, "region");
  return std::nullopt;
}

Result<Credentials> ParseCredentialsJson(std::string_view json, std::string source) {
  Credentials c;
  c.access_key_id = JsonStringField(json, "AccessKeyId").value_or("");
  c.secret_access_key = JsonStringField(json, "SecretAccessKey").value_or("");
  c.session_token = JsonStringField(json, "Token").value_or("");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(Code::kUnauthenticated, source + ": the credentials document has no keys");
  }
  if (auto exp = JsonStringField(json, "Expiration")) {
    auto t = Timestamp::Parse(*exp);
    if (!t.ok()) return Status(Code::kUnauthenticated, source + ": unreadable Expiration");
    c.expiration = *t;
  }
  c.source = std::move(source);
  return c;
}

Result<Credentials> CallAssumeRole(const AssumeRoleRequest& request, const Credentials* source,
                                   std::string_view region, const Environment& env,
                                   HttpTransport& transport, const Clock& clock) {
  ASSIGN_OR_RETURN(Endpoint endpoint, ResolveEndpoint(kSts, region, env));
  const bool web = !request.web_identity_token.empty();
  std::optional<StaticCredentialsProvider> signer;
  if (!web) {
    if (source == nullptr) return Internal("AssumeRole needs source credentials");
    signer.emplace(*source);
  }
  AwsClient sts(kSts, std::move(endpoint), web ? nullptr : &*signer, transport, clock);
  std::vector<QueryParam> params = {{"RoleArn", request.role_arn},
                                    {"RoleSessionName", request.session_name},
                                    {"DurationSeconds", std::to_string(request.duration_seconds)}};
  if (!request.external_id.empty()) params.emplace_back("ExternalId", request.external_id);
  if (web) params.emplace_back("WebIdentityToken", request.web_identity_token);
  const std::string_view action = web ? "AssumeRoleWithWebIdentity" : "AssumeRole";
  ASSIGN_OR_RETURN(std::string xml, sts.Query(action, kStsVersion, params));
  const auto block = XmlElements(xml, "Credentials");
  if (block.empty()) return Internal("sts " + std::string(action) + ": no Credentials in reply");
  Credentials c;
  c.access_key_id = XmlText(block.front(), "AccessKeyId").value_or("");
  c.secret_access_key = XmlText(block.front(), "SecretAccessKey").value_or("");
  c.session_token = XmlText(block.front(), "SessionToken").value_or("");
  auto exp = Timestamp::Parse(XmlText(block.front(), "Expiration").value_or(""));
  if (c.access_key_id.empty() || c.secret_access_key.empty() || !exp.ok()) {
    return Internal("sts " + std::string(action) + ": incomplete Credentials in reply");
  }
  c.expiration = *exp;
  c.source = std::string("sts ") + std::string(action);
  return c;
}

std::unique_ptr<CredentialsProvider> MakeEnvironmentProvider(const Environment& env) {
  return std::make_unique<EnvironmentProvider>(env);
}
std::unique_ptr<CredentialsProvider> MakeProfileProvider(const Environment& env,
                                                         HttpTransport& transport,
                                                         const Clock& clock) {
  return std::make_unique<ProfileProvider>(env, transport, clock);
}
std::unique_ptr<CredentialsProvider> MakeWebIdentityProvider(const Environment& env,
                                                             HttpTransport& transport,
                                                             const Clock& clock) {
  return std::make_unique<WebIdentityProvider>(env, transport, clock);
}
std::unique_ptr<CredentialsProvider> MakeContainerProvider(const Environment& env,
                                                           HttpTransport& transport) {
  return std::make_unique<ContainerProvider>(env, transport);
}
std::unique_ptr<CredentialsProvider> MakeImdsProvider(const Environment& env,
                                                      HttpTransport& transport) {
  return std::make_unique<ImdsProvider>(env, transport);
}

Result<Credentials> ChainCredentialsProvider::Get() {
  std::string tried;
  for (const auto& p : providers_) {
    auto c = p->Get();
    if (c.ok() || c.status().code() != Code::kNotFound) return c;
    if (!tried.empty()) tried += "; ";
    tried += c.status().message();
  }
  return NotFound("no AWS credentials found (" + tried + ")");
}

Result<Credentials> CachingCredentialsProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const Timestamp now = clock_.Now();
  if (cached_ && (!cached_->expiration || now.PlusSeconds(margin_s_) < *cached_->expiration)) {
    return *cached_;
  }
  auto fresh = inner_->Get();
  if (fresh.ok()) {
    cached_ = *fresh;
    return fresh;
  }
  if (cached_ && cached_->expiration && now < *cached_->expiration) return *cached_;
  return fresh;
}

std::unique_ptr<CredentialsProvider> DefaultCredentialsChain(const Environment& env,
                                                             HttpTransport& transport,
                                                             const Clock& clock) {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  providers.push_back(MakeEnvironmentProvider(env));
  providers.push_back(MakeProfileProvider(env, transport, clock));
  providers.push_back(MakeWebIdentityProvider(env, transport, clock));
  providers.push_back(MakeContainerProvider(env, transport));
  providers.push_back(MakeImdsProvider(env, transport));
  return std::make_unique<CachingCredentialsProvider>(
      std::make_unique<ChainCredentialsProvider>(std::move(providers)), clock);
}

}  // namespace budgeteer::aws
