#!/usr/bin/env bash
# kill -9 of a suite process alone: its runs must not outlive it unnoticed.
# Each run gets SIGTERM when its suite dies (PR_SET_PDEATHSIG), writes its
# checkpoint and exits; a suite started again finds a run another process still
# holds and skips it ("in use by ..."), never training it twice in a second
# directory.
# Usage: suite_orphans.sh INFOMAX
set -uo pipefail
cli=$1
work=$(mktemp -d)
trap 'pkill -9 -f "$work/spec.yaml" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$(dirname "$0")/long_spec.sh"
long_suite "$work"
"$cli" --threads 2 suite "$work/suite.yaml" --out "$work/out" > "$work/suite.txt" 2>&1 &
pid=$!
wait_for_training 2 "$work/out/long"
kill -9 $pid
wait $pid 2>/dev/null
# The runs end by themselves, each at a checkpoint.
for _ in $(seq 1 300); do pgrep -f "$work/spec.yaml" > /dev/null || break; sleep 0.1; done
pgrep -f "$work/spec.yaml" > /dev/null && fail "run processes outlived their suite: $(pgrep -af "$work/spec.yaml")"
for log in "$work"/out/long/*/run.log; do
  grep -q "^interrupted at step [0-9]*: checkpoint written" "$log" || { cat "$log"; fail "$log: no checkpoint at the suite's death"; }
done
# A run still held by another process (here flock(1) on its lock, as a dying
# run holds it while it writes): skipped, not trained a second time.
held=$(ls -d "$work"/out/long/seed=1/long/*/ | head -1)
flock "$held/.lock" sleep 10 &
holder=$!
sleep 0.5
"$cli" --threads 2 suite "$work/suite.yaml" --out "$work/out" > "$work/again.txt" 2>&1 &
again=$!
for _ in $(seq 1 600); do grep -q "seed=2: resuming" "$work/again.txt" && break; sleep 0.1; done
grep -q "^\[1/2\] seed=1: skipped: in use by " "$work/again.txt" || { cat "$work/again.txt"; fail "the held run was not skipped"; }
kill -INT $again; wait $again 2>/dev/null
kill $holder 2>/dev/null; wait $holder 2>/dev/null
[ "$(ls -d "$work"/out/long/seed=1/long/*/ | wc -l)" = 1 ] || fail "seed=1 has a second directory: trained twice"
grep -q "FAILED" "$work/again.txt" && { cat "$work/again.txt"; fail "a held run was reported FAILED"; }
echo "ok: runs stop at a checkpoint when their suite is killed; a held run is skipped, never trained twice"
