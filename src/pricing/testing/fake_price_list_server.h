// Test helper: a fake AWS Price List Query API endpoint on loopback (cpp-httplib, port 0)
// that serves paginated GetProducts replies from src/pricing/testdata/getproducts-<code>-<n>
// .json and checks every request's SigV4 signature by recomputing it with our signer from the
// known test secret. A request signed otherwise gets 403 InvalidSignatureException, as AWS
// answers. moto does not emulate the Pricing API, hence this fake. Thread-safe: the server
// thread records, the test thread reads.
#pragma once

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aws/json_fields.h"
#include "aws/sigv4.h"
#include "core/time.h"

namespace budgeteer::testing {

inline constexpr const char* kPricingAccessKey = "AKIDPRICINGTEST";
inline constexpr const char* kPricingSecret = "pricing-test-secret-key";

inline std::string PricingFixture(const std::string& name) {
  return std::string(BUDGETEER_SOURCE_DIR) + "/src/pricing/testdata/" + name;
}

inline std::optional<std::string> ReadFixtureText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "20261127T120000Z" -> the Timestamp it names.
inline std::optional<Timestamp> ParseAmzDate(const std::string& d) {
  if (d.size() != 16) return std::nullopt;
  const std::string rfc = d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + "T" +
                          d.substr(9, 2) + ":" + d.substr(11, 2) + ":" + d.substr(13, 2) + "Z";
  Result<Timestamp> t = Timestamp::Parse(rfc);
  return t.ok() ? std::optional(*t) : std::nullopt;
}

inline std::string Between(const std::string& s, const std::string& from, char to) {
  const size_t at = s.find(from);
  if (at == std::string::npos) return "";
  const size_t start = at + from.size();
  return s.substr(start, s.find(to, start) - start);
}

class FakePriceListServer {
 public:
  FakePriceListServer() {
    server_.Post("/",
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    server_.set_keep_alive_timeout(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakePriceListServer() {
    server_.stop();
    thread_.join();
  }
  FakePriceListServer(const FakePriceListServer&) = delete;
  FakePriceListServer& operator=(const FakePriceListServer&) = delete;

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int accepted() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  int rejected() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return rejected_;
  }
  std::vector<std::string> pages_served() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return pages_;
  }

 private:
  // Recomputes the Authorization header from what arrived: the signed headers as received,
  // the body, and the time the request states; our signer with the known secret must agree.
  bool SignatureValid(const httplib::Request& req) const {
    const std::string auth = req.get_header_value("Authorization");
    const std::string credential = Between(auth, "Credential=", ',');
    const std::string signed_headers = Between(auth, "SignedHeaders=", ',');
    if (credential.rfind(std::string(kPricingAccessKey) + "/", 0) != 0) return false;
    if (credential.find("/us-east-1/pricing/aws4_request") == std::string::npos) return false;
    const std::optional<Timestamp> when = ParseAmzDate(req.get_header_value("X-Amz-Date"));
    if (!when) return false;
    aws::HttpRequest copy;
    copy.method = req.method;
    copy.scheme = "http";
    copy.host = req.get_header_value("Host");
    copy.path = req.path;
    copy.body = req.body;
    std::stringstream names(signed_headers);
    for (std::string name; std::getline(names, name, ';');) {
      copy.headers.emplace_back(name, req.get_header_value(name));
    }
    aws::Credentials credentials;
    credentials.access_key_id = kPricingAccessKey;
    credentials.secret_access_key = kPricingSecret;
    Result<aws::SigningDetails> expected =
        aws::SignRequest(copy, credentials, aws::OptionsForService("pricing", "us-east-1"), *when);
    return expected.ok() && expected->authorization == auth;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    const auto reply = [&](int status, const std::string& body) {
      res.status = status;
      res.set_content(body, "application/x-amz-json-1.1");
    };
    if (!SignatureValid(req)) {
      const std::lock_guard<std::mutex> lock(mu_);
      ++rejected_;
      reply(403, R"({"__type":"InvalidSignatureException","message":"The request signature we )"
                 R"(calculated does not match the signature you provided."})");
      return;
    }
    if (req.get_header_value("X-Amz-Target") != "AWSPriceListService.GetProducts") {
      reply(400, R"({"__type":"UnknownOperationException"})");
      return;
    }
    const std::string code = aws::JsonStringField(req.body, "ServiceCode").value_or("");
    const std::string token = aws::JsonStringField(req.body, "NextToken").value_or("");
    std::string page = "1";
    if (!token.empty()) {
      const std::string prefix = code + "-token-";
      if (token.rfind(prefix, 0) != 0) {
        reply(400, R"({"__type":"InvalidNextTokenException","message":"bad token"})");
        return;
      }
      page = token.substr(prefix.size());
    }
    const std::string name = "getproducts-" + code + "-" + page + ".json";
    const std::optional<std::string> body = ReadFixtureText(PricingFixture(name));
    if (!body) {
      reply(400, R"({"__type":"NotFoundException","message":"no such service code"})");
      return;
    }
    {
      const std::lock_guard<std::mutex> lock(mu_);
      ++accepted_;
      pages_.push_back(name);
    }
    reply(200, *body);
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  int accepted_ = 0;
  int rejected_ = 0;
  std::vector<std::string> pages_;
};

}  // namespace budgeteer::testing
