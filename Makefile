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
        libxxhash-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev \
        clang-format clang-tidy python3

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps configure build test bench run lint format tidy clean

deps:
	@missing=$$(for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	bench/run.sh $(BUILD)

# Ingest the bundled sample logs into a demo ledger and print the budget table.
run: build
	@rm -f $(DB) $(DB)-wal $(DB)-shm
	@echo "== budgeteer ingest samples/*  (clock set to the end of the sample day)"
	@$(BUILD)/budgeteer --db $(DB) --now 2026-11-02T00:00:00Z ingest samples/invocation-logs.jsonl samples/invocation-logs-hour2.json.gz samples/cloudwatch-subscription.json || [ $$? -eq 3 ]
	@echo
	@echo "== budgeteer budgets list"
	@$(BUILD)/budgeteer --db $(DB) --now 2026-11-02T00:00:00Z budgets list
	@echo
	@echo "== budgeteer tick, five minutes later: the demo key's grace period has run out"
	@$(BUILD)/budgeteer --db $(DB) --now 2026-11-02T00:05:00Z tick
	@$(BUILD)/budgeteer --db $(DB) --now 2026-11-02T00:05:00Z budgets show 111122223333:BedrockAPIKey-demo
	@echo
	@echo "Ledger: $(DB). Try: $(BUILD)/budgeteer --db $(DB) usage --group-by model"
	@echo "                    $(BUILD)/budgeteer --db $(DB) audit"

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
