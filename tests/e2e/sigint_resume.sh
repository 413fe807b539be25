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
source "$(dirname "$0")/long_spec.sh"
{ long_spec sigint; echo "output: {dir: $work/runs}"; } > "$work/spec.yaml"
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
