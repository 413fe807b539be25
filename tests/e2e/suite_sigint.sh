#!/usr/bin/env bash
# SIGINT to the suite process alone (kill -INT, as a scheduler sends it, not a
# terminal's Ctrl-C to the whole group): the suite passes it on, every running
# run checkpoints and stops, the suite exits 130; run again, it resumes them.
# Usage: suite_sigint.sh INFOMAX
set -uo pipefail
cli=$1
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
source "$(dirname "$0")/long_spec.sh"
long_suite "$work"
"$cli" --threads 2 suite "$work/suite.yaml" --out "$work/out" > "$work/suite.txt" 2>&1 &
pid=$!
wait_for_training 2 "$work/out/long"
kill -INT $pid
wait $pid
rc=$?
cat "$work/suite.txt"
[ $rc -eq 130 ] || { echo "suite_sigint: expected exit 130, got $rc"; exit 1; }
[ "$(grep -c ': interrupted (checkpoint written)' "$work/suite.txt")" -eq 2 ] \
  || { echo "suite_sigint: both runs should be interrupted at a checkpoint"; exit 1; }
# Run again: both resume from their checkpoints; stop them the same way.
"$cli" --threads 2 suite "$work/suite.yaml" --out "$work/out" > "$work/again.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ "$(grep -c ': resuming ' "$work/again.txt")" -ge 2 ] && break; sleep 0.1; done
sleep 1
kill -INT $pid
wait $pid
rc=$?
[ "$(grep -c ': resuming ' "$work/again.txt")" -eq 2 ] || { echo "suite_sigint: the runs were not resumed"; cat "$work/again.txt"; exit 1; }
[ $rc -eq 130 ] || { echo "suite_sigint: expected 130 from the second interrupt, got $rc"; cat "$work/again.txt"; exit 1; }
# With runs still queued (jobs: 1, three seeds): SIGINT stops the running one and
# the suite exits 130 without starting the others (it once waited for them forever).
cat > "$work/queued.yaml" <<YAML
name: queued
base: spec.yaml
seeds: [1, 2, 3]
jobs: 1
YAML
"$cli" --threads 1 suite "$work/queued.yaml" --out "$work/q" > "$work/queued.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do grep -q "^epoch" "$work"/q/queued/*/run.log 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
for _ in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
  kill -9 $pid
  echo "suite_sigint: with runs queued, the suite had not exited 30 s after SIGINT"; cat "$work/queued.txt"; exit 1
fi
wait $pid
rc=$?
[ $rc -eq 130 ] || { echo "suite_sigint: expected 130 with runs queued, got $rc"; cat "$work/queued.txt"; exit 1; }
[ "$(grep -c ': started' "$work/queued.txt")" -eq 1 ] || { echo "suite_sigint: queued runs were started after SIGINT"; cat "$work/queued.txt"; exit 1; }
echo "suite_sigint: ok"
