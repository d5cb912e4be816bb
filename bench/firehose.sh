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
day=$(date -u -d yesterday +%Y-%m-%d)
"$build/bench/firehose_bench" --port "$port" --key bench-key --deliveries "$deliveries" \
  --records 500 --threads "$threads" --principals 10000 --day "$day"
