// Fuzzes the S3 and CloudWatch Logs pollers' persisted positions (read back from the ledger's
// meta at start-up: S3Checkpoint::Decode, LogsCheckpoint::Decode) and the S3 ListObjectsV2 reply
// reader (ParseListObjectsV2). Invariants: a decoded checkpoint encodes and decodes to the same
// checkpoint and the same text; a Compact never moves the floor backwards, covers a fully done
// listing and leaves no done key at or below the floor; ForgetDamaged leaves at most its limit,
// none found before its date; listed objects have keys.
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "sources/logs_poller.h"
#include "sources/s3_poller.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  using sources::LogsCheckpoint;
  using sources::S3Checkpoint;
  const std::string_view text = fuzz::AsText(data, size);

  auto s3 = S3Checkpoint::Decode(text);
  if (s3.ok()) {
    const std::string encoded = s3->Encode();
    auto again = S3Checkpoint::Decode(encoded);
    FUZZ_CHECK(again.ok(), again.status().message());
    FUZZ_CHECK(again->floor == s3->floor && again->done == s3->done, encoded);
    FUZZ_CHECK(again->damaged == s3->damaged, encoded);
    FUZZ_CHECK(again->Encode() == encoded, encoded);
    S3Checkpoint bounded = *s3;
    const size_t before = bounded.damaged.size();
    const std::vector<std::string> forgotten = bounded.ForgetDamaged(2, 0);
    FUZZ_CHECK(bounded.damaged.size() <= 2, encoded);
    FUZZ_CHECK(bounded.damaged.size() + forgotten.size() == before, encoded);
    for (const auto& [key, object] : bounded.damaged) FUZZ_CHECK(object.found_ms >= 0, key);
  }

  auto logs = LogsCheckpoint::Decode(text);
  if (logs.ok()) {
    const std::string encoded = logs->Encode();
    auto again = LogsCheckpoint::Decode(encoded);
    FUZZ_CHECK(again.ok(), again.status().message());
    FUZZ_CHECK(again->timestamp_ms == logs->timestamp_ms && again->ids_at_ts == logs->ids_at_ts,
               encoded);
    for (const auto& id : logs->ids_at_ts) {
      FUZZ_CHECK(logs->Covers(logs->timestamp_ms, id), id);
    }
  }

  std::string next_token;
  auto listed = sources::ParseListObjectsV2(text, next_token);
  if (listed.ok()) {
    S3Checkpoint checkpoint = s3.ok() ? *s3 : S3Checkpoint{};
    std::vector<sources::S3Object> above;
    for (const auto& object : *listed) {
      FUZZ_CHECK(!object.key.empty(), "an object without a key");
      if (object.key > checkpoint.floor) above.push_back(object);
    }
    std::sort(above.begin(), above.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    for (const auto& object : above) checkpoint.done[object.key] = object.last_modified_ms;
    const std::string before = checkpoint.floor;
    checkpoint.Compact(above, INT64_MAX);
    FUZZ_CHECK(checkpoint.floor >= before, "the floor moved backwards");
    // Every listed key is done and old enough: the floor covers them all, nothing stays at or
    // below it (a damaged checkpoint's stray keys below the floor are dropped too).
    if (!above.empty()) FUZZ_CHECK(checkpoint.floor == above.back().key, checkpoint.Encode());
    for (const auto& [key, ms] : checkpoint.done) {
      FUZZ_CHECK(key > checkpoint.floor, "a done key at or below the floor after Compact");
    }
    auto reread = S3Checkpoint::Decode(checkpoint.Encode());
    FUZZ_CHECK(reread.ok() && reread->floor == checkpoint.floor, checkpoint.Encode());
  }
  return 0;
}
