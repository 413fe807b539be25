#!/usr/bin/env bash
# infomax against the PyTorch reference (tools/bench/torch_reference.py) on
# the same model, objective and batch. Each side runs at every thread count
# (alternating, round after round, so both see the same machine state); the
# verdict compares each side at ITS best thread count (the median over rounds
# at each count, then the best count), because PyTorch with OpenBLAS is often
# fastest on fewer threads than infomax, and equal counts would flatter us.
#
#   tools/bench/compare_torch.sh [small_conv28|bn_conv32] [ROUNDS] [STEPS] [THREAD_COUNTS]
#
# THREAD_COUNTS: comma-separated (default 1,2,...,nproc).
# Needs python3-torch and libopenblas0-pthread (Debian); run on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
model=${1:-small_conv28}
rounds=${2:-3}
steps=${3:-20}
counts=${4:-$(seq -s, 1 "$(nproc)")}
cli=${INFOMAX:-$here/build/infomax}
case $model in
  small_conv28) spec=$here/experiments/fashion_mnist_dim.yaml; data=() ;;
  bn_conv32) spec=$here/experiments/cifar10_dim.yaml; data=(data.missing=synthetic) ;;  # timing: any images do
  *) echo "usage: $0 [small_conv28|bn_conv32] [ROUNDS] [STEPS] [THREAD_COUNTS]" >&2; exit 2 ;;
esac
blas=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo unknown)
echo "model $model, thread counts $counts, $steps timed steps, $rounds rounds; PyTorch BLAS: $blas"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for r in $(seq 1 "$rounds"); do
  for t in ${counts//,/ }; do
    ours=$("$cli" bench "$spec" "${data[@]}" --threads "$t" --steps "$steps" --json 2>/dev/null)
    theirs=$(/usr/bin/python3 "$here/tools/bench/torch_reference.py" --model "$model" --threads "$t" --steps "$steps")
    printf '%s\t%s\t%s\t%s\n' "$r" "$t" "$ours" "$theirs" >> "$results"
    echo "round $r, $t thread(s): $(python3 - "$ours" "$theirs" <<'PY'
import json, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f'infomax {o["train_images_per_s"]:.1f} img/s ({o["achieved_gflops"]:.1f} GFLOP/s = '
      f'{100*o["achieved_gflops"]/o["peak_gflops"]:.0f}% of {o["peak_gflops"]:.0f}, RSS {o["peak_rss_mib"]:.0f} MiB) | '
      f'pytorch {t["train_images_per_s"]:.1f} img/s (RSS {t["peak_rss_mib"]:.0f} MiB) | '
      f'inference {o["infer_images_per_s"]:.0f} vs {t["infer_images_per_s"]:.0f} img/s')
PY
)"
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
by = {}
for _, t, o, p in rows:
    by.setdefault(int(t), ([], []))
    by[int(t)][0].append(json.loads(o)["train_images_per_s"])
    by[int(t)][1].append(json.loads(p)["train_images_per_s"])
print("threads | infomax median img/s | pytorch median img/s | ratio at equal threads")
for t in sorted(by):
    o, p = statistics.median(by[t][0]), statistics.median(by[t][1])
    print(f"{t:7d} | {o:20.1f} | {p:20.1f} | {o / p:.2f}")
best_o = max(by, key=lambda t: statistics.median(by[t][0]))
best_p = max(by, key=lambda t: statistics.median(by[t][1]))
o, p = statistics.median(by[best_o][0]), statistics.median(by[best_p][1])
print(f"best against best: infomax {o:.1f} img/s at {best_o} thread(s), pytorch {p:.1f} img/s at {best_p} thread(s): "
      f"ratio {o / p:.2f}")
PY
