#!/usr/bin/env bash
# Starts `budgeteer serve` on a free loopback port with a fresh ledger, drives it with
# firehose_bench (gzip deliveries of 500 records), prints the figures and stops the server.
# Usage: bench/firehose.sh BUILD_DIR [DELIVERIES] [THREADS]
set -euo pipefail
build=${1:-build}
deliveries=${2:-400}
threads=${3:-2}
dir=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/budgeteer-firehose.XXXXXX")
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
cat > "$dir/serve.toml" <<TOML
[ingest.firehose]
access_key = "bench-key"
[notify]
log = false
[defaults]
default_user_budget_usd = 1000
[identity]
# The benchmark's 10,000 callers are all new in its first second: without this the
# new-principal cap (a flood guard, default 1000 a minute) would answer most deliveries 429.
max_new_principals_per_minute = 0
TOML
"$build/budgeteer" --db "$dir/ledger.db" --config "$dir/serve.toml" serve --listen 127.0.0.1:0 \
  > "$dir/serve.out" 2> "$dir/serve.err" &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -nE 's/.*listening on http:\/\/127\.0\.0\.1:([0-9]+).*/\1/p' "$dir/serve.out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "serve did not start"; cat "$dir/serve.err"; exit 1; }
# Live traffic: the records' timestamps fall in the ten minutes before the run, in order
# (Firehose delivers invocation logs within seconds to minutes of the calls).
start=$(date -u -d '10 minutes ago' +%s)
day=$(date -u -d "@$start" +%Y-%m-%d)
first_second=$(( start % 86400 ))
"$build/bench/firehose_bench" --port "$port" --key bench-key --deliveries "$deliveries" \
  --records 500 --threads "$threads" --principals 10000 --day "$day" \
  --first-second "$first_second" --span-seconds 600
