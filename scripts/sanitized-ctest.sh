#!/usr/bin/env bash
# Runs ctest in a sanitized build dir (make test-asan, make test-tsan) and fails if any process
# reported a finding: the test binaries and every `budgeteer` they spawn (whose stderr the
# end-to-end tests keep in temporary files, or lose to SIGKILL) write their reports to
# BUILD/sanitizer-logs/, which must be empty at the end.
#
#   scripts/sanitized-ctest.sh BUILD address|thread [ctest arguments...]
set -uo pipefail
build=$1 kind=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
logs=$(cd "$build" && pwd)/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"

# halt_on_error + abort_on_error: the first finding kills the process, so its test fails.
common="halt_on_error=1:abort_on_error=1:print_summary=1:disable_coredump=1"
case $kind in
  address)
    export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1:log_path=$logs/asan"
    export LSAN_OPTIONS="suppressions=$root/scripts/sanitizers/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="$common:print_stacktrace=1:log_path=$logs/ubsan"
    ;;
  thread)
    export TSAN_OPTIONS="$common:second_deadlock_stack=1:suppressions=$root/scripts/sanitizers/tsan.supp:log_path=$logs/tsan"
    ;;
  *)
    echo "usage: $0 BUILD address|thread [ctest arguments...]" >&2
    exit 2
    ;;
esac

start=$(date +%s)
ctest --test-dir "$build" --output-on-failure "$@"
rc=$?
echo "sanitized ctest ($kind): exit $rc in $(($(date +%s) - start)) s"
if compgen -G "$logs/*" >/dev/null; then
  echo "== sanitizer findings ($logs):"
  for f in "$logs"/*; do
    echo "-- $f"
    head -n 80 "$f"
  done
  exit 1
fi
exit $rc
