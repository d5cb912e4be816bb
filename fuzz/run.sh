#!/usr/bin/env bash
# Runs every fuzzer (or the ones named) for FUZZ_SECONDS each, on a scratch copy of its corpus:
# the committed fuzz/corpus/<target>/ and fuzz/regressions/<target>/ are read, never written.
# First replays fuzz/regressions/<target>/ (every input that once crashed must pass), then
# fuzzes. Exits non-zero if any fuzzer crashed, leaked, hung, ran out of memory or failed an
# invariant, and prints where the crashing input was saved.
#
#   fuzz/run.sh BUILD_DIR [TARGET...]      e.g. fuzz/run.sh build-fuzz http record
#   FUZZ_SECONDS=600 fuzz/run.sh build-fuzz
#   FUZZ_WORK=dir keeps the scratch corpora there (default: BUILD_DIR/fuzz-work, emptied first)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD_DIR [TARGET...]}
shift
seconds=${FUZZ_SECONDS:-60}
work=${FUZZ_WORK:-$build/fuzz-work}
rss_mb=${FUZZ_RSS_MB:-2048}

# Longest input each target is given: a few records or requests, enough for every code path
# without spending the time budget on megabytes of JSON.
declare -A max_len=(
  [record]=8192 [input]=16384 [firehose]=16384 [firehose_endpoint]=16384 [codec]=4096
  [http]=8192 [offer]=16384 [catalog]=8192 [config]=4096 [aws]=4096 [checkpoint]=4096
)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(record input firehose codec firehose_endpoint http offer
                                       catalog config aws checkpoint)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/${t}_fuzzer
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin not built (cmake --build $build --target fuzzers)" >&2
    failed+=("$t (not built)")
    continue
  fi
  dir=$work/$t
  rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
  cp fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null
  args=(-max_len="${max_len[$t]:-8192}" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb"
        -timeout=20 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
  # The service targets run SQLite transactions: with ASan's default 256 MB quarantine of freed
  # memory every transaction maps fresh pages, which halves their speed; 16 MB still catches
  # use-after-free within and across a few inputs.
  asan=$ASAN_OPTIONS
  case $t in http | firehose_endpoint) asan="$asan:quarantine_size_mb=16" ;; esac

  regressions=(fuzz/regressions/"$t"/*)
  if [ -e "${regressions[0]}" ]; then
    echo "== $t: replaying ${#regressions[@]} regression inputs"
    if ! ASAN_OPTIONS=$asan "$bin" "${args[@]}" "${regressions[@]}" >"$dir/regressions.log" 2>&1; then
      tail -40 "$dir/regressions.log"
      echo "fuzz: $t FAILED on a regression input (log: $dir/regressions.log)"
      failed+=("$t (regression)")
      continue
    fi
    cp "${regressions[@]}" "$dir/corpus/"
  fi

  echo "== $t: fuzzing for ${seconds}s (max_len ${max_len[$t]:-8192}, rss ${rss_mb} MB)"
  ASAN_OPTIONS=$asan "$bin" "${args[@]}" -max_total_time="$seconds" "$dir/corpus" \
    >"$dir/fuzz.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  summary+=("$(printf '%-18s %10s %8s %7s %7s %6s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}")")
  if [ $rc -ne 0 ]; then
    grep -E 'ERROR: |FUZZ_CHECK|SUMMARY|runtime error' "$dir/fuzz.log" | head -10
    tail -30 "$dir/fuzz.log"
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/fuzz.log" | tail -1)
    echo "fuzz: $t FAILED (exit $rc); input: ${crash:-see $dir/fuzz.log}"
    echo "      reproduce: $bin ${crash:-<input>}"
    failed+=("$t")
  fi
done

echo
printf '%-18s %10s %8s %7s %7s %6s\n' target executions exec/s edges features corpus
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: clean (${#targets[@]} targets, ${seconds}s each)"
