#!/usr/bin/env bash
# Data-parallel training under mpirun -np 2, against one process.
# Usage: mpi_run.sh INFOMAX SOURCE_DIR CASE
#
# How close 2 ranks must come to 1 process (tolerance from the arithmetic, not
# from a CPU): the two compute the same sums in another order (each rank sums
# its 32 rows, then the ranks' sums are added), so each step's values differ by
# reassociation only. In f32 (unit roundoff u = 2^-24) a reordered sum of n
# terms moves by about sqrt(n) u relative (the probabilistic bound of Higham and
# Mary; the worst case is n u), the longest sum here being the first conv's
# weight gradient over 64 rows x 14 x 14 positions (n = 12544): about 6.7e-6 a
# step. Carried forward, step s may differ by s sqrt(n) u relative (floored at
# 1), which the first 10 steps are checked against. Later steps are not: the
# adversarial prior amplifies those differences by its dynamics, not by the
# arithmetic (on one CPU the 50th step differed by 2e-5, on another by 2e-4), so
# what must hold there is checked as a statistic or as an effect of its own size.
#   matches      2 ranks give the 1-rank losses over the first 10 steps (as
#                above) and the linear probe after 50 within 0.3 points (SGD,
#                no batch norm in the encoder: see docs/scale.md)
#   learned_baseline  the same with a bound that learns its own baseline
#                (interpolated, learn_baseline): its gradient is whole on each
#                rank, not summed. Started at log a = 2 it moves about 0.22 in
#                50 SGD steps; summed over 2 ranks it would move twice as far,
#                so the 2-rank move must be the 1-rank move within 1% of it
#   batch_norm   with batch norm in the encoder and the spec's Adam, the first
#                3 steps agree as above: statistics are over the global batch
#                (local ones differ by 1.7e-3 at step 1, 247 times the tolerance). Only 3: Adam divides
#                each gradient by its running size, so a component within
#                rounding of zero gets an update of up to lr either way, and
#                from step 4 on (measured) the trajectories part by more than
#                reassociation, through the optimiser, not the sums
#   bits         the same N and seed give the same bits
#   resume       stopped by SIGTERM to mpirun (its Ctrl-C): every rank stops at
#                one step with a checkpoint; resumed on 2 ranks it equals the
#                uninterrupted 2-rank run bit for bit, resumed on 1 or 4 it finishes
#   refused      a kind that cannot, a batch that does not split, or eval
#                under mpirun: exit 1, the message, nothing written
#   killed_rank  a rank killed mid-run ends the job (non-zero, no process left)
#                within 30 s
set -uo pipefail
cli=$1
spec=$2/tests/e2e/mpi/dp.yaml
case=$3
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
source "$(dirname "$0")/mpi/mpirun.sh"
fail() { echo "FAIL ($case): $*"; exit 1; }
no_bn='encoder.layers=[{conv: {out: 16, kernel: 4, stride: 2, padding: 1}}, relu, {conv: {out: 32, kernel: 4, stride: 2, padding: 1}}, relu, {tap: local}, flatten, {linear: {out: 64}}, relu, {linear: {out: 32}}, {tap: global}]'
# The worst step of the first N rows that two metrics.csv share (not timings):
# prints "ratio (metric step s: relative difference d, tolerance t)", where d =
# |a - b| / max(|a|, |b|, 1) and t = s sqrt(12544) 2^-24 (see the top); the check
# passes when the ratio d / t is at most 1.
worst() {
  awk -F, -v rows="$3" 'BEGIN{per_step=sqrt(12544)*2^-24}
    FNR==1{if(NR==1)for(i=1;i<=NF;i++)h[i]=$i; next}
    NR==FNR{if(FNR-1<=rows)for(i=1;i<=NF;i++)a[FNR,i]=$i; next}
    FNR-1<=rows{for(i=3;i<=NF;i++){if(h[i]=="images_per_s")continue; x=a[FNR,i]; y=$i; d=x-y; if(d<0)d=-d;
      m=x<0?-x:x; if((y<0?-y:y)>m)m=y<0?-y:y; if(m<1)m=1; t=$1*per_step; if(d/m/t>w){w=d/m/t; at=sprintf("%s step %d: relative difference %.3g, tolerance %.3g", h[i], $1, d/m, t)}}}
    END{printf "%.3g (%s)\n", w, at}' "$1" "$2"
}
# A float32 tensor of a checkpoint (safetensors: an 8-byte header length, the JSON header, the data).
tensor_value() {
  python3 -c 'import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; t = json.loads(b[8:8 + n])[sys.argv[2]]
s, e = t["data_offsets"]; print(struct.unpack("<f", b[8 + n + s:8 + n + e])[0])' "$1" "$2"
}
within() { awk -v w="${1%% *}" -v t="$2" 'BEGIN{exit !(w <= t)}'; }
run_dir() { ls -d "$work/$1"/*/*/ | head -1; }
# metrics.csv without its timing column
plain_metrics() { cut -d, -f1-$(($(head -1 "$1" | tr , '\n' | grep -n images_per_s | cut -d: -f1) - 1)) "$1"; }

extra=()
[ "$case" = learned_baseline ] && extra=('objectives.global.estimator={type: interpolated, alpha: 0.5, learn_baseline: true, log_baseline: 2}')
case $case in
matches|learned_baseline)
  "$cli" --threads 1 run "$spec" "$no_bn" ${extra[@]+"${extra[@]}"} optimizer.type=sgd optimizer.lr=0.01 output.dir="$work/one" --no-progress > "$work/one.txt" 2>&1 || { cat "$work/one.txt"; fail "1 rank"; }
  "${mpirun_2[@]}" "$cli" run "$spec" "$no_bn" ${extra[@]+"${extra[@]}"} optimizer.type=sgd optimizer.lr=0.01 output.dir="$work/two" --no-progress > "$work/two.txt" 2>&1 || { cat "$work/two.txt"; fail "2 ranks"; }
  if [ "$case" = learned_baseline ]; then
    grep -q '^step,epoch,global.mi_interpolated,' "$(run_dir two)metrics.csv" || fail "not the interpolated bound"
  fi
  grep -q "on each of 2 ranks, 32 rows each" "$work/two.txt" || { cat "$work/two.txt"; fail "not data-parallel"; }
  grep -q '"world_size": 2' "$(run_dir two)manifest.json" || fail "the manifest does not record 2 ranks"
  w=$(worst "$(run_dir one)metrics.csv" "$(run_dir two)metrics.csv" 10)
  echo "first 10 steps, worst difference against the reassociation tolerance: $w"
  within "$w" 1 || fail "losses differ beyond reassociation: $w"
  if [ "$case" = learned_baseline ]; then
    key=param/objectives.global.estimator.log_a
    a=$(tensor_value "$(run_dir one)checkpoints/step-00000050.safetensors" $key) || fail "no $key at step 50 (1 rank)"
    b=$(tensor_value "$(run_dir two)checkpoints/step-00000050.safetensors" $key) || fail "no $key at step 50 (2 ranks)"
    echo "log a after 50 steps from 2: 1 rank $a, 2 ranks $b"
    awk -v a="$a" -v b="$b" 'BEGIN{m=a-2; d=b-a; if(d<0)d=-d; if(m<0)m=-m; exit !(m > 0.05 && d <= 0.01 * m)}' ||
      fail "the baseline moved $a - 2 on 1 rank and $b - 2 on 2 ranks: not within 1% (summed over the ranks, it moves twice as far)"
  fi
  a=$(grep -o '"test_accuracy": [0-9.]*' "$(run_dir one)results.json" | head -1 | cut -d' ' -f2)
  b=$(grep -o '"test_accuracy": [0-9.]*' "$(run_dir two)results.json" | head -1 | cut -d' ' -f2)
  echo "linear probe: 1 rank $a, 2 ranks $b"
  awk -v a="$a" -v b="$b" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(a > 0.5 && d <= 0.003)}' || fail "probes $a and $b differ by more than 0.3 points"
  ;;
batch_norm)
  "$cli" --threads 1 run "$spec" eval.probes=[] output.dir="$work/one" --no-progress > "$work/one.txt" 2>&1 || { cat "$work/one.txt"; fail "1 rank"; }
  "${mpirun_2[@]}" "$cli" run "$spec" eval.probes=[] output.dir="$work/two" --no-progress > "$work/two.txt" 2>&1 || { cat "$work/two.txt"; fail "2 ranks"; }
  w=$(worst "$(run_dir one)metrics.csv" "$(run_dir two)metrics.csv" 3)
  echo "3 steps with batch norm, worst difference against the reassociation tolerance: $w"
  within "$w" 1 || fail "losses differ beyond reassociation: $w"
  ;;
bits)
  for k in a b; do
    "${mpirun_2[@]}" "$cli" run "$spec" eval.probes=[] output.dir="$work/$k" --no-progress > "$work/$k.txt" 2>&1 || { cat "$work/$k.txt"; fail "run $k"; }
  done
  cmp <(plain_metrics "$(run_dir a)metrics.csv") <(plain_metrics "$(run_dir b)metrics.csv") || fail "metrics differ"
  cmp "$(run_dir a)encoder.safetensors" "$(run_dir b)encoder.safetensors" || fail "encoders differ"
  echo "two 2-rank runs: the same bits"
  ;;
resume)
  long=(train.steps=600 train.checkpoint_every=100000 eval.probes=[])
  "${mpirun_2[@]}" "$cli" run "$spec" "${long[@]}" output.dir="$work/ref" --no-progress > "$work/ref.txt" 2>&1 || { cat "$work/ref.txt"; fail "reference"; }
  "${mpirun_2[@]}" "$cli" run "$spec" "${long[@]}" output.dir="$work/cut" --no-progress > "$work/cut.txt" 2>&1 &
  pid=$!
  # SIGTERM once training is under way (100 rows), however loaded the machine:
  # sent while a rank is still starting up, it ends that rank before its
  # handler is in place (a capped 30 s wait once did that under a busy CI).
  started=
  for _ in $(seq 1 4800); do
    [ "$(cat "$work"/cut/*/*/metrics.csv 2>/dev/null | wc -l)" -ge 100 ] && { started=1; break; }
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$started" ] || { kill -TERM $pid; wait $pid; cat "$work/cut.txt"; fail "the run did not reach step 100 within 240 s"; }
  kill -TERM $pid
  wait $pid
  rc=$?
  tail -3 "$work/cut.txt"
  [ $rc -ne 0 ] || fail "mpirun exited 0 after SIGTERM"
  grep -q "^interrupted at step [0-9]*: checkpoint written" "$work/cut.txt" || fail "no checkpoint on SIGTERM"
  dir=$(run_dir cut)
  cp -r "$dir" "$work/copy"
  cp -r "$dir" "$work/copy4"
  "${mpirun_2[@]}" "$cli" run --resume "$dir" --no-progress > "$work/res2.txt" 2>&1 || { cat "$work/res2.txt"; fail "resume on 2 ranks"; }
  cmp <(plain_metrics "$(run_dir ref)metrics.csv") <(plain_metrics "${dir}metrics.csv") || fail "resumed on 2 ranks, metrics differ from the uninterrupted run"
  cmp "$(run_dir ref)encoder.safetensors" "${dir}encoder.safetensors" || fail "resumed on 2 ranks, the encoder differs"
  "$cli" --threads 1 run --resume "$work/copy" --no-progress > "$work/res1.txt" 2>&1 || { cat "$work/res1.txt"; fail "resume on 1 rank"; }
  grep -q "^restored step [0-9]* from " "$work/res1.txt" || fail "resume on 1 rank did not restore"
  [ -s "$work/copy/results.json" ] || fail "resume on 1 rank did not finish"
  [ "$(tail -1 "$work/copy/metrics.csv" | cut -d, -f1)" = 600 ] || fail "resume on 1 rank did not reach step 600"
  mpirun --oversubscribe -np 4 "$cli" run --resume "$work/copy4" --no-progress > "$work/res4.txt" 2>&1 || { cat "$work/res4.txt"; fail "resume on 4 ranks"; }
  grep -q "on each of 4 ranks, 16 rows each" "$work/res4.txt" || fail "resume on 4 ranks was not data-parallel"
  [ "$(tail -1 "$work/copy4/metrics.csv" | cut -d, -f1)" = 600 ] && [ -s "$work/copy4/results.json" ] || fail "resume on 4 ranks did not finish"
  echo "stopped on 2 ranks: resumed on 2 bit for bit, on 1 and on 4 to the end"
  ;;
killed_rank)
  "${mpirun_2[@]}" "$cli" run "$spec" train.steps=200000 output.dir="$work/k" --no-progress > "$work/k.txt" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    [ "$(cat "$work"/k/*/*/metrics.csv 2>/dev/null | wc -l)" -ge 20 ] && break
    sleep 0.05
  done
  victim=$(pgrep -P $pid -x infomax | tail -1)  # a rank: mpirun's child
  [ -n "$victim" ] || fail "no rank process found"
  kill -KILL "$victim"
  start=$(date +%s)
  for _ in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then kill -KILL $pid; fail "the job still runs 30 s after a rank died"; fi
  wait $pid
  rc=$?
  echo "mpirun exited $rc, $(($(date +%s) - start)) s after rank $victim was killed"
  [ $rc -ne 0 ] || fail "mpirun exited 0"
  sleep 1
  pgrep -f "output.dir=$work/k" > /dev/null && fail "a rank is still running"
  ;;
refused)
  # What cannot train data-parallel says so before anything is written.
  "${mpirun_2[@]}" "$cli" run "$2/experiments/mi_gaussian_separable.yaml" output.dir="$work/r" > "$work/r1.txt" 2>&1
  rc=$?
  cat "$work/r1.txt"
  [ $rc = 1 ] || fail "kind mi_estimation under mpirun: exit $rc, expected 1"
  # Whichever rank fails first ends the job: its message is the one printed.
  grep -Eq "infomax: kind mi_estimation trains on one process, and this is rank [01] of 2 \(mpirun\): run it without mpirun, or put such runs in a suite, whose runs mpirun shares among the ranks" "$work/r1.txt" || fail "no message for kind mi_estimation"
  "${mpirun_2[@]}" "$cli" run "$spec" data.batch_size=63 output.dir="$work/r" > "$work/r2.txt" 2>&1
  rc=$?
  cat "$work/r2.txt"
  [ $rc = 1 ] || fail "batch 63 on 2 ranks: exit $rc, expected 1"
  grep -q "command line argument 1 (data.batch_size=63): data.batch_size: the global batch of 63 does not split evenly over 2 ranks: use a multiple of 2" "$work/r2.txt" || fail "no message for batch 63"
  [ ! -e "$work/r" ] || fail "a refused run wrote $work/r"
  "${mpirun_2[@]}" "$cli" eval "$work/nowhere" > "$work/r3.txt" 2>&1
  rc=$?
  [ $rc = 1 ] && grep -Eq "infomax: infomax eval runs on one process, and this is rank [01] of 2 \(mpirun\): run it without mpirun" "$work/r3.txt" || { cat "$work/r3.txt"; fail "eval under mpirun: exit $rc"; }
  ;;
*) fail "unknown case" ;;
esac
echo "ok ($case)"
