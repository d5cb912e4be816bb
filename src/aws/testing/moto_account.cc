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

bool MotoRequired() {
  const char* ci = std::getenv("CI");  // NOLINT(concurrency-mt-unsafe)
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace budgeteer::aws::testing
