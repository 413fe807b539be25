#!/usr/bin/env bash
# Checks beyond the README's tests.
#   tools/check.sh --sanitize [ctest args]   builds everything with
#     AddressSanitizer + UndefinedBehaviorSanitizer (g++, into build-asan) and
#     runs the tests under them; any report fails the test it happens in.
# Leak reports come from third-party libraries' one-time allocations (Open
# MPI, oneDNN's primitive cache, OpenMP), so leak detection is off; every
# other ASan and UBSan finding stops the program.
set -uo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  --sanitize) shift ;;
  *) echo "usage: tools/check.sh --sanitize [ctest args]"; exit 1 ;;
esac
build=${BUILD_DIR:-build-asan}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFOMAX_SANITIZE=ON > /dev/null || exit 1
cmake --build "$build" -j"$(nproc)" || exit 1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build" && ctest -j"$(nproc)" --output-on-failure "$@"
