// SigV4 against AWS's published examples (the SigV4 test suite and the S3 API reference
// examples), and against botocore's signer on the same requests.
#include "aws/sigv4.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/json_writer.h"

namespace budgeteer::aws {
namespace {

constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Timestamp At(const char* rfc3339) { return Timestamp::Parse(rfc3339).value(); }

// --- The SigV4 test suite: AKIDEXAMPLE, us-east-1, service "service", 2015-08-30T12:36:00Z.

Credentials Suite() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""};
}

struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;
  std::vector<QueryParam> query;
  std::vector<Header> headers;
  const char* signature;
  const char* canonical_request = nullptr;  // checked when the suite states it here
  const char* string_to_sign = nullptr;
};

SigningDetails SignSuite(const SuiteCase& c, const Credentials& creds = Suite(),
                         std::string body = "", bool content_sha_header = false) {
  HttpRequest r;
  r.method = c.method;
  r.host = "example.amazonaws.com";
  r.path = c.path;
  r.query = c.query;
  r.headers = c.headers;
  r.body = std::move(body);
  SigningOptions o = OptionsForService("service", "us-east-1");
  o.add_content_sha256_header = content_sha_header;
  auto d = SignRequest(r, creds, o, At("2015-08-30T12:36:00Z"));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : SigningDetails{};
}

std::string SuiteAuthorization(const SigningDetails& d) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         d.signed_headers + ", Signature=" + d.signature;
}

TEST(SigV4Suite, PublishedCases) {
  const std::vector<SuiteCase> cases = {
      {"get-vanilla",
       "GET",
       "/",
       {},
       {},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
       "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
       "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/",
       {{"Param2", "value2"}, {"Param1", "value1"}},
       {},
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
       "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
       "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
       "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"},
      {"get-vanilla-query-order-encoded",
       "GET",
       "/",
       {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}},
       {},
       "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
       "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\n"
       "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"get-vanilla-query-unreserved",
       "GET",
       "/",
       {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
         "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
       {},
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query",
       "GET",
       "/",
       {{"\xE1\x88\xB4", "bar"}},
       {},
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved",
       "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {},
       {},
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8",
       "GET",
       "/\xE1\x88\xB4",
       {},
       {},
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
       "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
       "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"get-header-key-duplicate",
       "GET",
       "/",
       {},
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       "GET",
       "/",
       {},
       {{"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       "GET",
       "/",
       {},
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
       "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
       "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"post-vanilla",
       "POST",
       "/",
       {},
       {},
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query",
       "POST",
       "/",
       {{"Param1", "value1"}},
       {},
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-header-value-case",
       "POST",
       "/",
       {},
       {{"My-Header1", "VALUE1"}},
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      // normalize-path: every service but S3 signs the normalised path, encoded twice.
      {"normalize-path/get-relative",
       "GET",
       "/example/..",
       {},
       {},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"normalize-path/get-relative-relative",
       "GET",
       "/example1/example2/../..",
       {},
       {},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"normalize-path/get-slash-dot-slash",
       "GET",
       "/./",
       {},
       {},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"normalize-path/get-slashes",
       "GET",
       "//example//",
       {},
       {},
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"normalize-path/get-space",
       "GET",
       "/example space/",
       {},
       {},
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"normalize-path/get-special-character",
       "GET",
       "/example/$delete",
       {},
       {},
       "a853c9b21b528b19643d00910d35b83a10c366a10833ceefb45edd6c80e40f27"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const SigningDetails d = SignSuite(c);
    EXPECT_EQ(d.signature, c.signature);
    if (c.canonical_request != nullptr) {
      EXPECT_EQ(d.canonical_request, c.canonical_request);
    }
    if (c.string_to_sign != nullptr) {
      EXPECT_EQ(d.string_to_sign, c.string_to_sign);
    }
    EXPECT_EQ(d.authorization, SuiteAuthorization(d));
  }
}

TEST(SigV4Suite, PostFormWithContentSha256Header) {
  // post-x-www-form-urlencoded as aws-c-auth's copy of the suite signs it: the payload hash
  // is stated in a signed x-amz-content-sha256 header.
  const SuiteCase c{
      "post-x-www-form-urlencoded",
      "POST",
      "/",
      {},
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"}},
      "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"};
  const SigningDetails d = SignSuite(c, Suite(), "Param1=value1", /*content_sha_header=*/true);
  EXPECT_EQ(d.canonical_request,
            "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\n"
            "x-amz-content-sha256:"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
            "x-amz-date:20150830T123600Z\n\n"
            "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(d.signature, c.signature);
}

TEST(SigV4Suite, SessionTokenIsSigned) {
  Credentials creds = Suite();
  creds.session_token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"
      "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"
      "DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
      "scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  const SuiteCase post{"post-sts-header-before",
                       "POST",
                       "/",
                       {},
                       {},
                       "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"};
  const SigningDetails d = SignSuite(post, creds);
  EXPECT_EQ(d.signature, post.signature);
  EXPECT_EQ(d.signed_headers, "host;x-amz-date;x-amz-security-token");

  creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  const SuiteCase get{"get-vanilla-with-session-token",
                      "GET",
                      "/",
                      {},
                      {},
                      "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"};
  EXPECT_EQ(SignSuite(get, creds).signature, get.signature);
}

TEST(SigV4, SignRequestSetsTheHeadersItSigned) {
  HttpRequest r;
  r.method = "GET";
  r.host = "example.amazonaws.com";
  Credentials creds = Suite();
  creds.session_token = "token";
  ASSERT_TRUE(
      SignRequest(r, creds, OptionsForService("service", "us-east-1"), At("2015-08-30T12:36:00Z"))
          .ok());
  auto find = [&](std::string_view name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return std::string("<absent>");
  };
  EXPECT_EQ(find("Host"), "example.amazonaws.com");
  EXPECT_EQ(find("X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(find("X-Amz-Security-Token"), "token");
  EXPECT_EQ(find("x-amz-content-sha256"), "<absent>");
  EXPECT_TRUE(find("Authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  // Signing again replaces the date and the authorization rather than adding more.
  ASSERT_TRUE(
      SignRequest(r, creds, OptionsForService("service", "us-east-1"), At("2015-08-30T12:37:00Z"))
          .ok());
  EXPECT_EQ(find("X-Amz-Date"), "20150830T123700Z");
  EXPECT_EQ(std::count_if(r.headers.begin(), r.headers.end(),
                          [](const Header& h) { return h.first == "Authorization"; }),
            1);
}

TEST(SigV4, RefusesMissingInputs) {
  HttpRequest r;
  r.host = "example.amazonaws.com";
  const auto o = OptionsForService("service", "us-east-1");
  EXPECT_EQ(SignRequest(r, Credentials{}, o, At("2015-08-30T12:36:00Z")).status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(SignRequest(r, Suite(), OptionsForService("service", ""), At("2015-08-30T12:36:00Z"))
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PresignRequest(r, Suite(), o, At("2015-08-30T12:36:00Z"), 604801).status().code(),
            Code::kInvalidArgument);
}

TEST(SigV4, PathRules) {
  EXPECT_EQ(NormalizePath("/a/./b/../c/"), "/a/c/");
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("/.."), "/");
  const auto s3 = OptionsForService("s3", "us-east-1");
  const auto other = OptionsForService("sns", "us-east-1");
  // S3 signs the wire path as it is; others normalise it and encode it again.
  EXPECT_EQ(CanonicalUri("/bucket/a%20b//c/../d", s3), "/bucket/a%20b//c/../d");
  EXPECT_EQ(CanonicalUri("/a%20b//c/../d", other), "/a%2520b/d");
  EXPECT_EQ(AmzDate(At("2026-01-02T03:04:05Z")), "20260102T030405Z");
}

// --- The S3 API reference examples: AKIAIOSFODNN7EXAMPLE, examplebucket, 2013-05-24.

Credentials S3Keys() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", {}, ""};
}

SigningDetails SignS3(HttpRequest r) {
  r.host = "examplebucket.s3.amazonaws.com";
  auto d =
      SignRequest(r, S3Keys(), OptionsForService("s3", "us-east-1"), At("2013-05-24T00:00:00Z"));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : SigningDetails{};
}

TEST(SigV4S3, GetObjectWithRange) {
  HttpRequest r;
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  const SigningDetails d = SignS3(r);
  EXPECT_EQ(d.canonical_request,
            std::string("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                        "x-amz-content-sha256:") +
                kEmptyHash + "\nx-amz-date:20130524T000000Z\n\n" +
                "host;range;x-amz-content-sha256;x-amz-date\n" + kEmptyHash);
  EXPECT_EQ(d.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(d.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3, PutObject) {
  HttpRequest r;
  r.method = "PUT";
  r.path = "/test%24file.text";  // the key "test$file.text", encoded once on the wire
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.body = "Welcome to Amazon S3.";
  const SigningDetails d = SignS3(r);
  EXPECT_NE(
      d.canonical_request.find("x-amz-content-sha256:"
                               "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
      std::string::npos);
  EXPECT_EQ(d.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3, GetBucketLifecycleAndList) {
  HttpRequest lifecycle;
  lifecycle.query = {{"lifecycle", ""}};
  EXPECT_EQ(SignS3(lifecycle).signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  HttpRequest list;
  list.query = {{"max-keys", "2"}, {"prefix", "J"}};
  EXPECT_EQ(SignS3(list).signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3, UnsignedPayloadIsStatedAndSigned) {
  HttpRequest r;
  r.method = "PUT";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/big.gz";
  r.body = "whatever";
  SigningOptions o = OptionsForService("s3", "us-east-1");
  o.unsigned_payload = true;
  auto d = SignRequest(r, S3Keys(), o, At("2013-05-24T00:00:00Z"));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  EXPECT_NE(d->canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n"),
            std::string::npos);
}

TEST(SigV4S3, PresignedGetObject) {
  HttpRequest r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  auto d = PresignRequest(r, S3Keys(), OptionsForService("s3", "us-east-1"),
                          At("2013-05-24T00:00:00Z"), 86400);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->canonical_request,
            "GET\n/test.txt\n"
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\n"
            "UNSIGNED-PAYLOAD");
  EXPECT_EQ(d->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(RequestUrl(r),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
            "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(RedactedUrl(r), "https://examplebucket.s3.amazonaws.com/test.txt");
}

// --- botocore as an independent oracle: the same request, time and keys must give the same
// Authorization header.

bool HaveBotocore() {
  return std::system("python3 -c 'import botocore.auth' >/dev/null 2>&1") == 0;
}

struct BotocoreCase {
  HttpRequest signed_request;
  Credentials creds;
  SigningOptions options;
};

// Runs botocore's SigV4Auth (S3SigV4Auth for S3) once over all cases, on each signed request's
// headers, and returns its Authorization headers in order (one python start, not one per case).
std::vector<std::string> BotocoreAuthorizations(const std::vector<BotocoreCase>& cases,
                                                Timestamp now) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& c : cases) {
    const HttpRequest& r = c.signed_request;
    w.BeginObject()
        .Field("method", r.method)
        .Field("url", RequestUrl(r))
        .Field("body_hex", HexEncode(r.body))
        .Field("ak", c.creds.access_key_id)
        .Field("sk", c.creds.secret_access_key)
        .Field("token", c.creds.session_token)
        .Field("region", c.options.region)
        .Field("service", c.options.service)
        .Field("ts", AmzDate(now));
    w.Key("headers").BeginArray();
    for (const auto& [n, v] : r.headers) {
      if (n == "Authorization" || n == "X-Amz-Security-Token") continue;  // botocore adds these
      w.BeginArray().String(n).String(v).EndArray();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("sigv4_botocore_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
       std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "req.json") << w.str();
  std::ofstream(dir / "sign.py")
      << "import json, sys\n"
         "from botocore.auth import SigV4Auth, S3SigV4Auth\n"
         "from botocore.awsrequest import AWSRequest\n"
         "from botocore.credentials import Credentials\n"
         "for q in json.load(open(sys.argv[1])):\n"
         "    creds = Credentials(q['ak'], q['sk'], q['token'] or None)\n"
         "    req = AWSRequest(method=q['method'], url=q['url'], "
         "data=bytes.fromhex(q['body_hex']))\n"
         "    for n, v in q['headers']:\n"
         "        req.headers[n] = v\n"
         "    if q['token']:\n"
         "        req.headers['X-Amz-Security-Token'] = q['token']\n"
         "    req.context['timestamp'] = q['ts']\n"
         "    cls = S3SigV4Auth if q['service'] == 's3' else SigV4Auth\n"
         "    auth = cls(creds, q['service'], q['region'])\n"
         "    sig = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)\n"
         "    hl = auth.signed_headers(auth.headers_to_sign(req))\n"
         "    scope = auth.credential_scope(req)\n"
         "    print(f'AWS4-HMAC-SHA256 Credential={q[\"ak\"]}/{scope}, SignedHeaders={hl}, "
         "Signature={sig}')\n";
  const std::string cmd =
      "python3 " + (dir / "sign.py").string() + " " + (dir / "req.json").string();
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[512];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  std::filesystem::remove_all(dir);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
    lines.push_back(out.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

TEST(SigV4Botocore, SameAuthorizationAsBotocore) {
  if (!HaveBotocore())
    GTEST_SKIP() << "python3 with botocore is not installed: cross-check skipped";
  const Timestamp now = At("2026-11-27T16:20:05Z");
  Credentials creds{"AKIAEXAMPLEKEY123456", "secret/with+chars=", "", {}, ""};
  Credentials temp = creds;
  temp.session_token = "FQoGZXIvYXdzEXAMPLE//token+=";

  struct Case {
    const char* name;
    HttpRequest request;
    SigningOptions options;
    const Credentials* creds;
  };
  HttpRequest iam;
  iam.method = "POST";
  iam.host = "iam.amazonaws.com";
  iam.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  iam.body = "Action=GetUser&UserName=BedrockAPIKey-a%2Bb&Version=2010-05-08";
  HttpRequest ssm;
  ssm.method = "POST";
  ssm.host = "ssm.eu-west-1.amazonaws.com";
  ssm.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "AmazonSSM.GetParametersByPath"}};
  ssm.body = R"({"Path":"/bedrock-budgeteer/global","Recursive":true})";
  HttpRequest s3put;
  s3put.method = "PUT";
  s3put.host = "127.0.0.1:5000";
  s3put.scheme = "http";
  s3put.path = "/bucket/" + UriEncode("AWSLogs/1/hour 01/ሴ+x.json.gz", true);
  s3put.body = std::string("\x1f\x8b binary", 9);
  HttpRequest s3list;
  s3list.host = "bucket.s3.us-west-2.amazonaws.com";
  s3list.query = {{"list-type", "2"}, {"prefix", "AWSLogs/111122223333/a b"}, {"max-keys", "5"}};
  HttpRequest logs_query;
  logs_query.host = "logs.us-east-1.amazonaws.com";
  logs_query.path = "/a/../b//c";
  logs_query.query = {{"z", "1"}, {"a", "x y/z"}, {"a", "b"}};

  SigningOptions unsigned_s3 = OptionsForService("s3", "us-east-1");
  unsigned_s3.unsigned_payload = true;
  const std::vector<Case> cases = {
      {"iam query", iam, OptionsForService("iam", "us-east-1"), &creds},
      {"iam query, temporary credentials", iam, OptionsForService("iam", "us-east-1"), &temp},
      {"ssm json", ssm, OptionsForService("ssm", "eu-west-1"), &temp},
      {"s3 put, odd key", s3put, OptionsForService("s3", "us-east-1"), &creds},
      {"s3 list", s3list, OptionsForService("s3", "us-west-2"), &temp},
      {"s3 put, UNSIGNED-PAYLOAD", s3put, unsigned_s3, &temp},
      {"unnormalised path, repeated query names", logs_query,
       OptionsForService("logs", "us-east-1"), &creds},
  };
  std::vector<BotocoreCase> signed_cases;
  for (const auto& c : cases) {
    HttpRequest r = c.request;
    auto d = SignRequest(r, *c.creds, c.options, now);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    signed_cases.push_back({r, *c.creds, c.options});
  }
  const std::vector<std::string> theirs = BotocoreAuthorizations(signed_cases, now);
  ASSERT_EQ(theirs.size(), cases.size()) << "botocore did not sign every case";
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const auto& headers = signed_cases[i].signed_request.headers;
    const auto ours = std::find_if(headers.begin(), headers.end(),
                                   [](const Header& h) { return h.first == "Authorization"; });
    ASSERT_NE(ours, headers.end());
    EXPECT_EQ(ours->second, theirs[i]);
  }
}

}  // namespace
}  // namespace budgeteer::aws
