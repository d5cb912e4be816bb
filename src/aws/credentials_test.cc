// The credential chain: each provider with fake files (a temp directory) and fake metadata,
// container and STS endpoints served by cpp-httplib on loopback, through the real transport;
// expiry and refresh with a fixed clock.
#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "aws/client.h"
#include "aws/endpoint.h"

namespace budgeteer::aws {
namespace {

namespace fs = std::filesystem;

Timestamp At(const char* t) { return Timestamp::Parse(t).value(); }

// A loopback HTTP server for one test; routes are added before Start().
class LoopbackServer {
 public:
  httplib::Server& routes() { return server_; }
  void Start() {
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  std::string Url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aws_credentials_test_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / ".aws");
    env_.Set("HOME", dir_.string());
    env_.Set("AWS_EC2_METADATA_DISABLED", "true");  // never reach for a real 169.254.169.254
    auto t = MakeCurlTransport();
    ASSERT_TRUE(t.ok());
    transport_ = std::move(t).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& relative, const std::string& text) {
    const fs::path p = dir_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
  MapEnvironment env_;
  FixedClock clock_{At("2026-11-27T12:00:00Z")};
  std::unique_ptr<HttpTransport> transport_;
};

TEST(IniTest, SectionsCommentsAndNestedSettings) {
  const IniFile ini = ParseIni(
      "# comment\n"
      "[default]\n"
      "aws_access_key_id = AKIA1\n"
      "  ; indented comment\n"
      "Region=eu-west-1  \n"
      "s3 =\n"
      "  max_concurrent_requests = 10\n"
      "output = json\n"
      "[profile  ops ]\n"
      "role_arn = arn:aws:iam::1:role/x\n");
  ASSERT_EQ(ini.size(), 2u);
  EXPECT_EQ(ini.at("default").at("aws_access_key_id"), "AKIA1");
  EXPECT_EQ(ini.at("default").at("region"), "eu-west-1");
  EXPECT_EQ(ini.at("default").count("max_concurrent_requests"), 0u);
  EXPECT_EQ(ini.at("default").at("s3.max_concurrent_requests"), "10");
  EXPECT_EQ(ini.at("default").at("output"), "json");
  EXPECT_EQ(ini.at("profile  ops").at("role_arn"), "arn:aws:iam::1:role/x");
}

TEST_F(CredentialsTest, EnvironmentProvider) {
  auto p = MakeEnvironmentProvider(env_);
  EXPECT_EQ(p->Get().status().code(), Code::kNotFound);
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  EXPECT_EQ(p->Get().status().code(), Code::kFailedPrecondition);
  env_.Set("AWS_SECRET_ACCESS_KEY", "envsecret");
  env_.Set("AWS_SESSION_TOKEN", "envtoken");
  auto c = p->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "envtoken");
  EXPECT_EQ(c->source, "environment");
}

TEST_F(CredentialsTest, SharedFilesAndProfiles) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s-default\n"
        "[ops]\naws_access_key_id = AKIAOPSCRED\naws_secret_access_key = s-ops-cred\n");
  Write(".aws/config",
        "[default]\nregion = eu-central-1\n"
        "[profile ops]\nregion = ap-south-1\naws_access_key_id = AKIAOPSCONFIG\n"
        "aws_secret_access_key = s-ops-config\n"
        "[profile cfgonly]\naws_access_key_id = AKIACFG\naws_secret_access_key = s-cfg\n");
  auto p = MakeProfileProvider(env_, *transport_, clock_);
  auto c = p->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(ResolveRegion(env_), "eu-central-1");

  env_.Set("AWS_PROFILE", "ops");  // the credentials file wins over the config file
  c = p->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAOPSCRED");
  EXPECT_EQ(c->source, "profile ops");
  EXPECT_EQ(ResolveRegion(env_), "ap-south-1");
  env_.Set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(ResolveRegion(env_), "us-west-1");
  env_.Set("AWS_REGION", "us-east-2");
  EXPECT_EQ(ResolveRegion(env_), "us-east-2");

  env_.Set("AWS_PROFILE", "cfgonly");  // "[profile x]" in config alone is enough
  c = p->Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIACFG");

  env_.Set("AWS_PROFILE", "missing");  // a named profile that does not exist is an error
  EXPECT_EQ(p->Get().status().code(), Code::kFailedPrecondition);
}

TEST_F(CredentialsTest, FileLocationsFromEnvironment) {
  const std::string creds = Write("elsewhere/creds",
                                  "[default]\naws_access_key_id = AKIAX\n"
                                  "aws_secret_access_key = sx\n");
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", creds);
  env_.Set("AWS_CONFIG_FILE", (dir_ / "nope").string());
  auto c = MakeProfileProvider(env_, *transport_, clock_)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAX");
  // No files at all: the default profile is simply not configured.
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "nope2").string());
  EXPECT_EQ(MakeProfileProvider(env_, *transport_, clock_)->Get().status().code(), Code::kNotFound);
}

TEST_F(CredentialsTest, ProfileErrorsNameNoSecret) {
  Write(".aws/credentials", "[default]\naws_secret_access_key = do-not-print-me\n");
  auto c = MakeProfileProvider(env_, *transport_, clock_)->Get();
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(c.status().message().find("do-not-print-me"), std::string::npos);
}

// A fake STS: records the form it received and answers with credentials.
struct FakeSts {
  LoopbackServer server;
  std::mutex mu;
  std::vector<httplib::Request> requests;
  FakeSts() {
    server.routes().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu);
        requests.push_back(req);
      }
      const bool web = req.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos;
      const std::string action = web ? "AssumeRoleWithWebIdentity" : "AssumeRole";
      res.set_content(
          "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
              "Result><Credentials><AccessKeyId>ASIATEMP" + (web ? "WEB" : "ROLE") +
              "</AccessKeyId><SecretAccessKey>temp/secret&amp;1</SecretAccessKey>"
              "<SessionToken>tok+en==</SessionToken>"
              "<Expiration>2026-11-27T13:00:00Z</Expiration></Credentials></" +
              action + "Result></" + action + "Response>",
          "text/xml");
    });
    server.Start();
  }
};

TEST_F(CredentialsTest, AssumeRoleThroughSourceProfile) {
  FakeSts sts;
  env_.Set("AWS_ENDPOINT_URL_STS", sts.server.Url());
  Write(".aws/credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = s-b\n");
  Write(".aws/config",
        "[profile budgeteer]\nrole_arn = arn:aws:iam::111122223333:role/Budgeteer\n"
        "source_profile = base\nrole_session_name = ops-session\nexternal_id = ext-1\n"
        "duration_seconds = 1800\nregion = eu-west-1\n");
  env_.Set("AWS_PROFILE", "budgeteer");
  auto c = MakeProfileProvider(env_, *transport_, clock_)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIATEMPROLE");
  EXPECT_EQ(c->secret_access_key, "temp/secret&1");
  EXPECT_EQ(c->session_token, "tok+en==");
  EXPECT_EQ(c->expiration, At("2026-11-27T13:00:00Z"));
  ASSERT_EQ(sts.requests.size(), 1u);
  const auto& req = sts.requests.front();
  EXPECT_NE(req.body.find("Action=AssumeRole&"), std::string::npos) << req.body;
  EXPECT_NE(req.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FBudgeteer"),
            std::string::npos);
  EXPECT_NE(req.body.find("RoleSessionName=ops-session"), std::string::npos);
  EXPECT_NE(req.body.find("ExternalId=ext-1"), std::string::npos);
  EXPECT_NE(req.body.find("DurationSeconds=1800"), std::string::npos);
  // Signed by the source profile's key, for STS in the profile's region.
  const std::string auth = req.get_header_value("Authorization");
  EXPECT_NE(auth.find("Credential=AKIABASE/20261127/eu-west-1/sts/aws4_request"), std::string::npos)
      << auth;
}

TEST_F(CredentialsTest, RoleChainLoopIsAnError) {
  Write(".aws/config",
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n");
  env_.Set("AWS_PROFILE", "a");
  auto c = MakeProfileProvider(env_, *transport_, clock_)->Get();
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition) << c.status().ToString();
}

TEST_F(CredentialsTest, WebIdentityFromEnvironment) {
  FakeSts sts;
  env_.Set("AWS_ENDPOINT_URL_STS", sts.server.Url());
  auto p = MakeWebIdentityProvider(env_, *transport_, clock_);
  EXPECT_EQ(p->Get().status().code(), Code::kNotFound);
  env_.Set("AWS_WEB_IDENTITY_TOKEN_FILE", Write("token", "eyJhbGciOi.first\n"));
  EXPECT_EQ(p->Get().status().code(), Code::kFailedPrecondition);  // AWS_ROLE_ARN missing
  env_.Set("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/Web");
  env_.Set("AWS_ROLE_SESSION_NAME", "pod-1");
  auto c = p->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIATEMPWEB");
  EXPECT_EQ(c->source, "web identity");
  // The token file is read again on every call (it is rotated).
  Write("token", "eyJhbGciOi.second");
  ASSERT_TRUE(p->Get().ok());
  ASSERT_EQ(sts.requests.size(), 2u);
  for (const auto& req : sts.requests) {
    EXPECT_FALSE(req.has_header("Authorization"));  // AssumeRoleWithWebIdentity is unsigned
    EXPECT_NE(req.body.find("RoleSessionName=pod-1"), std::string::npos);
  }
  EXPECT_NE(sts.requests[0].body.find("WebIdentityToken=eyJhbGciOi.first"), std::string::npos)
      << sts.requests[0].body;
  EXPECT_NE(sts.requests[1].body.find("WebIdentityToken=eyJhbGciOi.second"), std::string::npos);
}

constexpr char kCredsJson[] =
    R"({"AccessKeyId":"ASIAMETA","SecretAccessKey":"meta-secret","Token":"meta-token",)"
    R"("Expiration":"2026-11-27T18:00:00Z","Code":"Success"})";

TEST_F(CredentialsTest, ContainerCredentials) {
  LoopbackServer server;
  std::atomic<int> calls{0};
  server.routes().Get("/v2/credentials/abc",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        ++calls;
                        if (req.get_header_value("Authorization") != "from-file") {
                          res.status = 401;
                          return;
                        }
                        res.set_content(kCredsJson, "application/json");
                      });
  server.Start();
  auto p = MakeContainerProvider(env_, *transport_);
  EXPECT_EQ(p->Get().status().code(), Code::kNotFound);
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.Url("/v2/credentials/abc"));
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env");
  EXPECT_EQ(p->Get().status().code(), Code::kUnauthenticated);
  // The token file wins over the variable.
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Write("ecs-token", "from-file\n"));
  auto c = p->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAMETA");
  EXPECT_EQ(c->session_token, "meta-token");
  EXPECT_EQ(c->expiration, At("2026-11-27T18:00:00Z"));
  EXPECT_EQ(calls.load(), 2);
  // Plain HTTP elsewhere than loopback or the ECS/EKS addresses is refused before any request.
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds");
  EXPECT_EQ(p->Get().status().code(), Code::kFailedPrecondition);
}

TEST_F(CredentialsTest, InstanceMetadataV2) {
  LoopbackServer server;
  std::vector<std::string> seen;
  std::mutex mu;
  auto note = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(what);
  };
  server.routes().Put(
      "/latest/api/token", [&](const httplib::Request& req, httplib::Response& res) {
        note("PUT token ttl=" + req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds"));
        res.set_content("imds-token", "text/plain");
      });
  server.routes().Get("/latest/meta-data/iam/security-credentials/",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        note("GET roles token=" + req.get_header_value("X-aws-ec2-metadata-token"));
                        res.set_content("BudgeteerInstanceRole\n", "text/plain");
                      });
  server.routes().Get("/latest/meta-data/iam/security-credentials/BudgeteerInstanceRole",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        note("GET role token=" + req.get_header_value("X-aws-ec2-metadata-token"));
                        res.set_content(kCredsJson, "application/json");
                      });
  server.Start();
  auto p = MakeImdsProvider(env_, *transport_);
  EXPECT_EQ(p->Get().status().code(), Code::kNotFound);  // disabled in SetUp
  env_.Set("AWS_EC2_METADATA_DISABLED", "false");
  env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.Url("/"));
  auto c = p->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAMETA");
  EXPECT_EQ(c->source, "instance metadata");
  EXPECT_EQ(seen, (std::vector<std::string>{"PUT token ttl=21600", "GET roles token=imds-token",
                                            "GET role token=imds-token"}));
}

TEST_F(CredentialsTest, UnreachableInstanceMetadataIsNotConfigured) {
  LoopbackServer gone;
  gone.Start();
  const std::string url = gone.Url();
  gone.~LoopbackServer();
  new (&gone) LoopbackServer();  // nothing listens on `url` any more
  env_.Set("AWS_EC2_METADATA_DISABLED", "false");
  env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", url);
  EXPECT_EQ(MakeImdsProvider(env_, *transport_)->Get().status().code(), Code::kNotFound);
}

// A provider that hands out scripted answers and counts calls.
class ScriptedProvider final : public CredentialsProvider {
 public:
  explicit ScriptedProvider(std::function<Result<Credentials>(int)> f) : f_(std::move(f)) {}
  Result<Credentials> Get() override { return f_(++calls_); }
  int calls() const { return calls_; }

 private:
  std::function<Result<Credentials>(int)> f_;
  int calls_ = 0;
};

Credentials Temp(const std::string& id, const char* expires) {
  return Credentials{id, "s", "t", At(expires), "scripted"};
}

TEST_F(CredentialsTest, CachingRefreshesBeforeExpiry) {
  bool fail = false;
  auto inner = std::make_unique<ScriptedProvider>([&](int n) -> Result<Credentials> {
    if (fail) return Unavailable("sts down");
    return Temp("ASIA" + std::to_string(n),
                n == 1 ? "2026-11-27T13:00:00Z" : "2026-11-27T14:00:00Z");
  });
  ScriptedProvider* raw = inner.get();
  CachingCredentialsProvider cache(std::move(inner), clock_, /*refresh_margin_seconds=*/300);
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA1");
  clock_.Set(At("2026-11-27T12:54:59Z"));  // more than the margin left: cached
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA1");
  EXPECT_EQ(raw->calls(), 1);
  clock_.Set(At("2026-11-27T12:55:00Z"));  // within the margin: refreshed
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA2");
  EXPECT_EQ(raw->calls(), 2);
  // A failed refresh while the old credentials are still valid keeps them...
  fail = true;
  clock_.Set(At("2026-11-27T13:56:00Z"));
  auto kept = cache.Get();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, "ASIA2");
  EXPECT_EQ(raw->calls(), 3);
  // ...but once they have expired the error comes through.
  clock_.Set(At("2026-11-27T14:00:00Z"));
  EXPECT_EQ(cache.Get().status().code(), Code::kUnavailable);
  fail = false;
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA5");
}

TEST_F(CredentialsTest, CachingKeepsLongTermKeys) {
  auto inner = std::make_unique<ScriptedProvider>([](int) -> Result<Credentials> {
    return Credentials{"AKIA", "s", "", {}, "x"};
  });
  ScriptedProvider* raw = inner.get();
  CachingCredentialsProvider cache(std::move(inner), clock_);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(86400);
    ASSERT_TRUE(cache.Get().ok());
  }
  EXPECT_EQ(raw->calls(), 1);
}

TEST_F(CredentialsTest, ChainOrderAndStops) {
  // Environment first, even when a profile exists.
  Write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n");
  env_.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "e");
  auto chain = DefaultCredentialsChain(env_, *transport_, clock_);
  EXPECT_EQ(chain->Get()->access_key_id, "AKIAENV");
  MapEnvironment no_env_keys;
  no_env_keys.Set("HOME", dir_.string());
  no_env_keys.Set("AWS_EC2_METADATA_DISABLED", "true");
  EXPECT_EQ(DefaultCredentialsChain(no_env_keys, *transport_, clock_)->Get()->access_key_id,
            "AKIAFILE");
  // Nothing configured anywhere: NotFound naming what was tried.
  MapEnvironment nothing;
  nothing.Set("HOME", (dir_ / "empty").string());
  nothing.Set("AWS_EC2_METADATA_DISABLED", "true");
  auto none = DefaultCredentialsChain(nothing, *transport_, clock_)->Get();
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  // A configured source that fails stops the chain (it does not fall through to IMDS).
  nothing.Set("AWS_ACCESS_KEY_ID", "AKIAHALF");
  EXPECT_EQ(DefaultCredentialsChain(nothing, *transport_, clock_)->Get().status().code(),
            Code::kFailedPrecondition);
}

TEST_F(CredentialsTest, EndpointsFromSharedConfig) {
  Write(".aws/config",
        "[default]\nregion = eu-west-1\nendpoint_url = http://localhost:4566\n"
        "services = local\n"
        "[services local]\niam =\n  endpoint_url = http://127.0.0.1:5001\n"
        "cloudwatch_logs =\n  endpoint_url = http://127.0.0.1:5002\n");
  EXPECT_EQ(ResolveEndpoint(kIam, "eu-west-1", env_)->host, "127.0.0.1:5001");
  EXPECT_EQ(ResolveEndpoint(kLogs, "eu-west-1", env_)->host, "127.0.0.1:5002");
  EXPECT_EQ(ResolveEndpoint(kSns, "eu-west-1", env_)->host, "localhost:4566");
  // The variables come first...
  env_.Set("AWS_ENDPOINT_URL", "http://10.0.0.1:1");
  EXPECT_EQ(ResolveEndpoint(kIam, "eu-west-1", env_)->host, "10.0.0.1:1");
  // ...and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns every override off.
  env_.Set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  EXPECT_EQ(ResolveEndpoint(kIam, "eu-west-1", env_)->host, "iam.amazonaws.com");
}

TEST(EndpointTest, Resolution) {
  MapEnvironment env;
  auto iam = ResolveEndpoint(kIam, "eu-west-1", env);
  ASSERT_TRUE(iam.ok());
  EXPECT_EQ(iam->host, "iam.amazonaws.com");
  EXPECT_EQ(iam->signing_region, "us-east-1");
  EXPECT_EQ(ResolveEndpoint(kIam, "cn-northwest-1", env)->host, "iam.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(ResolveEndpoint(kSesV2, "eu-west-1", env)->host, "email.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint(kLogs, "eu-west-1", env)->host, "logs.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint(kSns, "", env).status().code(), Code::kFailedPrecondition);

  env.Set("AWS_ENDPOINT_URL", "http://localhost:4566/");
  env.Set("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "https://logs.internal:8443/base/");
  auto sns = ResolveEndpoint(kSns, "eu-west-1", env);
  ASSERT_TRUE(sns.ok());
  EXPECT_EQ(sns->scheme, "http");
  EXPECT_EQ(sns->host, "localhost:4566");
  EXPECT_EQ(sns->base_path, "");
  EXPECT_EQ(sns->signing_region, "eu-west-1");
  auto logs = ResolveEndpoint(kLogs, "eu-west-1", env);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->host, "logs.internal:8443");
  EXPECT_EQ(logs->base_path, "/base");
  EXPECT_EQ(ResolveEndpoint(kIam, "eu-west-1", env)->signing_region, "us-east-1");
  env.Set("AWS_ENDPOINT_URL_IAM", "ftp://x");
  EXPECT_EQ(ResolveEndpoint(kIam, "eu-west-1", env).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace budgeteer::aws
