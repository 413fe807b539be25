#!/usr/bin/env bash
# SIGKILL through the real CLI: a run killed between checkpoints loses only the
# steps since its last checkpoint, and `infomax run --resume` ends with the
# same final checkpoint, byte for byte, as a run that was never killed.
# Usage: sigkill_resume.sh INFOMAX
set -uo pipefail
cli=$1
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cat > "$work/spec.yaml" <<YAML
name: sigkill
kind: dim
seed: 3
data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}
encoder:
  type: layer_stack
  layers: [{conv: {out: 8, kernel: 3}}, relu, {tap: local}, flatten, {dropout: {p: 0.2}}, {linear: {out: 6}}, {tap: global}]
objectives:
  global: {estimator: dv, discriminator: {type: global_concat, hidden: [16]}}
train: {steps: 3000, log_every: 100, checkpoint_every: 50}
eval: {probes: [linear]}
output: {dir: $work/runs}
YAML
"$cli" run "$work/spec.yaml" --no-progress output.dir="$work/whole" > "$work/whole.txt" 2>&1 \
  || { echo "sigkill_resume: the uninterrupted run failed"; cat "$work/whole.txt"; exit 1; }
"$cli" run "$work/spec.yaml" --no-progress > "$work/out.txt" 2>&1 &
pid=$!
# Kill it once it has written a few checkpoints (between two of them, most likely).
for _ in $(seq 1 600); do
  n=$(ls "$work"/runs/sigkill/*/checkpoints/step-*.safetensors 2>/dev/null | tail -1 | sed 's/.*step-0*//; s/\..*//')
  [ -n "$n" ] && [ "$n" -ge 200 ] && break
  sleep 0.05
done
kill -KILL $pid
wait $pid 2>/dev/null
dir=$(ls -d "$work"/runs/sigkill/*)
last=$(ls "$dir"/checkpoints/step-*.safetensors | tail -1)
[ -n "$last" ] || { echo "sigkill_resume: no checkpoint before the kill"; exit 1; }
[ ! -e "$dir/results.json" ] || { echo "sigkill_resume: the run finished before the kill; nothing tested"; exit 1; }
echo "killed after $(basename "$last")"
"$cli" run --resume "$dir" --no-progress > "$work/resume.txt" 2>&1 \
  || { echo "sigkill_resume: resume failed"; cat "$work/resume.txt"; exit 1; }
grep -q "^restored step [0-9]* from " "$work/resume.txt" || { echo "sigkill_resume: resume did not restore"; exit 1; }
a=$(ls "$work"/whole/sigkill/*/checkpoints/step-00003000.safetensors)
b="$dir/checkpoints/step-00003000.safetensors"
cmp "$a" "$b" || { echo "sigkill_resume: the resumed run's final checkpoint differs from the uninterrupted run's"; exit 1; }
echo "sigkill_resume: ok (final checkpoints identical)"
