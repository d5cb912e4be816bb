#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: the benchmarks of docs/performance.md in one run. Generates one
# invocation-log file into a temporary directory, runs the C++ harness and the Python baseline on
# that same file, prints both and their ratio. `make bench` runs `bench/run.sh build`.
#
# Environment (defaults in brackets):
#   BENCH_RECORDS [1000000]  BENCH_PRINCIPALS [10000]  BENCH_SEED [1]
#   BENCH_MATRIX_RECORDS [200000]  records for the batch-size x synchronous matrix and the
#                                  store breakdown (the headline ingest uses the whole file)
#   BENCH_TMPDIR [/tmp]            where the data file and the ledgers go (same disk as a ledger)
#   BENCH_MICRO [1]                0 skips the Google Benchmark micro-benchmarks
set -euo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECORDS=${BENCH_RECORDS:-1000000}
PRINCIPALS=${BENCH_PRINCIPALS:-10000}
SEED=${BENCH_SEED:-1}
MATRIX_RECORDS=${BENCH_MATRIX_RECORDS:-200000}
MICRO=${BENCH_MICRO:-1}

cmake --build "$BUILD" --target gen_logs ingest_bench >/dev/null
if [ "$MICRO" != 0 ] && ! cmake --build "$BUILD" --target micro_bench >/dev/null 2>&1; then
  echo "(micro_bench not built: Google Benchmark missing? skipping the micro-benchmarks)"
  MICRO=0
fi
BIN="$BUILD/bench"
TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/budgeteer-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
START=$SECONDS

commas() { sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta' <<<"$1"; }

rate_of() {  # the figure before the first "<unit>/s" on the line matching $2 in file $1
  awk -v pat="$2" 'index($0, pat) == 1 {
      for (i = 2; i <= NF; i++) if ($i ~ /\/s$/) { gsub(",", "", $(i - 1)); print $(i - 1); exit }
    }' "$1"
}

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), nproc $(nproc)," \
  "$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)"
echo "kernel $(uname -r); $(c++ --version | head -1); $(python3 --version);" \
  "sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo '?')"
echo "git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?');" \
  "build type $(grep -m1 CMAKE_BUILD_TYPE:STRING "$BUILD/CMakeCache.txt" | cut -d= -f2);" \
  "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "== data: $BIN/gen_logs --records $RECORDS --principals $PRINCIPALS --seed $SEED"
T0=$(date +%s.%N)
"$BIN/gen_logs" --records "$RECORDS" --principals "$PRINCIPALS" --seed "$SEED" \
  --out "$TMP/logs.jsonl"
echo "$(commas "$(stat -c %s "$TMP/logs.jsonl")") bytes written in" \
  "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
echo

echo "== C++: parse, price, durable ingest (whole file, batch 5000, synchronous FULL), re-ingest"
"$BIN/ingest_bench" --file "$TMP/logs.jsonl" --tmpdir "$TMP" \
  --sections parse,price,ingest,reingest --batch-sizes 5000 --sync full | tee "$TMP/cpp.txt"
echo

echo "== Python baseline on the same file"
python3 "$ROOT/bench/python_baseline.py" "$TMP/logs.jsonl" | tee "$TMP/py.txt"
echo

echo "== C++: ingest matrix and the ledger's share (first $MATRIX_RECORDS records)"
"$BIN/ingest_bench" --file "$TMP/logs.jsonl" --limit "$MATRIX_RECORDS" --tmpdir "$TMP" \
  --sections ingest,store --batch-sizes 5000,20000 --sync full,normal
echo

echo "== C++: memory per tracked principal (a fresh process; record i belongs to principal i)"
"$BIN/ingest_bench" --sections memory --memory-principals 10000,100000 --tmpdir "$TMP"
echo

if [ "$MICRO" != 0 ]; then
  echo "== C++: per-record steps (Google Benchmark)"
  "$BIN/micro_bench" --benchmark_min_time=0.2 2>&1 | grep -E '^(BM_|Benchmark|-{10})'
  echo
fi

echo "== C++ vs Python (same file, same run)"
py=$(rate_of "$TMP/py.txt" "python")
echo "(Python does parse + price + sum per caller in memory; the durable ingest line also writes"
echo " the ledger, so its ratio compares more work in C++ with less in Python)"
for what in "parse+price+sum-per-caller" "parse+price " "ingest batch=5000 sync=FULL"; do
  cpp=$(rate_of "$TMP/cpp.txt" "$what")
  printf '%-34s %11s records/s  vs Python %9s records/s  = %6.2fx\n' "${what% }" \
    "$(commas "$cpp")" "$(commas "$py")" \
    "$(awk -v a="$cpp" -v b="$py" 'BEGIN { print a / b }')"
done
echo
echo "total bench time: $((SECONDS - START)) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
