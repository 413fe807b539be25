#!/usr/bin/env bash
# Ctrl-C through the real CLI: SIGINT during `infomax run` writes a checkpoint,
# exits 130 and says how to resume; `infomax run --resume` then finishes.
# Usage: sigint_resume.sh INFOMAX
set -uo pipefail
cli=$1
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# Waits until a run prints its first progress line (it is training), at most 30 s.
wait_for_progress() {
  for _ in $(seq 1 300); do
    grep -q "^epoch" "$1" 2>/dev/null && return
    sleep 0.1
  done
}
cat > "$work/spec.yaml" <<YAML
name: sigint
kind: dim
data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}
encoder:
  type: layer_stack
  layers: [{conv: {out: 8, kernel: 3}}, relu, {tap: local}, flatten, {linear: {out: 6}}, {tap: global}]
objectives:
  global: {estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}
train: {steps: 200000, log_every: 10, checkpoint_every: 1000000}
eval: {probes: [linear]}
output: {dir: $work/runs}
YAML
"$cli" run "$work/spec.yaml" --no-progress > "$work/out.txt" 2>&1 &
pid=$!
wait_for_progress "$work/out.txt"
kill -INT $pid
wait $pid
rc=$?
cat "$work/out.txt" | tail -3
[ $rc -eq 130 ] || { echo "sigint_resume: expected exit 130 after SIGINT, got $rc"; exit 1; }
grep -q "^interrupted at step [0-9]*: checkpoint written; continue with: infomax run --resume " "$work/out.txt" \
  || { echo "sigint_resume: no resume hint"; exit 1; }
dir=$(ls -d "$work"/runs/sigint/*)
ls "$dir"/checkpoints/step-*.safetensors > /dev/null || { echo "sigint_resume: no checkpoint"; exit 1; }
[ ! -e "$dir/results.json" ] || { echo "sigint_resume: results.json written by an interrupted run"; exit 1; }
# A resumed run keeps its spec: check that it restores the checkpoint and trains on,
# then interrupt it again.
"$cli" run --resume "$dir" --no-progress > "$work/resume.txt" 2>&1 &
pid=$!
wait_for_progress "$work/resume.txt"
kill -INT $pid
wait $pid
rc=$?
grep -q "^restored step [0-9]* from " "$work/resume.txt" || { echo "sigint_resume: resume did not restore"; cat "$work/resume.txt"; exit 1; }
[ $rc -eq 130 ] || { echo "sigint_resume: expected 130 from the interrupted resume, got $rc"; exit 1; }
echo "sigint_resume: ok"
