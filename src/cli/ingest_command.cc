#include <filesystem>
#include <iostream>

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
class BatchingSink final : public RecordSink {
 public:
  BatchingSink(Engine& engine, size_t batch_size, std::string source, Totals& totals, bool json)
      : engine_(engine),
        batch_size_(batch_size),
        source_(std::move(source)),
        totals_(totals),
        json_(json) {
    batch_.reserve(batch_size);
  }

  void OnRecord(UsageRecord&& record, const Location& where) override {
    ++totals_.read;
    if (!status_.ok()) return;
    batch_.push_back(std::move(record));
    locations_.push_back(where.ToString());
    if (batch_.size() >= batch_size_) Flush();
  }

  void OnReject(const Location& where, std::string reason) override {
    ++totals_.read;
    Reject(where.ToString(), std::move(reason));
  }

  void OnSkipped(const Location&) override { ++totals_.skipped; }

  // Applies what is buffered. A ledger failure stops the ingest (earlier batches stay applied).
  void Flush() {
    if (batch_.empty() || !status_.ok()) return;
    auto outcome = engine_.ApplyBatch(batch_, source_);
    if (!outcome.ok()) {
      status_ = outcome.status();
    } else {
      totals_.applied += outcome->applied;
      totals_.duplicates += outcome->duplicates;
      totals_.late += outcome->late;
      totals_.unpriced += outcome->unpriced;
      totals_.transitions += outcome->transitions;
      totals_.cost += outcome->cost;
      for (const BatchRejection& r : outcome->rejected) Reject(locations_[r.index], r.reason);
    }
    batch_.clear();
    locations_.clear();
  }

  const Status& status() const { return status_; }

 private:
  void Reject(std::string location, std::string reason) {
    ++totals_.rejected;
    if (!json_) std::cerr << location << ": " << reason << '\n';
    if (totals_.rejections.size() < kMaxRejectionsInJson) {
      totals_.rejections.emplace_back(std::move(location), std::move(reason));
    }
  }

  Engine& engine_;
  size_t batch_size_;
  std::string source_;
  Totals& totals_;
  bool json_;
  std::vector<UsageRecord> batch_;
  std::vector<std::string> locations_;
  Status status_;
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
    BatchingSink sink(*app.engine, static_cast<size_t>(app.config.batch_records), "file:" + file,
                      totals, json);
    const std::string name = file == "-" ? "stdin" : file;
    Status parsed = parser.ParseStream(**source, name, sink);
    sink.Flush();
    if (!sink.status().ok()) return PrintError(sink.status().WithContext(name));
    if (!parsed.ok()) {
      // An unreadable stream (e.g. corrupt gzip): what was read before stays applied.
      ++totals.rejected;
      if (!json) std::cerr << name << ": " << parsed.message() << '\n';
      totals.rejections.emplace_back(name, parsed.message());
    }
  }
  auto tick = app.engine->Tick();
  if (!tick.ok()) return PrintError(tick.status());
  auto rolled = app.engine->RollUp();
  if (!rolled.ok()) return PrintError(rolled.status());
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
