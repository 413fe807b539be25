#!/usr/bin/env bash
# infomax suite --compare REF.csv [--tolerance T]: per cell the suite's mean, the
# signed difference and pass/fail; exit 1 when a cell fails; bad references
# refused with the file and line. A two-spec staircase suite at 10 steps a level.
#   suite_compare.sh INFOMAX SOURCE_DIR
set -uo pipefail
cli=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat > "$work/s.yaml" <<EOS
name: cmp
sweep:
  - list:
      - {spec: $src/experiments/mi_benchmark/infonce_separable.yaml}
      - {spec: $src/experiments/mi_benchmark/nwj_separable.yaml}
seeds: [1, 2]
EOS
args=(data.steps_per_level=10 eval.window=5 --out "$work/out" --quiet)
"$cli" suite "$work/s.yaml" "${args[@]}" > "$work/first.txt" 2>&1 || { cat "$work/first.txt"; fail "the suite failed"; }
# The suite's own means, read from its runs, make a reference: one cell 0.05 off, one 0.5 off.
mean() {  # SETTING K: the mean over its 2 runs of mi_levels.K.median
  python3 -c 'import json, sys
runs = json.load(open(sys.argv[1])); v = []
for r in runs:
    if r["setting"] == sys.argv[2]: v.append(json.load(open(r["dir"] + "/results.json"))["mi_levels"][int(sys.argv[3])]["median"])
print(repr(sum(v) / len(v)))' "$work"/out/cmp/runs.json "$1" "$2"
}
a=$(mean spec=infonce_separable 4) b=$(mean spec=nwj_separable 0)
ra=$(python3 -c "print(repr($a - 0.05))") rb=$(python3 -c "print(repr($b + 0.5))")
{ echo "# a comment first"; echo "setting,metric,value,source"; echo "spec=infonce_separable,mi_levels.4.median,$ra,test"
  echo "spec=nwj_separable,mi_levels.0.median,$rb,test"; } > "$work/ref.csv"
"$cli" suite "$work/s.yaml" "${args[@]}" --compare "$work/ref.csv" > "$work/pass.txt" 2>&1; rc=$?
[ $rc = 1 ] || { cat "$work/pass.txt"; fail "one cell 0.5 off at tolerance 0.1: exit $rc, expected 1"; }
grep -Eq '^pass spec=infonce_separable mi_levels.4.median: .* \(mean of 2 runs\) against .* \(test\): \+0.0500 within 0.1$' "$work/pass.txt" || { cat "$work/pass.txt"; fail "the passing cell"; }
grep -Eq '^FAIL spec=nwj_separable mi_levels.0.median: .* \(mean of 2 runs\) against .* \(test\): -0.5000 beyond 0.1$' "$work/pass.txt" || { cat "$work/pass.txt"; fail "the failing cell"; }
grep -q '^compare: 1 of 2 cells within 0.1 of ' "$work/pass.txt" || fail "summary"
"$cli" suite "$work/s.yaml" "${args[@]}" --compare "$work/ref.csv" --tolerance 0.6 > "$work/all.txt" 2>&1 || { cat "$work/all.txt"; fail "tolerance 0.6: not exit 0"; }
grep -q '^compare: 2 of 2 cells within 0.6 of ' "$work/all.txt" || fail "summary at 0.6"
# Bad references: exit 1 and the place.
out=$("$cli" suite "$work/s.yaml" "${args[@]}" --compare "$work/none.csv" 2>&1); rc=$?
[ $rc = 1 ] && [ "$out" = "infomax: --compare $work/none.csv: cannot read it (no such file, not readable or empty)" ] || fail "missing reference: $rc $out"
printf 'setting,metric,value\nspec=dv_joint,mi_levels.0.median,1\n' > "$work/bad.csv"
out=$("$cli" suite "$work/s.yaml" "${args[@]}" --compare "$work/bad.csv" 2>&1 >/dev/null); 
[ "$out" = "infomax: $work/bad.csv:2: the suite has no setting 'spec=dv_joint' (its settings are as runs.json names them, e.g. 'spec=infonce_separable')" ] || fail "unknown setting: $out"
printf 'setting,metric,value\nspec=nwj_separable,mi_levels.0.median,abc\n' > "$work/bad.csv"
out=$("$cli" suite "$work/s.yaml" "${args[@]}" --compare "$work/bad.csv" 2>&1 >/dev/null)
[ "$out" = "infomax: $work/bad.csv:2: the value 'abc' is not a finite number" ] || fail "bad value: $out"
out=$("$cli" suite "$work/s.yaml" --only 1 --compare "$work/ref.csv" 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && [ "$out" = "infomax suite: --only excludes --compare; see infomax suite --help" ] || fail "--only with --compare: $rc $out"
echo "ok: pass and fail per cell with the signed difference, exit 1 on a failing cell, bad references located"
