#include "aws/testing/moto_account.h"

#include <cstdlib>
#include <memory>

#include "aws/client.h"
#include "aws/endpoint.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/xml.h"
#include "core/clock.h"

namespace budgeteer::aws::testing {

Result<Credentials> CreateSigningUser(const MotoServer& moto, const std::string& user_name) {
  constexpr char kVersion[] = "2010-05-08";
  ASSIGN_OR_RETURN(std::unique_ptr<HttpTransport> transport, MakeCurlTransport());
  ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpointUrl(moto.url()));
  endpoint.signing_region = "us-east-1";
  SystemClock clock;
  // moto does not check these three calls' signatures: any key will do.
  StaticCredentialsProvider bootstrap(
      Credentials{"AKIAIOSFODNN7EXAMPLE", "not-checked-yet", "", {}, "test"});
  AwsClient iam(kIam, endpoint, &bootstrap, *transport, clock, HttpTimeouts{2000, 20000});
  RETURN_IF_ERROR(iam.Query("CreateUser", kVersion, {{"UserName", user_name}}).status());
  RETURN_IF_ERROR(
      iam.Query("PutUserPolicy", kVersion,
                {{"UserName", user_name},
                 {"PolicyName", "all"},
                 {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[)"
                                    R"({"Effect":"Allow","Action":"*","Resource":"*"}]})"}})
          .status());
  ASSIGN_OR_RETURN(std::string key,
                   iam.Query("CreateAccessKey", kVersion, {{"UserName", user_name}}));
  Credentials out;
  out.access_key_id = XmlText(key, "AccessKeyId").value_or("");
  out.secret_access_key = XmlText(key, "SecretAccessKey").value_or("");
  out.source = "moto";
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return Internal("moto CreateAccessKey: no key in the reply");
  }
  return out;
}

Result<std::unique_ptr<MotoAccount>> MotoAccount::Start(const std::string& user_name,
                                                        int no_auth_actions) {
  ASSIGN_OR_RETURN(std::unique_ptr<MotoServer> server, MotoServer::Start(no_auth_actions));
  ASSIGN_OR_RETURN(Credentials keys, CreateSigningUser(*server, user_name));
  ASSIGN_OR_RETURN(std::unique_ptr<HttpTransport> transport, MakeCurlTransport());
  return std::unique_ptr<MotoAccount>(
      new MotoAccount(std::move(server), std::move(transport), std::move(keys)));
}

MotoAccount::MotoAccount(std::unique_ptr<MotoServer> server,
                         std::unique_ptr<HttpTransport> transport, Credentials keys)
    : server_(std::move(server)),
      transport_(std::move(transport)),
      keys_(std::move(keys)),
      credentials_(keys_) {
  env_.Set("AWS_ENDPOINT_URL", server_->url());
  env_.Set("AWS_REGION", "us-east-1");
  env_.Set("AWS_ACCESS_KEY_ID", keys_.access_key_id);
  env_.Set("AWS_SECRET_ACCESS_KEY", keys_.secret_access_key);
}

AwsClient MotoAccount::Client(const ServiceSpec& service, CredentialsProvider* credentials) {
  auto endpoint = ResolveEndpoint(service, "us-east-1", env_);
  return AwsClient(service, endpoint.ok() ? *endpoint : Endpoint{},
                   credentials != nullptr ? credentials : &credentials_, *transport_, clock_,
                   HttpTimeouts{2000, 20000});
}

std::string MotoAccount::Data() {
  HttpRequest r;
  r.scheme = "http";
  r.host = "127.0.0.1:" + std::to_string(server_->port());
  r.path = "/moto-api/data.json";
  auto reply = transport_->Send(r, HttpTimeouts{});
  return reply.ok() && reply->status == 200 ? reply->body : "";
}

void MotoAccount::ExportToChildProcesses() const {
  // NOLINTBEGIN(concurrency-mt-unsafe): set by the test thread before it starts a child.
  setenv("AWS_ENDPOINT_URL", server_->url().c_str(), 1);
  setenv("AWS_REGION", "us-east-1", 1);
  setenv("AWS_ACCESS_KEY_ID", keys_.access_key_id.c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", keys_.secret_access_key.c_str(), 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
  setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_PROFILE");
  // NOLINTEND(concurrency-mt-unsafe)
}

bool MotoRequired() {
  const char* ci = std::getenv("CI");  // NOLINT(concurrency-mt-unsafe)
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace budgeteer::aws::testing
