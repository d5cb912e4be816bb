// Clock: the only way components learn the time. Production uses SystemClock; tests and the
// CLI's --now use FixedClock. SystemClock and FixedClock are thread-safe for Now().
#pragma once

#include <atomic>
#include <chrono>

#include "core/time.h"

namespace budgeteer {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return Timestamp::FromUnixMillis(
        std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  }
};

// A clock that moves only when told to.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp t) : ms_(t.unix_millis()) {}
  Timestamp Now() const override { return Timestamp::FromUnixMillis(ms_.load()); }
  void Set(Timestamp t) { ms_.store(t.unix_millis()); }
  void Advance(int64_t seconds) { ms_.fetch_add(seconds * 1000); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace budgeteer
