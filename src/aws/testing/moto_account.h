// What every test that talks to moto needs. CreateSigningUser: an IAM user in a moto_server
// with an allow-all policy and an access key, made with the three unauthenticated actions moto
// allows before it starts verifying SigV4 (start the server with no_auth_actions >= 3); every
// later request must be signed with the returned key. MotoAccount: a fresh server with such a
// user, a transport, an environment pointing at it, and signed clients for any service.
// BUDGETEER_SKIP_WITHOUT_MOTO: the skip-or-fail rule when moto_server is missing.
// Not thread-safe; one per test.
#pragma once

#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "aws/testing/moto_server.h"
#include "core/clock.h"
#include "core/status.h"

// In a test (or its fixture's SetUp): skips it when moto_server is not on PATH, or fails it
// when the moto tests must run (CI=true).
#define BUDGETEER_SKIP_WITHOUT_MOTO()                                                  \
  do {                                                                                 \
    if (!::budgeteer::aws::testing::MotoServer::Available()) {                         \
      if (::budgeteer::aws::testing::MotoRequired()) {                                 \
        FAIL() << "moto_server is not on PATH, and CI=true requires this test to run"; \
      }                                                                                \
      GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]')";       \
    }                                                                                  \
  } while (false)

namespace budgeteer::aws::testing {

Result<Credentials> CreateSigningUser(const MotoServer& moto,
                                      const std::string& user_name = "budgeteer-test");

// True when the moto tests must run (CI=true): a missing moto_server is then a failure, not a
// reason to skip.
bool MotoRequired();

class MotoAccount {
 public:
  // Starts moto_server and creates the signing user `user_name` with three of its
  // `no_auth_actions` unauthenticated requests; signatures are verified after those.
  static Result<std::unique_ptr<MotoAccount>> Start(const std::string& user_name,
                                                    int no_auth_actions = 3);

  MotoServer& server() { return *server_; }
  std::string url() const { return server_->url(); }
  // The signing user's keys, and a provider of them.
  const Credentials& keys() const { return keys_; }
  CredentialsProvider* credentials() { return &credentials_; }
  HttpTransport& transport() { return *transport_; }
  // AWS_ENDPOINT_URL, AWS_REGION (us-east-1) and the signing user's keys; tests may change it.
  MapEnvironment& env() { return env_; }
  const Clock& clock() const { return clock_; }

  // A client for `service` at moto, signing with `credentials` (the signing user when null).
  AwsClient Client(const ServiceSpec& service, CredentialsProvider* credentials = nullptr);

  // moto's recorded state of every backend (/moto-api/data.json: sent messages, ...) as JSON
  // text; empty when it cannot be read.
  std::string Data();

  // Points child processes (`budgeteer serve`) at moto with the signing user's keys through
  // the process environment, and hides the machine's own AWS config, profile and session.
  void ExportToChildProcesses() const;

 private:
  MotoAccount(std::unique_ptr<MotoServer> server, std::unique_ptr<HttpTransport> transport,
              Credentials keys);

  std::unique_ptr<MotoServer> server_;
  std::unique_ptr<HttpTransport> transport_;
  Credentials keys_;
  StaticCredentialsProvider credentials_;
  MapEnvironment env_;
  SystemClock clock_;
};

}  // namespace budgeteer::aws::testing
