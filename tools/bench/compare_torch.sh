#!/usr/bin/env bash
# infomax against the PyTorch reference (tools/bench/torch_reference.py) on
# the same model, objective and batch, run alternately for several rounds so
# both see the same machine state. Prints the ratio per round and the median.
#
#   tools/bench/compare_torch.sh [seed000|seed002] [ROUNDS] [THREADS] [STEPS]
#
# Needs python3-torch and libopenblas0-pthread (Debian); run on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
model=${1:-seed000}
rounds=${2:-3}
threads=${3:-$(nproc)}
steps=${4:-20}
cli=${INFOMAX:-$here/build/infomax}
case $model in
  seed000) spec=$here/experiments/seed000_reference.yaml ;;
  seed002) spec=$here/experiments/seed002_cifar10.yaml ;;
  *) echo "usage: $0 [seed000|seed002] [ROUNDS] [THREADS] [STEPS]" >&2; exit 2 ;;
esac
blas=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo unknown)
echo "model $model, $threads thread(s), $steps timed steps, $rounds rounds; PyTorch BLAS: $blas"
ratios=()
for r in $(seq 1 "$rounds"); do
  ours=$("$cli" bench "$spec" --threads "$threads" --steps "$steps" --json 2>/dev/null)
  theirs=$(/usr/bin/python3 "$here/tools/bench/torch_reference.py" --model "$model" --threads "$threads" --steps "$steps")
  line=$(python3 - "$ours" "$theirs" <<'PY'
import json, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = o["train_images_per_s"] / t["train_images_per_s"]
print(f'{ratio:.3f} infomax {o["train_images_per_s"]:.1f} img/s ({o["achieved_gflops"]:.1f} GFLOP/s = '
      f'{100*o["achieved_gflops"]/o["peak_gflops"]:.0f}% of {o["peak_gflops"]:.0f}, RSS {o["peak_rss_mib"]:.0f} MiB) | '
      f'pytorch {t["train_images_per_s"]:.1f} img/s (~{o["flops_per_train_step"]*t["train_images_per_s"]/o["batch"]/1e9:.1f} GFLOP/s, '
      f'RSS {t["peak_rss_mib"]:.0f} MiB) | inference {o["infer_images_per_s"]:.0f} vs {t["infer_images_per_s"]:.0f} img/s')
PY
)
  echo "round $r: ratio $line"
  ratios+=("${line%% *}")
done
printf '%s\n' "${ratios[@]}" | python3 -c "import sys, statistics; v=[float(x) for x in sys.stdin]; print(f'median ratio (infomax / pytorch train images/s): {statistics.median(v):.3f}')"
