// PriceCatalog, its validation, and the unknown-model rule (see pricing.h).
#include <algorithm>
#include <utility>

#include "pricing/pricing.h"

namespace budgeteer {

namespace {

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

Status CheckCanonical(std::string_view model_id, std::string_view what, std::string_view id) {
  if (id.empty()) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(what) + " is empty");
  }
  const NormalizedModelView n = NormalizeModelIdView(id);
  if (n.canonical != id || n.routing != Routing::kInRegion) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(what) + " " +
                           Quoted(id) + " is not a canonical model id (write " +
                           Quoted(n.canonical) +
                           ": no geo prefix, no ARN, no ':N' version suffix)");
  }
  return Status::Ok();
}

Status CheckRate(std::string_view model_id, std::string_view field, RatePerMillion rate) {
  if (rate.nanos < 0) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(field) +
                           " is negative");
  }
  if (rate.nanos > kMaxRateNanos) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(field) + " " +
                           rate.ToUsd() + " is above the limit of 1000000 USD per 1M tokens");
  }
  return Status::Ok();
}

Status CheckUnitPrice(std::string_view model_id, std::string_view field, Money price) {
  if (price.nanos() < 0) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(field) +
                           " is negative");
  }
  if (price.nanos() > kMaxUnitPriceNanos) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(field) + " " +
                           price.ToUsd() + " is above the limit of 10000 USD per unit");
  }
  return Status::Ok();
}

Status CheckPercent(std::string_view model_id, std::string_view field, int percent) {
  if (percent < 0 || percent > 100) {
    return InvalidArgument("model " + Quoted(model_id) + ": " + std::string(field) + " " +
                           std::to_string(percent) + " is not in 0..100");
  }
  return Status::Ok();
}

// rate * (100 + premium) / 100, rounded down (used only to pick a conservative maximum).
int64_t WithPremium(RatePerMillion rate, int premium_percent) {
  const Int128 v = static_cast<Int128>(rate.nanos) * (100 + premium_percent) / 100;
  return static_cast<int64_t>(v);
}

}  // namespace

Status ValidateModelPrice(const ModelPrice& p) {
  RETURN_IF_ERROR(CheckCanonical(p.id, "id", p.id));
  for (size_t i = 0; i < p.aliases.size(); ++i) {
    RETURN_IF_ERROR(CheckCanonical(p.id, "alias", p.aliases[i]));
    if (p.aliases[i] == p.id) {
      return InvalidArgument("model " + Quoted(p.id) + ": alias " + Quoted(p.aliases[i]) +
                             " repeats the model's own id");
    }
    for (size_t j = 0; j < i; ++j) {
      if (p.aliases[j] == p.aliases[i]) {
        return InvalidArgument("model " + Quoted(p.id) + ": alias " + Quoted(p.aliases[i]) +
                               " is listed twice");
      }
    }
  }
  RETURN_IF_ERROR(CheckRate(p.id, "input", p.input));
  RETURN_IF_ERROR(CheckRate(p.id, "output", p.output));
  if (p.cache_read) RETURN_IF_ERROR(CheckRate(p.id, "cache_read", *p.cache_read));
  if (p.cache_write) RETURN_IF_ERROR(CheckRate(p.id, "cache_write", *p.cache_write));
  if (p.per_image) RETURN_IF_ERROR(CheckUnitPrice(p.id, "per_image", *p.per_image));
  if (p.per_video_second) {
    RETURN_IF_ERROR(CheckUnitPrice(p.id, "per_video_second", *p.per_video_second));
  }
  if (p.long_context) {
    const LongContextPrice& lc = *p.long_context;
    if (lc.threshold_tokens <= 0) {
      return InvalidArgument("model " + Quoted(p.id) + ": long_context_threshold " +
                             std::to_string(lc.threshold_tokens) + " is not positive");
    }
    RETURN_IF_ERROR(CheckRate(p.id, "long_context_input", lc.input));
    RETURN_IF_ERROR(CheckRate(p.id, "long_context_output", lc.output));
    if (lc.cache_read) RETURN_IF_ERROR(CheckRate(p.id, "long_context_cache_read", *lc.cache_read));
    if (lc.cache_write) {
      RETURN_IF_ERROR(CheckRate(p.id, "long_context_cache_write", *lc.cache_write));
    }
  }
  RETURN_IF_ERROR(CheckPercent(p.id, "batch_discount_percent", p.batch_discount_percent));
  RETURN_IF_ERROR(CheckPercent(p.id, "geo_premium_percent", p.geo_premium_percent));
  return Status::Ok();
}

Result<PriceCatalog::Index> PriceCatalog::BuildIndex(const std::vector<ModelPrice>& models) {
  Index index;
  index.reserve(models.size() * 2);
  for (size_t i = 0; i < models.size(); ++i) {
    const ModelPrice& m = models[i];
    RETURN_IF_ERROR(ValidateModelPrice(m));
    auto [it, inserted] = index.emplace(m.id, i);
    if (!inserted) {
      const ModelPrice& other = models[it->second];
      if (other.id == m.id) {
        return InvalidArgument("duplicate model id " + Quoted(m.id));
      }
      return InvalidArgument("model id " + Quoted(m.id) + " is already an alias of model " +
                             Quoted(other.id));
    }
  }
  for (size_t i = 0; i < models.size(); ++i) {
    const ModelPrice& m = models[i];
    for (const std::string& alias : m.aliases) {
      auto [it, inserted] = index.emplace(alias, i);
      if (!inserted) {
        const ModelPrice& other = models[it->second];
        return InvalidArgument(
            "model " + Quoted(m.id) + ": alias " + Quoted(alias) +
            (other.id == alias ? " is the id of model " : " is already an alias of model ") +
            Quoted(other.id));
      }
    }
  }
  return index;
}

Result<PriceCatalog> PriceCatalog::Create(std::string version, std::string effective_date,
                                          std::string source, std::vector<ModelPrice> models) {
  ASSIGN_OR_RETURN(Index index, BuildIndex(models));
  PriceCatalog catalog;
  catalog.version_ = std::move(version);
  catalog.effective_date_ = std::move(effective_date);
  catalog.source_ = std::move(source);
  catalog.models_ = std::move(models);
  catalog.index_ = std::move(index);
  return catalog;
}

const ModelPrice* PriceCatalog::Find(std::string_view canonical) const {
  const auto it = index_.find(canonical);
  return it == index_.end() ? nullptr : &models_[it->second];
}

Status PriceCatalog::Override(const ModelPrice& price) {
  RETURN_IF_ERROR(ValidateModelPrice(price));
  std::vector<ModelPrice> models = models_;
  const auto it = index_.find(price.id);
  if (it == index_.end()) {
    models.push_back(price);
  } else if (models[it->second].id != price.id) {
    return InvalidArgument("override of model " + Quoted(price.id) + ": it is an alias of model " +
                           Quoted(models[it->second].id) + "; override that model instead");
  } else {
    models[it->second] = price;
  }
  ASSIGN_OR_RETURN(Index index, BuildIndex(models));
  models_ = std::move(models);
  index_ = std::move(index);
  return Status::Ok();
}

UnknownModelRule UnknownModelRule::FromCatalog(const PriceCatalog& catalog) {
  int64_t input = 0;
  int64_t output = 0;
  int64_t image = 0;
  int64_t video = 0;
  for (const ModelPrice& m : catalog.models()) {
    const int premium = m.geo_premium_percent;
    input = std::max(input, WithPremium(m.input, premium));
    output = std::max(output, WithPremium(m.output, premium));
    if (m.long_context) {
      input = std::max(input, WithPremium(m.long_context->input, premium));
      output = std::max(output, WithPremium(m.long_context->output, premium));
    }
    if (m.per_image) image = std::max(image, m.per_image->nanos());
    if (m.per_video_second) video = std::max(video, m.per_video_second->nanos());
  }
  UnknownModelRule rule;
  rule.input = RatePerMillion{input > 0 ? input : kFloorRateNanos};
  rule.output = RatePerMillion{output > 0 ? output : kFloorRateNanos};
  rule.per_image = Money::FromNanos(image > 0 ? image : kFloorUnitNanos);
  rule.per_video_second = Money::FromNanos(video > 0 ? video : kFloorUnitNanos);
  return rule;
}

Status UnknownModelRule::Validate() const {
  if (input.nanos <= 0 || output.nanos <= 0) {
    return InvalidArgument(
        "unknown-model rule: input and output rates must be positive (an unknown model is "
        "never priced at zero)");
  }
  if (input.nanos > kMaxRateNanos || output.nanos > kMaxRateNanos) {
    return InvalidArgument("unknown-model rule: rate above the limit of 1000000 USD per 1M tokens");
  }
  if (per_image.nanos() < 0 || per_video_second.nanos() < 0 ||
      per_image.nanos() > kMaxUnitPriceNanos || per_video_second.nanos() > kMaxUnitPriceNanos) {
    return InvalidArgument("unknown-model rule: media unit prices must be in 0..10000 USD");
  }
  return Status::Ok();
}

}  // namespace budgeteer
