// micro_bench: Google Benchmark timings of the per-record steps of the ingest path (parse one
// record, normalise a model id, price, resolve the principal, remember the request id), to
// read beside ingest_bench's end-to-end figures. Single-threaded.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/log_gen.h"
#include "core/principal.h"
#include "engine/request_id_set.h"
#include "formats/input.h"
#include "pricing/catalog_file.h"
#include "pricing/pricing.h"

namespace budgeteer::bench {
namespace {

constexpr int kRing = 4096;  // distinct records cycled through by each benchmark

std::vector<std::string> Lines(bool bodies) {
  GenOptions g;
  g.records = kRing;
  g.principals = 1000;
  g.bodies = bodies;
  const LogGenerator gen(g);
  std::vector<std::string> lines(kRing);
  for (int i = 0; i < kRing; ++i) gen.AppendRecord(i, lines[static_cast<size_t>(i)]);
  return lines;
}

std::vector<UsageRecord> Records() {
  InputParser parser;
  std::vector<UsageRecord> out;
  for (const std::string& line : Lines(false)) out.push_back(*parser.ParseRecord(line));
  return out;
}

const PriceCatalog& Catalog() {
  static const PriceCatalog catalog = *LoadEmbeddedCatalog();
  return catalog;
}

void BM_ParseRecord(benchmark::State& state) {
  const std::vector<std::string> lines = Lines(state.range(0) != 0);
  InputParser parser;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i++ % lines.size()];
    auto r = parser.ParseRecord(line);
    benchmark::DoNotOptimize(r);
    bytes += static_cast<int64_t>(line.size());
  }
  state.SetBytesProcessed(bytes);
  state.SetLabel(state.range(0) != 0 ? "with bodies" : "no bodies");
}
BENCHMARK(BM_ParseRecord)->Arg(0)->Arg(1);

void BM_NormalizeModelIdView(benchmark::State& state) {
  const std::vector<UsageRecord> records = Records();
  size_t i = 0;
  for (auto _ : state) {
    auto v = NormalizeModelIdView(records[i++ % records.size()].model_id.str());
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_NormalizeModelIdView);

void BM_PriceUsage(benchmark::State& state) {
  const std::vector<UsageRecord> records = Records();
  const UnknownModelRule unknown = UnknownModelRule::FromCatalog(Catalog());
  size_t i = 0;
  for (auto _ : state) {
    auto p = PriceUsage(Catalog(), unknown, records[i++ % records.size()]);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_PriceUsage);

void BM_ResolvePrincipal(benchmark::State& state) {
  const std::vector<UsageRecord> records = Records();
  IdentityRules rules;
  rules.per_session_roles = {"TeamRole*"};
  size_t i = 0;
  for (auto _ : state) {
    const UsageRecord& r = records[i++ % records.size()];
    auto key = ResolvePrincipal(r.caller, r.account_id, rules);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_ResolvePrincipal);

// Inserting new ids into a set of `range(0)` ids (the set is refilled when it gets there).
void BM_RequestIdSetInsertNew(benchmark::State& state) {
  const auto capacity = static_cast<size_t>(state.range(0));
  std::vector<std::string> ids;
  ids.reserve(capacity);
  for (size_t i = 0; i < capacity; ++i) ids.push_back("req-" + std::to_string(i) + "-bench");
  RequestIdSet set;
  size_t i = 0;
  for (auto _ : state) {
    if (i == capacity) {
      state.PauseTiming();
      set.Clear();
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(set.Insert(ids[i++]));
  }
  state.counters["bytes_per_id"] = static_cast<double>(set.memory_bytes()) /
                                   static_cast<double>(set.size() == 0 ? 1 : set.size());
}
BENCHMARK(BM_RequestIdSetInsertNew)->Arg(1 << 20);

// A re-delivered id: the duplicate check, in a set of 1,000,000 ids. (Not 2^20: Insert checks
// the load factor before looking the id up, so a duplicate arriving when the set sits exactly at
// its growth threshold rehashes the whole table first.)
void BM_RequestIdSetInsertDuplicate(benchmark::State& state) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1'000'000; ++i) ids.push_back("req-" + std::to_string(i) + "-bench");
  RequestIdSet set;
  for (const std::string& id : ids) set.Insert(id);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(set.Insert(ids[i++ % ids.size()]));
}
BENCHMARK(BM_RequestIdSetInsertDuplicate);

}  // namespace
}  // namespace budgeteer::bench

BENCHMARK_MAIN();
