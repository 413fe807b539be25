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
# Bad input: a run number the suite does not have.
"$cli" suite "$suite" --out "$work/s" --only 9 > "$work/bad.txt" 2>&1
rc=$?
[ $rc = 1 ] && grep -qx "infomax: --only 9: the suite has runs 1 to 8" "$work/bad.txt" || { cat "$work/bad.txt"; fail "--only 9: exit $rc"; }
echo "ok: job array of the unfinished runs, its tasks and aggregation give the one-process tables, submit.sh chains them"
