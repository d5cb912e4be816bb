// Error classification, form encoding and the XML reader, without a network.
#include "aws/client.h"

#include <gtest/gtest.h>

#include "aws/xml.h"

namespace budgeteer::aws {
namespace {

HttpResponse Reply(int64_t status, std::string body, std::vector<Header> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(AwsErrorTest, ParsesEachProtocol) {
  const AwsError q = ParseAwsError(
      Protocol::kQuery,
      Reply(404,
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
            "<Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name x "
            "cannot be found &amp; so on.</Message></Error><RequestId>1</RequestId>"
            "</ErrorResponse>"));
  EXPECT_EQ(q.code, "NoSuchEntity");
  EXPECT_EQ(q.message, "The user with name x cannot be found & so on.");
  const AwsError s3 =
      ParseAwsError(Protocol::kRestXml,
                    Reply(403,
                          "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access "
                          "Denied</Message></Error>"));
  EXPECT_EQ(s3.code, "AccessDenied");
  const AwsError json = ParseAwsError(
      Protocol::kJson,
      Reply(400, R"({"__type":"com.amazonaws.ssm#ParameterNotFound","message":"nope"})"));
  EXPECT_EQ(json.code, "ParameterNotFound");
  EXPECT_EQ(json.message, "nope");
  const AwsError rest = ParseAwsError(
      Protocol::kRestJson, Reply(400, R"({"message":"bad"})",
                                 {{"X-Amzn-ErrorType", "BadRequestException:http://internal/"}}));
  EXPECT_EQ(rest.code, "BadRequestException");
  EXPECT_EQ(rest.message, "bad");
  // A JSON service answering in XML (an auth front end) is still understood.
  EXPECT_EQ(ParseAwsError(Protocol::kJson,
                          Reply(403,
                                "<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch"
                                "</Code></Error></Errors></ErrorResponse>"))
                .code,
            "SignatureDoesNotMatch");
  EXPECT_EQ(ParseAwsError(Protocol::kRestXml, Reply(404, "")).code, "NotFound");
}

TEST(AwsErrorTest, Classification) {
  struct Case {
    int64_t http;
    const char* code;
    Code want;
    bool retryable;
  };
  const Case cases[] = {
      {400, "Throttling", Code::kResourceExhausted, true},
      {400, "ThrottlingException", Code::kResourceExhausted, true},
      {503, "RequestLimitExceeded", Code::kResourceExhausted, true},
      {503, "SlowDown", Code::kResourceExhausted, true},
      {429, "", Code::kResourceExhausted, true},
      {500, "InternalError", Code::kUnavailable, true},
      {502, "", Code::kUnavailable, true},
      {400, "RequestTimeout", Code::kUnavailable, true},
      {400, "ExpiredToken", Code::kUnauthenticated, true},
      {403, "AccessDenied", Code::kPermissionDenied, false},
      {400, "AccessDeniedException", Code::kPermissionDenied, false},
      {404, "NoSuchEntity", Code::kNotFound, false},
      {403, "InvalidClientTokenId", Code::kUnauthenticated, false},
      {403, "SignatureDoesNotMatch", Code::kUnauthenticated, false},
      {409, "EntityAlreadyExists", Code::kAlreadyExists, false},
      {400, "ValidationError", Code::kInvalidArgument, false},
      {400, "LimitExceeded", Code::kFailedPrecondition, false},  // an IAM quota, not a rate
      {403, "", Code::kPermissionDenied, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    const Status s = ClassifyAwsError({c.http, c.code, "msg"}, "iam PutUserPolicy");
    EXPECT_EQ(s.code(), c.want) << s.ToString();
    EXPECT_EQ(s.retryable(), c.retryable);
    if (*c.code != '\0') {
      EXPECT_EQ(s.message(), "iam PutUserPolicy: " + std::string(c.code) + ": msg (HTTP " +
                                 std::to_string(c.http) + ")");
    }
  }
}

// A transport that answers with a fixed reply and keeps the request it was given.
class OneReplyTransport final : public HttpTransport {
 public:
  explicit OneReplyTransport(HttpResponse reply) : reply_(std::move(reply)) {}
  Result<HttpResponse> Send(const HttpRequest& request, const HttpTimeouts& timeouts) override {
    last_ = request;
    timeouts_ = timeouts;
    return reply_;
  }
  HttpRequest last_;
  HttpTimeouts timeouts_;

 private:
  HttpResponse reply_;
};

TEST(AwsClientTest, QueryRequestShapeAndSecretScrubbing) {
  const Credentials creds{"ASIAKEY", "top/secret", "session-token-value", {}, "test"};
  OneReplyTransport transport(
      Reply(400,
            "<ErrorResponse><Error><Code>InvalidInput</Code><Message>echo top/secret and "
            "session-token-value</Message></Error></ErrorResponse>"));
  StaticCredentialsProvider provider(creds);
  FixedClock clock(Timestamp::Parse("2026-11-27T12:00:00Z").value());
  Endpoint endpoint{"https", "iam.amazonaws.com", "", "us-east-1"};
  AwsClient iam(kIam, endpoint, &provider, transport, clock, HttpTimeouts{111, 222});
  auto r = iam.Query("PutUserPolicy", "2010-05-08",
                     {{"UserName", "BedrockAPIKey-a b"}, {"PolicyDocument", "{\"a\":\"*\"}"}});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().find("top/secret"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(r.status().message().find("session-token-value"), std::string::npos);
  EXPECT_NE(r.status().message().find("<redacted>"), std::string::npos);
  const HttpRequest& sent = transport.last_;
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.host, "iam.amazonaws.com");
  EXPECT_EQ(sent.body,
            "Action=PutUserPolicy&Version=2010-05-08&UserName=BedrockAPIKey-a+b&"
            "PolicyDocument=%7B%22a%22%3A%22%2A%22%7D");
  EXPECT_EQ(transport.timeouts_.connect_ms, 111);
  EXPECT_EQ(transport.timeouts_.total_ms, 222);
  bool token = false;
  bool auth = false;
  for (const auto& [n, v] : sent.headers) {
    token |= n == "X-Amz-Security-Token" && v == "session-token-value";
    auth |= n == "Authorization" &&
            v.find("Credential=ASIAKEY/20261127/us-east-1/iam/aws4_request") != std::string::npos;
  }
  EXPECT_TRUE(token);
  EXPECT_TRUE(auth);
}

TEST(AwsClientTest, JsonTargetAndRestPaths) {
  OneReplyTransport transport(Reply(200, "{}"));
  StaticCredentialsProvider provider(Credentials{"AKIA", "s", "", {}, "t"});
  FixedClock clock(Timestamp::Parse("2026-11-27T12:00:00Z").value());
  AwsClient ssm(kSsm, Endpoint{"http", "127.0.0.1:1", "/prefix", "eu-west-1"}, &provider, transport,
                clock);
  ASSERT_TRUE(ssm.Json("AmazonSSM", "GetParametersByPath", "{}").ok());
  EXPECT_EQ(transport.last_.path, "/prefix/");
  bool target = false;
  for (const auto& [n, v] : transport.last_.headers) {
    target |= n == "X-Amz-Target" && v == "AmazonSSM.GetParametersByPath";
  }
  EXPECT_TRUE(target);
  AwsClient ses(kSesV2, Endpoint{"https", "email.eu-west-1.amazonaws.com", "", "eu-west-1"},
                &provider, transport, clock);
  ASSERT_TRUE(
      ses.Rest("SendEmail", "POST", "/v2/email/outbound-emails", {}, {}, "{}", Protocol::kRestJson)
          .ok());
  EXPECT_EQ(transport.last_.path, "/v2/email/outbound-emails");
  bool ses_scope = false;
  for (const auto& [n, v] : transport.last_.headers) {
    ses_scope |= n == "Authorization" && v.find("/eu-west-1/ses/aws4_request") != std::string::npos;
  }
  EXPECT_TRUE(ses_scope);
}

TEST(AwsClientTest, MissingCredentialsAreNotNotFound) {
  // An enforcer reads NotFound as "the user or policy is already gone"; having no credentials
  // must never look like that.
  OneReplyTransport transport(Reply(200, ""));
  MapEnvironment empty;
  auto chain = MakeEnvironmentProvider(empty);
  FixedClock clock(Timestamp::Parse("2026-11-27T12:00:00Z").value());
  AwsClient iam(kIam, Endpoint{"https", "iam.amazonaws.com", "", "us-east-1"}, chain.get(),
                transport, clock);
  auto r = iam.Query("DeleteUserPolicy", "2010-05-08", {});
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
  EXPECT_TRUE(transport.last_.host.empty());  // nothing was sent
}

TEST(AwsClientTest, RetryAfterOfARetryableReplyIsPassedOn) {
  StaticCredentialsProvider provider(Credentials{"AKIA", "s", "", {}, "t"});
  FixedClock clock(Timestamp::Parse("2026-11-27T12:00:00Z").value());
  const Endpoint endpoint{"https", "iam.amazonaws.com", "", "us-east-1"};
  const std::string throttled =
      "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
      "</ErrorResponse>";
  {
    OneReplyTransport transport(Reply(400, throttled, {{"retry-after", "3"}}));
    AwsClient iam(kIam, endpoint, &provider, transport, clock);
    const Status s = iam.Query("PutUserPolicy", "2010-05-08", {}).status();
    EXPECT_EQ(s.code(), Code::kResourceExhausted);
    EXPECT_TRUE(s.retryable());
    EXPECT_EQ(s.retry_after_ms(), 3000);
  }
  {  // An HTTP-date, against the client's clock.
    OneReplyTransport transport(Reply(503, "", {{"Retry-After", "Fri, 27 Nov 2026 12:00:45 GMT"}}));
    AwsClient iam(kIam, endpoint, &provider, transport, clock);
    const Status s = iam.Query("PutUserPolicy", "2010-05-08", {}).status();
    EXPECT_EQ(s.code(), Code::kUnavailable);
    EXPECT_EQ(s.retry_after_ms(), 45'000);
  }
  {  // Malformed: no hint, the normal backoff applies.
    OneReplyTransport transport(Reply(429, "", {{"Retry-After", "later"}}));
    AwsClient iam(kIam, endpoint, &provider, transport, clock);
    const Status s = iam.Query("PutUserPolicy", "2010-05-08", {}).status();
    EXPECT_TRUE(s.retryable());
    EXPECT_FALSE(s.retry_after_ms().has_value());
  }
  {  // A permanent error keeps no hint: it will not be retried.
    OneReplyTransport transport(Reply(403,
                                      "<ErrorResponse><Error><Code>AccessDenied</Code></Error>"
                                      "</ErrorResponse>",
                                      {{"Retry-After", "3"}}));
    AwsClient iam(kIam, endpoint, &provider, transport, clock);
    const Status s = iam.Query("PutUserPolicy", "2010-05-08", {}).status();
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_FALSE(s.retry_after_ms().has_value());
  }
}

TEST(XmlTest, ElementsTextAndEntities) {
  const std::string xml =
      "<?xml version=\"1.0\"?><!-- <Key>not this</Key> --><ListBucketResult>"
      "<Contents><Key>a&lt;b&gt;&amp;&#x1F6A8;&#65;</Key><Size>1</Size></Contents>"
      "<Contents><Key><![CDATA[c<d>]]></Key><Size attr=\"x>y\">2</Size></Contents>"
      "<Contents/><s:Key>prefixed</s:Key><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>";
  const auto contents = XmlElements(xml, "Contents");
  ASSERT_EQ(contents.size(), 3u);
  EXPECT_EQ(XmlText(contents[0], "Key"),
            "a<b>&\xF0\x9F\x9A\xA8"
            "A");
  EXPECT_EQ(XmlText(contents[1], "Key"), "c<d>");
  EXPECT_EQ(XmlText(contents[1], "Size"), "2");
  EXPECT_EQ(contents[2], "");
  EXPECT_EQ(XmlElements(xml, "Key").size(), 3u);  // the commented one is not counted
  EXPECT_EQ(XmlText(xml, "IsTruncated"), "false");
  EXPECT_EQ(XmlText(xml, "Missing"), std::nullopt);
  // Nested elements of the same name belong to the outer match.
  const auto nested = XmlElements("<a><a>x</a></a><a>y</a>", "a");
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested[0], "<a>x</a>");
  // Unterminated input yields nothing rather than a guess; bad entities are kept as text.
  EXPECT_TRUE(XmlElements("<a>open", "a").empty());
  EXPECT_EQ(XmlDecode("&bogus; &#0; &#xD800; &amp"), "&bogus; &#0; &#xD800; &amp");
  EXPECT_EQ(XmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace budgeteer::aws
