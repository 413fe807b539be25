#!/usr/bin/env bash
# The MI-estimation benchmark: runs staircase specs and gathers their
# per-level tables into one, with each run's training time.
#
#   tools/bench/mi_benchmark.sh [--jobs J] [--out DIR] SPEC...
#
# J runs at once, each with 2/J threads (default 1 job on all cores). The
# time of each run is printed beside the 60-second budget of the standard
# 20 000-step staircase; time runs with --jobs 1 on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cli=${INFOMAX:-$here/build/infomax}
jobs=1
out=runs/mi_benchmark
while [[ $# -gt 0 ]]; do
  case $1 in
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--jobs J] [--out DIR] SPEC..." >&2; exit 2; }
cores=$(nproc)
threads=$(( cores / jobs > 0 ? cores / jobs : 1 ))
mkdir -p "$out"
run_one() {
  local spec=$1 log
  log="$out/$(basename "$spec" .yaml).log"
  "$cli" run "$spec" output.dir="$out" --threads "$threads" --no-progress > "$log" 2>&1 || { echo "FAILED: $spec (see $log)"; return 0; }
}
export -f run_one
export cli out threads
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

python3 - "$out" "$@" <<'PY'
import json, os, sys, glob
out, specs = sys.argv[1], sys.argv[2:]
print(f"| run | seconds | vs 60 s | level (nats) | mean | bias | variance | MSE |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for spec in specs:
    log = os.path.join(out, os.path.basename(spec)[:-5] + ".log")
    res = None
    for line in open(log):
        if line.startswith("results: "):
            res = line.split(" ", 1)[1].strip()
    if not res:
        print(f"| {os.path.basename(spec)} | failed | | | | | | |")
        continue
    r = json.load(open(res))
    secs = r["train"]["seconds"]
    for i, l in enumerate(r.get("mi_levels", [])):
        name = os.path.basename(spec)[:-5] if i == 0 else ""
        t = f"{secs:.1f}" if i == 0 else ""
        pct = f"{100*secs/60:.0f}%" if i == 0 else ""
        print(f"| {name} | {t} | {pct} | {l['true_mi']:g} | {l['mean']:.3f} | {l['bias']:+.3f} | {l['variance']:.4f} | {l['mse']:.4f} |")
PY
