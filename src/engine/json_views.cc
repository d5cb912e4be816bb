#include "engine/json_views.h"

#include "engine/events.h"

namespace budgeteer {

void WriteBudget(JsonWriter& w, const BudgetView& view) {
  WriteBudgetView(w, view.row, view.settings);
}

namespace {
void OptionalRate(JsonWriter& w, std::string_view key, const std::optional<RatePerMillion>& r) {
  w.Key(key);
  if (r) {
    w.RawNumber(r->ToUsd());
  } else {
    w.Null();
  }
}
}  // namespace

void WritePrice(JsonWriter& w, const ModelPrice& p) {
  w.BeginObject();
  WritePriceFields(w, p);
  w.EndObject();
}

void WritePriceFields(JsonWriter& w, const ModelPrice& p) {
  w.Field("model_id", p.id).Field("name", p.name).Field("provider", p.provider);
  w.Key("input_per_million_usd").RawNumber(p.input.ToUsd());
  w.Key("output_per_million_usd").RawNumber(p.output.ToUsd());
  OptionalRate(w, "cache_read_per_million_usd", p.cache_read);
  OptionalRate(w, "cache_write_per_million_usd", p.cache_write);
  w.Key("per_image_usd");
  if (p.per_image) {
    w.RawNumber(p.per_image->ToUsd());
  } else {
    w.Null();
  }
  w.Field("batch_discount_percent", p.batch_discount_percent)
      .Field("geo_premium_percent", p.geo_premium_percent)
      .Field("source", p.source);
  w.Key("aliases").BeginArray();
  for (const auto& a : p.aliases) w.String(a);
  w.EndArray();
}

void WriteAudit(JsonWriter& w, const AuditEntry& e, const std::string& principal) {
  w.BeginObject().Field("id", e.id).Field("at", e.at.ToRfc3339());
  w.Key("principal");
  if (principal.empty()) {
    w.Null();
  } else {
    w.String(principal);
  }
  w.Field("actor", e.actor).Field("kind", e.kind);
  w.Key("from");
  if (e.from) {
    w.String(BudgetStatusName(*e.from));
  } else {
    w.Null();
  }
  w.Key("to");
  if (e.to) {
    w.String(BudgetStatusName(*e.to));
  } else {
    w.Null();
  }
  w.Field("trigger", e.trigger);
  w.Key("details").RawJson(e.details.empty() ? "{}" : e.details);
  w.EndObject();
}

void WriteOutbox(JsonWriter& w, const OutboxAction& a, const std::string& principal) {
  w.BeginObject()
      .Field("id", a.id)
      .Field("created_at", a.created_at.ToRfc3339())
      .Field("kind", a.kind)
      .Field("event", a.event);
  w.Key("principal");
  if (principal.empty()) {
    w.Null();
  } else {
    w.String(principal);
  }
  w.Field("status", OutboxStatusName(a.status))
      .Field("attempts", a.attempts)
      .Field("next_attempt_at", a.next_attempt_at.ToRfc3339())
      .Field("last_error", a.last_error)
      .Field("channel", a.channel);
  w.Key("payload").RawJson(a.payload.empty() ? "{}" : a.payload);
  w.EndObject();
}

void WriteUsageRow(JsonWriter& w, const char* key_name, const std::string& key,
                   const UsageQueryRow& r) {
  w.BeginObject().Field(key_name, key).Field("requests", r.requests);
  w.Field("input_tokens", r.tokens.input)
      .Field("output_tokens", r.tokens.output)
      .Field("cache_read_tokens", r.tokens.cache_read)
      .Field("cache_write_tokens", r.tokens.cache_write);
  w.Key("cost_usd").RawNumber(r.cost.ToUsd());
  w.Field("unpriced_requests", r.unpriced_requests).EndObject();
}

}  // namespace budgeteer
