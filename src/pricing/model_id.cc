// Model-id normalisation (see pricing.h). Works on views only: no allocation until the caller
// asks for an owning NormalizedModel.
#include <array>

#include "pricing/pricing.h"

namespace budgeteer {

namespace {

struct GeoPrefix {
  std::string_view with_dot;  // "us."
  Routing routing;
};

// "us-gov." is listed before "us." only for readability: "us-gov." does not start with "us.".
constexpr std::array<GeoPrefix, 8> kGeoPrefixes = {{
    {"global.", Routing::kGlobal},
    {"us-gov.", Routing::kGeo},
    {"us.", Routing::kGeo},
    {"eu.", Routing::kGeo},
    {"apac.", Routing::kGeo},
    {"jp.", Routing::kGeo},
    {"au.", Routing::kGeo},
    {"ca.", Routing::kGeo},
}};

constexpr std::string_view kFoundationModel = "foundation-model/";
constexpr std::string_view kInferenceProfile = "inference-profile/";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Drops ":<digit>..." and everything after it.
std::string_view StripVersionSuffix(std::string_view id) {
  for (size_t i = 0; i + 1 < id.size(); ++i) {
    if (id[i] == ':' && IsDigit(id[i + 1])) return id.substr(0, i);
  }
  return id;
}

// For "arn:<partition>:bedrock:<region>:<account>:<resource>", returns <resource>; an empty
// view when `raw` is not a Bedrock ARN with that shape.
std::string_view ArnResource(std::string_view raw) {
  size_t pos = 0;
  for (int field = 0; field < 5; ++field) {
    const size_t colon = raw.find(':', pos);
    if (colon == std::string_view::npos) return {};
    if (field == 2 && raw.substr(pos, colon - pos) != "bedrock") return {};
    pos = colon + 1;
  }
  return raw.substr(pos);
}

}  // namespace

std::string_view RoutingName(Routing routing) {
  switch (routing) {
    case Routing::kInRegion:
      return "in_region";
    case Routing::kGeo:
      return "geo";
    case Routing::kGlobal:
      return "global";
  }
  return "in_region";
}

NormalizedModelView NormalizeModelIdView(std::string_view raw) {
  NormalizedModelView out;
  std::string_view id = raw;
  if (id.starts_with("arn:")) {
    const std::string_view resource = ArnResource(id);
    if (resource.starts_with(kFoundationModel)) {
      id = resource.substr(kFoundationModel.size());
    } else if (resource.starts_with(kInferenceProfile)) {
      id = resource.substr(kInferenceProfile.size());
    } else {
      // application-inference-profile/, provisioned-model/, custom-model/, anything else:
      // not resolvable offline. Returned unchanged.
      out.canonical = raw;
      return out;
    }
  }
  for (const GeoPrefix& geo : kGeoPrefixes) {
    if (id.starts_with(geo.with_dot)) {
      out.routing = geo.routing;
      out.geo_prefix = id.substr(0, geo.with_dot.size() - 1);
      id.remove_prefix(geo.with_dot.size());
      break;
    }
  }
  out.canonical = StripVersionSuffix(id);
  return out;
}

NormalizedModel NormalizeModelId(std::string_view raw) {
  const NormalizedModelView view = NormalizeModelIdView(raw);
  NormalizedModel out;
  out.canonical = ModelId(view.canonical);
  out.routing = view.routing;
  out.geo_prefix = std::string(view.geo_prefix);
  return out;
}

}  // namespace budgeteer
