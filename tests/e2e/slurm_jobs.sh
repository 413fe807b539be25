#!/usr/bin/env bash
# suite --emit-slurm without a cluster: the job array lists the unfinished
# runs, its tasks (run here one after another, as Slurm would run them) and the
# aggregation job give the one-process suite's tables, and submit.sh submits
# the array, then the aggregation with a dependency on it (a stand-in sbatch
# records what it is given).
# Usage: slurm_jobs.sh INFOMAX SOURCE_DIR
set -uo pipefail
cli=$1
suite=$2/tests/e2e/mpi/gaussians.suite.yaml
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$cli" --threads 1 suite "$suite" --out "$work/one" > /dev/null 2>&1 || fail "one-process suite"
# One run done before: the array leaves it out.
"$cli" --threads 1 suite "$suite" --out "$work/s" --only 3 > "$work/only.txt" 2>&1 || { cat "$work/only.txt"; fail "--only 3"; }
[ "$(grep -c ': done in' "$work/only.txt")" = 1 ] || { cat "$work/only.txt"; fail "--only 3 ran other runs"; }
"$cli" suite "$suite" --out "$work/s" --emit-slurm --partition short --time 0:10:00 > "$work/emit.txt" 2>&1 || { cat "$work/emit.txt"; fail "--emit-slurm"; }
cat "$work/emit.txt"
jobs=$work/s/mpi-gaussians/slurm
grep -qx "#SBATCH --array=1,2,4,5,6,7,8" "$jobs/runs.sbatch" || { cat "$jobs/runs.sbatch"; fail "the array is not the 7 unfinished runs"; }
grep -qx "#SBATCH --partition=short" "$jobs/tables.sbatch" && grep -qx "#SBATCH --time=0:10:00" "$jobs/runs.sbatch" || fail "partition or time missing"
[ ! -e "$work/s/mpi-gaussians/table.md" ] || fail "--emit-slurm ran the suite"
for i in 1 2 4 5 6 7 8; do
  SLURM_ARRAY_TASK_ID=$i bash "$jobs/runs.sbatch" > "$work/task$i.txt" 2>&1 || { cat "$work/task$i.txt"; fail "task $i"; }
done
bash "$jobs/tables.sbatch" > "$work/tables.txt" 2>&1 || { cat "$work/tables.txt"; fail "aggregation"; }
[ "$(grep -c 'finished before, skipped' "$work/tables.txt")" = 8 ] || { cat "$work/tables.txt"; fail "the aggregation ran runs"; }
for t in table.md table.csv; do
  cmp "$work/one/mpi-gaussians/$t" "$work/s/mpi-gaussians/$t" || fail "$t differs from the one-process suite's"
done
# submit.sh with a stand-in sbatch.
mkdir "$work/bin"
cat > "$work/bin/sbatch" <<'SH'
#!/bin/bash
echo "sbatch $*" >> "$SBATCH_LOG"
echo 4242
SH
chmod +x "$work/bin/sbatch"
SBATCH_LOG=$work/sbatch.log PATH="$work/bin:$PATH" "$jobs/submit.sh" > /dev/null || fail "submit.sh"
[ "$(sed -n 1p "$work/sbatch.log")" = "sbatch --parsable runs.sbatch" ] || { cat "$work/sbatch.log"; fail "first submission"; }
[ "$(sed -n 2p "$work/sbatch.log")" = "sbatch --dependency=afterany:4242 tables.sbatch" ] || { cat "$work/sbatch.log"; fail "dependent submission"; }
grep -qx "#SBATCH --time=0-01:10:00" "$jobs/tables.sbatch" || { cat "$jobs/tables.sbatch"; fail "the aggregation's time is not 7 runs' time"; }
grep -qx "#SBATCH --open-mode=append" "$jobs/runs.sbatch" || fail "a resubmitted task would overwrite its log"
# Everything finished and tabulated: nothing to submit, no empty --array.
"$cli" suite "$suite" --out "$work/s" --emit-slurm > "$work/again.txt" 2>&1 || { cat "$work/again.txt"; fail "re-emit"; }
grep -qx "every run of $work/s/mpi-gaussians is finished and its tables are written: nothing to submit" "$work/again.txt" ||
  { cat "$work/again.txt"; fail "re-emit of a finished suite"; }
# Finished but the tables gone: submit.sh submits the aggregation alone.
rm "$work/s/mpi-gaussians/table.md"
"$cli" suite "$suite" --out "$work/s" --emit-slurm --mem 2G > /dev/null 2>&1 || fail "re-emit without tables"
grep -qx "#SBATCH --mem=2G" "$jobs/tables.sbatch" || fail "--mem"
: > "$work/sbatch.log"
SBATCH_LOG=$work/sbatch.log PATH="$work/bin:$PATH" "$jobs/submit.sh" > /dev/null || fail "submit.sh (tables only)"
[ "$(cat "$work/sbatch.log")" = "sbatch --parsable tables.sbatch" ] || { cat "$work/sbatch.log"; fail "tables-only submission"; }
# Values that would put a line of their own into a job script, or that sbatch
# refuses at submit: refused at emit, exit 1, nothing written.
refused() {  # expected message, then the flags
  local want=$1; shift
  "$cli" suite "$suite" --out "$work/new" --emit-slurm "$@" > "$work/bad.txt" 2>&1
  local rc=$?
  [ $rc = 1 ] && [ "$(cat "$work/bad.txt")" = "infomax: $want" ] || { cat "$work/bad.txt"; fail "$* gave exit $rc"; }
  [ ! -e "$work/new" ] || fail "$* wrote $work/new"
}
refused "--partition 'cpu*\ngpu': a newline or control character cannot go into a job script; give one value on one line" \
  --partition "$(printf 'cpu*\ngpu')"
refused "--partition 'cpu*': sinfo marks the default partition with '*'; give the name without it" --partition 'cpu*'
refused "--account 'a;b': expected an account name (letters, digits, '_', '-', '.')" --account 'a;b'
refused "--time '4h': expected one of Slurm's time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes, days-hours:minutes:seconds (e.g. 240 or 4:00:00 for four hours), or UNLIMITED" --time 4h
refused "--time '1:2:3:4': expected one of Slurm's time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes, days-hours:minutes:seconds (e.g. 240 or 4:00:00 for four hours), or UNLIMITED" --time 1:2:3:4
refused "--mem '4GB': expected a size in megabytes, or with a unit K, M, G or T (e.g. 4G)" --mem 4GB
"$cli" suite "$suite" --out "$work/with space" --emit-slurm > "$work/bad.txt" 2>&1
[ $? = 1 ] && grep -q "#SBATCH --output; put the suite elsewhere with --out" "$work/bad.txt" || { cat "$work/bad.txt"; fail "a blank in the log path"; }
for t in 90 1:30 1:30:00 2-0 2-3:00 2-3:00:00 UNLIMITED; do
  "$cli" suite "$suite" --out "$work/t" --emit-slurm --time "$t" > /dev/null 2>&1 || fail "--time $t refused"
done
# srun without --mpi=pmix: each task a suite of its own, said at the start.
SLURM_NTASKS=4 "$cli" suite "$suite" --out "$work/s" > "$work/srun.txt" 2>&1 || { cat "$work/srun.txt"; fail "suite under SLURM_NTASKS"; }
grep -q "^SLURM_NTASKS=4 but this suite is not part of an MPI job: .*srun --mpi=pmix" "$work/srun.txt" || { cat "$work/srun.txt"; fail "no warning without MPI"; }
# Bad input: a run number the suite does not have.
"$cli" suite "$suite" --out "$work/s" --only 9 > "$work/bad.txt" 2>&1
rc=$?
[ $rc = 1 ] && grep -qx "infomax: --only 9: the suite has runs 1 to 8" "$work/bad.txt" || { cat "$work/bad.txt"; fail "--only 9: exit $rc"; }
echo "ok: job array of the unfinished runs, its tasks and aggregation give the one-process tables, submit.sh chains them"
