#include "server/dashboard.h"

#include <string>

#include "server/web_assets.h"

namespace budgeteer {

namespace {

// Scripts, styles, images and API calls from this origin only: no inline script or style, no
// third-party host, no framing.
constexpr char kPagePolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

void SendAsset(const httplib::Request& req, httplib::Response& res, const WebAsset& asset) {
  res.set_header("ETag", std::string(asset.etag));
  // The page and its modules keep their names across releases: revalidate every time (a 304
  // costs one round trip and no body).
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  if (asset.content_type.starts_with("text/html")) {
    res.set_header("Content-Security-Policy", kPagePolicy);
    res.set_header("X-Frame-Options", "DENY");
  }
  if (req.get_header_value("If-None-Match") == asset.etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type));
}

void SendNotBuilt(httplib::Response& res) {
  res.status = 503;
  res.set_header("Cache-Control", "no-store");
  res.set_content(
      "The dashboard's assets were not built into this binary (web/src was missing at build "
      "time). The REST API under /v1 works as usual.\n",
      "text/plain; charset=utf-8");
}

}  // namespace

void AddDashboardRoutes(httplib::Server& server) {
  server.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* page = FindWebAsset("index.html");
    if (page == nullptr) return SendNotBuilt(res);
    SendAsset(req, res, *page);
  });
  // Paths are only looked up in the embedded table: "/assets/../x" names no entry.
  server.Get(R"(/assets/(.+))", [](const httplib::Request& req, httplib::Response& res) {
    if (EmbeddedWebAssets().empty()) return SendNotBuilt(res);
    const WebAsset* asset = FindWebAsset("assets/" + std::string(req.matches[1]));
    if (asset == nullptr) {
      res.status = 404;
      res.set_content("no such asset\n", "text/plain; charset=utf-8");
      return;
    }
    SendAsset(req, res, *asset);
  });
}

}  // namespace budgeteer
