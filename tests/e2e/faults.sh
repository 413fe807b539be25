#!/usr/bin/env bash
# Faults through the real CLI, each compared with a run that had none:
#  1. kill -9 at random moments, resumed each time: the final checkpoint and
#     metrics.csv (but its timing column) equal the uninterrupted run's;
#  2. a disk that fills during a checkpoint (a file-size limit, ulimit -f):
#     exit 1 naming the file and the last good checkpoint, nothing torn left;
#     resumed once there is room, it ends on the same bits;
#  3. metrics.csv on a full disk mid-run (/dev/full): exit 1, not a silent loss;
#  4. two `run --resume` of one directory: the second is refused (exit 1) with
#     the first one's pid.
# Usage: faults.sh INFOMAX
set -uo pipefail
cli=$1
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"; kill $(jobs -p) 2>/dev/null' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export INFOMAX_THREADS=1
cat > "$work/spec.yaml" <<YAML
name: faults
kind: dim
seed: 5
data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}
encoder:
  type: layer_stack
  layers: [{conv: {out: 8, kernel: 3}}, relu, {tap: local}, flatten, {linear: {out: 6}}, {tap: global}]
objectives:
  global: {estimator: dv, discriminator: {type: global_concat, hidden: [16]}}
train: {steps: 6000, log_every: 30, checkpoint_every: 70}
eval: {probes: [linear]}
output: {dir: $work/runs}
YAML
# metrics.csv without the timing column.
rows() { cut -d, -f1-$(($(head -1 "$1" | tr , '\n' | wc -l) - 1)) "$1"; }
last_step() { ls "$1"/checkpoints/step-*.safetensors 2>/dev/null | tail -1 | sed 's/.*step-0*//; s/\..*//'; }

"$cli" run "$work/spec.yaml" --no-progress output.dir="$work/whole" > "$work/whole.txt" 2>&1 || { cat "$work/whole.txt"; fail "the uninterrupted run"; }
whole=$(ls -d "$work"/whole/faults/*)
final=checkpoints/step-00006000.safetensors

# 1. kill -9 at random moments (after at least one checkpoint), up to three
#    times while the run has not finished.
"$cli" run "$work/spec.yaml" --no-progress > "$work/k0.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -n "$(ls -d "$work"/runs/faults/* 2>/dev/null)" ] && break; sleep 0.05; done
dir=$(ls -d "$work"/runs/faults/*)
kills=0
for k in 1 2 3; do
  while [ -z "$(last_step "$dir")" ] && kill -0 $pid 2>/dev/null; do sleep 0.05; done
  sleep "0.$((RANDOM % 9 + 1))"
  kill -KILL $pid 2>/dev/null || break  # it finished first
  wait $pid 2>/dev/null
  kills=$((kills + 1))
  echo "kill $k after step $(last_step "$dir")"
  "$cli" run --resume "$dir" --no-progress > "$work/k$k.txt" 2>&1 &
  pid=$!
done
wait $pid || { cat "$work/k$kills.txt"; fail "the last resume failed"; }
[ $kills -ge 1 ] || fail "the run finished before any kill"
[ -e "$dir/results.json" ] || fail "the killed run did not finish"
cmp "$whole/$final" "$dir/$final" || fail "after $kills kills the final checkpoint differs"
diff <(rows "$whole/metrics.csv") <(rows "$dir/metrics.csv") || fail "after $kills kills metrics.csv differs"
ls "$dir" "$dir/checkpoints" | grep -q '\.tmp-' && fail "temporary files were left behind"
echo "ok: $kills kills -9, final checkpoint and metrics identical"

# 2. The disk fills during a checkpoint: files may grow to 64 KiB, a checkpoint needs 216.
rm -rf "$work/runs"
(trap '' XFSZ; ulimit -f 64; exec "$cli" run "$work/spec.yaml" --no-progress train.checkpoint_every=100000) > "$work/full.txt" 2>&1
rc=$?
dir=$(ls -d "$work"/runs/faults/*)
[ $rc = 1 ] || { cat "$work/full.txt"; fail "disk full: exit $rc, expected 1"; }
grep -q "infomax: $dir/checkpoints/step-00006000.safetensors: cannot write: File too large; last good checkpoint: none" "$work/full.txt" \
  || { cat "$work/full.txt"; fail "disk full: the message does not name the checkpoint and the last good one"; }
ls "$dir/checkpoints" | grep -q . && fail "disk full: something is left in checkpoints/"
"$cli" run --resume "$dir" --no-progress > "$work/full-resume.txt" 2>&1 || { cat "$work/full-resume.txt"; fail "resume after disk full"; }
cmp "$whole/$final" "$dir/$final" || fail "resumed after a full disk, the final checkpoint differs"
diff <(rows "$whole/metrics.csv") <(rows "$dir/metrics.csv") || fail "resumed after a full disk, metrics.csv differs"
echo "ok: disk full during a checkpoint, exit 1, resumed to the same bits"

# 3. metrics.csv on a full disk in the middle of a run.
rm -rf "$work/runs"
"$cli" run "$work/spec.yaml" --no-progress > "$work/dev-full.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do ls "$work"/runs/faults/*/metrics.csv > /dev/null 2>&1 && break; sleep 0.05; done
dir=$(ls -d "$work"/runs/faults/*)
ln -s /dev/full "$work/full-link" && mv -T "$work/full-link" "$dir/metrics.csv"  # one rename: no moment without the file
wait $pid
rc=$?
[ $rc = 1 ] || { cat "$work/dev-full.txt"; fail "metrics on a full disk: exit $rc, expected 1"; }
grep -q "infomax: $dir/metrics.csv: cannot write: No space left on device; last good checkpoint: " "$work/dev-full.txt" \
  || { cat "$work/dev-full.txt"; fail "metrics on a full disk: the message"; }
echo "ok: metrics.csv on a full disk stops the run with exit 1"

# 4. Two resumes of one run: the first trains on (--extend makes it long) while the second starts.
rm "$dir/metrics.csv"
"$cli" run --resume "$dir" --extend train.steps=2000000 --no-progress > "$work/first.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do grep -q '^restored step' "$work/first.txt" && break; sleep 0.05; done
"$cli" run --resume "$dir" --no-progress > "$work/second.txt" 2>&1
rc=$?
[ $rc = 1 ] || { cat "$work/second.txt"; fail "second resume: exit $rc, expected 1"; }
grep -q "infomax: $dir: the run is in use by process $pid on $(hostname) since " "$work/second.txt" \
  || { cat "$work/second.txt"; fail "second resume: the message does not name the holder"; }
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || { cat "$work/first.txt"; fail "the first resume ended with $rc, not 130 (Ctrl-C)"; }
grep -q '"train.steps=2000000"' "$dir/manifest.json" || fail "--extend is not recorded in the manifest"
echo "ok: a second resume is refused naming the holder; --extend is recorded"
