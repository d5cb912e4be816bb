// ingest_bench: end-to-end throughput of the ingest path on one core (docs/performance.md):
// parse only, parse + price, durable ingest into a fresh SQLite ledger (several batch sizes and
// synchronous modes, with per-batch latency percentiles), re-ingest of the same file (all
// duplicates), the ledger's share (each kind of store write on its own), and memory per tracked
// principal / per remembered request id. Single-threaded; prints one line per measurement.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench/log_gen.h"
#include "core/clock.h"
#include "core/money.h"
#include "core/policy.h"
#include "core/principal.h"
#include "core/time.h"
#include "engine/engine.h"
#include "formats/input.h"
#include "pricing/catalog_file.h"
#include "pricing/pricing.h"
#include "store/ledger.h"
#include "store/sqlite/sqlite_ledger.h"

namespace budgeteer::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// 1234567 -> "1,234,567".
std::string Thousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return v < 0 ? "-" + out : out;
}

std::string Rate(double count, double seconds) {
  return Thousands(seconds > 0 ? std::llround(count / seconds) : 0);
}

// The one line format every measurement uses ("records" may be another unit: rows, ops).
void PrintRate(const std::string& what, int64_t records, double seconds,
               const std::string& extra = "", const char* unit = "records") {
  std::printf("%-42s %11s %-7s  %7.2f s  %11s %s/s%s%s\n", what.c_str(), Thousands(records).c_str(),
              unit, seconds, Rate(static_cast<double>(records), seconds).c_str(), unit,
              extra.empty() ? "" : "  ", extra.c_str());
  std::fflush(stdout);
}

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "ingest_bench: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

std::string LatencySummary(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  char buf[160];
  std::snprintf(buf, sizeof buf, "p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms",
                Percentile(ms, 50), Percentile(ms, 90), Percentile(ms, 99),
                ms.empty() ? 0.0 : ms.back());
  return buf;
}

// Resident set size now, and its peak (VmHWM), in bytes.
int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

std::string Mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

void RemoveLedger(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ec);
  }
}

// ---------------------------------------------------------------------------------------------
// Sinks
// ---------------------------------------------------------------------------------------------

// Counts what the parser delivers (and touches each record so nothing is optimised away).
class CountSink final : public RecordSink {
 public:
  void OnRecord(UsageRecord&& record, const Location& where) override {
    (void)where;
    ++records;
    tokens += record.tokens.input + record.tokens.output;
  }
  void OnReject(const Location& where, std::string reason) override {
    if (rejects++ == 0) first_reject = where.ToString() + ": " + reason;
  }
  int64_t records = 0;
  int64_t rejects = 0;
  int64_t tokens = 0;
  std::string first_reject;
};

// Prices every record; optionally also sums cost per caller (what the Python baseline does).
class PriceSink final : public RecordSink {
 public:
  PriceSink(const PriceCatalog& catalog, const UnknownModelRule& unknown, bool per_caller)
      : catalog_(catalog), unknown_(unknown), per_caller_(per_caller) {}
  void OnRecord(UsageRecord&& record, const Location& where) override {
    (void)where;
    const PricedUsage priced = PriceUsage(catalog_, unknown_, record);
    ++records;
    total += priced.cost;
    if (priced.unpriced) ++unpriced;
    if (per_caller_) {
      auto it = by_caller.find(std::string_view(record.caller));
      if (it == by_caller.end()) it = by_caller.emplace(std::move(record.caller), Money()).first;
      it->second += priced.cost;
    }
  }
  void OnReject(const Location& where, std::string reason) override {
    (void)where;
    (void)reason;
    ++rejects;
  }
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  int64_t records = 0;
  int64_t rejects = 0;
  int64_t unpriced = 0;
  Money total;
  std::unordered_map<std::string, Money, Hash, std::equal_to<>> by_caller;

 private:
  const PriceCatalog& catalog_;
  const UnknownModelRule& unknown_;
  bool per_caller_;
};

// Cuts the parsed stream into batches and hands each to `flush`.
class BatchSink final : public RecordSink {
 public:
  BatchSink(size_t batch_size, std::function<void(std::vector<UsageRecord>&)> flush)
      : batch_size_(batch_size), flush_(std::move(flush)) {
    batch_.reserve(batch_size);
  }
  void OnRecord(UsageRecord&& record, const Location& where) override {
    (void)where;
    batch_.push_back(std::move(record));
    if (batch_.size() >= batch_size_) Flush();
  }
  void OnReject(const Location& where, std::string reason) override {
    if (rejects++ == 0) first_reject = where.ToString() + ": " + reason;
  }
  void Flush() {
    if (batch_.empty()) return;
    flush_(batch_);
    batch_.clear();
  }
  int64_t rejects = 0;
  std::string first_reject;

 private:
  size_t batch_size_;
  std::function<void(std::vector<UsageRecord>&)> flush_;
  std::vector<UsageRecord> batch_;
};

// ---------------------------------------------------------------------------------------------
// The benchmark context
// ---------------------------------------------------------------------------------------------

struct Args {
  std::string file;   // empty: generate in memory from records/principals/seed
  int64_t limit = 0;  // > 0: use only the first `limit` lines of the input
  int64_t records = 1'000'000;
  int64_t principals = 10'000;
  uint64_t seed = 1;
  std::string day = "2025-11-01";
  std::vector<std::string> sections{"parse", "price", "ingest", "reingest"};
  std::vector<size_t> batch_sizes{5000, 20000};
  std::vector<std::string> syncs{"full", "normal"};
  int repeat = 3;
  std::string tmpdir = "/tmp";
  std::vector<int64_t> memory_principals{10'000, 100'000};
};

class Bench {
 public:
  explicit Bench(Args args)
      : args_(std::move(args)),
        catalog_(Must(LoadEmbeddedCatalog(), "load the embedded catalog")),
        unknown_(UnknownModelRule::FromCatalog(catalog_)),
        // The clock stands at the end of the generated day, so no record is "in the future"
        // and every request id is inside the de-duplication window.
        clock_(Must(Timestamp::Parse(args_.day + "T00:00:00Z"), "parse --day").PlusSeconds(86400)) {
    options_.identity.per_session_roles = {"TeamRole*"};  // every session is a principal
  }

  void LoadInput() {
    const auto start = SteadyClock::now();
    if (!args_.file.empty()) {
      std::FILE* f = std::fopen(args_.file.c_str(), "rb");
      if (f == nullptr) Die("open " + args_.file, InvalidArgument("cannot read the file"));
      data_.resize(static_cast<size_t>(FileBytes(args_.file)));
      const size_t got = std::fread(data_.data(), 1, data_.size(), f);
      std::fclose(f);
      if (got != data_.size()) Die("read " + args_.file, DataLoss("short read"));
    } else {
      GenOptions g;
      g.records = args_.records;
      g.principals = args_.principals;
      g.seed = args_.seed;
      g.day = args_.day;
      LogGenerator gen(g);
      data_.reserve(static_cast<size_t>(args_.records) * 700);
      for (int64_t i = 0; i < args_.records; ++i) gen.AppendRecord(i, data_);
    }
    if (args_.limit > 0) {  // keep the first `limit` lines
      size_t end = 0;
      for (int64_t n = 0; n < args_.limit && end < data_.size(); ++n) {
        const size_t nl = data_.find('\n', end);
        end = nl == std::string::npos ? data_.size() : nl + 1;
      }
      data_.resize(end);
    }
    // Count the records once (and check the parser accepts every one of them).
    CountSink count;
    auto src = MemorySource(data_);
    InputParser parser;
    const Status st = parser.ParseStream(*src, "bench", count);
    if (!st.ok()) Die("parse the input", st);
    records_ = count.records;
    std::printf(
        "input  %s  %s bytes  %s records  %.0f bytes/record  rejected %s%s  (loaded in "
        "%.2f s)\n",
        args_.file.empty() ? "(generated in memory)" : args_.file.c_str(),
        Thousands(static_cast<int64_t>(data_.size())).c_str(), Thousands(records_).c_str(),
        static_cast<double>(data_.size()) / static_cast<double>(std::max<int64_t>(1, records_)),
        Thousands(count.rejects).c_str(),
        count.first_reject.empty() ? "" : (" (first: " + count.first_reject + ")").c_str(),
        SecondsSince(start));
  }

  // a. parse only.
  void Parse() {
    std::vector<double> secs;
    for (int r = 0; r < args_.repeat; ++r) {
      CountSink sink;
      InputParser parser;
      auto src = MemorySource(data_);
      const auto start = SteadyClock::now();
      const Status st = parser.ParseStream(*src, "bench", sink);
      secs.push_back(SecondsSince(start));
      if (!st.ok()) Die("parse", st);
    }
    const double s = Median(secs);
    char extra[128];
    std::snprintf(extra, sizeof extra, "%.0f MB/s  (median of %d; runs %s)",
                  static_cast<double>(data_.size()) / 1e6 / s, args_.repeat, Runs(secs).c_str());
    PrintRate("parse", records_, s, extra);
  }

  // b. parse + price, and parse + price + sum per caller (the Python baseline's work).
  void Price() {
    for (const bool per_caller : {false, true}) {
      std::vector<double> secs;
      Money total;
      size_t callers = 0;
      int64_t unpriced = 0;
      for (int r = 0; r < args_.repeat; ++r) {
        PriceSink sink(catalog_, unknown_, per_caller);
        InputParser parser;
        auto src = MemorySource(data_);
        const auto start = SteadyClock::now();
        const Status st = parser.ParseStream(*src, "bench", sink);
        secs.push_back(SecondsSince(start));
        if (!st.ok()) Die("parse", st);
        total = sink.total;
        callers = sink.by_caller.size();
        unpriced = sink.unpriced;
      }
      std::string extra = "(median of " + std::to_string(args_.repeat) + "; runs " + Runs(secs) +
                          ")  total $" + total.ToUsd(2) + "  unpriced " + Thousands(unpriced);
      if (per_caller) extra += "  callers " + Thousands(static_cast<int64_t>(callers));
      PrintRate(per_caller ? "parse+price+sum-per-caller" : "parse+price", records_, Median(secs),
                extra);
    }
    // PriceUsage alone, on records parsed beforehand (the first 200k, priced 5 times).
    std::vector<UsageRecord> parsed;
    {
      struct Collect final : RecordSink {
        std::vector<UsageRecord>* out = nullptr;
        void OnRecord(UsageRecord&& rec, const Location& where) override {
          (void)where;
          out->push_back(std::move(rec));
        }
        void OnReject(const Location& where, std::string reason) override {
          (void)where;
          (void)reason;
        }
      } sink;
      sink.out = &parsed;
      size_t end = 0;  // just after the 200,000th line
      for (int n = 0; n < 200'000 && end < data_.size(); ++n) {
        const size_t nl = data_.find('\n', end);
        end = nl == std::string::npos ? data_.size() : nl + 1;
      }
      InputParser parser;
      auto src = MemorySource(std::string_view(data_).substr(0, end));
      if (const Status st = parser.ParseStream(*src, "bench", sink); !st.ok()) Die("parse", st);
    }
    const auto start = SteadyClock::now();
    Money total;
    for (int r = 0; r < 5; ++r) {
      for (const UsageRecord& rec : parsed) total += PriceUsage(catalog_, unknown_, rec).cost;
    }
    PrintRate("price only (PriceUsage)", static_cast<int64_t>(parsed.size()) * 5,
              SecondsSince(start), "(pre-parsed records; checksum $" + total.ToUsd(2) + ")");
  }

  // c. durable ingest, d. re-ingest.
  void Ingest(bool reingest) {
    bool first = true;
    for (const std::string& sync : args_.syncs) {
      for (const size_t batch : args_.batch_sizes) {
        const bool full = sync == "full";
        const std::string path =
            args_.tmpdir + "/bench-ledger-" + std::to_string(batch) + "-" + sync + ".db";
        RemoveLedger(path);
        SqliteOptions so;
        so.synchronous_full = full;
        std::unique_ptr<LedgerStore> store = Must(OpenSqliteLedger(path, so), "open " + path);
        auto engine = Must(Engine::Open(*store, catalog_, options_, clock_), "open the engine");
        const std::string label =
            "ingest batch=" + std::to_string(batch) + " sync=" + (full ? "FULL" : "NORMAL");
        IngestRun run = RunIngest(*engine, batch);
        const double apply = run.apply_seconds;
        PrintRate(label, records_, run.seconds,
                  "apply-only " + Rate(static_cast<double>(records_), apply) +
                      " records/s  applied " + Thousands(run.outcome.applied) + "  dup " +
                      Thousands(run.outcome.duplicates) + "  rejected " +
                      Thousands(static_cast<int64_t>(run.outcome.rejected.size())) +
                      "  transitions " + Thousands(run.outcome.transitions));
        std::printf("%-42s %11s batches  %s\n", ("  latency " + label.substr(7)).c_str(),
                    Thousands(static_cast<int64_t>(run.batch_ms.size())).c_str(),
                    LatencySummary(run.batch_ms).c_str());
        std::printf(
            "%-42s ledger %s  principals %s  dedup %s ids in %s\n",
            ("  state " + label.substr(7)).c_str(),
            Mib(FileBytes(path) + FileBytes(path + "-wal")).c_str(),
            Thousands(static_cast<int64_t>(Must(store->ListPrincipals(), "list").size())).c_str(),
            Thousands(static_cast<int64_t>(engine->dedup_entries())).c_str(),
            Mib(static_cast<int64_t>(engine->dedup_memory_bytes())).c_str());
        CheckApplied(label, run, records_, 0);

        if (reingest && first) {
          // d. the same file again through the same engine: every record is a duplicate.
          IngestRun again = RunIngest(*engine, batch);
          PrintRate(
              "re-ingest (same engine) " + label.substr(7), records_, again.seconds,
              "dup " + Thousands(again.outcome.duplicates) + "  " + LatencySummary(again.batch_ms));
          CheckApplied("re-ingest", again, 0, records_);
          // ... and through a restarted engine, whose de-duplication set is warmed from the
          // ledger at Open.
          engine.reset();
          const auto open_start = SteadyClock::now();
          engine = Must(Engine::Open(*store, catalog_, options_, clock_), "reopen the engine");
          const double open_s = SecondsSince(open_start);
          PrintRate("engine restart (warm dedup)", static_cast<int64_t>(engine->dedup_entries()),
                    open_s, "(Engine::Open scans the window's request ids)");
          IngestRun restarted = RunIngest(*engine, batch);
          PrintRate("re-ingest (restarted) " + label.substr(7), records_, restarted.seconds,
                    "dup " + Thousands(restarted.outcome.duplicates));
          CheckApplied("re-ingest after restart", restarted, 0, records_);
        }
        first = false;
        engine.reset();
        store.reset();
        RemoveLedger(path);
      }
    }
  }

  // The ledger's share: the store writes ApplyBatch makes for the same records, one kind at a
  // time, each in its own transactions of `batch` records' worth (so each pays its commits).
  void StoreOps() {
    std::vector<UsageRecord> parsed = ParseAll();
    const Timestamp now = clock_.Now();
    for (const std::string& sync : args_.syncs) {
      const size_t batch = args_.batch_sizes.front();
      const bool full = sync == "full";
      const std::string tag = " batch=" + std::to_string(batch) + (full ? " FULL" : " NORMAL");
      const std::string path = args_.tmpdir + "/bench-ledger-store-" + sync + ".db";
      RemoveLedger(path);
      SqliteOptions so;
      so.synchronous_full = full;
      std::unique_ptr<LedgerStore> store = Must(OpenSqliteLedger(path, so), "open " + path);

      // Principals: one row each, inserted in one transaction.
      std::unordered_map<PrincipalKey, size_t, PrincipalKeyHash> index;
      std::vector<size_t> owner(parsed.size());
      std::vector<PrincipalRow> principals;
      for (size_t i = 0; i < parsed.size(); ++i) {
        const PrincipalKey key =
            Must(ResolvePrincipal(parsed[i].caller, parsed[i].account_id, options_.identity),
                 "resolve a caller");
        auto [it, inserted] = index.try_emplace(key, principals.size());
        if (inserted) {
          PrincipalRow row;
          row.key = key;
          row.created_at = now;
          row.last_seen = parsed[i].timestamp;
          row.state = NewBudgetState(options_.defaults, parsed[i].timestamp, now);
          principals.push_back(std::move(row));
        }
        owner[i] = it->second;
      }
      auto start = SteadyClock::now();
      Check(store->WriteTransaction([&](LedgerTxn& txn) {
        for (PrincipalRow& row : principals) RETURN_IF_ERROR(txn.InsertPrincipal(row));
        return Status::Ok();
      }));
      PrintRate("store: insert principals" + tag, static_cast<int64_t>(principals.size()),
                SecondsSince(start), "(one transaction)", "rows");

      // The rows ApplyBatch would write.
      std::vector<UsageRow> rows(parsed.size());
      for (size_t i = 0; i < parsed.size(); ++i) {
        const UsageRecord& r = parsed[i];
        const PricedUsage priced = PriceUsage(catalog_, unknown_, r);
        UsageRow& row = rows[i];
        row.request_id = r.request_id.str();
        row.timestamp = r.timestamp;
        row.received_at = now;
        row.principal_id = principals[owner[i]].id;
        row.model = priced.model.canonical.str();
        row.region = r.inference_region.empty() ? r.region : r.inference_region;
        row.operation = r.operation;
        row.tokens = r.tokens;
        row.cost = priced.cost;
        row.period_start_ms = principals[owner[i]].state.period.start.unix_millis();
      }
      const auto n = static_cast<int64_t>(rows.size());
      const auto batches = [&](const std::function<Status(LedgerTxn&, size_t, size_t)>& fn) {
        const auto t0 = SteadyClock::now();
        for (size_t first = 0; first < rows.size(); first += batch) {
          const size_t last = std::min(rows.size(), first + batch);
          Check(store->WriteTransaction([&](LedgerTxn& txn) { return fn(txn, first, last); }));
        }
        return SecondsSince(t0);
      };

      // 1. usage: one append per record.
      std::vector<UsageRow> chunk;
      double secs = batches([&](LedgerTxn& txn, size_t first, size_t last) {
        chunk.assign(rows.begin() + static_cast<std::ptrdiff_t>(first),
                     rows.begin() + static_cast<std::ptrdiff_t>(last));
        return txn.AppendUsage(chunk).status();
      });
      PrintRate("store: append usage" + tag, n, secs, "", "rows");

      // 2. usage_hourly: one upsert per (principal, hour, model) of a batch, as ApplyBatch does.
      int64_t upserts = 0;
      secs = batches([&](LedgerTxn& txn, size_t first, size_t last) {
        std::map<std::tuple<int64_t, int64_t, std::string>, UsageAggregate> aggs;
        for (size_t i = first; i < last; ++i) {
          const UsageRow& r = rows[i];
          const int64_t hour = r.timestamp.unix_seconds() / 3600;
          UsageAggregate& a = aggs[{r.principal_id, hour, r.model}];
          a.principal_id = r.principal_id;
          a.hour = hour;
          a.model = r.model;
          ++a.requests;
          a.tokens.input += r.tokens.input;
          a.cost += r.cost;
        }
        std::vector<UsageAggregate> v;
        for (auto& [k, a] : aggs) v.push_back(std::move(a));
        upserts += static_cast<int64_t>(v.size());
        return txn.AddAggregates(v);
      });
      PrintRate("store: upsert usage_hourly" + tag, upserts, secs,
                "(" + Thousands(upserts) + " aggregates for " + Thousands(n) + " records)", "rows");

      // 3. principals: read + update once per distinct principal of a batch; period_spend too.
      int64_t touched = 0;
      secs = batches([&](LedgerTxn& txn, size_t first, size_t last) {
        std::unordered_map<size_t, bool> seen;
        for (size_t i = first; i < last; ++i) {
          if (!seen.emplace(owner[i], true).second) continue;
          ++touched;
          PrincipalRow& p = principals[owner[i]];
          ASSIGN_OR_RETURN(std::optional<PrincipalRow> found, txn.FindPrincipal(p.key));
          if (!found) return Internal("principal vanished");
          p.version = found->version;
          p.last_seen = rows[i].timestamp;
          RETURN_IF_ERROR(txn.UpdatePrincipal(p));
        }
        return Status::Ok();
      });
      PrintRate("store: find+update principal" + tag, touched, secs,
                "(" + Thousands(touched) + " principal touches for " + Thousands(n) + " records)",
                "ops");
      secs = batches([&](LedgerTxn& txn, size_t first, size_t last) {
        std::unordered_map<size_t, bool> seen;
        for (size_t i = first; i < last; ++i) {
          if (!seen.emplace(owner[i], true).second) continue;
          const Period& period = principals[owner[i]].state.period;
          RETURN_IF_ERROR(
              txn.AddPeriodSpend(principals[owner[i]].id, period.start, period.end, rows[i].cost));
        }
        return Status::Ok();
      });
      PrintRate("store: upsert period_spend" + tag, touched, secs, "", "ops");
      secs = batches([](LedgerTxn& txn, size_t first, size_t last) {
        (void)first;
        (void)last;
        IngestBatchRow b;
        b.source = "bench";
        return txn.RecordBatch(b);
      });
      PrintRate("store: empty batch commits" + tag,
                static_cast<int64_t>((rows.size() + batch - 1) / batch), secs,
                "(one ingest_batches row per transaction)", "txns");
      store.reset();
      RemoveLedger(path);
    }
  }

  // e. memory per tracked principal. Record i belongs to principal i, so after the first n
  // records the ledger tracks n principals; RSS is read at each checkpoint of
  // --memory-principals (e.g. 10000,100000) after malloc_trim, so freed batch memory is not
  // counted, and the marginal cost between checkpoints cancels fixed costs (SQLite's page cache,
  // prepared statements, the engine's first allocations).
  void Memory() {
    std::vector<int64_t> checkpoints = args_.memory_principals;
    std::sort(checkpoints.begin(), checkpoints.end());
    const int64_t principals = checkpoints.back();
    const std::string path =
        args_.tmpdir + "/bench-ledger-memory-" + std::to_string(principals) + ".db";
    RemoveLedger(path);
    SqliteOptions so;
    so.synchronous_full = false;  // memory does not depend on it; saves time
    // BENCH_CACHE_MIB separates SQLite's (bounded) page cache from the engine's own memory.
    if (const char* mib = std::getenv("BENCH_CACHE_MIB")) so.cache_mib = std::atoi(mib);
    std::unique_ptr<LedgerStore> store = Must(OpenSqliteLedger(path, so), "open " + path);
    auto engine = Must(Engine::Open(*store, catalog_, options_, clock_), "open the engine");
    GenOptions g;
    g.records = principals;
    g.principals = principals;
    g.seed = args_.seed;
    g.day = args_.day;
    g.round_robin = true;
    const LogGenerator gen(g);
    InputParser parser;

    malloc_trim(0);
    const int64_t rss0 = RssBytes();
    int64_t prev_rss = rss0;
    int64_t prev_n = 0;
    std::printf("memory  rss at start (catalog, engine, empty ledger open): %s\n",
                Mib(rss0).c_str());
    const auto start = SteadyClock::now();
    std::vector<UsageRecord> batch;
    std::string line;
    size_t next = 0;
    for (int64_t i = 0; i < principals; ++i) {
      line.clear();
      gen.AppendRecord(i, line);
      batch.push_back(Must(parser.ParseRecord(line), "parse a generated record"));
      const bool checkpoint = i + 1 == checkpoints[next];
      if (batch.size() == 5000 || checkpoint) {
        (void)Must(engine->ApplyBatch(batch, "bench"), "apply a batch");
        batch.clear();
      }
      if (!checkpoint) continue;
      ++next;
      malloc_trim(0);
      const int64_t rss = RssBytes();
      const int64_t n = i + 1;
      const int64_t tracked = static_cast<int64_t>(Must(store->ListPrincipals(), "list").size());
      const auto dedup = static_cast<int64_t>(engine->dedup_memory_bytes());
      const auto ids = static_cast<int64_t>(engine->dedup_entries());
      std::printf(
          "memory  %s principals tracked (%s records, %.2f s)  rss +%s = %s B/principal"
          "  marginal since %s: %s B/principal  dedup set %s for %s ids = %s B/request id"
          "  rss minus dedup set: %s B/principal\n",
          Thousands(tracked).c_str(), Thousands(n).c_str(), SecondsSince(start),
          Mib(rss - rss0).c_str(), Thousands((rss - rss0) / tracked).c_str(),
          Thousands(prev_n).c_str(), Thousands((rss - prev_rss) / (n - prev_n)).c_str(),
          Mib(dedup).c_str(), Thousands(ids).c_str(), Thousands(dedup / ids).c_str(),
          Thousands((rss - rss0 - dedup) / tracked).c_str());
      std::fflush(stdout);
      prev_rss = rss;
      prev_n = n;
    }
    std::printf("memory  peak rss (VmHWM) %s\n", Mib(PeakRssBytes()).c_str());
    engine.reset();
    store.reset();
    RemoveLedger(path);
  }

  const Args& args() const { return args_; }

 private:
  struct IngestRun {
    double seconds = 0;
    double apply_seconds = 0;
    std::vector<double> batch_ms;
    BatchOutcome outcome;
    int64_t parse_rejects = 0;
  };

  IngestRun RunIngest(Engine& engine, size_t batch_size) {
    IngestRun run;
    run.batch_ms.reserve(static_cast<size_t>(records_) / batch_size + 1);
    BatchSink sink(batch_size, [&](std::vector<UsageRecord>& batch) {
      const auto start = SteadyClock::now();
      const BatchOutcome o = Must(engine.ApplyBatch(batch, "file:bench"), "apply a batch");
      const double s = SecondsSince(start);
      run.apply_seconds += s;
      run.batch_ms.push_back(s * 1000.0);
      run.outcome.applied += o.applied;
      run.outcome.duplicates += o.duplicates;
      run.outcome.transitions += o.transitions;
      run.outcome.cost += o.cost;
      for (const BatchRejection& r : o.rejected) run.outcome.rejected.push_back(r);
    });
    InputParser parser;
    auto src = MemorySource(data_);
    const auto start = SteadyClock::now();
    const Status st = parser.ParseStream(*src, "bench", sink);
    if (!st.ok()) Die("parse", st);
    sink.Flush();
    run.seconds = SecondsSince(start);
    run.parse_rejects = sink.rejects;
    return run;
  }

  static void Check(const Status& st) {
    if (!st.ok()) Die("store", st);
  }

  std::vector<UsageRecord> ParseAll() {
    struct Collect final : RecordSink {
      std::vector<UsageRecord>* out = nullptr;
      void OnRecord(UsageRecord&& rec, const Location& where) override {
        (void)where;
        out->push_back(std::move(rec));
      }
      void OnReject(const Location& where, std::string reason) override {
        (void)where;
        (void)reason;
      }
    } sink;
    std::vector<UsageRecord> parsed;
    parsed.reserve(static_cast<size_t>(records_));
    sink.out = &parsed;
    InputParser parser;
    auto src = MemorySource(data_);
    if (const Status st = parser.ParseStream(*src, "bench", sink); !st.ok()) Die("parse", st);
    return parsed;
  }

  static void CheckApplied(const std::string& what, const IngestRun& run, int64_t applied,
                           int64_t duplicates) {
    if (run.outcome.applied != applied || run.outcome.duplicates != duplicates ||
        !run.outcome.rejected.empty() || run.parse_rejects != 0) {
      std::fprintf(
          stderr,
          "ingest_bench: %s: expected %lld applied and %lld duplicates, got %lld applied, "
          "%lld duplicates, %zu rejected by the engine%s%s, %lld by the parser\n",
          what.c_str(), static_cast<long long>(applied), static_cast<long long>(duplicates),
          static_cast<long long>(run.outcome.applied),
          static_cast<long long>(run.outcome.duplicates), run.outcome.rejected.size(),
          run.outcome.rejected.empty() ? "" : " (first: ",
          run.outcome.rejected.empty() ? "" : (run.outcome.rejected.front().reason + ")").c_str(),
          static_cast<long long>(run.parse_rejects));
      std::exit(1);
    }
  }

  static double Median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  static std::string Runs(const std::vector<double>& secs) {
    std::string out;
    char buf[32];
    for (const double s : secs) {
      std::snprintf(buf, sizeof buf, "%s%.2f", out.empty() ? "" : "/", s);
      out += buf;
    }
    return out + " s";
  }

  Args args_;
  PriceCatalog catalog_;
  UnknownModelRule unknown_;
  EngineOptions options_;
  FixedClock clock_;
  std::string data_;
  int64_t records_ = 0;
};

constexpr char kUsage[] =
    "usage: ingest_bench [--file F [--limit N] | --records N --principals P --seed S]\n"
    "                    [--day YYYY-MM-DD]\n"
    "                    [--sections parse,price,ingest,reingest,store,memory] [--repeat R]\n"
    "                    [--batch-sizes 5000,20000] [--sync full,normal] [--tmpdir DIR]\n"
    "                    [--memory-principals 10000,100000]\n"
    "Without --file the input is generated in memory (bench/log_gen.h); --limit keeps the\n"
    "first N lines of the file. Ledgers are created\n"
    "in --tmpdir (default /tmp) and removed afterwards.\n";

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

bool ParseInt(std::string_view text, int64_t& out) {
  const auto res = std::from_chars(text.data(), text.data() + text.size(), out);
  return res.ec == std::errc() && res.ptr == text.data() + text.size();
}

[[noreturn]] void BadArgs(const std::string& why) {
  std::fprintf(stderr, "ingest_bench: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) BadArgs("missing value for " + std::string(arg));
    const std::string_view value = argv[++i];
    int64_t n = 0;
    const auto number = [&](int64_t min) {
      if (!ParseInt(value, n) || n < min) {
        BadArgs(std::string(arg) + " wants an integer >= " + std::to_string(min));
      }
      return n;
    };
    if (arg == "--file") {
      a.file = value;
    } else if (arg == "--limit") {
      a.limit = number(1);
    } else if (arg == "--records") {
      a.records = number(1);
    } else if (arg == "--principals") {
      a.principals = number(1);
    } else if (arg == "--seed") {
      a.seed = static_cast<uint64_t>(number(0));
    } else if (arg == "--day") {
      a.day = value;
    } else if (arg == "--sections") {
      a.sections = SplitCommas(value);
    } else if (arg == "--repeat") {
      a.repeat = static_cast<int>(number(1));
    } else if (arg == "--batch-sizes") {
      a.batch_sizes.clear();
      for (const std::string& s : SplitCommas(value)) {
        if (!ParseInt(s, n) || n < 1) BadArgs("--batch-sizes wants positive integers");
        a.batch_sizes.push_back(static_cast<size_t>(n));
      }
    } else if (arg == "--sync") {
      a.syncs = SplitCommas(value);
      for (const std::string& s : a.syncs) {
        if (s != "full" && s != "normal") BadArgs("--sync wants full and/or normal");
      }
    } else if (arg == "--tmpdir") {
      a.tmpdir = value;
    } else if (arg == "--memory-principals") {
      a.memory_principals.clear();
      for (const std::string& p : SplitCommas(value)) {
        if (!ParseInt(p, n) || n < 1) BadArgs("--memory-principals wants positive integers");
        a.memory_principals.push_back(n);
      }
    } else {
      BadArgs("unknown argument " + std::string(arg));
    }
  }
  return a;
}

bool Has(const Args& a, std::string_view section) {
  return std::find(a.sections.begin(), a.sections.end(), section) != a.sections.end();
}

}  // namespace
}  // namespace budgeteer::bench

int main(int argc, char** argv) {
  using budgeteer::bench::Has;
  budgeteer::bench::Bench bench(budgeteer::bench::ParseArgs(argc, argv));
  const auto& a = bench.args();
  const bool needs_input =
      Has(a, "parse") || Has(a, "price") || Has(a, "ingest") || Has(a, "store");
  if (needs_input) bench.LoadInput();
  if (Has(a, "parse")) bench.Parse();
  if (Has(a, "price")) bench.Price();
  if (Has(a, "ingest")) bench.Ingest(Has(a, "reingest"));
  if (Has(a, "store")) bench.StoreOps();
  if (Has(a, "memory")) bench.Memory();
  return 0;
}
