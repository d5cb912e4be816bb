// Signing against an emulator that checks signatures: moto_server with
// INITIAL_NO_AUTH_ACTION_COUNT=3. The first three actions (CreateUser, PutUserPolicy,
// CreateAccessKey) go through unauthenticated and give us a user with an allow-all policy and a
// real access key; from then on moto recomputes every request's SigV4 signature with botocore
// from the secret it issued and refuses a mismatch. For each protocol we show that a request
// signed with the wrong secret is refused and ours is accepted.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/json_fields.h"
#include "aws/testing/moto_account.h"
#include "aws/xml.h"
#include "core/clock.h"
#include "util/json_writer.h"

namespace budgeteer::aws {
namespace {

constexpr char kIamVersion[] = "2010-05-08";
constexpr char kSnsVersion[] = "2010-03-31";
constexpr char kUser[] = "budgeteer-signing-test";

class MotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BUDGETEER_SKIP_WITHOUT_MOTO();
    // CreateSigningUser spends three of the unauthenticated actions on the signing user.
    auto moto = testing::MotoAccount::Start(kUser, NoAuthActions());
    ASSERT_TRUE(moto.ok()) << moto.status().ToString();
    moto_ = std::move(moto).value();
    const Credentials good = moto_->keys();
    Credentials bad = good;
    bad.secret_access_key = "wrong" + good.secret_access_key.substr(5);
    good_keys_ = good;
    good_ = std::make_unique<StaticCredentialsProvider>(good);
    bad_ = std::make_unique<StaticCredentialsProvider>(bad);
    secret_ = good.secret_access_key;
  }

  // The actions moto lets through before it checks signatures: ours are CreateUser,
  // PutUserPolicy and CreateAccessKey.
  virtual int NoAuthActions() const { return 3; }

  AwsClient Client(const ServiceSpec& service, CredentialsProvider* creds) {
    return moto_->Client(service, creds);
  }
  AwsClient Good(const ServiceSpec& s) { return Client(s, good_.get()); }
  AwsClient Bad(const ServiceSpec& s) { return Client(s, bad_.get()); }

  // A refusal for the signature, and nothing of the secret in the message.
  void ExpectSignatureRefused(const Status& status) {
    EXPECT_EQ(status.code(), Code::kUnauthenticated) << status.ToString();
    EXPECT_FALSE(status.retryable());
    EXPECT_NE(status.message().find("SignatureDoesNotMatch"), std::string::npos)
        << status.ToString();
    EXPECT_EQ(status.message().find(secret_), std::string::npos);
  }

  std::unique_ptr<testing::MotoAccount> moto_;
  std::unique_ptr<CredentialsProvider> good_;
  std::unique_ptr<CredentialsProvider> bad_;
  std::string secret_;
  Credentials good_keys_;
};

TEST_F(MotoTest, IamQueryProtocol) {
  ExpectSignatureRefused(Bad(kIam).Query("GetUser", kIamVersion, {{"UserName", kUser}}).status());
  auto user = Good(kIam).Query("GetUser", kIamVersion, {{"UserName", kUser}});
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_EQ(XmlText(*user, "UserName"), kUser);
  auto users = Good(kIam).Query("ListUsers", kIamVersion, {});
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(XmlElements(*users, "member").size(), 1u);
  // A permanent error keeps AWS's code and message.
  auto missing = Good(kIam).Query("GetUser", kIamVersion, {{"UserName", "nobody"}});
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("iam GetUser: NoSuchEntity"), std::string::npos);
}

TEST_F(MotoTest, UnknownAccessKeyIsRefused) {
  StaticCredentialsProvider stranger(
      Credentials{"AKIAUNKNOWNKEY000000", "whatever-secret", "", {}, "test"});
  auto r = Client(kIam, &stranger).Query("ListUsers", kIamVersion, {});
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
  EXPECT_NE(r.status().message().find("InvalidClientTokenId"), std::string::npos);
}

TEST_F(MotoTest, SnsQueryProtocol) {
  ExpectSignatureRefused(
      Bad(kSns).Query("CreateTopic", kSnsVersion, {{"Name", "budget-alerts"}}).status());
  auto topic = Good(kSns).Query("CreateTopic", kSnsVersion, {{"Name", "budget-alerts"}});
  ASSERT_TRUE(topic.ok()) << topic.status().ToString();
  const std::string arn = XmlText(*topic, "TopicArn").value_or("");
  EXPECT_TRUE(arn.ends_with(":budget-alerts")) << arn;
  const std::vector<QueryParam> publish = {
      {"TopicArn", arn}, {"Subject", "Budget warning"}, {"Message", "Spent 80% & more: 🚨 ü"}};
  ExpectSignatureRefused(Bad(kSns).Query("Publish", kSnsVersion, publish).status());
  auto sent = Good(kSns).Query("Publish", kSnsVersion, publish);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_FALSE(XmlText(*sent, "MessageId").value_or("").empty());
}

TEST_F(MotoTest, SsmJsonProtocol) {
  JsonWriter put;
  put.BeginObject()
      .Field("Name", "/bedrock-budgeteer/global/thresholds_percent_warn")
      .Field("Value", "70")
      .Field("Type", "String")
      .Field("Overwrite", true)
      .EndObject();
  ExpectSignatureRefused(Bad(kSsm).Json("AmazonSSM", "PutParameter", put.str()).status());
  auto stored = Good(kSsm).Json("AmazonSSM", "PutParameter", put.str());
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  const std::string get =
      R"({"Path":"/bedrock-budgeteer/global","Recursive":true,"WithDecryption":true})";
  ExpectSignatureRefused(Bad(kSsm).Json("AmazonSSM", "GetParametersByPath", get).status());
  auto got = Good(kSsm).Json("AmazonSSM", "GetParametersByPath", get);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_NE(got->find("thresholds_percent_warn"), std::string::npos) << *got;
  EXPECT_NE(got->find("\"70\""), std::string::npos) << *got;
  auto missing =
      Good(kSsm).Json("AmazonSSM", "GetParameter", R"({"Name":"/bedrock-budgeteer/none"})");
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("ParameterNotFound"), std::string::npos);
}

TEST_F(MotoTest, S3RestProtocol) {
  const std::string bucket = "/invocation-logs";
  ExpectSignatureRefused(
      Bad(kS3).Rest("CreateBucket", "PUT", bucket, {}, {}, "", Protocol::kRestXml).status());
  auto created = Good(kS3).Rest("CreateBucket", "PUT", bucket, {}, {}, "", Protocol::kRestXml);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  // A key that must be encoded once on the wire and not again for signing. (For the same
  // reason as below, moto refuses every client, boto3 included, on keys holding "+", "=", "("
  // or non-ASCII; our encoding of those is checked against botocore's signer in sigv4_test.cc.)
  const std::string key =
      "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/01/"
      "00/run 1.json.gz";
  const std::string path = bucket + "/" + UriEncode(key, /*keep_slash=*/true);
  constexpr char kGzipish[] = "\x1f\x8b\x08\x00 not really gzip";  // holds a NUL byte
  const std::string body(kGzipish, sizeof kGzipish - 1);
  ExpectSignatureRefused(
      Bad(kS3).Rest("PutObject", "PUT", path, {}, {}, body, Protocol::kRestXml).status());
  auto put = Good(kS3).Rest("PutObject", "PUT", path, {}, {}, body, Protocol::kRestXml);
  ASSERT_TRUE(put.ok()) << put.status().ToString();

  // "AWSLogs", not "AWSLogs/111122223333/": moto checks against the URL Werkzeug rebuilds,
  // which leaves '/' in a query value unescaped, so any correct client's signature (boto3's
  // too) fails there for such a prefix.
  const std::vector<QueryParam> list = {{"list-type", "2"}, {"prefix", "AWSLogs"}};
  ExpectSignatureRefused(
      Bad(kS3).Rest("ListObjectsV2", "GET", bucket, list, {}, "", Protocol::kRestXml).status());
  auto listed = Good(kS3).Rest("ListObjectsV2", "GET", bucket, list, {}, "", Protocol::kRestXml);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(XmlText(listed->body, "Key"), key) << listed->body;

  ExpectSignatureRefused(
      Bad(kS3).Rest("GetObject", "GET", path, {}, {}, "", Protocol::kRestXml).status());
  auto got = Good(kS3).Rest("GetObject", "GET", path, {}, {}, "", Protocol::kRestXml);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, body);

  auto missing =
      Good(kS3).Rest("GetObject", "GET", bucket + "/nope", {}, {}, "", Protocol::kRestXml);
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("NoSuchKey"), std::string::npos);
}

TEST_F(MotoTest, CloudWatchLogsJsonProtocol) {
  const std::string group = R"({"logGroupName":"/aws/bedrock/modelinvocations"})";
  ExpectSignatureRefused(Bad(kLogs).Json("Logs_20140328", "CreateLogGroup", group).status());
  auto created = Good(kLogs).Json("Logs_20140328", "CreateLogGroup", group);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto stream = Good(kLogs).Json(
      "Logs_20140328", "CreateLogStream",
      R"({"logGroupName":"/aws/bedrock/modelinvocations","logStreamName":"aws/bedrock/1"})");
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  const int64_t now_ms = SystemClock().Now().unix_millis();
  JsonWriter events;
  events.BeginObject()
      .Field("logGroupName", "/aws/bedrock/modelinvocations")
      .Field("logStreamName", "aws/bedrock/1");
  events.Key("logEvents").BeginArray();
  events.BeginObject().Field("timestamp", now_ms).Field("message", R"({"requestId":"r-1"})");
  events.EndObject().EndArray().EndObject();
  auto put = Good(kLogs).Json("Logs_20140328", "PutLogEvents", events.str());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  const std::string filter = R"({"logGroupName":"/aws/bedrock/modelinvocations"})";
  ExpectSignatureRefused(Bad(kLogs).Json("Logs_20140328", "FilterLogEvents", filter).status());
  auto found = Good(kLogs).Json("Logs_20140328", "FilterLogEvents", filter);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_NE(found->find("r-1"), std::string::npos) << *found;
}

TEST_F(MotoTest, SesV2RestJsonProtocol) {
  const std::string identity = R"({"EmailIdentity":"budgets@example.com"})";
  const Status refused =
      Bad(kSesV2)
          .Rest("CreateEmailIdentity", "POST", "/v2/email/identities", {},
                {{"Content-Type", "application/json"}}, identity, Protocol::kRestJson)
          .status();
  ExpectSignatureRefused(refused);
  auto created =
      Good(kSesV2).Rest("CreateEmailIdentity", "POST", "/v2/email/identities", {},
                        {{"Content-Type", "application/json"}}, identity, Protocol::kRestJson);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string email =
      R"({"FromEmailAddress":"budgets@example.com","Destination":{"ToAddresses":)"
      R"(["owner@example.com"]},"Content":{"Simple":{"Subject":{"Data":"Budget warning"},)"
      R"("Body":{"Text":{"Data":"80% spent"}}}}})";
  auto sent = Good(kSesV2).Rest("SendEmail", "POST", "/v2/email/outbound-emails", {},
                                {{"Content-Type", "application/json"}}, email, Protocol::kRestJson);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_TRUE(JsonStringField(sent->body, "MessageId").has_value()) << sent->body;
}

// Temporary credentials end to end: a profile with role_arn + source_profile goes through STS
// AssumeRole (signed with the source key and checked by moto, trust policy included), and the
// role's credentials, session token and all, are accepted by moto's signature check.
class MotoRoleTest : public MotoTest {
 protected:
  // CreateUser, PutUserPolicy, CreateAccessKey, then CreateRole and PutRolePolicy.
  int NoAuthActions() const override { return 5; }

  void SetUp() override {
    MotoTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    StaticCredentialsProvider bootstrap(
        Credentials{"AKIAIOSFODNN7EXAMPLE", "not-checked-yet", "", {}, "test"});
    auto iam = Client(kIam, &bootstrap);
    // moto compares the trusted principal literally, so the trust names the user's ARN (AWS
    // would accept the account root as well).
    const std::string trust =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":)"
        R"({"AWS":"arn:aws:iam::123456789012:user/budgeteer-signing-test"},)"
        R"("Action":"sts:AssumeRole"}]})";
    auto role = iam.Query("CreateRole", kIamVersion,
                          {{"RoleName", "Budgeteer"}, {"AssumeRolePolicyDocument", trust}});
    ASSERT_TRUE(role.ok()) << role.status().ToString();
    role_arn_ = XmlText(*role, "Arn").value_or("");
    const std::string policy =
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:*","Resource":"*"}]})";
    ASSERT_TRUE(
        iam.Query("PutRolePolicy", kIamVersion,
                  {{"RoleName", "Budgeteer"}, {"PolicyName", "sns"}, {"PolicyDocument", policy}})
            .ok());
  }
  std::string role_arn_;
};

TEST_F(MotoRoleTest, AssumedRoleCredentialsAreAccepted) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("aws_moto_role_" + std::to_string(moto_->server().port()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "credentials")
      << "[base]\naws_access_key_id = " << good_keys_.access_key_id
      << "\naws_secret_access_key = " << good_keys_.secret_access_key << "\n";
  std::ofstream(dir / "config") << "[profile budgeteer]\nrole_arn = " << role_arn_
                                << "\nsource_profile = base\nrole_session_name = moto-test\n";
  // Only the profile: no keys in the environment (they would come first in the chain).
  MapEnvironment env;
  env.Set("AWS_ENDPOINT_URL", moto_->url());
  env.Set("AWS_REGION", "us-east-1");
  env.Set("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string());
  env.Set("AWS_CONFIG_FILE", (dir / "config").string());
  env.Set("AWS_PROFILE", "budgeteer");
  env.Set("AWS_EC2_METADATA_DISABLED", "true");
  auto chain = DefaultCredentialsChain(env, moto_->transport(), moto_->clock());
  auto temp = chain->Get();
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(temp.ok()) << temp.status().ToString();
  EXPECT_FALSE(temp->session_token.empty());
  EXPECT_TRUE(temp->expiration.has_value());
  EXPECT_NE(temp->access_key_id, good_keys_.access_key_id);

  auto sns = Client(kSns, chain.get());
  auto topic = sns.Query("CreateTopic", kSnsVersion, {{"Name", "from-role"}});
  ASSERT_TRUE(topic.ok()) << topic.status().ToString();

  Credentials forged = *temp;
  forged.session_token = "forged" + forged.session_token.substr(6);
  StaticCredentialsProvider forged_provider(forged);
  auto refused =
      Client(kSns, &forged_provider).Query("CreateTopic", kSnsVersion, {{"Name", "from-forgery"}});
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated) << refused.status().ToString();
}

}  // namespace
}  // namespace budgeteer::aws
