// The demo traffic replay of `budgeteer serve --demo` (what `make run` starts): synthetic
// Bedrock invocation-log records, stamped with the current time, applied through the engine
// so a newcomer watches a demo key go from warning to grace period to suspension within about
// two minutes. Clearly labelled: every demo record's requestId starts with "demo-" and its
// callers are in account 000000000000. Runs on its own thread until stopped.
#pragma once

#include <atomic>
#include <mutex>

#include "core/clock.h"
#include "engine/engine.h"

namespace budgeteer::cli {

class DemoTraffic {
 public:
  DemoTraffic(Engine& engine, std::mutex& engine_mu, const Clock& clock)
      : engine_(engine), engine_mu_(engine_mu), clock_(clock) {}

  // Applies one round of demo records (called every couple of seconds). Once the demo key is
  // suspended it stops calling (as a denied key would); the background traffic goes on.
  void Step(int round);

 private:
  Engine& engine_;
  std::mutex& engine_mu_;
  const Clock& clock_;
};

}  // namespace budgeteer::cli
