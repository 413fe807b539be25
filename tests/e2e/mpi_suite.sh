#!/usr/bin/env bash
# A suite shared among 2 mpirun ranks: both ranks run runs, the tables are
# byte-identical to a one-process suite's, a second start skips every finished
# run, and two suites started on one directory at once run each run once.
# Usage: mpi_suite.sh INFOMAX SOURCE_DIR
set -uo pipefail
cli=$1
suite=$2/tests/e2e/mpi/gaussians.suite.yaml
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
source "$(dirname "$0")/mpi/mpirun.sh"
fail() { echo "FAIL: $*"; exit 1; }

"$cli" --threads 1 suite "$suite" --out "$work/one" > "$work/one.txt" 2>&1 || { cat "$work/one.txt"; fail "one-process suite"; }
"${mpirun_2[@]}" "$cli" suite "$suite" --out "$work/two" > "$work/two.txt" 2>&1 || { cat "$work/two.txt"; fail "2-rank suite"; }
cat "$work/two.txt"
grep -q "on each of 2 ranks" "$work/two.txt" || fail "the suite did not see 2 ranks"
grep -q "started (rank 0)" "$work/two.txt" && grep -q "started (rank 1)" "$work/two.txt" || fail "a rank ran no run"
[ "$(grep -c ': done in' "$work/two.txt")" = 8 ] || fail "not 8 runs done"
for t in table.md table.csv; do
  cmp "$work/one/mpi-gaussians/$t" "$work/two/mpi-gaussians/$t" || fail "$t differs from the one-process suite's"
done
grep -q "| 2 |" "$work/two/mpi-gaussians/table.md" || fail "the table has no complete rows"

# Again: nothing to run.
"${mpirun_2[@]}" "$cli" suite "$suite" --out "$work/two" > "$work/again.txt" 2>&1 || { cat "$work/again.txt"; fail "second start"; }
[ "$(grep -c 'finished before, skipped' "$work/again.txt")" = 8 ] || { cat "$work/again.txt"; fail "finished runs not skipped"; }
grep -q "started" "$work/again.txt" && fail "a finished run started again"

# Two suites on one directory by mistake: each run runs once.
"$cli" --threads 1 suite "$suite" --out "$work/twice" > "$work/a.txt" 2>&1 &
a=$!
"$cli" --threads 1 suite "$suite" --out "$work/twice" > "$work/b.txt" 2>&1
wait $a
cat "$work/a.txt" "$work/b.txt"
[ "$(cat "$work/a.txt" "$work/b.txt" | grep -c ': started')" = 8 ] || fail "runs started more or less than once"
# The suite that ended last wrote runs.json with every run finished, whichever process ran it.
grep -q '"status": "busy"' "$work"/twice/mpi-gaussians/runs.json && fail "runs.json lists runs the other suite finished as busy"
for d in "$work"/twice/mpi-gaussians/*/; do
  [ -e "$d/run.log" ] || continue  # a run's folder (the report's figures/ sits beside them)
  [ "$(ls -d "$d"mi-gaussian-dv-separable/*/ | wc -l)" = 1 ] || fail "$d holds more than one run"
done
# Ctrl-C to mpirun (SIGTERM to the ranks): each rank stops its runs at a
# checkpoint; started again, the suite resumes them.
source "$(dirname "$0")/long_spec.sh"
long_spec long > "$work/long.yaml"
printf 'name: long\nbase: long.yaml\nseeds: [1, 2]\nthreads_per_run: 1\n' > "$work/long.suite.yaml"
# Waits until both runs log training after the last "--- ... ended" mark (at most 60 s).
wait_for_runs() {
  for _ in $(seq 1 600); do
    n=0
    for f in "$work"/long/long/*/run.log; do
      [ -e "$f" ] && awk '/^--- /{t=0} /^epoch/{t=1} END{exit !t}' "$f" && n=$((n + 1))
    done
    [ $n -ge 2 ] && return
    sleep 0.1
  done
}
for attempt in first again; do
  "${mpirun_2[@]}" "$cli" suite "$work/long.suite.yaml" --out "$work/long" > "$work/long-$attempt.txt" 2>&1 &
  pid=$!
  wait_for_runs
  kill -TERM $pid
  wait $pid
  cat "$work/long-$attempt.txt"
  [ "$(grep -c ': interrupted (checkpoint written)' "$work/long-$attempt.txt")" = 2 ] || fail "$attempt: the runs were not stopped at checkpoints"
  # The next attempt must see training lines of its own.
  for f in "$work"/long/long/*/run.log; do echo "--- $attempt ended" >> "$f"; done
done
[ "$(grep -c ': resuming ' "$work/long-again.txt")" = 2 ] || fail "started again, the suite did not resume both runs"
sleep 1
pgrep -f "$work/long" > /dev/null && fail "a run process outlived the suite"
echo "ok: suite shared by 2 ranks, tables identical, finished runs skipped, no run twice, SIGTERM stops and the next start resumes"
