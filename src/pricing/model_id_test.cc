#include <gtest/gtest.h>

#include <string>

#include "pricing/pricing.h"

namespace budgeteer {
namespace {

struct NormalizeCase {
  const char* raw;
  const char* canonical;
  Routing routing;
  const char* geo_prefix;
};

TEST(NormalizeModelIdTest, EveryIdForm) {
  const NormalizeCase cases[] = {
      // Plain ids, with and without the version suffix.
      {"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1",
       Routing::kInRegion, ""},
      {"anthropic.claude-3-haiku-20240307-v1", "anthropic.claude-3-haiku-20240307-v1",
       Routing::kInRegion, ""},
      {"anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-sonnet-20241022-v2",
       Routing::kInRegion, ""},
      {"mistral.mistral-7b-instruct-v0:2", "mistral.mistral-7b-instruct-v0", Routing::kInRegion,
       ""},
      {"cohere.embed-english-v3", "cohere.embed-english-v3", Routing::kInRegion, ""},
      // Provisioned-throughput context variants price as the base model.
      {"anthropic.claude-3-haiku-20240307-v1:0:48k", "anthropic.claude-3-haiku-20240307-v1",
       Routing::kInRegion, ""},
      {"anthropic.claude-3-sonnet-20240229-v1:0:28k", "anthropic.claude-3-sonnet-20240229-v1",
       Routing::kInRegion, ""},
      {"anthropic.claude-v2:1:200k", "anthropic.claude-v2", Routing::kInRegion, ""},
      {"amazon.titan-text-express-v1:0:8k", "amazon.titan-text-express-v1", Routing::kInRegion, ""},
      {"cohere.embed-english-v3:0:512", "cohere.embed-english-v3", Routing::kInRegion, ""},
      // Geo and global cross-region profile ids.
      {"us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-20250514-v1",
       Routing::kGeo, "us"},
      {"eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic.claude-3-7-sonnet-20250219-v1",
       Routing::kGeo, "eu"},
      {"apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1", Routing::kGeo, "apac"},
      {"jp.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1",
       Routing::kGeo, "jp"},
      {"au.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1",
       Routing::kGeo, "au"},
      {"ca.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1",
       Routing::kGeo, "ca"},
      {"us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0",
       "anthropic.claude-3-5-sonnet-20240620-v1", Routing::kGeo, "us-gov"},
      {"global.anthropic.claude-sonnet-4-5-20250929-v1:0",
       "anthropic.claude-sonnet-4-5-20250929-v1", Routing::kGlobal, "global"},
      // Foundation-model ARNs (any partition and region).
      {"arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-8b-instruct-v1:0",
       "meta.llama3-8b-instruct-v1", Routing::kInRegion, ""},
      {"arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.titan-embed-text-v2:0",
       "amazon.titan-embed-text-v2", Routing::kInRegion, ""},
      // System inference-profile ARNs.
      {"arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
       "us.anthropic.claude-sonnet-4-20250514-v1:0",
       "anthropic.claude-sonnet-4-20250514-v1", Routing::kGeo, "us"},
      {"arn:aws:bedrock:eu-west-1:111122223333:inference-profile/"
       "global.anthropic.claude-opus-4-5-20251101-v1:0",
       "anthropic.claude-opus-4-5-20251101-v1", Routing::kGlobal, "global"},
      // Not resolvable offline: returned unchanged.
      {"arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6",
       "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6",
       Routing::kInRegion, ""},
      {"arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abcdef123456",
       "arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abcdef123456", Routing::kInRegion,
       ""},
      {"arn:aws:sagemaker:us-east-1:111122223333:endpoint/my-endpoint",
       "arn:aws:sagemaker:us-east-1:111122223333:endpoint/my-endpoint", Routing::kInRegion, ""},
      // Odd input stays odd (and will be unpriced), never crashes.
      {"", "", Routing::kInRegion, ""},
      {"us.", "", Routing::kGeo, "us"},
      {"model:", "model:", Routing::kInRegion, ""},
      {"usa.model-v1:0", "usa.model-v1", Routing::kInRegion, ""},
  };
  for (const NormalizeCase& c : cases) {
    const NormalizedModel n = NormalizeModelId(c.raw);
    EXPECT_EQ(n.canonical.str(), c.canonical) << c.raw;
    EXPECT_EQ(n.routing, c.routing) << c.raw;
    EXPECT_EQ(n.geo_prefix, c.geo_prefix) << c.raw;

    const NormalizedModelView v = NormalizeModelIdView(c.raw);
    EXPECT_EQ(v.canonical, c.canonical) << c.raw;
    EXPECT_EQ(v.routing, c.routing) << c.raw;
    EXPECT_EQ(v.geo_prefix, c.geo_prefix) << c.raw;
  }
}

TEST(NormalizeModelIdTest, ViewPointsIntoTheRawId) {
  const std::string raw = "global.anthropic.claude-haiku-4-5-20251001-v1:0";
  const NormalizedModelView v = NormalizeModelIdView(raw);
  EXPECT_EQ(v.canonical.data(), raw.data() + 7);
  EXPECT_EQ(v.geo_prefix.data(), raw.data());
}

TEST(NormalizeModelIdTest, IsIdempotent) {
  for (const char* raw :
       {"us.anthropic.claude-sonnet-4-20250514-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/deepseek.r1-v1:0", "amazon.nova-micro-v1:0"}) {
    const NormalizedModel once = NormalizeModelId(raw);
    const NormalizedModel twice = NormalizeModelId(once.canonical.str());
    EXPECT_EQ(once.canonical, twice.canonical) << raw;
    EXPECT_EQ(twice.routing, Routing::kInRegion) << raw;
  }
}

TEST(NormalizeModelIdTest, RoutingNames) {
  EXPECT_EQ(RoutingName(Routing::kInRegion), "in_region");
  EXPECT_EQ(RoutingName(Routing::kGeo), "geo");
  EXPECT_EQ(RoutingName(Routing::kGlobal), "global");
}

}  // namespace
}  // namespace budgeteer
