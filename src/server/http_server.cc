#include "server/http_server.h"

#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/events.h"
#include "engine/json_views.h"
#include "formats/input.h"
#include "server/body_encoding.h"
#include "server/dashboard.h"
#include "server/guarded_server.h"
#include "util/json_writer.h"

namespace budgeteer {

namespace {

void SendJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

// Reads a request body as sent (both routes that call this are GuardedServer raw-body paths:
// they decode it themselves, DecodeBody) into one buffer, instead of a copy in Request::body
// first, and stops as soon as it passes `limit`.
enum class BodyRead { kOk, kTooLarge, kBroken };
BodyRead ReadBoundedBody(const httplib::Request& req, const httplib::ContentReader& reader,
                         size_t wire_limit, size_t limit, std::string& body) {
  const std::string declared = req.get_header_value("Content-Length");
  size_t wire = 0;
  std::from_chars(declared.data(), declared.data() + declared.size(), wire);
  // Reserve the declared length without trusting it beyond the limit.
  body.reserve(std::min({limit, wire_limit, wire}));
  bool too_large = false;
  const bool read = reader([&](const char* data, size_t length) {
    if (length > limit - body.size()) {
      too_large = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  // httplib refuses (and drains) a body whose Content-Length passes server.max_body_bytes.
  if (too_large || (!read && wire > wire_limit)) return BodyRead::kTooLarge;
  return read ? BodyRead::kOk : BodyRead::kBroken;
}

// {"error":{"code":"NOT_FOUND","message":"..."}} with the status the code maps to.
void SendError(httplib::Response& res, const Status& st) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Field("code", CodeName(st.code())).Field("message", st.message()).EndObject().EndObject();
  SendJson(res, HttpStatusFor(st), w.Take());
}

// Parses a PATCH /v1/budgets/{principal} body into a settings patch. Unknown fields are errors.
Result<SettingsPatch> ParsePatch(const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidArgument("the body must be a JSON object such as {\"limit_usd\": \"25\"}");
  }
  SettingsPatch patch;
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field) != simdjson::SUCCESS) {
      return InvalidArgument("malformed JSON body");
    }
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS)
      return InvalidArgument("malformed key");
    simdjson::ondemand::value value = field.value();
    // Numbers are read from their exact text: money never passes through a double.
    std::string_view text;
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return InvalidArgument("malformed value");
    if (type == simdjson::ondemand::json_type::string) {
      if (value.get_string().get(text) != simdjson::SUCCESS) return InvalidArgument("bad string");
    } else {
      text = value.raw_json_token();
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
    }
    auto as_int = [&](int64_t lo, int64_t hi) -> Result<int64_t> {
      int64_t n = 0;
      for (char c : text) {
        if (c < '0' || c > '9' || n > hi) {
          return InvalidArgument(std::string(key) + " must be a whole number");
        }
        n = n * 10 + (c - '0');
      }
      if (text.empty() || n < lo || n > hi) {
        return InvalidArgument(std::string(key) + " must be between " + std::to_string(lo) +
                               " and " + std::to_string(hi));
      }
      return n;
    };
    if (key == "limit_usd") {
      auto m = Money::ParseUsd(text);
      if (!m.ok()) return m.status().WithContext("limit_usd");
      if (m->nanos() < 0) return InvalidArgument("limit_usd must not be negative");
      patch.limit = *m;
    } else if (key == "warn_percent") {
      ASSIGN_OR_RETURN(const int64_t n, as_int(1, 100));
      patch.warn_percent = static_cast<int>(n);
    } else if (key == "critical_percent") {
      ASSIGN_OR_RETURN(const int64_t n, as_int(1, 100));
      patch.critical_percent = static_cast<int>(n);
    } else if (key == "grace_seconds") {
      ASSIGN_OR_RETURN(patch.grace_seconds, as_int(0, int64_t{30} * 86400));
    } else if (key == "period") {
      auto period = PeriodSpec::Parse(text);
      if (!period.ok()) return period.status().WithContext("period");
      patch.period = *period;
    } else if (key == "owner_email") {
      patch.owner_email = std::string(text);
    } else {
      return InvalidArgument("unknown field '" + std::string(key) +
                             "' (limit_usd, warn_percent, critical_percent, grace_seconds, "
                             "period, owner_email)");
    }
  }
  return patch;
}

// The optional body of POST /v1/budgets/{principal}/{action}: {"force":true} for restore,
// {"off":true} for exempt; empty means neither.
struct ActionFlags {
  bool force = false;
  bool off = false;
};
Result<ActionFlags> ParseActionBody(const std::string& body) {
  ActionFlags flags;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return flags;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidArgument("the body must be a JSON object such as {\"force\": true}");
  }
  for (auto field_result : obj) {
    simdjson::ondemand::field field;
    std::string_view key;
    bool value = false;
    if (std::move(field_result).get(field) != simdjson::SUCCESS ||
        field.unescaped_key().get(key) != simdjson::SUCCESS ||
        field.value().get_bool().get(value) != simdjson::SUCCESS) {
      return InvalidArgument("expected boolean fields \"force\" or \"off\"");
    }
    if (key == "force") {
      flags.force = value;
    } else if (key == "off") {
      flags.off = value;
    } else {
      return InvalidArgument("unknown field '" + std::string(key) + "' (force, off)");
    }
  }
  return flags;
}

// Collects records and rejections of a POST /v1/usage body.
class UsageSink final : public RecordSink {
 public:
  void OnRecord(UsageRecord&& record, const Location& where) override {
    records.push_back(std::move(record));
    where_.push_back(where.ToString());
  }
  void OnReject(const Location& where, std::string reason) override {
    rejections.emplace_back(where.ToString(), std::move(reason));
  }
  std::vector<UsageRecord> records;
  std::vector<std::string> where_;
  std::vector<std::pair<std::string, std::string>> rejections;
};

std::chrono::steady_clock::time_point& RequestStart() {
  thread_local std::chrono::steady_clock::time_point start;
  return start;
}

std::string BudgetViewJson(const BudgetView& v) {
  JsonWriter w;
  WriteBudgetView(w, v.row, v.settings);
  return w.Take();
}

// GET /v1/budgets?offset=&limit=&sort=&q=&status= : one page of the budgets the filters keep,
// sorted on the server (10,000 principals are not sent to a browser to sort), with the total
// and a summary of every principal (spend this period, principals by status).
struct BudgetPageQuery {
  int64_t offset = 0;
  int64_t limit = 50;
  std::string sort = "principal";  // a field name; "-" first sorts descending
  std::string q;                   // case-insensitive substring of "ACCOUNT:NAME"
  std::vector<BudgetStatus> statuses;
};

bool WantsBudgetPage(const httplib::Request& req) {
  for (const char* p : {"offset", "limit", "sort", "q", "status"}) {
    if (req.has_param(p)) return true;
  }
  return false;
}

Result<int64_t> ParseCount(const std::string& text, const char* name, int64_t lo, int64_t hi) {
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < lo || n > hi) {
    return InvalidArgument(std::string(name) + " must be a whole number from " +
                           std::to_string(lo) + " to " + std::to_string(hi));
  }
  return n;
}

Result<BudgetPageQuery> ParseBudgetPage(const httplib::Request& req) {
  BudgetPageQuery q;
  if (req.has_param("offset")) {
    ASSIGN_OR_RETURN(q.offset, ParseCount(req.get_param_value("offset"), "offset", 0,
                                          std::numeric_limits<int32_t>::max()));
  }
  if (req.has_param("limit")) {
    ASSIGN_OR_RETURN(q.limit, ParseCount(req.get_param_value("limit"), "limit", 1, 1000));
  }
  if (req.has_param("sort") && !req.get_param_value("sort").empty()) {
    q.sort = req.get_param_value("sort");
    const std::string_view field = std::string_view(q.sort).substr(q.sort[0] == '-' ? 1 : 0);
    constexpr std::string_view kFields[] = {"principal", "account", "spent_usd",  "limit_usd",
                                            "percent",   "status",  "period_end", "grace_deadline"};
    if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields)) {
      return InvalidArgument(
          "sort must be one of principal, account, spent_usd, limit_usd, "
          "percent, status, period_end, grace_deadline (\"-\" first for "
          "descending)");
    }
  }
  q.q = req.get_param_value("q");
  std::transform(q.q.begin(), q.q.end(), q.q.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string status_param = req.get_param_value("status");
  std::string_view statuses = status_param;
  while (!statuses.empty()) {
    const size_t comma = statuses.find(',');
    const std::string_view one = statuses.substr(0, comma);
    BudgetStatus s{};
    if (!one.empty()) {
      if (!ParseBudgetStatus(one, s)) {
        return InvalidArgument("status '" + std::string(one) +
                               "' is not one of active, warning, critical, grace_period, "
                               "suspended, exempt");
      }
      q.statuses.push_back(s);
    }
    if (comma == std::string_view::npos) break;
    statuses.remove_prefix(comma + 1);
  }
  return q;
}

// Orders budgets by one field (then by name, so pages are stable).
bool BudgetLess(const BudgetView& a, const BudgetView& b, std::string_view field) {
  const BudgetState& x = a.row.state;
  const BudgetState& y = b.row.state;
  auto tie = [&](auto u, auto v) {
    if (u != v) return u < v;
    return a.row.key.Qualified() < b.row.key.Qualified();
  };
  if (field == "account") return tie(a.row.key.account, b.row.key.account);
  if (field == "spent_usd") return tie(x.spent.nanos(), y.spent.nanos());
  if (field == "limit_usd") return tie(a.settings.limit.nanos(), b.settings.limit.nanos());
  if (field == "percent") {
    return tie(BasisPoints(x.spent, a.settings.limit), BasisPoints(y.spent, b.settings.limit));
  }
  if (field == "status") return tie(static_cast<int>(x.status), static_cast<int>(y.status));
  if (field == "period_end") return tie(x.period.end.unix_millis(), y.period.end.unix_millis());
  if (field == "grace_deadline") {
    // Principals without a deadline sort after every deadline.
    const int64_t none = std::numeric_limits<int64_t>::max();
    return tie(x.grace_deadline ? x.grace_deadline->unix_millis() : none,
               y.grace_deadline ? y.grace_deadline->unix_millis() : none);
  }
  return a.row.key.Qualified() < b.row.key.Qualified();
}

std::string BudgetPageJson(std::vector<BudgetView> views, const BudgetPageQuery& q) {
  Money total_spent;
  std::map<std::string, int64_t> by_status;
  for (const char* s : {"active", "warning", "critical", "grace_period", "suspended", "exempt"}) {
    by_status[s] = 0;
  }
  for (const BudgetView& v : views) {
    total_spent += v.row.state.spent;
    ++by_status[std::string(BudgetStatusName(v.row.state.status))];
  }
  const int64_t principals = static_cast<int64_t>(views.size());
  std::erase_if(views, [&](const BudgetView& v) {
    if (!q.statuses.empty() &&
        std::find(q.statuses.begin(), q.statuses.end(), v.row.state.status) == q.statuses.end()) {
      return true;
    }
    if (q.q.empty()) return false;
    std::string name = v.row.key.Qualified();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return name.find(q.q) == std::string::npos;
  });
  const bool descending = !q.sort.empty() && q.sort[0] == '-';
  const std::string_view field = std::string_view(q.sort).substr(descending ? 1 : 0);
  const size_t begin = std::min(views.size(), static_cast<size_t>(q.offset));
  const size_t end = std::min(views.size(), begin + static_cast<size_t>(q.limit));
  std::partial_sort(views.begin(), views.begin() + static_cast<std::ptrdiff_t>(end), views.end(),
                    [&](const BudgetView& a, const BudgetView& b) {
                      return descending ? BudgetLess(b, a, field) : BudgetLess(a, b, field);
                    });
  JsonWriter w;
  w.BeginObject()
      .Field("total", static_cast<int64_t>(views.size()))
      .Field("offset", q.offset)
      .Field("limit", q.limit)
      .Field("sort", q.sort);
  w.Key("summary").BeginObject().Field("principals", principals);
  w.Key("spent_usd").RawNumber(total_spent.ToUsd());
  w.Key("by_status").BeginObject();
  for (const auto& [s, n] : by_status) w.Field(s, n);
  w.EndObject().EndObject();
  w.Key("items").BeginArray();
  for (size_t i = begin; i < end; ++i) WriteBudgetView(w, views[i].row, views[i].settings);
  w.EndArray().EndObject();
  return w.Take();
}
}  // namespace

// httplib::Server whose per-request loop can be driven from a Stream (ServeBytes).
class StreamServer : public GuardedServer {
 public:
  using httplib::Server::process_request;
};

// One in-memory connection: reads come from `in`, writes go to `out`.
class BytesStream final : public httplib::Stream {
 public:
  explicit BytesStream(std::string_view in) : in_(in) {}
  bool is_readable() const override { return pos_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 50000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  bool exhausted() const { return pos_ >= in_.size(); }
  std::string& out() { return out_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string out_;
};

struct HttpServer::Impl {
  ServerDeps deps;
  ServerLimits limits;
  std::vector<std::string> cors_origins;  // set before Run
  StreamServer server;

  Impl(ServerDeps d, ServerLimits l) : deps(d), limits(l) { Routes(); }

  // principal id -> "ACCOUNT:NAME" (call with engine_mu held).
  std::unordered_map<int64_t, std::string> Names() {
    std::unordered_map<int64_t, std::string> names;
    auto rows = deps.store.ListPrincipals();
    if (rows.ok()) {
      for (const auto& r : *rows) names[r.id] = r.key.Qualified();
    }
    return names;
  }
  // Whether the ledger takes a write now. A transaction that writes nothing commits even on a
  // full or read-only disk, so this writes a meta row (one page); at most once per 500 ms, in
  // between the last outcome. A change either way is logged once: with nothing due, the
  // scheduler writes nothing and a disk failure would otherwise leave no trace in the log.
  // Call with engine_mu held.
  Status ProbeLedger() {
    const auto now = std::chrono::steady_clock::now();
    if (probed_ && now - probed_at_ < std::chrono::milliseconds(500)) return probe_;
    const bool was_ok = !probed_ || probe_.ok();
    probe_ = deps.store.WriteTransaction([&](LedgerTxn& txn) {
      return txn.SetMeta("ready_probe_at", deps.clock.Now().ToRfc3339());
    });
    if (was_ok && !probe_.ok()) {
      std::cerr << "ledger: not writable, not ready: " << probe_.message() << '\n';
    } else if (!was_ok && probe_.ok()) {
      std::cerr << "ledger: writable again, ready\n";
    }
    probed_ = true;
    probed_at_ = now;
    return probe_;
  }
  bool probed_ = false;  // these three: guarded by engine_mu
  std::chrono::steady_clock::time_point probed_at_;
  Status probe_;

  static std::string NameOf(const std::unordered_map<int64_t, std::string>& names,
                            const std::optional<int64_t>& id) {
    if (!id) return "";
    auto it = names.find(*id);
    return it == names.end() ? std::to_string(*id) : it->second;
  }

  // CORS (server.cors_origins): a request from a listed origin gets Access-Control-Allow-Origin
  // naming it, and its preflight a 204 with the methods and headers the API uses; any other
  // origin gets no CORS header (a preflight: 403). With no origin listed, nothing is added and
  // browsers keep other sites from reading the API. Tokens travel in the Authorization header,
  // never in cookies, so credentials are not allowed.
  httplib::Server::HandlerResponse Cors(const httplib::Request& req, httplib::Response& res) {
    const std::string origin = req.get_header_value("Origin");
    if (cors_origins.empty() || origin.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const bool preflight =
        req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method");
    if (std::find(cors_origins.begin(), cors_origins.end(), origin) == cors_origins.end()) {
      if (!preflight) return httplib::Server::HandlerResponse::Unhandled;
      SendError(res, Status(Code::kPermissionDenied, "origin not allowed (server.cors_origins)"));
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    if (!preflight) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    res.status = 204;
    return httplib::Server::HandlerResponse::Handled;
  }

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
    server.set_tcp_nodelay(true);  // replies are small: do not wait for delayed ACKs
    server.set_payload_max_length(limits.max_body_bytes);
    server.set_request_limits(limits.max_header_bytes,
                              std::chrono::seconds(limits.read_timeout_seconds),
                              std::chrono::seconds(limits.body_timeout_seconds));
    server.set_read_timeout(limits.read_timeout_seconds, 0);
    server.set_write_timeout(limits.write_timeout_seconds, 0);
    server.set_keep_alive_timeout(limits.keep_alive_seconds);
    server.set_keep_alive_max_count(static_cast<size_t>(limits.keep_alive_max_requests));
    // The ingest routes inflate their gzip bodies themselves, to name one that was cut short.
    server.set_raw_body_paths({"/v1/ingest/firehose", "/v1/usage"});
    // httplib's pool takes max(8, cores - 1) threads by default; ours is configured. httplib
    // owns (and deletes) the queue it gets from this factory.
    server.new_task_queue = [n = limits.worker_threads] {
      return new httplib::ThreadPool(n);  // NOLINT(cppcoreguidelines-owning-memory)
    };
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

    // Latency and counts per route: the start time rides in a thread-local from the pre-routing
    // handler to the logger (both run on the request's worker thread).
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      RequestStart() = std::chrono::steady_clock::now();
      return Cors(req, res);
    });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - RequestStart()).count();
      deps.metrics.ObserveHttp(req.method, RouteLabel(req.method, req.path), res.status, seconds);
    });

    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::string gauges;
      {
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        auto budgets = deps.engine.ListBudgets();
        if (budgets.ok()) {
          std::map<std::string, int64_t> by_status;
          for (const char* s :
               {"active", "warning", "critical", "grace_period", "suspended", "exempt"}) {
            by_status[s] = 0;
          }
          for (const auto& v : *budgets)
            ++by_status[std::string(BudgetStatusName(v.row.state.status))];
          gauges += "# HELP budgeteer_principals Principals by budget status.\n";
          gauges += "# TYPE budgeteer_principals gauge\n";
          for (const auto& [s, n] : by_status) {
            gauges += "budgeteer_principals{status=\"" + s + "\"} " + std::to_string(n) + "\n";
          }
        }
        auto outbox = deps.store.CountOutbox();
        if (outbox.ok()) {
          gauges += "# HELP budgeteer_outbox_actions Outbox actions by channel and status.\n";
          gauges += "# TYPE budgeteer_outbox_actions gauge\n";
          for (const auto& c : *outbox) {
            gauges += "budgeteer_outbox_actions{channel=\"" +
                      LabelValue(c.channel.empty() ? "unrouted" : c.channel) + "\",status=\"" +
                      std::string(OutboxStatusName(c.status)) + "\"} " + std::to_string(c.count) +
                      "\n";
          }
        }
        auto cost = deps.engine.Usage(UsageRequest{"", "", "", "model"});
        if (cost.ok()) {
          gauges += "# HELP budgeteer_cost_usd_total Cost of applied usage, by model (USD).\n";
          gauges += "# TYPE budgeteer_cost_usd_total counter\n";
          for (const auto& [model, r] : cost->rows) {
            gauges += "budgeteer_cost_usd_total{model=\"" + LabelValue(model) + "\"} " +
                      r.cost.ToUsd() + "\n";
            gauges += "budgeteer_unpriced_requests_total{model=\"" + LabelValue(model) + "\"} " +
                      std::to_string(r.unpriced_requests) + "\n";
          }
        }
      }
      res.status = 200;
      res.set_content(deps.metrics.Render(gauges), "text/plain; version=0.0.4");
    });

    AddDashboardRoutes(server);

    // Who the bearer token belongs to: the dashboard shows admin controls only to admins.
    server.Get("/v1/whoami", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller& caller) {
        JsonWriter w;
        w.BeginObject()
            .Field("name", caller.name)
            .Field("role", caller.role == Role::kAdmin ? "admin" : "viewer")
            .EndObject();
        SendJson(res, 200, w.Take());
      });
    });

    // A JSON summary for the dashboard's health page: readiness, principals by status, outbox
    // actions by status, and the newest usage record seen (counters since start are in
    // /metrics).
    server.Get("/v1/health", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        const int64_t now = deps.clock.Now().unix_millis();
        const int64_t last_tick = deps.last_tick_ms.load();
        std::map<std::string, int64_t> outbox;
        for (const char* s : {"pending", "delivered", "failed", "dead"}) outbox[s] = 0;
        std::map<std::string, int64_t> by_status;
        for (const char* s :
             {"active", "warning", "critical", "grace_period", "suspended", "exempt"}) {
          by_status[s] = 0;
        }
        std::optional<Timestamp> last_record;
        Status ledger = Status::Ok();
        {
          std::lock_guard<std::mutex> lock(deps.engine_mu);
          ledger = ProbeLedger();
          auto counts = deps.store.CountOutbox();
          if (!counts.ok()) return SendError(res, counts.status());
          for (const auto& c : *counts) outbox[std::string(OutboxStatusName(c.status))] += c.count;
          auto rows = deps.store.ListPrincipals();
          if (!rows.ok()) return SendError(res, rows.status());
          for (const auto& r : *rows) {
            ++by_status[std::string(BudgetStatusName(r.state.status))];
            if (!last_record || *last_record < r.last_seen) last_record = r.last_seen;
          }
        }
        JsonWriter w;
        w.BeginObject()
            .Field("now", deps.clock.Now().ToRfc3339())
            .Field("ledger_writable", ledger.ok())
            .Field("scheduler_running", last_tick > 0 && now - last_tick < 5000);
        w.Key("last_record_at");
        if (last_record) {
          w.String(last_record->ToRfc3339());
        } else {
          w.Null();
        }
        w.Key("principals").BeginObject();
        for (const auto& [s, n] : by_status) w.Field(s, n);
        w.EndObject();
        // Per ingest source since the server started: the last record's arrival and counts.
        w.Key("sources").BeginObject();
        for (const auto& [source, a] : deps.metrics.Sources()) {
          w.Key(source).BeginObject();
          w.Key("last_record_at");
          if (a.last_record_ms > 0) {
            w.String(Timestamp::FromUnixMillis(a.last_record_ms).ToRfc3339());
          } else {
            w.Null();
          }
          w.Field("applied", a.applied)
              .Field("duplicates", a.duplicates)
              .Field("rejected", a.rejected)
              .EndObject();
        }
        w.EndObject();
        w.Key("outbox").BeginObject();
        for (const auto& [s, n] : outbox) w.Field(s, n);
        w.EndObject().EndObject();
        SendJson(res, 200, w.Take());
      });
    });

    // Models seen that the catalog does not know (priced by the fallback rule).
    server.Get("/v1/unpriced_models", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        auto rows = deps.store.ListUnpricedModels();
        if (!rows.ok()) return SendError(res, rows.status());
        JsonWriter w;
        w.BeginArray();
        for (const auto& r : *rows) {
          w.BeginObject()
              .Field("model", r.model)
              .Field("first_seen", r.first_seen.ToRfc3339())
              .Field("requests", r.requests)
              .EndObject();
        }
        w.EndArray();
        SendJson(res, 200, w.Take());
      });
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
        ledger = ProbeLedger();
      }
      JsonWriter w;
      w.BeginObject()
          .Field("ledger_writable", ledger.ok())
          .Field("scheduler_running", scheduler_ok);
      if (!ledger.ok()) w.Field("ledger_error", ledger.message());
      w.EndObject();
      SendJson(res, ledger.ok() && scheduler_ok ? 200 : 503, w.Take());
    });

    server.Post("/v1/ingest/firehose", [this](const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
      const std::string key = req.get_header_value("X-Amz-Firehose-Access-Key");
      const std::string encoding = req.get_header_value(GuardedServer::kWireEncodingHeader);
      const std::string request_id = req.get_header_value("X-Amz-Firehose-Request-Id");
      std::string body;
      const BodyRead read =
          ReadBoundedBody(req, reader, limits.max_body_bytes, deps.limits.max_document_bytes, body);
      if (read != BodyRead::kOk) {
        res.set_header("Connection", "close");  // the rest of the body is not read
        HttpReply reply = read == BodyRead::kTooLarge ? deps.ingest.TooLarge(request_id)
                                                      : deps.ingest.Unreadable(request_id);
        SendJson(res, reply.status, reply.body);
        return;
      }
      HttpReply reply = deps.ingest.Firehose(FirehoseRequest{key, encoding, request_id, body});
      SendJson(res, reply.status, reply.body);
    });

    server.Post("/v1/usage", [this](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
      Authed(req, res, Role::kAdmin, [&](const Caller&) {
        // The body as sent (set_raw_body_paths), decoded here: a gzip body cut short is
        // named, not parsed as the JSON it inflated to.
        const std::string encoding = req.get_header_value(GuardedServer::kWireEncodingHeader);
        const bool identity = IsIdentityEncoding(encoding);
        std::string body;
        const BodyRead read = ReadBoundedBody(
            req, reader, limits.max_body_bytes,
            identity ? deps.limits.max_document_bytes : limits.max_body_bytes, body);
        if (read != BodyRead::kOk) {
          res.set_header("Connection", "close");
          return SendError(res, read == BodyRead::kTooLarge
                                    ? Status(Code::kResourceExhausted,
                                             "the request body is larger than "
                                             "server.max_body_bytes, or than "
                                             "ingest.max_document_bytes once inflated")
                                    : Status(Code::kInvalidArgument,
                                             "the request body could not be read (cut short, or "
                                             "not valid for its Content-Encoding)"));
        }
        if (!identity) {
          auto decoded = DecodeBody(encoding, body, deps.limits.max_document_bytes);
          if (!decoded.ok()) {
            return SendError(res, decoded.status().code() == Code::kResourceExhausted
                                      ? Status(Code::kResourceExhausted,
                                               "the request body is larger than "
                                               "ingest.max_document_bytes once inflated")
                                      : decoded.status());
          }
          body = std::move(*decoded);
        }
        InputParser parser(deps.limits);
        UsageSink sink;
        auto source = MemorySource(body);
        Status parsed = parser.ParseStream(*source, "body", sink);
        if (!parsed.ok()) return SendError(res, parsed);
        BatchOutcome outcome;
        {
          std::lock_guard<std::mutex> lock(deps.engine_mu);
          auto applied = deps.engine.ApplyBatch(sink.records, "api");
          if (!applied.ok()) return SendError(res, applied.status());
          outcome = std::move(*applied);
        }
        for (const BatchRejection& r : outcome.rejected) {
          sink.rejections.emplace_back(sink.where_[r.index], r.reason);
        }
        deps.metrics.CountRecords("api", outcome.applied, outcome.duplicates,
                                  static_cast<int64_t>(sink.rejections.size()));
        JsonWriter w;
        w.BeginObject()
            .Field("read", static_cast<int64_t>(sink.records.size() + sink.rejections.size() -
                                                outcome.rejected.size()))
            .Field("applied", outcome.applied)
            .Field("duplicates", outcome.duplicates)
            .Field("rejected", static_cast<int64_t>(sink.rejections.size()))
            .Field("deferred", static_cast<int64_t>(outcome.deferred_indices.size()));
        w.Key("cost_usd").RawNumber(outcome.cost.ToUsd());
        w.Key("rejections").BeginArray();
        for (size_t i = 0; i < sink.rejections.size() && i < 1000; ++i) {
          w.BeginObject()
              .Field("location", sink.rejections[i].first)
              .Field("reason", sink.rejections[i].second)
              .EndObject();
        }
        w.EndArray().EndObject();
        // Records deferred by identity.max_new_principals_per_minute: 429, send them again.
        deps.metrics.CountDeferred("api", static_cast<int64_t>(outcome.deferred_indices.size()));
        SendJson(res, outcome.deferred_indices.empty() ? 200 : 429, w.Take());
      });
    });

    server.Get("/v1/usage", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        UsageRequest q{req.get_param_value("principal"), req.get_param_value("from"),
                       req.get_param_value("to"), req.get_param_value("group_by")};
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        auto report = deps.engine.Usage(q);
        if (!report.ok()) return SendError(res, report.status());
        JsonWriter w;
        w.BeginArray();
        for (const auto& [key, r] : report->rows) WriteUsageRow(w, report->key_name, key, r);
        w.EndArray();
        SendJson(res, 200, w.Take());
      });
    });

    server.Get("/v1/audit", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        AuditQuery q;
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        if (req.has_param("principal")) {
          auto row = deps.engine.FindPrincipal(req.get_param_value("principal"));
          if (!row.ok()) return SendError(res, row.status());
          q.principal_id = row->id;
        }
        if (req.has_param("after_id"))
          q.after_id = std::atoll(req.get_param_value("after_id").c_str());
        if (req.has_param("limit")) q.limit = std::atoll(req.get_param_value("limit").c_str());
        auto entries = deps.store.QueryAudit(q);
        if (!entries.ok()) return SendError(res, entries.status());
        const auto names = Names();
        JsonWriter w;
        w.BeginArray();
        for (const auto& e : *entries) WriteAudit(w, e, NameOf(names, e.principal_id));
        w.EndArray();
        SendJson(res, 200, w.Take());
      });
    });

    server.Get("/v1/outbox", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        const int64_t limit =
            req.has_param("limit") ? std::atoll(req.get_param_value("limit").c_str()) : 1000;
        std::lock_guard<std::mutex> lock(deps.engine_mu);
        auto actions = deps.store.ListOutbox(limit);
        if (!actions.ok()) return SendError(res, actions.status());
        const auto names = Names();
        JsonWriter w;
        w.BeginArray();
        for (const auto& a : *actions) WriteOutbox(w, a, NameOf(names, a.principal_id));
        w.EndArray();
        SendJson(res, 200, w.Take());
      });
    });

    server.Get("/v1/prices", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        const PriceCatalog& c = deps.engine.catalog();
        JsonWriter w;
        w.BeginObject()
            .Field("version", c.version())
            .Field("effective_date", c.effective_date())
            .Field("source", c.source());
        w.Key("models").BeginArray();
        for (const auto& p : c.models()) WritePrice(w, p);
        w.EndArray().EndObject();
        SendJson(res, 200, w.Take());
      });
    });

    server.Get(R"(/v1/prices/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        const std::string model = req.matches[1];
        const NormalizedModel n = NormalizeModelId(model);
        const ModelPrice* p = deps.engine.catalog().Find(n.canonical);
        if (p == nullptr) {
          return SendError(res, NotFound("model '" + model + "' (canonical '" + n.canonical.str() +
                                         "') is not in the price catalog"));
        }
        JsonWriter w;
        w.BeginObject();
        WritePriceFields(w, *p);
        w.Field("requested", model).Field("geo_prefix", n.geo_prefix).EndObject();
        SendJson(res, 200, w.Take());
      });
    });

    server.Patch(R"(/v1/budgets/(.+))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   Authed(req, res, Role::kAdmin, [&](const Caller& caller) {
                     auto patch = ParsePatch(req.body);
                     if (!patch.ok()) return SendError(res, patch.status());
                     std::lock_guard<std::mutex> lock(deps.engine_mu);
                     auto view = deps.engine.UpdateSettings(req.matches[1], *patch, caller.name);
                     if (!view.ok()) return SendError(res, view.status());
                     SendJson(res, 200, BudgetViewJson(*view));
                   });
                 });

    server.Get("/v1/budgets", [this](const httplib::Request& req, httplib::Response& res) {
      Authed(req, res, Role::kViewer, [&](const Caller&) {
        std::optional<BudgetPageQuery> page;
        if (WantsBudgetPage(req)) {
          auto parsed = ParseBudgetPage(req);
          if (!parsed.ok()) return SendError(res, parsed.status());
          page = std::move(*parsed);
        }
        Result<std::vector<BudgetView>> views = Status(Code::kInternal, "unreachable");
        {
          std::lock_guard<std::mutex> lock(deps.engine_mu);
          views = deps.engine.ListBudgets();
        }
        if (!views.ok()) return SendError(res, views.status());
        if (page) return SendJson(res, 200, BudgetPageJson(std::move(*views), *page));
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
                    auto flags = ParseActionBody(req.body);
                    if (!flags.ok()) return SendError(res, flags.status());
                    const bool force = flags->force;
                    const bool off = flags->off;
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

void HttpServer::SetCorsOrigins(std::vector<std::string> origins) {
  impl_->cors_origins = std::move(origins);
}

void HttpServer::Run() { impl_->server.listen_after_bind(); }

std::string HttpServer::ServeBytes(std::string_view request_bytes) {
  BytesStream stream(request_bytes);
  for (size_t served = 0;
       served < static_cast<size_t>(impl_->limits.keep_alive_max_requests) && !stream.exhausted();
       ++served) {
    bool closed = false;
    const bool ok = impl_->server.process_request(
        stream, false, closed,
        [this](httplib::Request& req) { impl_->server.PrepareRequest(req); });
    if (!ok || closed) break;
  }
  return std::move(stream.out());
}

void HttpServer::Stop() {
  if (impl_ && impl_->server.is_running()) impl_->server.stop();
}

}  // namespace budgeteer
