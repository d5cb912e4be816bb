// Test helper: a sample notification payload shaped like engine/events.cc writes it.
// Pure; thread-safe.
#pragma once

#include <string>

#include "actions/notifier.h"

namespace budgeteer::testing {

inline std::string SamplePayload(const std::string& event = "grace_period",
                                 const std::string& owner_email = "alice@example.com") {
  return std::string(R"({"event":")") + event +
         R"(","previous_status":"critical","trigger":"usage","actor":"engine",)"
         R"("at":"2026-01-31T12:00:00Z","principal":"alice","account":"123456789012",)"
         R"("qualified":"123456789012/alice","kind":"iam_user","limit_usd":100,)"
         R"("spent_usd":100.456789,"percent":100.45,"status":")" +
         event +
         R"(","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z",)"
         R"("grace_deadline":"2026-01-31T13:00:00Z","warn_percent":80,"critical_percent":95,)"
         R"("grace_seconds":3600,"period":"monthly","manual_suspension":false,)"
         R"("exempt_until":null,"owner_email":")" +
         owner_email +
         R"(","message":"123456789012/alice is over budget: raise the limit <now> & retry."})";
}

inline ActionMessage SampleMessage(const std::string& kind = "notify",
                                   const std::string& event = "grace_period") {
  ActionMessage m;
  m.action_id = 42;
  m.kind = kind;
  m.event = event;
  m.payload = SamplePayload(event);
  m.now = Timestamp::FromUnixSeconds(1'769'860'800);  // 2026-01-31T12:00:00Z
  return m;
}

}  // namespace budgeteer::testing
