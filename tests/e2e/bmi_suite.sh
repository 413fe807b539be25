#!/usr/bin/env bash
# The Beyond-Normal suite (experiments/suites/bmi_benchmark.yaml):
#  - all of its 840 runs load (what --emit-slurm checks before writing the jobs);
#  - a copy cut to 2 tasks and 1 sample runs with the protocol at a few steps and
#    writes table.md, the heat map and bmi_results.csv in bmi's layout: one row per
#    run, the protocol's estimate and the task's closed-form truth.
#   bmi_suite.sh INFOMAX SOURCE_DIR
set -uo pipefail
cli=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
suite=$src/experiments/suites/bmi_benchmark.yaml
"$cli" suite "$suite" --emit-slurm --out "$work/slurm" > "$work/emit.txt" 2>&1 || { cat "$work/emit.txt"; fail "the suite's runs do not all load"; }
grep -q -- ",839,840$" "$work"/slurm/*/slurm/runs.sbatch || fail "not 840 runs"
sed -e '/^        - /{/^        - \(1v1-normal-0.75\|multinormal-sparse-3-3-2-2.0\)$/!d}' -e 's/data.seed: \[1, 2, 3\]/data.seed: [1]/' \
    -e "s|base: ../base/bmi_protocol.yaml|base: $src/experiments/base/bmi_protocol.yaml|" "$suite" > "$work/bmi.yaml"
"$cli" suite "$work/bmi.yaml" train.steps=30 eval.held_out_every=10 data.size=300 data.test_size=300 --out "$work/out" --quiet \
  > "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "the cut suite failed"; }
rows=$work/out/bmi-benchmark/bmi_results.csv
[ "$(head -1 "$rows")" = "estimator_id,task_id,n_samples,seed,mi_estimate,mi_true,time" ] || fail "header: $(head -1 "$rows")"
[ "$(tail -n +2 "$rows" | wc -l)" = 14 ] || { cat "$rows"; fail "not 14 rows"; }
grep -q '^infomax-infonce-joint,multinormal-sparse-3-3-2-2.0,600,1,[0-9.e-]*,1.02165124753198[0-9]*,' "$rows" || { cat "$rows"; fail "no InfoNCE row for the 2-pair task with its truth -log(0.36)"; }
grep -q 'Heat map: estimate (nats)' "$work"/out/bmi-benchmark/report.html || fail "no heat map"
grep -q '| data.task=1v1-normal-0.75,objectives.mi.estimator=nwj,data.seed=1 | 1 |' "$work"/out/bmi-benchmark/table.md || fail "table"
echo "ok: 840 runs load; the cut suite wrote 14 rows in bmi's layout, the table and the heat map"
