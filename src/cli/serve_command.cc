// `budgeteer serve`: the HTTP server, the scheduler (grace deadlines and period ends acted on
// within a second; roll-ups in the background) and graceful shutdown on SIGTERM/SIGINT.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "actions/aws_deps.h"
#include "actions/email/email_notifier.h"
#include "actions/iam/iam_enforcer.h"
#include "actions/log/log_enforcer.h"
#include "actions/log/log_notifier.h"
#include "actions/ses/ses_notifier.h"
#include "actions/slack/slack_notifier.h"
#include "actions/sns/sns_notifier.h"
#include "actions/webhook/webhook_notifier.h"
#include "cli/commands.h"
#include "cli/demo.h"
#include "engine/dispatcher.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/ingest_service.h"
#include "sources/logs_poller.h"
#include "sources/s3_poller.h"
#include "sources/ssm_defaults.h"

namespace budgeteer::cli {

namespace {

// True for addresses only this machine can reach: 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string StripPrefix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

// What an AWS channel needs, built for each one configured: the environment (endpoint
// overrides, profiles), a transport and the cached standard credentials chain. Each channel
// has its own, because the dispatcher delivers on every channel at once and neither the
// transport nor the credentials cache is thread-safe. Signing uses the real clock even under
// --now: AWS checks signatures against its own time.
struct AwsChannelDeps {
  aws::ProcessEnvironment env;
  SystemClock clock;
  std::unique_ptr<aws::HttpTransport> transport;
  std::unique_ptr<aws::CredentialsProvider> credentials;
  AwsDeps deps;
};

Result<std::unique_ptr<AwsChannelDeps>> MakeAwsChannelDeps(const Config& config) {
  auto d = std::make_unique<AwsChannelDeps>();
  ASSIGN_OR_RETURN(d->transport, aws::MakeCurlTransport());
  d->credentials = aws::DefaultCredentialsChain(d->env, *d->transport, d->clock);
  std::string region = config.aws_region;
  if (region.empty()) region = aws::ResolveRegion(d->env).value_or("");
  d->deps = AwsDeps{&d->env, d->credentials.get(), d->transport.get(), &d->clock, region, {}};
  return d;
}

// The notification channels and the enforcer the config asks for.
struct Channels {
  std::vector<std::unique_ptr<AwsChannelDeps>> aws;  // outlive the channels (declared first)
  std::vector<std::unique_ptr<Notifier>> notifiers;
  std::vector<Route> routes;
  std::unique_ptr<Enforcer> enforcer;
};

Result<Channels> BuildChannels(const Config& config) {
  Channels c;
  auto aws_deps = [&]() -> Result<const AwsDeps*> {
    ASSIGN_OR_RETURN(auto d, MakeAwsChannelDeps(config));
    c.aws.push_back(std::move(d));
    return &c.aws.back()->deps;
  };
  auto add = [&](std::unique_ptr<Notifier> n, const std::vector<std::string>& events) {
    c.routes.push_back(Route{n.get(), events});
    c.notifiers.push_back(std::move(n));
  };
  if (config.notify_log) add(std::make_unique<LogNotifier>(), {});
  for (const NotifyWebhook& w : config.notify_webhooks) {
    WebhookConfig wc;
    wc.name = StripPrefix(w.name, "webhook:");
    wc.url = w.url;
    wc.secret = w.secret;
    wc.timeout_ms = w.timeout_ms;
    ASSIGN_OR_RETURN(auto n, WebhookNotifier::Create(wc));
    add(std::move(n), w.events);
  }
  for (const NotifySlack& s : config.notify_slack) {
    SlackConfig sc;
    sc.name = StripPrefix(s.name, "slack:");
    sc.webhook_url = s.webhook_url;
    sc.timeout_ms = s.timeout_ms;
    ASSIGN_OR_RETURN(auto n, SlackNotifier::Create(sc));
    add(std::move(n), s.events);
  }
  for (const NotifyEmail& e : config.notify_email) {
    EmailConfig ec;
    ec.name = StripPrefix(e.name, "email:");
    ec.smtp_url = e.smtp_url;
    ec.username = e.username;
    ec.password = e.password;
    ec.from = e.from;
    ec.to = e.to;
    ec.starttls = e.starttls;
    ec.send_to_owner = e.send_to_owner;
    ec.timeout_ms = e.timeout_ms;
    ASSIGN_OR_RETURN(auto n, EmailNotifier::Create(ec));
    add(std::move(n), e.events);
  }
  for (const NotifySns& s : config.notify_sns) {
    ASSIGN_OR_RETURN(const AwsDeps* deps, aws_deps());
    ASSIGN_OR_RETURN(
        auto n, SnsNotifier::Create(
                    SnsConfig{StripPrefix(s.name, "sns:"), s.topic_arn, s.phone_number}, *deps));
    add(std::move(n), s.events);
  }
  for (const NotifySes& s : config.notify_ses) {
    ASSIGN_OR_RETURN(const AwsDeps* deps, aws_deps());
    ASSIGN_OR_RETURN(auto n,
                     SesNotifier::Create(SesConfig{StripPrefix(s.name, "ses:"), s.from, s.to,
                                                   s.send_to_owner, s.configuration_set},
                                         *deps));
    add(std::move(n), s.events);
  }
  if (config.enforce_mode == "webhook") {
    WebhookConfig wc;
    wc.name = "enforce";
    wc.url = config.enforce_webhook_url;
    wc.secret = config.enforce_webhook_secret;
    ASSIGN_OR_RETURN(c.enforcer, WebhookEnforcer::Create(wc));
  } else if (config.enforce_mode == "iam") {
    ASSIGN_OR_RETURN(const AwsDeps* deps, aws_deps());
    ASSIGN_OR_RETURN(c.enforcer,
                     IamEnforcer::Create(IamEnforcerConfig{config.enforce_iam_account_id}, *deps));
  } else {
    c.enforcer = std::make_unique<LogEnforcer>();
  }
  return c;
}

// Brings the roll-ups (hourly and per-period spend) up to date: the sums the engine kept of
// the rows it applied, or (after a restart) slices of a few thousand usage rows read back,
// taking the engine lock once per slice and then staying off it for as long as the
// slice took (std::mutex is not fair: without the pause the scheduler would win the lock again
// and again, and deliveries would wait hundreds of milliseconds). Gives up after 300 ms and
// resumes next time, so the scheduler still ticks every second.
void RollUpInSlices(Engine& engine, std::mutex& engine_mu) {
  constexpr int64_t kSlice = 5'000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    Result<int64_t> rolled = int64_t{0};
    bool incremental = false;  // read under the lock: ApplyBatch on other threads changes it
    const auto started = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(engine_mu);
      rolled = engine.RollUp(kSlice);
      incremental = engine.rollup_is_incremental();
    }
    if (!rolled.ok()) {
      std::cerr << "scheduler: roll-up failed: " << rolled.status().message() << '\n';
      return;
    }
    if (*rolled < kSlice || incremental) return;
    std::this_thread::sleep_for(std::chrono::steady_clock::now() - started);
  }
}

// Picks up a new price catalog while the service runs: when the watched file (see
// WatchedCatalogPath) changes, appears or goes, the active catalog is loaded again and swapped
// into the engine (audited catalog_changed). A catalog that does not load is reported once and
// the one in force stays. Every catalog ever in force is kept: readers may still hold one.
// Called from the scheduler thread only.
class CatalogWatcher {
 public:
  explicit CatalogWatcher(App& app)
      : app_(app), path_(WatchedCatalogPath(app.config, app.db_path)), seen_(Signature()) {}

  void Check(std::mutex& engine_mu) {
    const std::string now = Signature();
    if (now == seen_) return;
    seen_ = now;
    std::string origin;
    auto catalog = LoadActiveCatalog(app_.config, app_.db_path, origin);
    if (!catalog.ok()) {
      std::cerr << "prices: keeping catalog " << app_.engine->catalog().version()
                << " in force: " << catalog.status().message() << '\n';
      return;
    }
    in_force_.push_back(std::make_unique<PriceCatalog>(std::move(*catalog)));
    Status st;
    {
      std::lock_guard<std::mutex> lock(engine_mu);
      st = app_.engine->SetCatalog(*in_force_.back(), "prices:" + origin);
    }
    if (!st.ok()) {
      std::cerr << "prices: keeping the catalog in force: " << st.message() << '\n';
      return;
    }
    std::cerr << "prices: catalog " << in_force_.back()->version() << " (" << origin
              << ") in force for records applied from now on (audited)\n";
  }

 private:
  // Size, modification time and inode; empty when the file is absent.
  std::string Signature() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return "";
    return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino);
  }

  App& app_;
  std::string path_;
  std::string seen_;
  std::vector<std::unique_ptr<PriceCatalog>> in_force_;
};

}  // namespace

int RunServe(App& app, const std::string& listen_override, bool demo) {
  // Block the shutdown signals in every thread; one thread waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Status st = app.engine->ApplyDefaultsIfChanged("system");
  if (!st.ok()) return PrintError(st);
  // Only the service caps first sightings: an operator's `ingest` of a file is trusted input.
  app.engine->SetNewPrincipalCap(app.config.max_new_principals_per_minute);

  // Budget defaults from SSM Parameter Store: read once now (a bad parameter stops the start,
  // naming it), then again every ssm.refresh_seconds by the thread below.
  const aws::ProcessEnvironment aws_env;
  std::unique_ptr<sources::SsmDefaultsSource> ssm;
  if (app.config.ssm_enabled) {
    auto source = sources::SsmDefaultsSource::Create(
        aws_env, *app.clock,
        sources::SsmDefaultsOptions{app.config.ssm_prefix, app.config.ssm_environment});
    if (!source.ok()) return PrintError(source.status().WithContext("ssm"));
    ssm = std::move(*source);
    auto defaults = ssm->Read(app.config.defaults);
    if (!defaults.ok()) return PrintError(defaults.status().WithContext("ssm"));
    st = app.engine->SetDefaults(*defaults, "ssm");
    if (!st.ok()) return PrintError(st.WithContext("ssm"));
    std::cout << "budgeteer serve: budget defaults from SSM under " << app.config.ssm_prefix
              << ", read again every " << app.config.ssm_refresh_seconds << " s" << std::endl;
  }

  std::mutex engine_mu;
  std::atomic<int64_t> last_tick_ms{0};
  const TokenAuth auth(app.config.admin_tokens, app.config.viewer_tokens);
  auto channels = BuildChannels(app.config);
  if (!channels.ok()) return PrintError(channels.status().WithContext("config"));
  // Invocation logs polled from S3 and CloudWatch Logs, each on its own thread with its own
  // client; records go through the engine like every other source (de-duplicated), checkpoints
  // to the ledger. Signing and the pollers' windows use the real clock, even under --now.
  const SystemClock aws_clock;
  sources::PollTarget poll_target(*app.engine, engine_mu, *app.store);
  std::unique_ptr<sources::S3Poller> s3_poller;
  std::unique_ptr<sources::LogsPoller> logs_poller;
  if (app.config.s3_enabled) {
    sources::S3PollerOptions o;
    o.bucket = app.config.s3_bucket;
    o.prefix = app.config.s3_prefix;
    o.late_window_hours = app.config.s3_late_window_hours;
    o.limits = app.config.limits;
    // A damaged object re-read after the de-duplication window would count its first records
    // twice: watch it for one hour less.
    o.damaged_watch_hours = app.config.dedup_window_hours - 1;
    auto created = sources::S3Poller::Create(aws_env, aws_clock, o, poll_target);
    if (!created.ok()) return PrintError(created.status().WithContext("ingest.s3"));
    s3_poller = std::move(*created);
    std::cout << "budgeteer serve: polling s3://" << o.bucket << "/" << o.prefix << " every "
              << app.config.s3_poll_seconds << " s" << std::endl;
  }
  if (app.config.cloudwatch_enabled) {
    sources::LogsPollerOptions o;
    o.log_group = app.config.cloudwatch_log_group;
    o.settle_seconds = app.config.cloudwatch_settle_seconds;
    o.limits = app.config.limits;
    auto created = sources::LogsPoller::Create(aws_env, aws_clock, o, poll_target);
    if (!created.ok()) return PrintError(created.status().WithContext("ingest.cloudwatch"));
    logs_poller = std::move(*created);
    std::cout << "budgeteer serve: polling CloudWatch Logs group " << o.log_group << " every "
              << app.config.cloudwatch_poll_seconds << " s" << std::endl;
  }
  Metrics metrics;
  IngestService ingest(*app.engine, engine_mu, *app.clock, app.config.firehose_access_key,
                       app.config.limits, &metrics);
  ServerLimits limits;
  limits.max_body_bytes = static_cast<size_t>(app.config.server_max_body_bytes);
  limits.read_timeout_seconds = static_cast<int>(app.config.server_read_timeout_seconds);
  limits.max_header_bytes = static_cast<size_t>(app.config.server_max_header_bytes);
  limits.body_timeout_seconds = static_cast<int>(app.config.server_body_timeout_seconds);
  limits.worker_threads = static_cast<size_t>(app.config.server_worker_threads);
  // An idle connection (before its first request, or between two) waits for the keep-alive
  // timeout, not the read timeout: without this a client that connects and sends nothing would
  // hold one of the server's few worker threads for 30 s whatever server.read_timeout_seconds
  // says.
  limits.keep_alive_seconds = std::min(limits.keep_alive_seconds, limits.read_timeout_seconds);
  HttpServer server(ServerDeps{*app.engine, *app.store, engine_mu, *app.clock, auth, ingest,
                               last_tick_ms, app.config.limits, metrics},
                    limits);
  server.SetCorsOrigins(app.config.server_cors_origins);
  const std::string listen = listen_override.empty() ? app.config.server_listen : listen_override;
  if (!IsLoopbackHost(listen.substr(0, listen.rfind(':')))) {
    // Reachable from other machines: refuse to serve without tokens (the API would refuse
    // everyone, and what is open, /metrics and the dashboard's page, would be open to all).
    if (app.config.admin_tokens.empty() && app.config.viewer_tokens.empty()) {
      return PrintError(InvalidArgument(
          "server.listen '" + listen +
          "' is not a loopback address and no auth.admin_tokens or auth.viewer_tokens are set: "
          "set tokens, or listen on 127.0.0.1"));
    }
    std::cerr << "budgeteer serve: WARNING: listening on " << listen
              << ", reachable from other machines over plain HTTP: tokens and the Firehose "
                 "access key cross the network in clear unless a TLS proxy is in front\n";
  }
  auto port = server.Bind(listen);
  if (!port.ok()) return PrintError(port.status());
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::cout << "budgeteer serve: listening on http://" << host << ":" << *port << " (ledger "
            << app.db_path << ")" << std::endl;
  std::cout << "budgeteer serve: dashboard at http://" << host << ":" << *port
            << "/ (sign in with an admin or viewer token)" << std::endl;

  // The scheduler: what time alone changes, once a second.
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  CatalogWatcher catalog_watcher(app);
  std::thread scheduler([&] {
    int ticks = 0;
    std::unique_lock<std::mutex> lock(stop_mu);
    while (!stopping) {
      lock.unlock();
      {
        std::lock_guard<std::mutex> engine_lock(engine_mu);
        auto tick = app.engine->Tick();
        if (tick.ok()) {
          last_tick_ms.store(app.clock->Now().unix_millis());
          if (tick->transitions > 0) {
            std::cerr << "scheduler: " << tick->transitions << " transitions\n";
          }
        } else {
          std::cerr << "scheduler: tick failed: " << tick.status().message() << '\n';
        }
      }
      // Roll-ups every 5 s: the engine sums the rows it applies in memory and writes them in
      // one short transaction (fewer, larger writes); after a restart it scans in slices.
      if (++ticks % 5 == 0) {
        RollUpInSlices(*app.engine, engine_mu);
        catalog_watcher.Check(engine_mu);
      }
      lock.lock();
      stop_cv.wait_for(lock,
                       std::chrono::milliseconds(1000 - app.clock->Now().unix_millis() % 1000),
                       [&] { return stopping; });
    }
  });

  std::atomic<bool> signalled{false};
  // The outbox dispatcher: routes and delivers actions (network I/O outside the ledger lock).
  DispatchPolicy policy;
  policy.max_attempts = static_cast<int>(app.config.outbox_max_attempts);
  policy.base_backoff_ms = app.config.outbox_base_backoff_ms;
  policy.max_backoff_ms = std::max(app.config.outbox_max_backoff_ms, policy.base_backoff_ms);
  Dispatcher dispatcher(*app.store, engine_mu, *app.clock, channels->routes,
                        channels->enforcer.get(), policy);
  std::thread dispatch_thread([&] {
    std::unique_lock<std::mutex> lock(stop_mu);
    while (!stopping) {
      lock.unlock();
      auto round = dispatcher.RunOnce();
      if (!round.ok()) {
        std::cerr << "dispatcher: " << round.status().message() << '\n';
      }
      lock.lock();
      // Back to work at once when a round was busy; otherwise look again shortly.
      const bool busy = round.ok() && (round->routed + round->delivered + round->failed) > 0;
      stop_cv.wait_for(lock, std::chrono::milliseconds(busy ? 0 : 200), [&] { return stopping; });
    }
  });

  std::thread ssm_thread;
  if (ssm) {
    ssm_thread = std::thread([&] {
      std::unique_lock<std::mutex> lock(stop_mu);
      while (!stop_cv.wait_for(lock, std::chrono::seconds(app.config.ssm_refresh_seconds),
                               [&] { return stopping; })) {
        lock.unlock();
        // Over the file's defaults, so a parameter deleted in SSM falls back to the file.
        auto defaults = ssm->Read(app.config.defaults);
        if (!defaults.ok()) {
          std::cerr << "ssm: keeping the defaults in force: " << defaults.status().message()
                    << '\n';
        } else {
          std::lock_guard<std::mutex> engine_lock(engine_mu);
          const bool changed = *defaults != app.engine->defaults();
          Status set = app.engine->SetDefaults(*defaults, "ssm");
          if (!set.ok()) {
            std::cerr << "ssm: keeping the defaults in force: " << set.message() << '\n';
          } else if (changed) {
            std::cerr << "ssm: budget defaults changed (audited)\n";
          }
        }
        lock.lock();
      }
    });
  }

  auto poll_loop = [&](const char* source, int64_t period_seconds,
                       const std::function<Result<sources::PollCounts>()>& poll) {
    std::unique_lock<std::mutex> lock(stop_mu);
    while (!stopping) {
      lock.unlock();
      auto counts = poll();
      if (!counts.ok()) {
        std::cerr << source << ": " << counts.status().message() << " (trying again)\n";
      } else {
        metrics.CountRecords(source, counts->applied, counts->duplicates, counts->rejected);
        for (const std::string& why : counts->unreadable)
          std::cerr << source << ": " << why << '\n';
        if (!counts->first_rejection.empty()) {
          std::cerr << source << ": " << counts->rejected
                    << " records rejected; first: " << counts->first_rejection << '\n';
        }
      }
      lock.lock();
      stop_cv.wait_for(lock, std::chrono::seconds(period_seconds), [&] { return stopping; });
    }
  };
  std::thread s3_thread;
  if (s3_poller) {
    s3_thread = std::thread(poll_loop, "s3", app.config.s3_poll_seconds,
                            [&] { return s3_poller->PollOnce(); });
  }
  std::thread logs_thread;
  if (logs_poller) {
    logs_thread = std::thread(poll_loop, "cloudwatch", app.config.cloudwatch_poll_seconds,
                              [&] { return logs_poller->PollOnce(); });
  }

  std::thread demo_thread;
  if (demo) {
    std::cout << "budgeteer serve: DEMO TRAFFIC ON: synthetic records for "
                 "000000000000:BedrockAPIKey-demo every 2 s (watch it at /v1/budgets)"
              << std::endl;
    demo_thread = std::thread([&] {
      DemoTraffic traffic(*app.engine, engine_mu, *app.clock);
      std::unique_lock<std::mutex> lock(stop_mu);
      for (int round = 0; !stopping; ++round) {
        lock.unlock();
        traffic.Step(round);
        lock.lock();
        stop_cv.wait_for(lock, std::chrono::seconds(2), [&] { return stopping; });
      }
    });
  }

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled.store(true);
    std::cerr << "budgeteer serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
              << ": finishing in-flight requests\n";
    server.Stop();
  });

  server.Run();  // returns after Stop(); in-flight requests have completed

  {
    std::lock_guard<std::mutex> lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  scheduler.join();
  dispatch_thread.join();
  if (demo_thread.joinable()) demo_thread.join();
  if (ssm_thread.joinable()) ssm_thread.join();
  if (s3_thread.joinable()) s3_thread.join();
  if (logs_thread.joinable()) logs_thread.join();
  // Run() can also return on a listen error: then wake the waiter (the signal is blocked in
  // every thread, so it is only ever taken by sigwait).
  if (!signalled.load()) kill(getpid(), SIGTERM);
  signal_waiter.join();
  std::cerr << "budgeteer serve: stopped\n";
  return 0;
}

}  // namespace budgeteer::cli
