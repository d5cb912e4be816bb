#include <condition_variable>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/output.h"
#include "formats/input.h"

namespace budgeteer::cli {

namespace {

constexpr size_t kMaxRejectionsInJson = 1000;

struct Totals {
  int64_t read = 0;
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  int64_t skipped = 0;
  int64_t late = 0;
  int64_t unpriced = 0;
  int64_t transitions = 0;
  Money cost;
  std::vector<std::pair<std::string, std::string>> rejections;  // location, reason (for --json)
};

// Collects parsed records into batches and applies each batch in one ledger transaction.
// Parsing (the caller's thread) and applying (a worker thread that alone drives the engine)
// overlap: the parser fills the next batch while the previous one commits. At most two batches
// wait, so memory stays bounded.
class BatchingSink final : public RecordSink {
 public:
  BatchingSink(Engine& engine, size_t batch_size, std::string source, std::string file,
               Totals& totals, bool json)
      : engine_(engine),
        batch_size_(batch_size),
        source_(std::move(source)),
        file_(std::move(file)),
        totals_(totals),
        json_(json),
        worker_([this] { Work(); }) {
    current_.records.reserve(batch_size);
  }

  ~BatchingSink() override { (void)Finish(); }
  BatchingSink(const BatchingSink&) = delete;
  BatchingSink& operator=(const BatchingSink&) = delete;

  void OnRecord(UsageRecord&& record, const Location& where) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++totals_.read;
    }
    current_.records.push_back(std::move(record));
    current_.where.push_back({where.line, where.index});
    if (current_.records.size() >= batch_size_) Flush();
  }

  void OnReject(const Location& where, std::string reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.read;
    Reject(where.ToString(), std::move(reason));
  }

  void OnSkipped(const Location&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.skipped;
  }

  // Hands the buffered records to the worker (waits while two batches are already queued).
  void Flush() {
    if (current_.records.empty()) return;
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return queue_.size() < 2 || !status_.ok(); });
    if (status_.ok()) queue_.push_back(std::move(current_));
    current_ = Batch();
    current_.records.reserve(batch_size_);
    work_.notify_one();
  }

  // Applies what is left and stops the worker. Returns the first ledger failure, if any
  // (batches applied before it stay applied).
  Status Finish() {
    if (worker_.joinable()) {
      Flush();
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_ = true;
      }
      work_.notify_one();
      worker_.join();
    }
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  struct Batch {
    std::vector<UsageRecord> records;
    std::vector<std::pair<int64_t, int64_t>> where;  // line, index in envelope
  };

  void Work() {
    for (;;) {
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [this] { return !queue_.empty() || done_; });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
        space_.notify_one();
      }
      auto outcome = engine_.ApplyBatch(batch.records, source_);
      std::lock_guard<std::mutex> lock(mu_);
      if (!outcome.ok()) {
        status_ = outcome.status();
        queue_.clear();
        space_.notify_all();
        return;
      }
      totals_.applied += outcome->applied;
      totals_.duplicates += outcome->duplicates;
      totals_.late += outcome->late;
      totals_.unpriced += outcome->unpriced;
      totals_.transitions += outcome->transitions;
      totals_.cost += outcome->cost;
      for (const BatchRejection& r : outcome->rejected) {
        const auto [line, index] = batch.where[r.index];
        Reject(Location{file_, line, index}.ToString(), r.reason);
      }
    }
  }

  // Called with mu_ held.
  void Reject(std::string location, std::string reason) {
    ++totals_.rejected;
    if (!json_) std::cerr << location << ": " << reason << '\n';
    if (totals_.rejections.size() < kMaxRejectionsInJson) {
      totals_.rejections.emplace_back(std::move(location), std::move(reason));
    }
  }

  Engine& engine_;
  const size_t batch_size_;
  const std::string source_;
  const std::string file_;
  Totals& totals_;
  const bool json_;
  Batch current_;  // the parser thread's; never touched by the worker

  std::mutex mu_;  // guards everything below, totals_ and stderr
  std::condition_variable work_;
  std::condition_variable space_;
  std::deque<Batch> queue_;
  bool done_ = false;
  Status status_;
  std::thread worker_;  // last: starts after the members it uses exist
};

}  // namespace

int RunIngest(App& app, const std::vector<std::string>& files, bool json) {
  if (files.empty())
    return PrintError(InvalidArgument("ingest needs at least one FILE (or - for stdin)"));
  for (const std::string& f : files) {
    if (f != "-" && !std::filesystem::is_regular_file(f)) {
      return PrintError(InvalidArgument("cannot read '" + f + "': no such file"));
    }
  }
  Status st = app.engine->ApplyDefaultsIfChanged(app.actor);
  if (!st.ok()) return PrintError(st);

  InputParser parser(app.config.limits);
  Totals totals;
  for (const std::string& file : files) {
    auto source = OpenFileSource(file);
    if (!source.ok()) return PrintError(source.status());
    const std::string name = file == "-" ? "stdin" : file;
    BatchingSink sink(*app.engine, static_cast<size_t>(app.config.batch_records), "file:" + file,
                      name, totals, json);
    Status parsed = parser.ParseStream(**source, name, sink);
    Status applied = sink.Finish();
    if (!applied.ok()) return PrintError(applied.WithContext(name));
    if (!parsed.ok()) {
      // An unreadable stream (e.g. corrupt gzip): what was read before stays applied. The
      // parser's message already starts with the file's name.
      ++totals.rejected;
      if (!json) std::cerr << parsed.message() << '\n';
      totals.rejections.emplace_back(name, parsed.message());
    }
  }
  auto tick = app.engine->Tick();
  if (!tick.ok()) return PrintError(tick.status());
  totals.transitions += tick->transitions;

  if (json) {
    JsonWriter w(true);
    w.BeginObject()
        .Field("read", totals.read)
        .Field("applied", totals.applied)
        .Field("duplicates", totals.duplicates)
        .Field("rejected", totals.rejected)
        .Field("skipped", totals.skipped)
        .Field("late", totals.late)
        .Field("unpriced", totals.unpriced)
        .Field("transitions", totals.transitions);
    w.Key("cost_usd").RawNumber(totals.cost.ToUsd());
    w.Key("rejections").BeginArray();
    for (const auto& [where, why] : totals.rejections) {
      w.BeginObject().Field("location", where).Field("reason", why).EndObject();
    }
    w.EndArray();
    w.Field("rejections_truncated",
            totals.rejected > static_cast<int64_t>(totals.rejections.size()));
    w.EndObject();
    std::cout << w.str() << '\n';
  } else {
    std::cout << "read " << totals.read << ", applied " << totals.applied << ", duplicates "
              << totals.duplicates << ", rejected " << totals.rejected << ", cost "
              << Dollars(totals.cost);
    if (totals.late > 0) std::cout << " (" << totals.late << " late, kept in history)";
    if (totals.unpriced > 0) std::cout << " (" << totals.unpriced << " unpriced)";
    if (totals.skipped > 0) std::cout << ", skipped " << totals.skipped << " control messages";
    std::cout << '\n';
  }
  return totals.rejected > 0 ? 3 : 0;
}

}  // namespace budgeteer::cli
