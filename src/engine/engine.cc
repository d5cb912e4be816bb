#include "engine/engine.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "engine/events.h"
#include "engine/rollup.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

constexpr char kSystemActor[] = "system";
constexpr char kDefaultsMetaKey[] = "applied_defaults";

std::string DefaultsFingerprint(const BudgetSettings& s) {
  return s.limit.ToUsd() + "|" + std::to_string(s.warn_percent) + "|" +
         std::to_string(s.critical_percent) + "|" + std::to_string(s.grace_seconds) + "|" +
         s.period.ToString();
}

// A whole number stored by us in the ledger (meta values, group keys); never throws.
Result<int64_t> StoredInt(std::string_view text, std::string_view what) {
  int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return DataLoss("ledger " + std::string(what) + " '" + std::string(text) +
                    "' is not a whole number");
  }
  return out;
}

Result<BudgetSettings> ParseFingerprint(const std::string& text) {
  BudgetSettings s;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t bar = text.find('|', start);
    parts.push_back(text.substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  if (parts.size() != 5)
    return DataLoss("ledger meta '" + std::string(kDefaultsMetaKey) + "' is malformed");
  ASSIGN_OR_RETURN(s.limit, Money::ParseUsd(parts[0]));
  ASSIGN_OR_RETURN(const int64_t warn, StoredInt(parts[1], kDefaultsMetaKey));
  ASSIGN_OR_RETURN(const int64_t critical, StoredInt(parts[2], kDefaultsMetaKey));
  ASSIGN_OR_RETURN(s.grace_seconds, StoredInt(parts[3], kDefaultsMetaKey));
  s.warn_percent = static_cast<int>(warn);
  s.critical_percent = static_cast<int>(critical);
  ASSIGN_OR_RETURN(s.period, PeriodSpec::Parse(parts[4]));
  return s;
}

// Writes the audit entry and outbox actions of each transition. `states`, when given, holds the
// principal's state right after each transition (a batch can cross several thresholds; each
// entry and notification must show the figures of its own moment, not the batch's end).
Status RecordTransitions(LedgerTxn& txn, const PrincipalRow& row, const BudgetSettings& settings,
                         const std::vector<Transition>& transitions, const std::string& actor,
                         const std::vector<BudgetState>* states = nullptr) {
  for (size_t i = 0; i < transitions.size(); ++i) {
    const Transition& t = transitions[i];
    PrincipalRow at_moment;
    const PrincipalRow* shown = &row;
    if (states != nullptr && i < states->size()) {
      at_moment = row;
      at_moment.state = (*states)[i];
      shown = &at_moment;
    }
    ASSIGN_OR_RETURN(const int64_t audit_id,
                     txn.AppendAudit(TransitionAudit(*shown, settings, t, actor)));
    for (OutboxAction& action : TransitionActions(*shown, settings, t, actor)) {
      action.audit_id = audit_id;
      RETURN_IF_ERROR(txn.AppendOutbox(action).status());
    }
  }
  return Status::Ok();
}

Status AuditEvent(LedgerTxn& txn, Timestamp at, std::optional<int64_t> principal_id,
                  const std::string& actor, std::string kind, std::string details) {
  AuditEntry e;
  e.at = at;
  e.principal_id = principal_id;
  e.actor = actor;
  e.kind = std::move(kind);
  e.details = std::move(details);
  return txn.AppendAudit(e).status();
}

// {"limit_usd", "warn_percent", "critical_percent", "grace_seconds", "period"}.
void WriteSettings(JsonWriter& w, const BudgetSettings& s) {
  w.BeginObject();
  w.Key("limit_usd").RawNumber(s.limit.ToUsd());
  w.Field("warn_percent", s.warn_percent)
      .Field("critical_percent", s.critical_percent)
      .Field("grace_seconds", s.grace_seconds)
      .Field("period", s.period.ToString())
      .EndObject();
}

}  // namespace

Engine::Engine(LedgerStore& store, const PriceCatalog& catalog, EngineOptions options,
               const Clock& clock)
    : store_(store),
      catalog_(&catalog),
      unknown_rule_(options.unknown_model ? *options.unknown_model
                                          : UnknownModelRule::FromCatalog(catalog)),
      options_(std::move(options)),
      clock_(clock) {}

Result<std::unique_ptr<Engine>> Engine::Open(LedgerStore& store, const PriceCatalog& catalog,
                                             EngineOptions options, const Clock& clock) {
  RETURN_IF_ERROR(options.defaults.Validate().WithContext("default budget settings"));
  if (options.dedup_window_seconds < int64_t{48} * 3600) {
    return InvalidArgument("ingest.dedup_window_hours must be at least 48");
  }
  std::unique_ptr<Engine> engine(new Engine(store, catalog, std::move(options), clock));
  RETURN_IF_ERROR(engine->WarmDedup());
  return engine;
}

Status Engine::WarmDedup() {
  seen_.Clear();
  const Timestamp since = clock_.Now().PlusSeconds(-options_.dedup_window_seconds);
  int64_t max_id = 0;
  RETURN_IF_ERROR(store_.ScanRequestIdsSince(
      since, [this](std::string_view id) { seen_.Insert(id); }, max_id));
  max_usage_id_ = max_id;
  return Status::Ok();
}

Result<BatchOutcome> Engine::ApplyBatch(const std::vector<UsageRecord>& records,
                                        std::string_view source) {
  const Timestamp now = clock_.Now();
  BatchOutcome outcome;
  const size_t seen_before = seen_.size();
  std::vector<CachedPrincipal*> touched;
  const uint64_t batch_id = ++batch_counter_;
  RollupBuffer batch_rollup;  // this batch's rows, for the pending roll-up once committed
  int64_t first_id = 0;
  int64_t appended = 0;
  // How many principals this batch may create under the new-principal cap.
  while (!created_ms_.empty() && created_ms_.front() <= now.unix_millis() - 60'000) {
    created_ms_.pop_front();
  }
  const int64_t may_create = new_principal_cap_ > 0
                                 ? new_principal_cap_ - static_cast<int64_t>(created_ms_.size())
                                 : std::numeric_limits<int64_t>::max();
  int64_t created = 0;
  Status st = store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    outcome = BatchOutcome();
    created = 0;
    touched.clear();
    batch_rollup.Clear();
    first_id = 0;
    appended = 0;
    if (txn.ChangedByOthers()) principals_.clear();
    // Catch up with rows other processes applied since our last look.
    int64_t max_id = max_usage_id_;
    RETURN_IF_ERROR(txn.ScanRequestIds(
        max_usage_id_, [this](std::string_view id) { seen_.Insert(id); }, max_id));
    max_usage_id_ = max_id;

    std::vector<UsageRow> rows;
    std::vector<Timestamp> period_ends;  // of the period each row was attributed to
    rows.reserve(records.size());
    std::unordered_set<std::string> unpriced_noted;
    const Timestamp future_limit = now.PlusSeconds(options_.max_future_skew_seconds);

    for (size_t i = 0; i < records.size(); ++i) {
      const UsageRecord& r = records[i];
      const RequestIdSet::Key id_key = RequestIdSet::KeyOf(r.request_id.str());
      if (seen_.Contains(id_key)) {
        ++outcome.duplicates;
        outcome.duplicate_indices.push_back(i);
        continue;
      }
      if (r.timestamp > future_limit) {
        outcome.rejected.push_back(
            {i, "timestamp " + r.timestamp.ToRfc3339() + " is more than " +
                    std::to_string(options_.max_future_skew_seconds) + " s ahead of the clock (" +
                    now.ToRfc3339() +
                    "); fix the producer's clock or raise ingest.max_future_skew_seconds"});
        continue;
      }
      auto key = ResolvePrincipal(r.caller, r.account_id, options_.identity);
      if (!key.ok()) {
        outcome.rejected.push_back({i, key.status().message()});
        continue;
      }
      // The principal: from the cache, from the ledger, or new (zero-touch, default budget).
      auto it = principals_.find(*key);
      if (it == principals_.end()) {
        CachedPrincipal c;
        ASSIGN_OR_RETURN(std::optional<PrincipalRow> found, txn.FindPrincipal(*key));
        if (found) {
          c.row = std::move(*found);
        } else if (created >= may_create) {
          // Over the new-principal cap: not applied, its id not remembered; sent again later.
          outcome.deferred_indices.push_back(i);
          continue;
        } else {
          ++created;
          c.row.key = *key;
          c.row.created_at = now;
          c.row.last_seen = r.timestamp;
          c.row.state = NewBudgetState(options_.defaults, r.timestamp, now);
          RETURN_IF_ERROR(txn.InsertPrincipal(c.row));
          c.needs_full_write = true;
          JsonWriter w;
          w.BeginObject()
              .Field("principal", key->Qualified())
              .Field("kind", PrincipalKindName(key->kind))
              .Field("caller", r.caller);
          w.Key("limit_usd").RawNumber(options_.defaults.limit.ToUsd());
          w.Field("period", options_.defaults.period.ToString()).EndObject();
          RETURN_IF_ERROR(
              AuditEvent(txn, now, c.row.id, kSystemActor, "principal_created", w.Take()));
        }
        c.settings = SettingsOf(c.row);
        it = principals_.emplace(*key, std::move(c)).first;
      }
      seen_.Insert(id_key);
      CachedPrincipal& p = it->second;
      if (p.batch != batch_id) {
        // First touch in this batch: act on anything time changed before applying new usage
        // (as the scheduler would have).
        p.batch = batch_id;
        p.transitions.clear();
        p.states.clear();
        if (AdvanceTime(p.settings, p.row.state, now, p.transitions)) p.needs_full_write = true;
        p.states.resize(p.transitions.size(), p.row.state);
        touched.push_back(&p);
      }

      const PricedUsage priced = PriceUsage(*catalog_.load(), unknown_rule_, r);
      UsageRow row;
      row.request_id = r.request_id.str();
      row.timestamp = r.timestamp;
      row.received_at = now;
      row.principal_id = p.row.id;
      row.model = priced.model.canonical.str();
      row.region = r.inference_region.empty() ? r.region : r.inference_region;
      row.operation = r.operation;
      row.tokens = r.tokens;
      row.media = r.media;
      row.cost = priced.cost;
      if (priced.unpriced) {
        row.flags |= kUsageUnpriced;
        ++outcome.unpriced;
        if (unpriced_noted.insert(row.model).second) {
          ASSIGN_OR_RETURN(const bool first, txn.NoteUnpricedModel(row.model, now));
          if (first) {
            JsonWriter w;
            w.BeginObject().Field("model", row.model).Field("raw_model_id", r.model_id.str());
            w.Key("input_per_million_usd").RawNumber(unknown_rule_.input.ToUsd());
            w.Key("output_per_million_usd").RawNumber(unknown_rule_.output.ToUsd());
            w.Field("message",
                    "model '" + row.model +
                        "' is not in the price catalog; it is priced at the fallback rates and "
                        "flagged unpriced. Add it with a [pricing.overrides] entry or update the "
                        "catalog (budgeteer prices update).");
            w.EndObject();
            const std::string details = w.Take();
            RETURN_IF_ERROR(
                AuditEvent(txn, now, std::nullopt, kSystemActor, "unpriced_model", details));
            OutboxAction alert;
            alert.created_at = now;
            alert.kind = "operator_alert";
            alert.event = "unpriced_model";
            alert.payload = details;
            alert.next_attempt_at = now;
            RETURN_IF_ERROR(txn.AppendOutbox(alert).status());
          }
        }
      }
      if (!r.error_code.empty()) row.flags |= kUsageError;
      if (r.batch) row.flags |= kUsageBatch;

      BudgetState& state = p.row.state;
      if (r.timestamp >= state.period.end) {
        // Within the clock-skew allowance but past the period end: the next period has begun.
        if (AdvanceTime(p.settings, state, r.timestamp, p.transitions)) p.needs_full_write = true;
        p.states.resize(p.transitions.size(), state);
      }
      Period attributed = state.period;
      if (r.timestamp < state.period.start) {
        // Late for a closed period: kept in that period's history; does not reopen it.
        attributed = PeriodContaining(p.settings.period, state.anchor, r.timestamp);
        row.flags |= kUsageLate;
        ++outcome.late;
      } else {
        ApplySpend(p.settings, state, priced.cost, now, p.transitions);
        p.states.resize(p.transitions.size(), state);
      }
      if (r.timestamp > p.row.last_seen) p.row.last_seen = r.timestamp;
      row.period_start_ms = attributed.start.unix_millis();

      outcome.cost += priced.cost;
      ++outcome.applied;
      rows.push_back(std::move(row));
      period_ends.push_back(attributed.end);
    }

    if (!rows.empty()) {
      ASSIGN_OR_RETURN(first_id, txn.AppendUsage(rows));
      appended = static_cast<int64_t>(rows.size());
      if (pending_.valid) {
        for (size_t i = 0; i < rows.size(); ++i) batch_rollup.Add(rows[i], period_ends[i]);
      }
    }
    for (CachedPrincipal* p : touched) {
      // Outside a period refresh, the state changes beyond the spend only by a transition.
      if (p->needs_full_write || !p->transitions.empty()) {
        RETURN_IF_ERROR(txn.UpdatePrincipal(p->row));
        p->needs_full_write = false;
      } else {
        RETURN_IF_ERROR(txn.UpdatePrincipalSpend(p->row));
      }
      RETURN_IF_ERROR(
          RecordTransitions(txn, p->row, p->settings, p->transitions, kSystemActor, &p->states));
      outcome.transitions += static_cast<int64_t>(p->transitions.size());
    }
    IngestBatchRow batch;
    batch.received_at = now;
    batch.source = std::string(source);
    batch.first_usage_id = first_id;
    batch.last_usage_id = rows.empty() ? 0 : first_id + static_cast<int64_t>(rows.size()) - 1;
    batch.read = static_cast<int64_t>(records.size());
    batch.applied = outcome.applied;
    batch.duplicates = outcome.duplicates;
    batch.rejected = static_cast<int64_t>(outcome.rejected.size());
    batch.cost = outcome.cost;
    RETURN_IF_ERROR(txn.RecordBatch(batch));
    if (batch.last_usage_id > max_usage_id_) max_usage_id_ = batch.last_usage_id;
    return Status::Ok();
  });
  if (!st.ok()) {
    // The transaction rolled back: forget what it cached, from the ledger's truth.
    principals_.clear();
    if (seen_.size() != seen_before) {
      Status warm = WarmDedup();
      if (!warm.ok()) return warm.WithContext(st.message());
    }
    return st;
  }
  if (appended > 0) NotePendingRollup(first_id, appended, std::move(batch_rollup));
  if (new_principal_cap_ > 0)
    created_ms_.insert(created_ms_.end(), static_cast<size_t>(created), now.unix_millis());
  return outcome;
}

void Engine::NotePendingRollup(int64_t first_id, int64_t count, RollupBuffer&& rows) {
  // The buffer stands for the rows (from_id, to_id] only while they are contiguous: a gap
  // means another process appended rows, which the next scan picks up from the watermark.
  if (!pending_.valid || first_id != pending_.to_id + 1 ||
      pending_.rows.keys() + rows.keys() > kMaxPendingRollupKeys) {
    pending_ = PendingRollup();
    return;
  }
  pending_.rows.Merge(std::move(rows));
  pending_.to_id = first_id + count - 1;
}

Result<int64_t> Engine::RollUp(int64_t max_rows) {
  int64_t flushed = 0;
  if (pending_.valid) {
    ASSIGN_OR_RETURN(flushed, FlushPendingRollup());
    if (pending_.valid) return flushed;
  }
  // No valid sums (a new engine, or another process appended or rolled up rows): read the rows
  // past the watermark.
  ASSIGN_OR_RETURN(const int64_t scanned, ScanRollUp(max_rows));
  return flushed + scanned;
}

Result<int64_t> Engine::FlushPendingRollup() {
  bool moved = false;   // the watermark is not where our sums start
  bool others = false;  // rows past ours that this engine did not append
  Status st = store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    moved = others = false;
    ASSIGN_OR_RETURN(std::optional<std::string> mark, txn.GetMeta(kRollupWatermarkKey));
    int64_t watermark = 0;
    if (mark) {
      ASSIGN_OR_RETURN(watermark, StoredInt(*mark, kRollupWatermarkKey));
    }
    if (watermark != pending_.from_id) {
      moved = true;
      return Status::Ok();
    }
    if (pending_.to_id != pending_.from_id) {
      RETURN_IF_ERROR(pending_.rows.WriteTo(txn, options_.defaults));
      RETURN_IF_ERROR(txn.SetMeta(kRollupWatermarkKey, std::to_string(pending_.to_id)));
    }
    int64_t beyond = pending_.to_id;
    RETURN_IF_ERROR(txn.ScanUsage(
        pending_.to_id, 1, [](int64_t, const UsageRow&) {}, beyond));
    others = beyond != pending_.to_id;
    return Status::Ok();
  });
  if (!st.ok()) return st;  // the sums are kept: the next call tries again
  if (moved) {
    pending_ = PendingRollup();
    return int64_t{0};
  }
  const int64_t rolled = pending_.to_id - pending_.from_id;
  pending_.rows.Clear();
  pending_.from_id = pending_.to_id;
  if (others) pending_.valid = false;
  return rolled;
}

Result<int64_t> Engine::ScanRollUp(int64_t max_rows) {
  int64_t total = 0;
  while (total < max_rows) {
    const int64_t chunk = std::min<int64_t>(200'000, max_rows - total);
    int64_t rolled = 0;
    int64_t last = 0;
    RETURN_IF_ERROR(store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
      rolled = 0;
      ASSIGN_OR_RETURN(std::optional<std::string> mark, txn.GetMeta(kRollupWatermarkKey));
      int64_t after = 0;
      if (mark) {
        ASSIGN_OR_RETURN(after, StoredInt(*mark, kRollupWatermarkKey));
      }
      RollupBuffer buffer;
      last = after;
      RETURN_IF_ERROR(txn.ScanUsage(
          after, chunk,
          [&](int64_t, const UsageRow& u) {
            ++rolled;
            buffer.Add(u);
          },
          last));
      if (rolled == 0) return Status::Ok();
      RETURN_IF_ERROR(buffer.WriteTo(txn, options_.defaults));
      return txn.SetMeta(kRollupWatermarkKey, std::to_string(last));
    }));
    total += rolled;
    if (rolled < chunk) {
      // Caught up: from here on the rows this engine appends are summed as they are applied.
      pending_ = PendingRollup();
      pending_.valid = true;
      pending_.from_id = pending_.to_id = last;
      break;
    }
  }
  return total;
}

Result<TickOutcome> Engine::Tick() {
  const Timestamp now = clock_.Now();
  TickOutcome outcome;
  std::vector<PrincipalRow> updated;
  Status st = store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    outcome = TickOutcome();
    updated.clear();
    ASSIGN_OR_RETURN(std::vector<PrincipalRow> due, txn.PrincipalsDueBy(now));
    for (PrincipalRow& row : due) {
      ++outcome.principals_checked;
      const BudgetSettings settings = SettingsOf(row);
      std::vector<Transition> transitions;
      const Period before = row.state.period;
      const bool refreshed = AdvanceTime(settings, row.state, now, transitions);
      if (refreshed) {
        ++outcome.refreshed;
        JsonWriter w;
        w.BeginObject()
            .Field("previous_period_start", before.start.ToRfc3339())
            .Field("previous_period_end", before.end.ToRfc3339())
            .Field("period_start", row.state.period.start.ToRfc3339())
            .Field("period_end", row.state.period.end.ToRfc3339())
            .EndObject();
        RETURN_IF_ERROR(AuditEvent(txn, now, row.id, kSystemActor, "period_refreshed", w.Take()));
      }
      RETURN_IF_ERROR(txn.UpdatePrincipal(row));
      RETURN_IF_ERROR(RecordTransitions(txn, row, settings, transitions, kSystemActor));
      outcome.transitions += static_cast<int64_t>(transitions.size());
      updated.push_back(std::move(row));
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    principals_.clear();
    return st;
  }
  for (PrincipalRow& row : updated) {
    auto it = principals_.find(row.key);
    if (it != principals_.end()) it->second.row = std::move(row);
  }
  return outcome;
}

Status Engine::SetDefaults(const BudgetSettings& defaults, const std::string& actor) {
  RETURN_IF_ERROR(defaults.Validate().WithContext("new default budget settings"));
  if (defaults == options_.defaults) return Status::Ok();
  const BudgetSettings before = options_.defaults;
  options_.defaults = defaults;
  Status st = ApplyDefaultsIfChanged(actor);
  if (!st.ok()) options_.defaults = before;  // nothing was written: keep what is in force
  return st;
}

Status Engine::ApplyDefaultsIfChanged(const std::string& actor) {
  const Timestamp now = clock_.Now();
  const std::string current = DefaultsFingerprint(options_.defaults);
  principals_.clear();
  return store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<std::string> stored, txn.GetMeta(kDefaultsMetaKey));
    if (stored && *stored == current) return Status::Ok();
    if (stored) {
      ASSIGN_OR_RETURN(const BudgetSettings before_defaults, ParseFingerprint(*stored));
      // Every principal is due by the end of time: this lists them all.
      ASSIGN_OR_RETURN(std::vector<PrincipalRow> all, txn.PrincipalsDueBy(kForever));
      for (PrincipalRow& row : all) {
        const BudgetSettings before = row.overrides.Over(before_defaults);
        const BudgetSettings after = SettingsOf(row);
        if (before == after) continue;
        std::vector<Transition> transitions;
        ChangeSettings(before, after, row.state, now, transitions);
        RETURN_IF_ERROR(txn.UpdatePrincipal(row));
        RETURN_IF_ERROR(RecordTransitions(txn, row, after, transitions, actor));
      }
      JsonWriter w;
      w.BeginObject().Field("before", *stored).Field("after", current).EndObject();
      RETURN_IF_ERROR(AuditEvent(txn, now, std::nullopt, actor, "defaults_changed", w.Take()));
    }
    return txn.SetMeta(kDefaultsMetaKey, current);
  });
}

Status Engine::SetCatalog(const PriceCatalog& catalog, const std::string& actor) {
  const PriceCatalog& before = *catalog_.load();
  JsonWriter w;
  w.BeginObject()
      .Key("before")
      .BeginObject()
      .Field("version", before.version())
      .Field("effective_date", before.effective_date())
      .EndObject()
      .Key("after")
      .BeginObject()
      .Field("version", catalog.version())
      .Field("effective_date", catalog.effective_date())
      .Field("models", static_cast<int64_t>(catalog.models().size()))
      .EndObject()
      .EndObject();
  RETURN_IF_ERROR(store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    return AuditEvent(txn, clock_.Now(), std::nullopt, actor, "catalog_changed", w.Take());
  }));
  catalog_.store(&catalog);
  if (!options_.unknown_model) unknown_rule_ = UnknownModelRule::FromCatalog(catalog);
  return Status::Ok();
}

Result<PrincipalRow> Engine::FindPrincipal(const std::string& principal) {
  if (principal.empty()) return InvalidArgument("principal name is empty");
  // "ACCOUNT:NAME" when the part before the first ':' is an account id.
  const size_t colon = principal.find(':');
  std::string account;
  std::string name = principal;
  if (colon == 12 && std::all_of(principal.begin(), principal.begin() + 12,
                                 [](char c) { return c >= '0' && c <= '9'; })) {
    account = principal.substr(0, 12);
    name = principal.substr(13);
  }
  ASSIGN_OR_RETURN(std::vector<PrincipalRow> rows, store_.FindPrincipalsByName(name));
  std::vector<PrincipalRow> matches;
  for (PrincipalRow& r : rows) {
    if (account.empty() || r.key.account == account) matches.push_back(std::move(r));
  }
  if (matches.empty()) {
    return NotFound("no principal named '" + principal +
                    "'; principals appear when their first usage record is ingested "
                    "(see budgeteer budgets list)");
  }
  if (matches.size() > 1) {
    std::string names;
    for (const auto& m : matches) {
      names += (names.empty() ? "" : ", ") + m.key.Qualified() + " (" +
               std::string(PrincipalKindName(m.key.kind)) + ")";
    }
    return InvalidArgument("'" + principal + "' is ambiguous: " + names +
                           "; name it as ACCOUNT:NAME");
  }
  return std::move(matches.front());
}

template <typename Fn>
Result<BudgetView> Engine::Mutate(const std::string& principal, const std::string& actor, Fn&& fn) {
  ASSIGN_OR_RETURN(const PrincipalRow found, FindPrincipal(principal));
  principals_.erase(found.key);
  const Timestamp now = clock_.Now();
  BudgetView view;
  RETURN_IF_ERROR(store_.WriteTransaction([&](LedgerTxn& txn) -> Status {
    ASSIGN_OR_RETURN(std::optional<PrincipalRow> fresh, txn.GetPrincipal(found.id));
    if (!fresh) return NotFound("principal '" + principal + "' disappeared");
    PrincipalRow row = std::move(*fresh);
    std::vector<Transition> transitions;
    BudgetSettings settings = SettingsOf(row);
    // Catch up with time first, so the action applies to the current period.
    AdvanceTime(settings, row.state, now, transitions);
    RETURN_IF_ERROR(RecordTransitions(txn, row, settings, transitions, kSystemActor));
    transitions.clear();
    RETURN_IF_ERROR(fn(txn, row, settings, now, transitions));
    RETURN_IF_ERROR(txn.UpdatePrincipal(row));
    RETURN_IF_ERROR(RecordTransitions(txn, row, settings, transitions, actor));
    view = BudgetView{row, settings};
    return Status::Ok();
  }));
  return view;
}

Result<BudgetView> Engine::UpdateSettings(const std::string& principal, const SettingsPatch& patch,
                                          const std::string& actor) {
  return Mutate(principal, actor,
                [&](LedgerTxn& txn, PrincipalRow& row, BudgetSettings& settings, Timestamp now,
                    std::vector<Transition>& out) -> Status {
                  SettingsOverrides o = row.overrides;
                  if (patch.limit) o.limit = patch.limit;
                  if (patch.warn_percent) o.warn_percent = patch.warn_percent;
                  if (patch.critical_percent) o.critical_percent = patch.critical_percent;
                  if (patch.grace_seconds) o.grace_seconds = patch.grace_seconds;
                  if (patch.period) o.period = patch.period;
                  const BudgetSettings after = o.Over(options_.defaults);
                  RETURN_IF_ERROR(after.Validate());
                  const BudgetSettings before = settings;
                  row.overrides = o;
                  if (patch.owner_email) row.owner_email = *patch.owner_email;
                  ChangeSettings(before, after, row.state, now, out);
                  settings = after;
                  JsonWriter w;
                  w.BeginObject();
                  WriteSettings(w.Key("before"), before);
                  WriteSettings(w.Key("after"), after);
                  if (patch.owner_email) w.Field("owner_email", *patch.owner_email);
                  w.EndObject();
                  return AuditEvent(txn, now, row.id, actor, "settings_changed", w.Take());
                });
}

Result<BudgetView> Engine::ResetSpend(const std::string& principal, const std::string& actor) {
  return Mutate(principal, actor,
                [&](LedgerTxn& txn, PrincipalRow& row, BudgetSettings& settings, Timestamp now,
                    std::vector<Transition>& out) -> Status {
                  JsonWriter w;
                  w.BeginObject();
                  w.Key("spent_usd_before").RawNumber(row.state.spent.ToUsd());
                  w.EndObject();
                  RETURN_IF_ERROR(AuditEvent(txn, now, row.id, actor, "spend_reset", w.Take()));
                  budgeteer::ResetSpend(settings, row.state, now, out);
                  return Status::Ok();
                });
}

Result<BudgetView> Engine::Suspend(const std::string& principal, const std::string& actor) {
  return Mutate(principal, actor,
                [&](LedgerTxn& txn, PrincipalRow& row, BudgetSettings&, Timestamp now,
                    std::vector<Transition>& out) -> Status {
                  const bool already = row.state.status == BudgetStatus::kSuspended;
                  RETURN_IF_ERROR(budgeteer::Suspend(row.state, now, out));
                  if (already) {
                    // Already suspended automatically: now held by a person (no new transition).
                    return AuditEvent(txn, now, row.id, actor, "manual_suspension",
                                      R"({"note":"automatic suspension is now manual"})");
                  }
                  return Status::Ok();
                });
}

Result<BudgetView> Engine::Restore(const std::string& principal, bool force,
                                   const std::string& actor) {
  return Mutate(principal, actor,
                [&](LedgerTxn&, PrincipalRow& row, BudgetSettings& settings, Timestamp now,
                    std::vector<Transition>& out) -> Status {
                  return budgeteer::Restore(settings, row.state, force, now, out);
                });
}

Result<BudgetView> Engine::SetExempt(const std::string& principal, bool on,
                                     const std::string& actor) {
  return Mutate(principal, actor,
                [&](LedgerTxn&, PrincipalRow& row, BudgetSettings& settings, Timestamp now,
                    std::vector<Transition>& out) -> Status {
                  return budgeteer::SetExempt(settings, row.state, on, now, out);
                });
}

Result<UsageReport> Engine::Usage(const UsageRequest& request) {
  UsageQuery q;
  if (!request.principal.empty()) {
    ASSIGN_OR_RETURN(const PrincipalRow row, FindPrincipal(request.principal));
    q.principal_id = row.id;
  }
  if (!request.from.empty()) {
    auto t = Timestamp::Parse(request.from);
    if (!t.ok()) return t.status().WithContext("from");
    q.from = *t;
  }
  if (!request.to.empty()) {
    auto t = Timestamp::Parse(request.to);
    if (!t.ok()) return t.status().WithContext("to");
    q.to = *t;
  }
  UsageReport report;
  const std::string& g = request.group_by;
  if (g.empty() || g == "none") {
    q.group_by = UsageQuery::GroupBy::kNone;
  } else if (g == "model" || g == "day" || g == "hour" || g == "principal") {
    q.group_by = g == "model"  ? UsageQuery::GroupBy::kModel
                 : g == "day"  ? UsageQuery::GroupBy::kDay
                 : g == "hour" ? UsageQuery::GroupBy::kHour
                               : UsageQuery::GroupBy::kPrincipal;
    report.key_name = g == "model"  ? "model"
                      : g == "day"  ? "day"
                      : g == "hour" ? "hour"
                                    : "principal";
  } else {
    return InvalidArgument("group-by '" + g + "' is not one of model, day, hour, principal");
  }
  RETURN_IF_ERROR(RollUp().status());
  ASSIGN_OR_RETURN(std::vector<UsageQueryRow> rows, store_.QueryUsage(q));
  std::unordered_map<int64_t, std::string> names;
  if (q.group_by == UsageQuery::GroupBy::kPrincipal) {
    ASSIGN_OR_RETURN(std::vector<PrincipalRow> all, store_.ListPrincipals());
    for (const auto& p : all) names[p.id] = p.key.Qualified();
  }
  for (UsageQueryRow& r : rows) {
    std::string key = r.key;
    if (q.group_by == UsageQuery::GroupBy::kPrincipal) {
      auto id = StoredInt(r.key, "usage group key");
      auto it = id.ok() ? names.find(*id) : names.end();
      if (it != names.end()) key = it->second;
    }
    report.rows.emplace_back(std::move(key), std::move(r));
  }
  return report;
}

Result<std::vector<BudgetView>> Engine::ListBudgets() {
  ASSIGN_OR_RETURN(std::vector<PrincipalRow> rows, store_.ListPrincipals());
  std::vector<BudgetView> views;
  views.reserve(rows.size());
  for (PrincipalRow& r : rows) {
    BudgetSettings s = SettingsOf(r);
    views.push_back(BudgetView{std::move(r), s});
  }
  return views;
}

Result<BudgetView> Engine::ShowBudget(const std::string& principal) {
  ASSIGN_OR_RETURN(PrincipalRow row, FindPrincipal(principal));
  BudgetSettings s = SettingsOf(row);
  return BudgetView{std::move(row), s};
}

}  // namespace budgeteer
