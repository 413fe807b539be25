#!/usr/bin/env bash
# The Beyond-Normal suite (experiments/suites/bmi_benchmark.yaml):
#  - all of its 960 runs load (what --emit-slurm checks before writing the jobs);
#  - a copy cut to 2 tasks and 1 sample runs with the protocol at a few steps and
#    writes table.md, the heat map and bmi_results.csv in bmi's layout: one row per
#    bound (the protocol's estimate) and per classical estimator, each with the
#    task's closed-form truth.
#   bmi_suite.sh INFOMAX SOURCE_DIR
set -uo pipefail
cli=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
suite=$src/experiments/suites/bmi_benchmark.yaml
"$cli" suite "$suite" --emit-slurm --out "$work/slurm" > "$work/emit.txt" 2>&1 || { cat "$work/emit.txt"; fail "the suite's runs do not all load"; }
grep -q -- ",959,960$" "$work"/slurm/*/slurm/runs.sbatch || fail "not 960 runs"
# The base at a few steps on a small sample (the suite sweeps train.steps and eval.held_out_every itself).
sed -e 's/^train: {steps: 10000,/train: {steps: 30,/' -e 's/held_out_every: 250,/held_out_every: 10,/' \
    -e 's/size: 2500, test_size: 2500,/size: 300, test_size: 300,/' "$src/experiments/base/bmi_protocol.yaml" > "$work/base.yaml"
grep -q "steps: 30," "$work/base.yaml" && grep -q "held_out_every: 10," "$work/base.yaml" && grep -q "size: 300," "$work/base.yaml" || fail "the base was not cut"
sed -e '/^        - /{/^        - \(1v1-normal-0.75\|multinormal-sparse-3-3-2-2.0\)$/!d}' -e 's/data.seed: \[1, 2, 3\]/data.seed: [1]/' \
    -e "s|base: ../base/bmi_protocol.yaml|base: $work/base.yaml|" "$suite" > "$work/bmi.yaml"
"$cli" suite "$work/bmi.yaml" --out "$work/out" --quiet \
  > "$work/run.txt" 2>&1 || { cat "$work/run.txt"; fail "the cut suite failed"; }
rows=$work/out/bmi-benchmark/bmi_results.csv
[ "$(head -1 "$rows")" = "estimator_id,task_id,n_samples,seed,mi_estimate,mi_true,time" ] || fail "header: $(head -1 "$rows")"
[ "$(tail -n +2 "$rows" | wc -l)" = 20 ] || { cat "$rows"; fail "not 20 rows (7 bounds and 3 classical estimators on 2 tasks)"; }
# CCA is exact on Gaussians up to its sampling error (rho/sqrt(n) with n = 300 test pairs, about 0.05 per pair): 0.2 nats.
awk -F, '$1=="infomax-cca" && $2=="multinormal-sparse-3-3-2-2.0"{d=$5-$6; if(d<0)d=-d; found=1; if(d>0.2) bad=1} END{exit !(found && !bad)}' "$rows" || { cat "$rows"; fail "CCA on the 2-pair task is not within 0.2 of its truth"; }
grep -q '^infomax-infonce-joint,multinormal-sparse-3-3-2-2.0,600,1,[0-9.e-]*,1.02165124753198[0-9]*,' "$rows" || { cat "$rows"; fail "no InfoNCE row for the 2-pair task with its truth -log(0.36)"; }
grep -q 'Heat map: estimate (nats)' "$work"/out/bmi-benchmark/report.html || fail "no heat map"
grep -q '| data.task=1v1-normal-0.75,data.seed=1,objectives.mi.estimator=nwj | 1 |' "$work"/out/bmi-benchmark/table.md || { cat "$work"/out/bmi-benchmark/table.md; fail "table"; }
echo "ok: 960 runs load; the cut suite wrote 20 rows in bmi's layout, the table and the heat map"
