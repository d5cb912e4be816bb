// The dashboard routes of `budgeteer serve`: GET / (the single page) and GET /assets/... from
// the files embedded in the binary (server/web_assets.h), with content types, ETags
// (If-None-Match answers 304), Cache-Control and, on the page, a strict Content-Security-Policy
// (scripts, styles and connections from this origin only; no inline script). Stateless;
// handlers are safe on any worker thread.
#pragma once

#include <httplib.h>

namespace budgeteer {

void AddDashboardRoutes(httplib::Server& server);

}  // namespace budgeteer
