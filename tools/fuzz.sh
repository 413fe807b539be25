#!/usr/bin/env bash
# A fuzzing campaign: builds the libFuzzer harnesses of tests/fuzz with clang
# 14, AddressSanitizer and UndefinedBehaviorSanitizer (into build-fuzz), runs
# each for SECONDS, and prints per target: executions, coverage, crashes.
#   tools/fuzz.sh [SECONDS] [TARGET...]   (default 60 s each; targets:
#   safetensors npy idx cifar bmi_samples run_dir spec suite slurm)
# Each target starts from tests/fuzz/corpus/TARGET and keeps what it grows in
# build-fuzz/corpus/TARGET. A crash is written to build-fuzz/crashes/TARGET/;
# once fixed, copy it into tests/fuzz/corpus/TARGET/ so that ctest's
# fuzz.replay.TARGET replays it from then on. Exit 1 when anything crashed.
# Needs Debian's clang-14 and libclang-rt-14-dev (not needed to build or test).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(safetensors npy idx cifar bmi_samples run_dir spec suite slurm)
if ! command -v clang++-14 > /dev/null || [ ! -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] &&
   ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a > /dev/null 2>&1; then
  echo "fuzz: needs clang 14 and its fuzzer runtime: sudo apt-get install clang-14 libclang-rt-14-dev"
  exit 1
fi
build=${BUILD_DIR:-build-fuzz}
# The compiler only when the folder is new: naming it again resets CMake's cache (and rebuilds everything).
compiler=()
[ -e "$build/CMakeCache.txt" ] || compiler=(-DCMAKE_CXX_COMPILER="$(command -v clang++-14)")
cmake -S . -B "$build" "${compiler[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFOMAX_FUZZ=ON > "/tmp/infomax-fuzz-configure.log" 2>&1 \
  || { cat /tmp/infomax-fuzz-configure.log; exit 1; }
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") || exit 1
export ASAN_OPTIONS=detect_leaks=0  # third-party libraries keep what they allocate once
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
printf '%-12s %12s %10s %8s %8s %8s\n' target executions exec/s cov features crashes
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  log="$build/fuzz-$t.log"
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "tests/fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  found=$(find "$crashes" -type f | wc -l)
  printf '%-12s %12s %10s %8s %8s %8s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$found"
  if [ $rc != 0 ] || [ "$found" != 0 ]; then
    status=1
    echo "  $t: see $log and $crashes/"
  fi
done
exit $status
