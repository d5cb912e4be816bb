# Bedrock Budgeteer — the two set-up commands are `make run` and `make test`.
# Both install what is missing (apt-get), build with CMake + Ninja + ccache, and go.

SHELL := /bin/bash
BUILD ?= build
JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
DB ?= budgeteer-demo.db

# Debian packages the build, the tests and the benchmarks need.
DEBS := build-essential cmake ninja-build ccache pkg-config git \
        libsimdjson-dev libtomlplusplus-dev libcli11-dev libsqlite3-dev sqlite3 zlib1g-dev \
        libxxhash-dev libcpp-httplib-dev libcurl4-openssl-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev \
        clang-format clang-tidy python3

# The dashboard's browser tests (make test-web): Debian's chromium, driven by playwright-core.
WEB_DEBS := chromium

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps deps-web configure build test test-web test-asan test-tsan test-sanitizers-ci bench run lint format tidy clean

deps:
	@missing=$$(for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# chromium, and node + npm when missing (a node already on the PATH is kept).
deps-web:
	@missing=$$(for p in $(WEB_DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done; command -v npm >/dev/null || echo nodejs npm); \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Fuzzing with libFuzzer (fuzz/, docs/reliability.md#fuzzing): clang and its fuzzer runtime,
# installed only by the fuzz targets. `make fuzz` builds the fuzzers (only the libraries they
# link) in $(FUZZ_BUILD) and runs each for FUZZ_SECONDS on a scratch copy of its corpus;
# `make fuzz-ci` is the short run CI does, plus clang-tidy on fuzz/ (which `make tidy`, built
# on the g++ tree, does not see).
FUZZ_DEBS := clang libclang-rt-14-dev
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
.PHONY: deps-fuzz fuzz-build fuzz fuzz-ci fuzz-tidy

deps-fuzz:
	@missing=$$(for p in $(FUZZ_DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DBUDGETEER_FUZZ=ON -DBUDGETEER_BENCH=OFF

fuzz-build: deps deps-fuzz $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_BUILD)

fuzz-tidy: fuzz-build
	@run-clang-tidy -quiet -p $(FUZZ_BUILD) -j $(JOBS) $$(git ls-files 'fuzz/*.cc') \
	  >/tmp/budgeteer-fuzz-tidy.log 2>&1 \
	  || { grep -E 'warning:|error:' /tmp/budgeteer-fuzz-tidy.log | head -50; exit 1; }; \
	echo "clang-tidy (fuzz/): clean"

fuzz-ci: fuzz-tidy
	FUZZ_SECONDS=10 fuzz/run.sh $(FUZZ_BUILD)

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-web

# The dashboard in a real browser against the real binary (web/tests; screenshots to docs/images).
test-web: deps-web build
	cd web && npm ci --no-audit --no-fund --loglevel=error
	cd web && BUDGETEER_BINARY=$(abspath $(BUILD))/budgeteer npm test

# Sanitizers (docs/reliability.md#sanitizers). Own build dirs, benchmarks off; a finding in any
# process, test or spawned `budgeteer`, fails the target (scripts/sanitized-ctest.sh).
# test-asan: the whole ctest suite under AddressSanitizer + UndefinedBehaviorSanitizer.
# ASAN_TESTS=<binaries> runs only those test binaries, built with SAN_BINARY (the budgeteer
# binary the end-to-end tests spawn; empty when none of them is chosen); empty: everything.
ASAN_TESTS ?=
SAN_BINARY ?= budgeteer
# Not under a sanitizer (they run in make test): the three tests that bound serve's peak memory
# (zip bomb, header flood, identity flood); ASan's shadow memory and quarantine add 40-450 MiB
# to what they measure, TSan's shadow 20-150 MiB (with 32 HTTP worker threads), with no report.
MEMORY_BOUND_TESTS := ServeE2E.FirehoseRefusesWrongKeysBadBodiesAndOversizedBodies
MEMORY_BOUND_TESTS := $(MEMORY_BOUND_TESTS)|LimitsE2E.HeadersBeyondTheTotalLimitAreRefusedWithoutBeingHeld
MEMORY_BOUND_TESTS := $(MEMORY_BOUND_TESTS)|FloodE2E.FreshIdentitiesAreCappedWhileKnownPrincipalsKeepFlowing
ASAN_EXCLUDE := $(MEMORY_BOUND_TESTS)
labels = -L '^($(subst $(eval) ,|,$(strip $(1))))$$'
test-asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DBUDGETEER_SANITIZE=address,undefined -DBUDGETEER_BENCH=OFF
	cmake --build build-asan -j $(JOBS) $(if $(strip $(ASAN_TESTS)),--target $(SAN_BINARY) $(ASAN_TESTS))
	scripts/sanitized-ctest.sh build-asan address -j $(JOBS) -E '$(ASAN_EXCLUDE)' \
	  $(if $(strip $(ASAN_TESTS)),$(call labels,$(ASAN_TESTS)))

# test-tsan: under ThreadSanitizer, every test binary whose code runs threads: the engine
# (engine, dispatcher, outbox, two writers), the ledger, the notifiers against live receivers,
# the pollers, the AWS actions against moto, and every end-to-end test of `budgeteer serve`
# (HTTP server, scheduler, dispatcher lanes, pollers, SSM refresh threads), the fault, limit and
# security tests, crash_replay and the bounded soak. Selected by label (= binary name). Left
# out: the single-threaded parsers and pure core (core, util, config, formats, pricing, aws,
# cli_e2e), which ASan + UBSan cover.
TSAN_TESTS := engine_test store_sqlite_test actions_test actions_aws_moto_test server_test \
  sources_test sources_moto_test serve_e2e_test serve_outbox_e2e_test dashboard_e2e_test \
  pollers_e2e_test aws_e2e_test ssm_e2e_test crash_replay_test prices_update_e2e_test \
  limits_e2e_test faults_clock_e2e_test faults_receivers_e2e_test faults_disk_e2e_test \
  faults_input_e2e_test faults_aws_e2e_test security_e2e_test soak_test
# Not under TSan: the memory-bound tests above (the zip bomb also took 210 s under TSan and
# failed on the client's 10 s timeout), and the slow-client tests, which assert that each
# /healthz answers within 500 ms (1.9 s under TSan, no report; they run under ASan).
TSAN_EXCLUDE := $(MEMORY_BOUND_TESTS)
TSAN_EXCLUDE := $(TSAN_EXCLUDE)|SlowClientE2E.StalledClientsAreCutOffWhileOthersAreServed
TSAN_EXCLUDE := $(TSAN_EXCLUDE)|WorkerPoolE2E.StalledClientsHoldAtMostTheConfiguredWorkers
test-tsan: deps
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DBUDGETEER_SANITIZE=thread -DBUDGETEER_BENCH=OFF
	cmake --build build-tsan -j $(JOBS) --target $(SAN_BINARY) $(TSAN_TESTS)
	scripts/sanitized-ctest.sh build-tsan thread -j $(JOBS) $(call labels,$(TSAN_TESTS)) \
	  -E '$(TSAN_EXCLUDE)'

# What CI runs of the sanitizers (docs/reliability.md#sanitizers): both, in full.
test-sanitizers-ci:
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan

bench: build
	bench/run.sh $(BUILD)

# The crash-and-replay soak (docs/reliability.md): `serve` killed with SIGKILL at random moments
# while Firehose deliveries and notifications are in flight, then checked to the nano-dollar.
# Knobs (also from the environment): SOAK_SECONDS, SOAK_PRINCIPALS, SOAK_SEED,
# SOAK_RECORDS_PER_DELIVERY, SOAK_DUPLICATE_PERCENT, SOAK_LATE_PERCENT, SOAK_KILL_EVERY_MS,
# SOAK_GRACE_SECONDS, SOAK_EPOCH_DELIVERIES. `make test` runs a bounded version (~45 s).
SOAK_SECONDS ?= 300
SOAK_PRINCIPALS ?= 120
SOAK_EPOCH_DELIVERIES ?= 100
.PHONY: soak
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_PRINCIPALS=$(SOAK_PRINCIPALS) \
	  SOAK_EPOCH_DELIVERIES=$(SOAK_EPOCH_DELIVERIES) $(BUILD)/tests/soak/soak_test

# Ingest the bundled sample logs and print the budget table, then start the service with the
# demo traffic replay (Ctrl-C stops it).
run: build
	@rm -f $(DB) $(DB)-wal $(DB)-shm
	@echo "== budgeteer ingest samples/*  (clock set to the end of the sample day)"
	@$(BUILD)/budgeteer --db $(DB) --now 2026-11-02T00:00:00Z ingest samples/invocation-logs.jsonl samples/invocation-logs-hour2.json.gz samples/cloudwatch-subscription.json || [ $$? -eq 3 ]
	@echo
	@echo "== budgeteer budgets list"
	@$(BUILD)/budgeteer --db $(DB) --now 2026-11-02T00:00:00Z budgets list
	@echo
	@echo "== budgeteer serve --demo   (demo config: samples/demo.toml; Ctrl-C to stop)"
	@echo "   Dashboard: http://127.0.0.1:8080/  (sign in with demo-admin-token, or demo-viewer-token)"
	@echo "   API:   http://127.0.0.1:8080/v1/budgets"
	@echo "   token: demo-admin-token (admin), demo-viewer-token (viewer)"
	@echo "   watch: curl -s -H 'Authorization: Bearer demo-viewer-token' http://127.0.0.1:8080/v1/budgets/000000000000:BedrockAPIKey-demo"
	@echo "   The demo key warns after ~30 s, is over budget after ~42 s and suspended 30 s later."
	@$(BUILD)/budgeteer --db $(DB) --config samples/demo.toml serve --demo

lint: format tidy

format:
	@files=$$(git ls-files '*.cc' '*.h'); clang-format --dry-run --Werror $$files && echo "clang-format: clean"

tidy: configure
	@files=$$(git ls-files 'src/*.cc' | grep -v '_test.cc$$'); \
	run-clang-tidy -quiet -p $(BUILD) -j $(JOBS) $$files >/tmp/budgeteer-tidy.log 2>&1 \
	  || { grep -E 'warning:|error:' /tmp/budgeteer-tidy.log | head -50; exit 1; }; \
	echo "clang-tidy: clean"

clean:
	rm -rf $(BUILD)
