#include "server/http_server.h"

#include <httplib.h>

#include "engine/events.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

void SendJson(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

// {"error":{"code":"NOT_FOUND","message":"..."}} with the status the code maps to.
void SendError(httplib::Response& res, const Status& st) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Field("code", CodeName(st.code())).Field("message", st.message()).EndObject().EndObject();
  SendJson(res, HttpStatusFor(st), w.Take());
}

std::string BudgetViewJson(const BudgetView& v) {
  JsonWriter w;
  WriteBudgetView(w, v.row, v.settings);
  return w.Take();
}

}  // namespace

struct HttpServer::Impl {
  ServerDeps deps;
  ServerLimits limits;
  httplib::Server server;

  Impl(ServerDeps d, ServerLimits l) : deps(d), limits(l) { Routes(); }

  // Runs `fn` for an authenticated caller with at least `role`.
  template <typename Fn>
  void Authed(const httplib::Request& req, httplib::Response& res, Role role, Fn&& fn) {
    auto caller = deps.auth.Check(req.get_header_value("Authorization"), role);
    if (!caller.ok()) {
      SendError(res, caller.status());
      return;
    }
    fn(*caller);
  }

  void Routes() {
    server.set_payload_max_length(limits.max_body_bytes);
    server.set_read_timeout(limits.read_timeout_seconds, 0);
    server.set_write_timeout(limits.write_timeout_seconds, 0);
    server.set_keep_alive_timeout(limits.keep_alive_seconds);
    server.set_keep_alive_max_count(static_cast<size_t>(limits.keep_alive_max_requests));
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      Code code = Code::kNotFound;
      std::string message = "no such route";
      if (res.status == 413) {
        code = Code::kResourceExhausted;
        message = "request body too large (server limit)";
      } else if (res.status == 400) {
        code = Code::kInvalidArgument;
        message = "malformed request";
      } else if (res.status >= 500) {
        code = Code::kInternal;
        message = "internal error";
      }
      const int status = res.status;
      SendError(res, Status(code, message));
      res.status = status;
    });

    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      SendJson(res, 200, R"({"status":"ok"})");
    });

    server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const int64_t now = deps.clock.Now().unix_millis();
      const int64_t last = deps.last_tick_ms.load();
      const bool scheduler_ok = last > 0 && now - last < 5000;
      Status ledger = Status::Ok();
      {
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        ledger = deps.store.WriteTransaction([](LedgerTxn&) { return Status::Ok(); });
      }
      JsonWriter w;
      w.BeginObject()
          .Field("ledger_writable", ledger.ok())
          .Field("scheduler_running", scheduler_ok);
      if (!ledger.ok()) w.Field("ledger_error", ledger.message());
      w.EndObject();
      SendJson(res, ledger.ok() && scheduler_ok ? 200 : 503, w.Take());
    });

    server.Post("/v1/ingest/firehose", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string key = req.get_header_value("X-Amz-Firehose-Access-Key");
      const std::string encoding = req.get_header_value("Content-Encoding");
      const std::string request_id = req.get_header_value("X-Amz-Firehose-Request-Id");
      HttpReply reply = deps.ingest.Firehose(FirehoseRequest{key, encoding, request_id, req.body});
      SendJson(res, reply.status, std::move(reply.body));
    });

    server.Get("/v1/budgets", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        auto views = deps.engine.ListBudgets();
        if (!views.ok()) return SendError(res, views.status());
        JsonWriter w;
        w.BeginArray();
        for (const auto& v : *views) WriteBudgetView(w, v.row, v.settings);
        w.EndArray();
        SendJson(res, 200, w.Take());
      });
    });

    server.Post(R"(/v1/budgets/(.+)/(reset|suspend|restore|exempt))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  Authed(req, res, Role::kAdmin, [&](const Caller& caller) {
                    const std::string principal = req.matches[1];
                    const std::string action = req.matches[2];
                    const bool force = req.body.find("\"force\":true") != std::string::npos ||
                                       req.body.find("\"force\": true") != std::string::npos;
                    const bool off = req.body.find("\"off\":true") != std::string::npos ||
                                     req.body.find("\"off\": true") != std::string::npos;
                    std::lock_guard<std::mutex> lock(deps.engine_mu);
                    Result<BudgetView> view = Status(Code::kInternal, "unreachable");
                    if (action == "reset") view = deps.engine.ResetSpend(principal, caller.name);
                    if (action == "suspend") view = deps.engine.Suspend(principal, caller.name);
                    if (action == "restore") {
                      view = deps.engine.Restore(principal, force, caller.name);
                    }
                    if (action == "exempt") {
                      view = deps.engine.SetExempt(principal, !off, caller.name);
                    }
                    if (!view.ok()) return SendError(res, view.status());
                    SendJson(res, 200, BudgetViewJson(*view));
                  });
                });

    server.Get(R"(/v1/budgets/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        auto view = deps.engine.ShowBudget(req.matches[1]);
        if (!view.ok()) return SendError(res, view.status());
        SendJson(res, 200, BudgetViewJson(*view));
      });
    });
  }
};

HttpServer::HttpServer(ServerDeps deps, ServerLimits limits)
    : impl_(std::make_unique<Impl>(deps, limits)) {}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Bind(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("server.listen '" + listen + "' must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return InvalidArgument("server.listen '" + listen + "' has no valid port");
  }
  if (port < 0 || port > 65535) return InvalidArgument("server.listen port out of range");
  if (port == 0) {
    const int bound = impl_->server.bind_to_any_port(host);
    if (bound <= 0) return Unavailable("cannot listen on " + listen);
    return bound;
  }
  if (!impl_->server.bind_to_port(host, port)) {
    return Unavailable("cannot listen on " + listen +
                       ": the address is in use or not available; pick another with "
                       "server.listen or --listen");
  }
  return port;
}

void HttpServer::Run() { impl_->server.listen_after_bind(); }

void HttpServer::Stop() {
  if (impl_ && impl_->server.is_running()) impl_->server.stop();
}

}  // namespace budgeteer
