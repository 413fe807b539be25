#!/usr/bin/env bash
# Training speed on a shared machine: a spec's images/s at the default thread
# count against --threads 1, alone, beside a second infomax run of the same
# spec started together, and beside one CPU-bound process (`yes`). The
# default should never collapse: beside other work it should reach at least
# 0.8x of what one thread reaches under the same load.
#
#   tools/bench/shared_machine.sh SPEC STEPS [override ...]
#
# Each case trains STEPS steps (no evaluation: eval.probes=[]) and reports
# the median images/s of the second half of its metrics rows (the default
# thread count settles within a few seconds). Give STEPS enough for 20 s or
# more of training per case.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cli=${INFOMAX:-$here/build/infomax}
[[ $# -ge 2 ]] || { echo "usage: $0 SPEC STEPS [override ...]" >&2; exit 2; }
spec=$1 steps=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"; [[ -n "${hog:-}" ]] && kill "$hog" 2>/dev/null || true' EXIT
unset INFOMAX_THREADS

# median images/s of the second half of a run's metrics.csv rows
speed() {
  local csv col
  csv=$(ls "$1"/*/*/metrics.csv)
  col=$(head -1 "$csv" | tr ',' '\n' | grep -n '^images_per_s$' | cut -d: -f1)
  local rows
  rows=$(tail -n +2 "$csv" | wc -l)
  tail -n +2 "$csv" | tail -n $(( rows - rows / 2 )) | cut -d, -f"$col" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.0f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# train SPEC into $out/$1 with the remaining arguments
train() {
  local name=$1
  shift
  "$cli" "$@" run "$spec" "train.steps=$steps" 'eval.probes=[]' output.dir="$out/$name" "${overrides[@]}" --no-progress \
    > "$out/$name.log" 2>&1 || { echo "FAILED: see $out/$name.log" >&2; cat "$out/$name.log" >&2; exit 1; }
}
overrides=("$@")
case_alone() { train "$1" "${@:2}"; speed "$out/$1"; }
case_pair() {
  train "$1-a" "${@:2}" & local a=$!
  train "$1-b" "${@:2}" & local b=$!
  wait $a $b
  echo "$(speed "$out/$1-a") $(speed "$out/$1-b")"
}
case_beside_yes() {
  yes > /dev/null & hog=$!
  train "$1" "${@:2}"
  kill "$hog"; wait "$hog" 2>/dev/null || true; hog=
  speed "$out/$1"
}
threads_of() { tail -n +2 "$(ls "$out/$1"/*/*/threads.csv)" | cut -d, -f2 | tr '\n' ' '; }

echo "$(basename "$spec") $steps steps; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
a1=$(case_alone alone-1 --threads 1); ad=$(case_alone alone-default)
echo "alone:           --threads 1 $a1 img/s | default $ad img/s (threads $(threads_of alone-default)) | $(awk "BEGIN{printf \"%.2f\", $ad/$a1}")x"
read -r p1a p1b <<< "$(case_pair pair-1 --threads 1)"; read -r pda pdb <<< "$(case_pair pair-default)"
echo "two at once:     --threads 1 $p1a, $p1b img/s | default $pda, $pdb img/s (threads $(threads_of pair-default-a)/ $(threads_of pair-default-b)) | $(awk "BEGIN{printf \"%.2f, %.2f\", $pda/$p1a, $pdb/$p1b}")x"
y1=$(case_beside_yes yes-1 --threads 1); yd=$(case_beside_yes yes-default)
echo "beside yes:      --threads 1 $y1 img/s | default $yd img/s (threads $(threads_of yes-default)) | $(awk "BEGIN{printf \"%.2f\", $yd/$y1}")x"
