#include "pricing/offer_update.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace budgeteer {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The key names are matched on: lower-case letters and digits only, so "Claude 3.5 Sonnet",
// "claude-3-5-sonnet" and "Claude3.5Sonnet" meet.
std::string MatchKey(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

bool ContainsAny(std::string_view text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return text.find(n) != std::string_view::npos; });
}

// Resolves the model a row names to a catalog id: first as a Bedrock model id (what a few
// attributes hold), then by display name, id or alias compared as MatchKey. The Marketplace
// offer (AmazonBedrockFoundationModels) names models "Claude 3 Haiku (Amazon Bedrock Edition)".
class ModelMatcher {
 public:
  explicit ModelMatcher(const PriceCatalog& catalog) : catalog_(catalog) {
    for (const ModelPrice& m : catalog.models()) {
      Add(m.id, m.id);
      for (const std::string& a : m.aliases) Add(a, m.id);
      Add(m.name, m.id);
      Add(m.provider + " " + m.name, m.id);
      // "Amazon Nova Micro" is "Nova Micro" in the offers.
      if (m.name.rfind(m.provider + " ", 0) == 0) Add(m.name.substr(m.provider.size() + 1), m.id);
    }
  }

  const ModelPrice* Find(std::string_view name) const {
    if (name.empty()) return nullptr;
    if (const ModelPrice* p = catalog_.Find(NormalizeModelId(name).canonical)) return p;
    std::string key = MatchKey(name);
    constexpr std::string_view kEdition = "amazonbedrockedition";
    if (const size_t at = key.find(kEdition); at != std::string::npos) key.erase(at);
    const auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : catalog_.Find(it->second);
  }

 private:
  void Add(std::string_view name, const std::string& id) {
    const std::string key = MatchKey(name);
    if (!key.empty()) by_key_.emplace(key, id);  // the first entry to claim a key keeps it
  }

  const PriceCatalog& catalog_;
  std::map<std::string, std::string, std::less<>> by_key_;
};

// Everything a row says about itself, lower-cased, for keyword classification.
std::string RowText(const OfferRow& row) {
  return Lower(row.inference_type + " | " + row.usage_type + " | " + row.feature + " | " +
               row.description);
}

// Rows for other ways of buying than on-demand inference: counted, never applied.
bool IsNotOnDemand(std::string_view text) {
  return ContainsAny(
      text, {"provisioned", "model unit", "customization", "custom model", "training", "storage",
             "fine-tun", "latency optimized", "latency-optimized", "latencyoptimized", "flex",
             "priority", "reserved", "commitment"});
}

bool IsLongContext(std::string_view text) {
  return ContainsAny(text, {"long context", "long-context", "longcontext", "lctx"});
}

// The token rate kind a row's text names; nullopt when it names none.
std::optional<RateKind> TokenKind(std::string_view text) {
  const bool batch = text.find("batch") != std::string_view::npos;
  if (ContainsAny(text, {"cache read", "cacheread", "cache-read", "cache_read"})) {
    return batch ? std::nullopt : std::optional(RateKind::kCacheRead);
  }
  if (ContainsAny(text, {"cache write", "cachewrite", "cache-write", "cache_write"})) {
    return batch ? std::nullopt : std::optional(RateKind::kCacheWrite);
  }
  if (text.find("output") != std::string_view::npos) {
    return batch ? RateKind::kBatchOutput : RateKind::kOutput;
  }
  if (text.find("input") != std::string_view::npos) {
    return batch ? RateKind::kBatchInput : RateKind::kInput;
  }
  return std::nullopt;
}

struct Collected {
  int64_t nanos = 0;
  const OfferRow* row = nullptr;
  bool conflict = false;
};

using CollectedRates = std::map<std::pair<std::string, RateKind>, Collected>;

std::string RateText(const std::optional<RatePerMillion>& r) { return r ? r->ToUsd() : "-"; }
std::string MoneyText(const std::optional<Money>& m) { return m ? m->ToUsd() : "-"; }

void AddChange(std::vector<RateChange>& out, const std::string& model, std::string_view rate,
               std::string old_value, std::string new_value) {
  if (old_value != new_value) {
    out.push_back({model, std::string(rate), std::move(old_value), std::move(new_value)});
  }
}

// Derives a whole-percent batch discount from the batch input rate (and checks the batch
// output rate against it). Our catalog stores batch pricing as a discount, not as rates.
std::optional<std::string> ApplyBatch(ModelPrice& price, const Collected* batch_in,
                                      const Collected* batch_out) {
  if (batch_in == nullptr) return std::nullopt;
  const Int128 base = price.input.nanos;
  const Int128 off = (base - batch_in->nanos) * 100;
  if (base <= 0 || batch_in->nanos > base || off % base != 0) {
    return "batch input rate " + Money::FromNanos(batch_in->nanos).ToUsd() +
           " is not a whole-percent discount of the input rate " + price.input.ToUsd();
  }
  const int discount = static_cast<int>(off / base);
  if (batch_out != nullptr &&
      Int128{batch_out->nanos} * 100 != Int128{price.output.nanos} * (100 - discount)) {
    return "batch output rate " + Money::FromNanos(batch_out->nanos).ToUsd() +
           " is not the input's " + std::to_string(discount) + "% discount of the output rate";
  }
  price.batch_discount_percent = discount;
  return std::nullopt;
}

}  // namespace

std::string_view RateKindName(RateKind kind) {
  switch (kind) {
    case RateKind::kInput:
      return "input";
    case RateKind::kOutput:
      return "output";
    case RateKind::kCacheRead:
      return "cache_read";
    case RateKind::kCacheWrite:
      return "cache_write";
    case RateKind::kBatchInput:
      return "batch_input";
    case RateKind::kBatchOutput:
      return "batch_output";
    case RateKind::kPerImage:
      return "per_image";
    case RateKind::kPerVideoSecond:
      return "per_video_second";
  }
  return "?";
}

Result<int64_t> DecimalToNanos(std::string_view decimal, int64_t multiplier) {
  // Bounds that keep every intermediate inside 128 bits: 12 integer digits (a trillion USD),
  // 18 significant fraction digits, a multiplier of at most 1e6.
  constexpr size_t kMaxIntDigits = 12;
  constexpr size_t kMaxFracDigits = 18;
  if (multiplier <= 0 || multiplier > 1'000'000) {
    return InvalidArgument("unit multiplier out of range");
  }
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("price '" + std::string(decimal) + "': " + std::string(why));
  };
  const size_t dot = decimal.find('.');
  std::string_view int_part = decimal.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? "" : decimal.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return bad("not a decimal number");
  const auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  };
  if (!all_digits(int_part) || !all_digits(frac_part)) return bad("not a plain decimal number");
  while (!int_part.empty() && int_part.front() == '0') int_part.remove_prefix(1);
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
  if (int_part.size() > kMaxIntDigits) return bad("out of range");
  if (frac_part.size() > kMaxFracDigits) return bad("more decimals than a nano-dollar");

  const Int128 scale = Int128{Money::kNanosPerUsd} * multiplier;
  Int128 whole = 0;
  for (const char c : int_part) whole = whole * 10 + (c - '0');
  Int128 frac = 0;
  Int128 frac_den = 1;
  for (const char c : frac_part) {
    frac = frac * 10 + (c - '0');
    frac_den *= 10;
  }
  const Int128 frac_scaled = frac * scale;
  if (frac_scaled % frac_den != 0) return bad("not a whole number of nano-dollars");
  const Int128 nanos = whole * scale + frac_scaled / frac_den;
  if (nanos > std::numeric_limits<int64_t>::max()) return bad("out of range");
  return static_cast<int64_t>(nanos);
}

std::optional<UnitConversion> ConvertUnit(std::string_view unit) {
  const std::string u = Lower(unit);
  if (u == "1k tokens" || u == "1k token" || u == "1,000 tokens") return UnitConversion{true, 1000};
  if (u == "1m tokens" || u == "1m token" || u == "1,000,000 tokens") {
    return UnitConversion{true, 1};
  }
  if (u == "image" || u == "images" || u == "1 image") return UnitConversion{false, 1};
  if (u == "second" || u == "seconds" || u == "1 second") return UnitConversion{false, 1};
  return std::nullopt;
}

std::vector<RateChange> DiffCatalogs(const PriceCatalog& before, const PriceCatalog& after) {
  std::vector<RateChange> out;
  for (const ModelPrice& b : before.models()) {
    const ModelPrice* a = after.Find(b.id);
    if (a == nullptr) {
      out.push_back({b.id, "model", "present", "-"});
      continue;
    }
    AddChange(out, b.id, "input", b.input.ToUsd(), a->input.ToUsd());
    AddChange(out, b.id, "output", b.output.ToUsd(), a->output.ToUsd());
    AddChange(out, b.id, "cache_read", RateText(b.cache_read), RateText(a->cache_read));
    AddChange(out, b.id, "cache_write", RateText(b.cache_write), RateText(a->cache_write));
    AddChange(out, b.id, "per_image", MoneyText(b.per_image), MoneyText(a->per_image));
    AddChange(out, b.id, "per_video_second", MoneyText(b.per_video_second),
              MoneyText(a->per_video_second));
    AddChange(out, b.id, "batch_discount_percent", std::to_string(b.batch_discount_percent),
              std::to_string(a->batch_discount_percent));
  }
  for (const ModelPrice& a : after.models()) {
    if (before.Find(a.id) == nullptr) out.push_back({a.id, "model", "-", "present"});
  }
  return out;
}

Result<CatalogUpdate> UpdateCatalogFromOffers(const PriceCatalog& current,
                                              const std::vector<OfferRow>& rows,
                                              const UpdateOptions& options) {
  if (rows.empty()) {
    return FailedPrecondition("the offers hold no on-demand price rows: refusing to update");
  }
  CatalogUpdate update;
  update.rows_total = static_cast<int64_t>(rows.size());
  const ModelMatcher matcher(current);
  CollectedRates collected;
  const auto refuse = [&](const OfferRow& row, std::string reason) {
    update.refused.push_back({row.origin, row.sku,
                              row.model + (row.usage_type.empty() ? "" : " / " + row.usage_type),
                              std::move(reason)});
  };

  for (const OfferRow& row : rows) {
    if (!row.region_code.empty() && row.region_code != options.region) {
      ++update.rows_other_region;
      continue;
    }
    const std::string text = RowText(row);
    if (IsNotOnDemand(text)) {
      ++update.rows_not_applicable;
      continue;
    }
    const ModelPrice* model = matcher.Find(row.model);
    if (model == nullptr) {
      refuse(row, row.model.empty() ? "the product names no model"
                                    : "model '" + row.model + "' is not in the catalog");
      continue;
    }
    // The catalog's rate for a model with a geo premium is its global. price (the premium is
    // added at pricing time); for the others global. and in-region cost the same, and the
    // in-region row is the reference.
    const bool global_row = text.find("global") != std::string::npos;
    if (global_row != (model->geo_premium_percent > 0)) {
      ++update.rows_not_applicable;
      continue;
    }
    if (IsLongContext(text)) {
      refuse(row, "long-context rates are kept from the catalog, not read from offers");
      continue;
    }
    const std::optional<UnitConversion> unit = ConvertUnit(row.unit);
    if (!unit) {
      refuse(row, "unknown unit '" + row.unit + "'");
      continue;
    }
    std::optional<RateKind> kind;
    if (unit->tokens) {
      kind = TokenKind(text);
    } else if (Lower(row.unit).find("image") != std::string::npos) {
      kind = RateKind::kPerImage;
    } else {
      kind = RateKind::kPerVideoSecond;
    }
    if (!kind) {
      refuse(row,
             "cannot tell which rate '" + row.inference_type + "' / '" + row.description + "' is");
      continue;
    }
    const Result<int64_t> nanos = DecimalToNanos(row.price_usd, unit->multiplier);
    if (!nanos.ok()) {
      refuse(row, nanos.status().message());
      continue;
    }
    if (*nanos == 0) {
      refuse(row, "a zero price is never taken from an offer (set an override if intended)");
      continue;
    }
    Collected& slot = collected[{model->id, *kind}];
    if (slot.row == nullptr) {
      slot = {*nanos, &row, false};
    } else if (slot.nanos != *nanos) {
      slot.conflict = true;
      refuse(row, std::string(RateKindName(*kind)) + " " + Money::FromNanos(*nanos).ToUsd() +
                      " conflicts with sku " + slot.row->sku + " (" +
                      Money::FromNanos(slot.nanos).ToUsd() + "); the rate is left unchanged");
      continue;
    }
    ++update.rows_used;
  }

  std::vector<ModelPrice> models = current.models();
  std::set<std::string> priced;
  for (ModelPrice& price : models) {
    const auto find = [&](RateKind k) -> const Collected* {
      const auto it = collected.find({price.id, k});
      return it == collected.end() || it->second.conflict ? nullptr : &it->second;
    };
    bool touched = false;
    const auto set_rate = [&](RateKind k, auto&& assign) {
      if (const Collected* c = find(k)) {
        assign(c->nanos);
        touched = true;
      }
    };
    set_rate(RateKind::kInput, [&](int64_t n) { price.input = {n}; });
    set_rate(RateKind::kOutput, [&](int64_t n) { price.output = {n}; });
    set_rate(RateKind::kCacheRead, [&](int64_t n) { price.cache_read = RatePerMillion{n}; });
    set_rate(RateKind::kCacheWrite, [&](int64_t n) { price.cache_write = RatePerMillion{n}; });
    set_rate(RateKind::kPerImage, [&](int64_t n) { price.per_image = Money::FromNanos(n); });
    set_rate(RateKind::kPerVideoSecond,
             [&](int64_t n) { price.per_video_second = Money::FromNanos(n); });
    const Collected* batch_in = find(RateKind::kBatchInput);
    if (auto problem = ApplyBatch(price, batch_in, find(RateKind::kBatchOutput))) {
      refuse(*batch_in->row, *problem);
    } else if (batch_in != nullptr) {
      touched = true;
    }
    if (touched) {
      price.source = options.source;
      price.source_date = options.effective_date;
      priced.insert(price.id);
    }
  }
  update.models_priced.assign(priced.begin(), priced.end());

  const auto summary = [&] {
    return std::to_string(update.rows_total) + " rows, " + std::to_string(update.rows_used) +
           " used, " + std::to_string(update.refused.size()) + " refused, " +
           std::to_string(update.rows_other_region) + " for other regions than " + options.region;
  };
  if (priced.empty()) {
    return FailedPrecondition("no row of the offers prices a catalog model (" + summary() +
                              "): refusing to update");
  }
  const size_t catalog_size = current.models().size();
  if (priced.size() * 100 < catalog_size * static_cast<size_t>(options.min_coverage_percent)) {
    return FailedPrecondition(
        "the offers price only " + std::to_string(priced.size()) + " of the catalog's " +
        std::to_string(catalog_size) + " models (" + summary() + "), below " +
        std::to_string(options.min_coverage_percent) +
        "%: refusing to update (a truncated or wrong file?); pass --partial to accept");
  }
  ASSIGN_OR_RETURN(update.catalog, PriceCatalog::Create(options.version, options.effective_date,
                                                        options.source, std::move(models)));
  update.changes = DiffCatalogs(current, update.catalog);
  return update;
}

}  // namespace budgeteer
