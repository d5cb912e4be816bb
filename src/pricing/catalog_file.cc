// Loading the price catalog from TOML (see catalog_file.h). toml++ throws on syntax errors; the
// exception is caught here, at the edge, and turned into a Status.
#include "pricing/catalog_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace budgeteer {

namespace {

constexpr std::string_view kUnit = "per 1M tokens";

constexpr std::array<std::string_view, 9> kTopLevelKeys = {
    "schema_version", "version", "effective_date", "currency", "unit",
    "region",         "source",  "notes",          "model",
};

constexpr std::array<std::string_view, 20> kModelKeys = {
    "id",
    "name",
    "provider",
    "aliases",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "per_image",
    "per_video_second",
    "batch_discount_percent",
    "geo_premium_percent",
    "long_context_threshold",
    "long_context_input",
    "long_context_output",
    "long_context_cache_read",
    "long_context_cache_write",
    "source",
    "source_date",
    "note",
};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

// Reads one [[model]] entry. In override mode, `base` (the existing entry, if any) supplies
// every key the entry leaves out.
class EntryReader {
 public:
  EntryReader(std::string_view origin, size_t entry, const toml::table& table)
      : origin_(origin), entry_(entry), table_(table) {}

  std::string Where() const {
    std::string where = std::string(origin_) + ": model ";
    if (!id_.empty()) where += Quoted(id_) + " ";
    return where + "(entry " + std::to_string(entry_) + ")";
  }

  Status Error(std::string_view key, std::string_view problem) const {
    return InvalidArgument(Where() + ": key " + Quoted(key) + ": " + std::string(problem));
  }
  Status Missing(std::string_view key) const {
    return InvalidArgument(Where() + ": missing required key " + Quoted(key));
  }

  Result<std::string> ReadId() {
    const toml::node* node = table_.get("id");
    if (node == nullptr) return Missing("id");
    const auto* s = node->as_string();
    if (s == nullptr) return Error("id", "must be a string, not " + std::string(TypeName(*node)));
    id_ = s->get();
    return id_;
  }

  Status CheckKeys() const {
    for (const auto& [key, node] : table_) {
      if (!Contains(kModelKeys, key.str())) {
        return InvalidArgument(Where() + ": unknown key " + Quoted(key.str()));
      }
    }
    return Status::Ok();
  }

  // Each reader leaves `out` untouched when the key is absent.
  Status String(std::string_view key, std::string& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    const auto* s = node->as_string();
    if (s == nullptr) return Error(key, "must be a string, not " + std::string(TypeName(*node)));
    out = s->get();
    return Status::Ok();
  }

  Status Date(std::string_view key, std::string& out) const {
    std::string text = out;
    RETURN_IF_ERROR(String(key, text));
    if (table_.contains(key) && !IsDate(text)) {
      return Error(key, Quoted(text) + " is not a date of the form YYYY-MM-DD");
    }
    out = std::move(text);
    return Status::Ok();
  }

  Status StringList(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    const auto* array = node->as_array();
    if (array == nullptr) {
      return Error(key, "must be an array of strings, not " + std::string(TypeName(*node)));
    }
    std::vector<std::string> values;
    for (const toml::node& element : *array) {
      const auto* s = element.as_string();
      if (s == nullptr) {
        return Error(key, "must be an array of strings; found " + std::string(TypeName(element)));
      }
      values.push_back(s->get());
    }
    out = std::move(values);
    return Status::Ok();
  }

  Result<std::optional<std::string>> DecimalText(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::optional<std::string>();
    const auto* s = node->as_string();
    if (s == nullptr) {
      return Error(key, "must be a quoted decimal string such as \"0.25\", not " +
                            std::string(TypeName(*node)) + " (TOML numbers are not exact)");
    }
    return std::optional<std::string>(s->get());
  }

  Status Rate(std::string_view key, std::optional<RatePerMillion>& out) const {
    ASSIGN_OR_RETURN(std::optional<std::string> text, DecimalText(key));
    if (!text) return Status::Ok();
    Result<RatePerMillion> rate = RatePerMillion::ParseUsd(*text);
    if (!rate.ok()) return Error(key, rate.status().message());
    out = *rate;
    return Status::Ok();
  }

  Status Rate(std::string_view key, RatePerMillion& out) const {
    std::optional<RatePerMillion> rate;
    RETURN_IF_ERROR(Rate(key, rate));
    if (rate) out = *rate;
    return Status::Ok();
  }

  Status UnitPrice(std::string_view key, std::optional<Money>& out) const {
    ASSIGN_OR_RETURN(std::optional<std::string> text, DecimalText(key));
    if (!text) return Status::Ok();
    Result<Money> price = Money::ParseUsd(*text);
    if (!price.ok()) return Error(key, price.status().message());
    if (price->nanos() < 0) return Error(key, "price " + Quoted(*text) + " is negative");
    out = *price;
    return Status::Ok();
  }

  Status Integer(std::string_view key, int64_t min, int64_t max, int64_t& out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return Status::Ok();
    const auto* i = node->as_integer();
    if (i == nullptr) {
      return Error(key, "must be an integer, not " + std::string(TypeName(*node)));
    }
    const int64_t value = i->get();
    if (value < min || value > max) {
      return Error(key, std::to_string(value) + " is not in " + std::to_string(min) + ".." +
                            std::to_string(max));
    }
    out = value;
    return Status::Ok();
  }

  Status Percent(std::string_view key, int& out) const {
    int64_t value = out;
    RETURN_IF_ERROR(Integer(key, 0, 100, value));
    out = static_cast<int>(value);
    return Status::Ok();
  }

  bool Has(std::string_view key) const { return table_.contains(key); }

 private:
  std::string_view origin_;
  size_t entry_;
  const toml::table& table_;
  std::string id_;
};

// Reads the keys present in `reader` onto `price` (which holds defaults or the base entry).
Status ReadModel(EntryReader& reader, ModelPrice& price) {
  RETURN_IF_ERROR(reader.CheckKeys());
  RETURN_IF_ERROR(reader.String("name", price.name));
  RETURN_IF_ERROR(reader.String("provider", price.provider));
  RETURN_IF_ERROR(reader.StringList("aliases", price.aliases));
  RETURN_IF_ERROR(reader.Rate("input", price.input));
  RETURN_IF_ERROR(reader.Rate("output", price.output));
  RETURN_IF_ERROR(reader.Rate("cache_read", price.cache_read));
  RETURN_IF_ERROR(reader.Rate("cache_write", price.cache_write));
  RETURN_IF_ERROR(reader.UnitPrice("per_image", price.per_image));
  RETURN_IF_ERROR(reader.UnitPrice("per_video_second", price.per_video_second));
  RETURN_IF_ERROR(reader.Percent("batch_discount_percent", price.batch_discount_percent));
  RETURN_IF_ERROR(reader.Percent("geo_premium_percent", price.geo_premium_percent));
  RETURN_IF_ERROR(reader.String("source", price.source));
  RETURN_IF_ERROR(reader.Date("source_date", price.source_date));

  const bool any_long_context =
      reader.Has("long_context_threshold") || reader.Has("long_context_input") ||
      reader.Has("long_context_output") || reader.Has("long_context_cache_read") ||
      reader.Has("long_context_cache_write");
  if (any_long_context) {
    LongContextPrice lc = price.long_context.value_or(LongContextPrice{});
    const bool had = price.long_context.has_value();
    RETURN_IF_ERROR(
        reader.Integer("long_context_threshold", 1, int64_t{1} << 40, lc.threshold_tokens));
    RETURN_IF_ERROR(reader.Rate("long_context_input", lc.input));
    RETURN_IF_ERROR(reader.Rate("long_context_output", lc.output));
    RETURN_IF_ERROR(reader.Rate("long_context_cache_read", lc.cache_read));
    RETURN_IF_ERROR(reader.Rate("long_context_cache_write", lc.cache_write));
    for (std::string_view key :
         {"long_context_threshold", "long_context_input", "long_context_output"}) {
      if (!had && !reader.Has(key)) {
        return InvalidArgument(reader.Where() + ": missing key " + Quoted(key) +
                               " (long-context pricing needs a threshold, an input and an "
                               "output rate)");
      }
    }
    price.long_context = lc;
  }
  return Status::Ok();
}

Result<toml::table> ParseToml(std::string_view text, std::string_view origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const toml::source_position begin = e.source().begin;
    return InvalidArgument(std::string(origin) + ":" + std::to_string(begin.line) + ":" +
                           std::to_string(begin.column) + ": " + std::string(e.description()));
  }
}

Result<const toml::array*> ModelArray(const toml::table& root, std::string_view origin,
                                      bool required) {
  const toml::node* node = root.get("model");
  if (node == nullptr) {
    if (!required) return static_cast<const toml::array*>(nullptr);
    return InvalidArgument(std::string(origin) + ": no [[model]] entries");
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return InvalidArgument(std::string(origin) +
                           ": 'model' must be an array of tables, written [[model]]");
  }
  return array;
}

Result<std::string> TopString(const toml::table& root, std::string_view origin,
                              std::string_view key, bool required) {
  const toml::node* node = root.get(key);
  if (node == nullptr) {
    if (!required) return std::string();
    return InvalidArgument(std::string(origin) + ": missing required top-level key " + Quoted(key));
  }
  const auto* s = node->as_string();
  if (s == nullptr) {
    return InvalidArgument(std::string(origin) + ": top-level key " + Quoted(key) +
                           " must be a string, not " + std::string(TypeName(*node)));
  }
  return s->get();
}

}  // namespace

Result<PriceCatalog> LoadCatalogToml(std::string_view text, std::string_view origin) {
  ASSIGN_OR_RETURN(toml::table root, ParseToml(text, origin));
  const std::string where(origin);
  for (const auto& [key, node] : root) {
    if (!Contains(kTopLevelKeys, key.str())) {
      return InvalidArgument(where + ": unknown top-level key " + Quoted(key.str()));
    }
  }
  const toml::node* schema = root.get("schema_version");
  if (schema == nullptr) {
    return InvalidArgument(where + ": missing required top-level key 'schema_version'");
  }
  if (schema->as_integer() == nullptr || schema->as_integer()->get() != 1) {
    return InvalidArgument(where + ": schema_version must be 1");
  }
  ASSIGN_OR_RETURN(std::string version, TopString(root, origin, "version", true));
  ASSIGN_OR_RETURN(std::string effective_date, TopString(root, origin, "effective_date", true));
  if (!IsDate(effective_date)) {
    return InvalidArgument(where + ": effective_date " + Quoted(effective_date) +
                           " is not a date of the form YYYY-MM-DD");
  }
  ASSIGN_OR_RETURN(std::string currency, TopString(root, origin, "currency", true));
  if (currency != "USD") {
    return InvalidArgument(where + ": currency " + Quoted(currency) + " is not supported (USD)");
  }
  ASSIGN_OR_RETURN(std::string unit, TopString(root, origin, "unit", true));
  if (unit != kUnit) {
    return InvalidArgument(where + ": unit " + Quoted(unit) + " is not supported: token rates " +
                           "must be written " + Quoted(kUnit) +
                           " (multiply per-1K-token figures by 1000)");
  }
  ASSIGN_OR_RETURN(std::string source, TopString(root, origin, "source", true));
  RETURN_IF_ERROR(TopString(root, origin, "region", false).status());
  RETURN_IF_ERROR(TopString(root, origin, "notes", false).status());

  ASSIGN_OR_RETURN(const toml::array* array, ModelArray(root, origin, true));
  std::vector<ModelPrice> models;
  models.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    EntryReader reader(origin, i + 1, *array->get(i)->as_table());
    ModelPrice price;
    ASSIGN_OR_RETURN(price.id, reader.ReadId());
    RETURN_IF_ERROR(reader.CheckKeys());  // a misspelt key is reported as such, not as missing
    for (std::string_view key : {"name", "provider", "input", "output", "source", "source_date"}) {
      if (!reader.Has(key)) return reader.Missing(key);
    }
    RETURN_IF_ERROR(ReadModel(reader, price));
    for (size_t j = 0; j < models.size(); ++j) {
      if (models[j].id == price.id) {
        return InvalidArgument(where + ": duplicate model id " + Quoted(price.id) + " (entries " +
                               std::to_string(j + 1) + " and " + std::to_string(i + 1) + ")");
      }
    }
    models.push_back(std::move(price));
  }
  Result<PriceCatalog> catalog = PriceCatalog::Create(std::move(version), std::move(effective_date),
                                                      std::move(source), std::move(models));
  if (!catalog.ok()) return catalog.status().WithContext(origin);
  return catalog;
}

Status ApplyOverridesToml(PriceCatalog& catalog, std::string_view text, std::string_view origin) {
  ASSIGN_OR_RETURN(toml::table root, ParseToml(text, origin));
  for (const auto& [key, node] : root) {
    if (key.str() != "model") {
      return InvalidArgument(std::string(origin) + ": unknown top-level key " + Quoted(key.str()) +
                             " (overrides are [[model]] entries)");
    }
  }
  ASSIGN_OR_RETURN(const toml::array* array, ModelArray(root, origin, false));
  if (array == nullptr) return Status::Ok();
  PriceCatalog updated = catalog;
  for (size_t i = 0; i < array->size(); ++i) {
    EntryReader reader(origin, i + 1, *array->get(i)->as_table());
    ASSIGN_OR_RETURN(std::string id, reader.ReadId());
    ModelPrice price;
    const ModelPrice* base = updated.Find(id);
    if (base != nullptr && base->id == id) {
      price = *base;
    } else {
      price.id = id;
      price.name = id;
      price.provider = "config override";
      if (!reader.Has("input") || !reader.Has("output")) {
        return InvalidArgument(reader.Where() + ": not in the catalog" +
                               (base != nullptr ? " (it is an alias of " + Quoted(base->id) +
                                                      "; override that id instead)"
                                                : std::string()) +
                               ", so it needs 'input' and 'output'");
      }
    }
    // The figure now comes from `origin`. Its date is the entry's own `source_date` when it
    // gives one; otherwise the overridden entry's, or for a new id the catalog's
    // effective_date: every model keeps a date, so CatalogToToml writes a loadable catalog.
    price.source = std::string(origin);
    if (price.source_date.empty()) price.source_date = updated.effective_date();
    RETURN_IF_ERROR(ReadModel(reader, price));
    Status status = updated.Override(price);
    if (!status.ok()) return status.WithContext(origin);
  }
  catalog = std::move(updated);
  return Status::Ok();
}

Result<PriceCatalog> LoadEmbeddedCatalog() {
  return LoadCatalogToml(EmbeddedCatalogToml(), "embedded data/prices/bedrock-prices.toml");
}

namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[(c >> 4) & 0xf]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

void Line(std::string& out, std::string_view key, const std::string& value) {
  out.append(key).append(" = ").append(value).push_back('\n');
}

}  // namespace

std::string CatalogToToml(const PriceCatalog& catalog, std::string_view region,
                          std::string_view notes) {
  std::string out =
      "# Amazon Bedrock price catalog written by `budgeteer prices update` (see docs/pricing.md).\n"
      "# Prices are exact decimal strings in USD; token rates per 1 MILLION tokens.\n";
  Line(out, "schema_version", "1");
  Line(out, "version", TomlString(catalog.version()));
  Line(out, "effective_date", TomlString(catalog.effective_date()));
  Line(out, "currency", TomlString("USD"));
  Line(out, "unit", TomlString(kUnit));
  if (!region.empty()) Line(out, "region", TomlString(region));
  Line(out, "source", TomlString(catalog.source()));
  if (!notes.empty()) Line(out, "notes", TomlString(notes));
  const auto usd = [](int64_t nanos) { return TomlString(Money::FromNanos(nanos).ToUsd()); };
  for (const ModelPrice& m : catalog.models()) {
    out += "\n[[model]]\n";
    Line(out, "id", TomlString(m.id));
    Line(out, "name", TomlString(m.name));
    Line(out, "provider", TomlString(m.provider));
    if (!m.aliases.empty()) {
      std::string list = "[";
      for (size_t i = 0; i < m.aliases.size(); ++i) {
        list += (i == 0 ? "" : ", ") + TomlString(m.aliases[i]);
      }
      Line(out, "aliases", list + "]");
    }
    Line(out, "input", usd(m.input.nanos));
    Line(out, "output", usd(m.output.nanos));
    if (m.cache_read) Line(out, "cache_read", usd(m.cache_read->nanos));
    if (m.cache_write) Line(out, "cache_write", usd(m.cache_write->nanos));
    if (m.per_image) Line(out, "per_image", usd(m.per_image->nanos()));
    if (m.per_video_second) Line(out, "per_video_second", usd(m.per_video_second->nanos()));
    if (m.batch_discount_percent != 0) {
      Line(out, "batch_discount_percent", std::to_string(m.batch_discount_percent));
    }
    if (m.geo_premium_percent != 0) {
      Line(out, "geo_premium_percent", std::to_string(m.geo_premium_percent));
    }
    if (m.long_context) {
      const LongContextPrice& lc = *m.long_context;
      Line(out, "long_context_threshold", std::to_string(lc.threshold_tokens));
      Line(out, "long_context_input", usd(lc.input.nanos));
      Line(out, "long_context_output", usd(lc.output.nanos));
      if (lc.cache_read) Line(out, "long_context_cache_read", usd(lc.cache_read->nanos));
      if (lc.cache_write) Line(out, "long_context_cache_write", usd(lc.cache_write->nanos));
    }
    Line(out, "source", TomlString(m.source));
    Line(out, "source_date", TomlString(m.source_date));
  }
  return out;
}

}  // namespace budgeteer
