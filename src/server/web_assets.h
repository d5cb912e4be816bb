// The dashboard's files (web/src), embedded in the binary at build time by
// embed_web_assets.cmake: a fixed table of paths, content types, ETags and bytes. Nothing is
// read from disk at run time, so a request path can only ever name an entry of the table.
// Immutable; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace budgeteer {

struct WebAsset {
  std::string_view path;  // relative to web/src: "index.html", "assets/app.js", ...
  std::string_view content_type;
  std::string_view etag;  // quoted, as sent in the ETag header
  std::string_view body;
};

// Every embedded file (empty when the build found no dashboard sources).
std::span<const WebAsset> EmbeddedWebAssets();

// The asset at `path` (exact match), or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace budgeteer
