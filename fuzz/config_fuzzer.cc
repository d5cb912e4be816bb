// Fuzzes the configuration: ParseConfig (TOML through toml++, then every key's validation) with
// environment overrides. Input: TOML text, then optionally a line "#ENV" followed by
// NAME=VALUE lines that act as the process environment. Invariants: no exception escapes; an
// accepted config satisfies every documented bound (thresholds ordered, budget defaults valid,
// de-duplication window at least 48 h, positive limits), and parsing is deterministic.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  std::string_view text = fuzz::AsText(data, size);
  std::map<std::string, std::string, std::less<>> vars;
  const size_t env_at = text.find("#ENV\n");
  if (env_at != std::string_view::npos) {
    std::string_view rest = text.substr(env_at + 5);
    text = text.substr(0, env_at);
    while (!rest.empty()) {
      const size_t eol = rest.find('\n');
      const std::string_view line = rest.substr(0, eol);
      const size_t eq = line.find('=');
      if (eq != std::string_view::npos) {
        vars[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      }
      if (eol == std::string_view::npos) break;
      rest.remove_prefix(eol + 1);
    }
  }
  const EnvLookup env = [&vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };

  auto config = ParseConfig(text, "fuzz.toml", env);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == Code::kInvalidArgument, config.status().message());
    FUZZ_CHECK(!config.status().message().empty(), "an error without a message");
    return 0;
  }
  const Config& c = *config;
  FUZZ_CHECK(c.defaults.Validate().ok(), c.defaults.Validate().message());
  FUZZ_CHECK(c.defaults.limit.nanos() >= 0, "negative default budget");
  FUZZ_CHECK(c.defaults.warn_percent <= c.defaults.critical_percent, "thresholds out of order");
  FUZZ_CHECK(c.dedup_window_hours >= 48, "de-duplication window under 48 h");
  FUZZ_CHECK(c.server_max_body_bytes > 0 && c.server_read_timeout_seconds > 0, "server limits");
  FUZZ_CHECK(c.batch_records > 0 && c.limits.max_line_bytes > 0, "ingest limits");
  FUZZ_CHECK(c.limits.max_document_bytes > 0 && c.limits.max_json_depth > 0, "ingest limits");
  FUZZ_CHECK(c.outbox_max_attempts > 0, "outbox.max_attempts");
  FUZZ_CHECK(!c.s3_enabled || (!c.s3_bucket.empty() && !c.s3_prefix.empty()), "ingest.s3");
  auto again = ParseConfig(text, "fuzz.toml", env);
  FUZZ_CHECK(again.ok() && again->defaults == c.defaults &&
                 again->limits.max_line_bytes == c.limits.max_line_bytes,
             "not deterministic");
  return 0;
}
