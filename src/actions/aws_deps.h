// What the AWS-backed channels (iam/, sns/, ses/) need to build their clients: where settings
// come from, who signs, how requests travel, and the time. The composition root owns all of
// them; they must outlive every channel built from them. Each channel gets its own: the
// dispatcher delivers on all channels at once, and the transport is not thread-safe.
#pragma once

#include <string>

#include "aws/credentials.h"
#include "aws/environment.h"
#include "aws/http.h"
#include "core/clock.h"

namespace budgeteer {

struct AwsDeps {
  const aws::Environment* env = nullptr;            // endpoint overrides, shared config file
  aws::CredentialsProvider* credentials = nullptr;  // the standard chain, cached
  aws::HttpTransport* transport = nullptr;
  const Clock* clock = nullptr;
  std::string region;  // [aws] region, else AWS_REGION / AWS_DEFAULT_REGION / the profile's
  aws::HttpTimeouts timeouts;
};

}  // namespace budgeteer
