// CreateSigningUser: an IAM user in a moto_server with an allow-all policy and an access key,
// made with the three unauthenticated actions moto allows before it starts verifying SigV4
// (start the server with no_auth_actions >= 3). Every later request must be signed with the
// returned key. Shared by the tests that talk to moto.
#pragma once

#include <string>

#include "aws/credentials.h"
#include "aws/testing/moto_server.h"
#include "core/status.h"

namespace budgeteer::aws::testing {

Result<Credentials> CreateSigningUser(const MotoServer& moto,
                                      const std::string& user_name = "budgeteer-test");

// True when the moto tests must run (CI=true): a missing moto_server is then a failure, not a
// reason to skip.
bool MotoRequired();

}  // namespace budgeteer::aws::testing
