#include "actions/log/log_notifier.h"

#include <gtest/gtest.h>

#include <sstream>

#include "actions/testing/sample.h"

namespace budgeteer {
namespace {

TEST(LogNotifier, WritesOneLinePerAction) {
  std::ostringstream out;
  LogNotifier log(out);
  EXPECT_EQ(log.name(), "log");
  ASSERT_TRUE(log.Deliver(testing::SampleMessage()).ok());
  ActionMessage alert;
  alert.action_id = 7;
  alert.kind = "operator_alert";
  alert.event = "unpriced_model";
  alert.payload =
      R"({"model":"acme.x-v1","raw_model_id":"acme.x-v1:0","message":"no price\nfor it"})";
  ASSERT_TRUE(log.Deliver(alert).ok());
  const std::string text = out.str();
  EXPECT_EQ(text,
            "2026-01-31T12:00:00Z budgeteer action=42 kind=notify event=grace_period "
            "principal=123456789012/alice message=\"123456789012/alice is over budget: raise the "
            "limit <now> & retry.\"\n"
            "1970-01-01T00:00:00Z budgeteer action=7 kind=operator_alert event=unpriced_model "
            "principal=acme.x-v1 message=\"no price for it\"\n");
}

TEST(LogNotifier, NeverFailsOnBadPayloadOrBrokenStream) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  LogNotifier log(out);
  ActionMessage m;
  m.payload = "not json";
  EXPECT_TRUE(log.Deliver(m).ok());
  EXPECT_TRUE(log.Deliver(m).ok());
}

}  // namespace
}  // namespace budgeteer
