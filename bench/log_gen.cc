// LogGenerator: deterministic synthetic Bedrock invocation-log records (see log_gen.h).
// Only integer arithmetic and a hand-rolled SplitMix64 stream, so the output for a seed is the
// same on every platform and standard library.
#include "bench/log_gen.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

namespace budgeteer::bench {

namespace {

// SplitMix64's finaliser: a bijection on 64-bit integers.
constexpr uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix(state_);
  }
  // Uniform in [0, n) (n > 0; the modulo bias is irrelevant here).
  uint64_t Below(uint64_t n) { return Next() % n; }
  // True with probability percent/100.
  bool Percent(uint64_t percent) { return Below(100) < percent; }
  // Roughly log-uniform in [lo, lo << doublings): a random power-of-two band, then uniform.
  int64_t LogUniform(int64_t lo, int doublings) {
    const int64_t base = lo << Below(static_cast<uint64_t>(doublings));
    return base + static_cast<int64_t>(Below(static_cast<uint64_t>(base)));
  }

 private:
  uint64_t state_;
};

enum class Family { kClaude, kNova, kLlama, kMistral, kCohere, kEmbed };

struct ModelSpec {
  const char* id;  // as Bedrock logs it
  Family family;
  bool caching;  // prompt caching offered (cache read/write counts appear)
  int weight;    // relative share of the traffic
};

// A dozen-odd real model ids, all in the bundled catalog, with a plausible traffic mix.
constexpr std::array<ModelSpec, 14> kModels{{
    {"us.anthropic.claude-3-5-haiku-20241022-v1:0", Family::kClaude, true, 15},
    {"anthropic.claude-3-haiku-20240307-v1:0", Family::kClaude, false, 10},
    {"us.anthropic.claude-sonnet-4-20250514-v1:0", Family::kClaude, true, 12},
    {"global.anthropic.claude-sonnet-4-5-20250929-v1:0", Family::kClaude, true, 10},
    {"us.anthropic.claude-haiku-4-5-20251001-v1:0", Family::kClaude, true, 8},
    {"us.anthropic.claude-3-7-sonnet-20250219-v1:0", Family::kClaude, true, 6},
    {"anthropic.claude-3-5-sonnet-20241022-v2:0", Family::kClaude, true, 3},
    {"us.anthropic.claude-opus-4-1-20250805-v1:0", Family::kClaude, true, 1},
    {"amazon.nova-micro-v1:0", Family::kNova, true, 10},
    {"us.amazon.nova-lite-v1:0", Family::kNova, true, 8},
    {"amazon.nova-pro-v1:0", Family::kNova, true, 5},
    {"us.meta.llama3-3-70b-instruct-v1:0", Family::kLlama, false, 6},
    {"mistral.mistral-large-2407-v1:0", Family::kMistral, false, 3},
    {"amazon.titan-embed-text-v2:0", Family::kEmbed, false, 3},
}};

constexpr int TotalWeight() {
  int total = 0;
  for (const ModelSpec& m : kModels) total += m.weight;
  return total;
}

const ModelSpec& PickModel(Rng& rng) {
  int r = static_cast<int>(rng.Below(static_cast<uint64_t>(TotalWeight())));
  for (const ModelSpec& m : kModels) {
    if (r < m.weight) return m;
    r -= m.weight;
  }
  return kModels[0];
}

constexpr std::array<const char*, 4> kOperations{"Converse", "ConverseStream", "InvokeModel",
                                                 "InvokeModelWithResponseStream"};

int PickOperation(Rng& rng, Family family) {
  if (family == Family::kEmbed) return 2;  // embeddings: InvokeModel only
  const uint64_t r = rng.Below(100);
  if (r < 40) return 0;
  if (r < 65) return 1;
  if (r < 90) return 2;
  return 3;
}

constexpr std::array<const char*, 3> kInferenceRegions{"us-east-1", "us-east-2", "us-west-2"};
constexpr std::array<const char*, 8> kProjects{"search-ranking", "support-bot",   "code-review",
                                               "doc-summaries",  "sales-copilot", "data-pipeline",
                                               "eval-harness",   "onboarding"};
constexpr std::array<const char*, 5> kTeams{"ml-platform", "customer-success", "developer-tools",
                                            "analytics", "growth"};
constexpr std::array<const char*, 3> kEnvs{"prod", "staging", "dev"};

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void AppendPadded(std::string& out, int64_t v, int width) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  for (auto n = res.ptr - buf; n < width; ++n) out.push_back('0');
  out.append(buf, res.ptr);
}

void AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHex[(v >> shift) & 0xF]);
  }
}

// 8-4-4-4-12 hex digits; the first 64 bits are Mix(i + k), a bijection of i, so ids are unique.
void AppendRequestId(std::string& out, uint64_t hi, uint64_t lo) {
  AppendHex(out, hi >> 32, 8);
  out.push_back('-');
  AppendHex(out, (hi >> 16) & 0xFFFF, 4);
  out.push_back('-');
  AppendHex(out, hi & 0xFFFF, 4);
  out.push_back('-');
  AppendHex(out, lo >> 48, 4);
  out.push_back('-');
  AppendHex(out, lo & 0xFFFFFFFFFFFFULL, 12);
}

constexpr std::array<const char*, 6> kPrompts{
    "Summarise the attached support ticket in two sentences.",
    "Write a unit test for the parser edge case described below.",
    "Classify this customer e-mail as billing, bug or feature request.",
    "Translate the release notes into French.",
    "Extract the invoice number, date and total as JSON.",
    "Suggest three names for an internal budgeting tool."};

void AppendInputBody(std::string& out, Family family, int op, Rng& rng) {
  const char* prompt = kPrompts[rng.Below(kPrompts.size())];
  if (family == Family::kEmbed) {
    out.append(R"("inputBodyJson":{"inputText":")").append(prompt).append(R"("},)");
  } else if (op <= 1) {  // Converse / ConverseStream
    out.append(R"("inputBodyJson":{"messages":[{"role":"user","content":[{"text":")")
        .append(prompt)
        .append(R"("}]}],"inferenceConfig":{"maxTokens":1024,"temperature":0.2}},)");
  } else {
    out.append(R"("inputBodyJson":{"anthropic_version":"bedrock-2023-05-31","max_tokens":1024,)"
               R"("messages":[{"role":"user","content":[{"type":"text","text":")")
        .append(prompt)
        .append(R"("}]}]},)");
  }
}

void AppendOutputBody(std::string& out, Family family, int op, int64_t in, int64_t output) {
  if (family == Family::kEmbed) {
    out.append(R"("outputBodyJson":{"embedding":[0.0123,-0.0456,0.0789],"inputTextTokenCount":)");
    AppendInt(out, in);
    out.append("},");
    return;
  }
  if (op == 0) {
    out.append(
        R"("outputBodyJson":{"output":{"message":{"role":"assistant","content":[{"text":"Here )"
        R"(is the summary you asked for."}]}},"stopReason":"end_turn","usage":{"inputTokens":)");
    AppendInt(out, in);
    out.append(R"(,"outputTokens":)");
    AppendInt(out, output);
    out.append("}},");
  } else if (op == 2) {
    out.append(R"("outputBodyJson":{"id":"msg_bdrk_01","type":"message","role":"assistant",)"
               R"("content":[{"type":"text","text":"Here is the summary you asked for."}],)"
               R"("stop_reason":"end_turn","usage":{"input_tokens":)");
    AppendInt(out, in);
    out.append(R"(,"output_tokens":)");
    AppendInt(out, output);
    out.append("}},");
  } else {  // streaming: an array of events
    out.append(
        R"("outputBodyJson":[{"messageStart":{"role":"assistant"}},{"contentBlockDelta":)"
        R"({"delta":{"text":"Here is the summary"},"contentBlockIndex":0}},{"contentBlockDelta":)"
        R"({"delta":{"text":" you asked for."},"contentBlockIndex":0}},{"messageStop":)"
        R"({"stopReason":"end_turn"}},{"metadata":{"usage":{"inputTokens":)");
    AppendInt(out, in);
    out.append(R"(,"outputTokens":)");
    AppendInt(out, output);
    out.append("}}}],");
  }
}

}  // namespace

LogGenerator::LogGenerator(GenOptions options) : options_(std::move(options)) {
  if (options_.records < 1) options_.records = 1;
  if (options_.principals < 1) options_.principals = 1;
}

int64_t LogGenerator::PrincipalOf(int64_t i) const {
  if (options_.round_robin) return i % options_.principals;
  Rng rng(Mix(options_.seed ^ 0x5eed5eed5eed5eedULL) + static_cast<uint64_t>(i));
  return static_cast<int64_t>(rng.Below(static_cast<uint64_t>(options_.principals)));
}

void LogGenerator::AppendArn(int64_t p, std::string& out) const {
  const int64_t n = p / 2;
  if (p % 2 == 0) {
    out.append("arn:aws:iam::").append(kAccountId).append(":user/BedrockAPIKey-");
    AppendInt(out, n);
  } else {
    out.append("arn:aws:sts::").append(kAccountId).append(":assumed-role/TeamRole");
    AppendInt(out, n % 20);
    out.append("/session-");
    AppendInt(out, n);
  }
}

void LogGenerator::AppendRecord(int64_t i, std::string& out) const {
  const uint64_t ui = static_cast<uint64_t>(i);
  Rng rng(Mix(options_.seed) ^ Mix(ui + 0x1234567ULL));
  const int64_t principal = PrincipalOf(i);
  const ModelSpec& model = PickModel(rng);
  const int op = PickOperation(rng, model.family);

  out.append(R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":")");
  // In order over the window (live traffic arrives roughly in time order).
  const int64_t second = std::min<int64_t>(
      86'399, options_.first_second + i * options_.span_seconds / options_.records);
  out.append(options_.day).push_back('T');
  AppendPadded(out, second / 3600, 2);
  out.push_back(':');
  AppendPadded(out, second / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(out, second % 60, 2);
  out.append(R"(Z","accountId":")").append(kAccountId).append(R"(","identity":{"arn":")");
  AppendArn(principal, out);
  out.append(R"("},"region":")").append(rng.Percent(70) ? "us-east-1" : "us-west-2");
  out.append(R"(","requestId":")");
  AppendRequestId(out, Mix(ui + Mix(options_.seed + 1)), rng.Next());
  out.append(R"(","operation":")").append(kOperations[static_cast<size_t>(op)]);
  out.append(R"(","modelId":")").append(model.id).append("\",");

  // Token counts: input excludes the cache tokens (each of the four is billed at its rate).
  const bool error = rng.Below(1000) < 5;
  int64_t input = rng.LogUniform(20, 9);                                       // 20 .. ~10k
  int64_t output = model.family == Family::kEmbed ? 0 : rng.LogUniform(8, 8);  // 8 .. ~2k
  int64_t cache_read = 0;
  int64_t cache_write = 0;
  if (model.caching && rng.Percent(30)) cache_read = rng.LogUniform(1024, 5);  // .. ~64k
  if (model.caching && rng.Percent(5)) cache_write = rng.LogUniform(1024, 4);  // .. ~32k
  if (error) input = output = cache_read = cache_write = 0;

  out.append(R"("input":{"inputContentType":"application/json",)");
  if (options_.bodies) AppendInputBody(out, model.family, op, rng);
  out.append(R"("inputTokenCount":)");
  AppendInt(out, input);
  if (model.caching) {
    out.append(R"(,"cacheReadInputTokenCount":)");
    AppendInt(out, cache_read);
    out.append(R"(,"cacheWriteInputTokenCount":)");
    AppendInt(out, cache_write);
  }
  out.append(R"(},"output":{"outputContentType":"application/json",)");
  if (options_.bodies && !error) AppendOutputBody(out, model.family, op, input, output);
  out.append(R"("outputTokenCount":)");
  AppendInt(out, output);
  out.push_back('}');
  if (error) {
    out.append(rng.Percent(80) ? R"(,"errorCode":"ThrottlingException")"
                               : R"(,"errorCode":"ValidationException")");
  }
  // Cross-region profiles (us. / global.) say where the call actually ran.
  const std::string_view id(model.id);
  if (id.starts_with("us.") || id.starts_with("global.")) {
    out.append(R"(,"inferenceRegion":")")
        .append(kInferenceRegions[rng.Below(kInferenceRegions.size())])
        .push_back('"');
  }
  // Attribution tags most applications set (recorded, never used to pick who pays).
  if (rng.Percent(85)) {
    out.append(R"(,"requestMetadata":{"project":")")
        .append(kProjects[rng.Below(kProjects.size())])
        .append(R"(","team":")")
        .append(kTeams[rng.Below(kTeams.size())])
        .append(R"(","environment":")")
        .append(kEnvs[rng.Below(kEnvs.size())])
        .append(R"(","cost-center":"CC-)");
    AppendPadded(out, static_cast<int64_t>(rng.Below(10000)), 4);
    out.append(R"(","trace-id":")");
    AppendHex(out, rng.Next(), 16);
    out.append("\"}");
  }
  out.append("}\n");
}

}  // namespace budgeteer::bench
