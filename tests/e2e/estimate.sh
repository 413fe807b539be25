#!/usr/bin/env bash
# infomax estimate through the real CLI, one case each:
#   sample_estimators  KSG and CCA on a bivariate normal written in bmi's CSV
#                      layout (rho 0.75, true MI 0.41334 nats): one line on
#                      stdout, nothing on stderr, each within its tolerance
#   bound              InfoNCE trained with the protocol on the same sample:
#                      one number below its ceiling log(batch) and above 0.2;
#                      --verbose says the flags on stderr; NPY input gives the
#                      same number as the CSV
#   bad_input          exit 1 and the exact message for each class: no file, a
#                      header that does not match the dimensions, a value that is
#                      not a number (file:line:column), an unknown estimator
#                      (did-you-mean), a param out of range (located at its
#                      argument), DIM_X not a number, too few samples for a batch
#   usage              a missing DIM_Y and an extra argument are refused with usage
#   estimate.sh INFOMAX CASE
set -uo pipefail
cli=$(realpath "$1") case=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL ($case): $*"; exit 1; }

# n pairs (x, y) with corr rho, Box-Muller from awk's seeded generator, in bmi's layout.
binormal() {
  awk -v n="$1" -v rho=0.75 'BEGIN{srand(7); print "X0,Y0"; pi=atan2(0,-1)
    for(i=0;i<n;i++){u=rand(); v=rand(); if(u<1e-12)u=1e-12; r=sqrt(-2*log(u)); a=r*cos(2*pi*v); b=r*sin(2*pi*v);
      printf "%.7f,%.7f\n", a, rho*a+sqrt(1-rho*rho)*b}}'
}
binormal 5000 > s.csv
truth=0.4133379  # -1/2 log(1 - 0.75^2)
# within X Y TOL: |X - Y| <= TOL
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d <= t)}'; }

case $case in
sample_estimators)
  # CCA's standard error at rho 0.75, n 5000 is about rho / sqrt(n) = 0.011 nats: 4 of them.
  # KSG (k 5) adds its small-sample bias, a few hundredths at n 5000 (Kraskov et al., fig. 4): 0.06.
  for e in "cca 0.045" "ksg 0.06" "ksg 0.06 k=10"; do
    set -- $e
    "$cli" estimate s.csv 1 1 --estimator "$1" ${3:+"$3"} > out.txt 2> err.txt || { cat err.txt; fail "$1 exited $?"; }
    [ ! -s err.txt ] || { cat err.txt; fail "$1 wrote to stderr"; }
    [ "$(wc -l < out.txt)" = 1 ] || { cat out.txt; fail "$1: not one line on stdout"; }
    v=$(cat out.txt)
    echo "$1 ${3:-}: $v (truth $truth)"
    within "$v" $truth "$2" || fail "$1: $v is not within $2 of $truth"
  done
  # binned: 5 bins a dimension over 5000 samples reads the binormal below the truth (coarse bins lose information) but above 0.2.
  v=$("$cli" estimate s.csv 1 1 --estimator binned)
  echo "binned: $v"
  awk -v v="$v" 'BEGIN{exit !(v > 0.2 && v < 0.4133379)}' || fail "binned: $v outside (0.2, truth)"
  ;;
bound)
  "$cli" --threads 1 estimate s.csv 1 1 --estimator infonce --max-steps 600 --seed 3 > out.txt 2> err.txt || { cat err.txt; fail "exit $?"; }
  [ ! -s err.txt ] || { cat err.txt; fail "wrote to stderr without --verbose"; }
  v=$(cat out.txt)
  echo "infonce (protocol, 600 steps at most): $v"
  # InfoNCE cannot read above log(256) = 5.55 with a batch of 256; a trained critic reads most of the 0.41.
  awk -v v="$v" 'BEGIN{exit !(v > 0.2 && v < 0.6)}' || fail "infonce: $v outside (0.2, 0.6)"
  "$cli" --threads 1 estimate s.csv 1 1 --estimator infonce --max-steps 600 --seed 3 --verbose > out2.txt 2> err2.txt
  cmp out.txt out2.txt || fail "--verbose changed the number"
  grep -q "early_stopping_not_triggered" err2.txt || { cat err2.txt; fail "--verbose does not give the flags"; }
  # The verdict (--verbose): 600 steps end before early stopping, which is flagged, with the interval.
  grep -qx "verdict: FLAGGED: early stopping never triggered; 95% interval \[0\.[0-9]*, 0\.[0-9]*\] over the held-out batches (their noise, not the bound's bias)" err2.txt ||
    { cat err2.txt; fail "no flagged verdict"; }
  python3 -c 'import numpy' 2>/dev/null && {
    python3 -c 'import numpy as np; a = np.loadtxt("s.csv", delimiter=",", skiprows=1, dtype=np.float32); np.save("s.npy", a)'
    "$cli" --threads 1 estimate s.npy 1 1 --estimator infonce --max-steps 600 --seed 3 > out3.txt || fail "npy"
    cmp out.txt out3.txt || fail "NPY and CSV of the same sample differ"
    echo "NPY gives the same number"
  }
  # Saturation: 5.4 nats (rho 0.99999) through InfoNCE on batches of 8, whose ceiling is log 8 = 2.08.
  awk -v n=2000 -v rho=0.99999 'BEGIN{srand(7); print "X0,Y0"; pi=atan2(0,-1)
    for(i=0;i<n;i++){u=rand(); v=rand(); if(u<1e-12)u=1e-12; r=sqrt(-2*log(u)); a=r*cos(2*pi*v); b=r*sin(2*pi*v);
      printf "%.7f,%.7f\n", a, rho*a+sqrt(1-rho*rho)*b}}' > high.csv
  "$cli" --threads 1 estimate high.csv 1 1 --estimator infonce --batch 8 --max-steps 2000 --seed 3 --verbose > out4.txt 2> err4.txt || { cat err4.txt; fail "saturation run"; }
  grep -q "^verdict: FLAGGED: .*saturated (.* of a 2\.079 ceiling: the batch, not the data, caps it)" err4.txt || { cat err4.txt; fail "saturation not flagged"; }
  ;;
bad_input)
  expect() {  # RC MESSAGE -- command...
    local rc=$1 want=$2; shift 3
    local got; got=$("$@" 2>&1 >/dev/null); local code=$?
    [ "$code" = "$rc" ] || fail "exit $code, expected $rc: $got"
    [ "$got" = "$want" ] || fail "message: got: $got; expected: $want"
    echo "ok: $want"
  }
  expect 1 "infomax: none.csv: cannot read it (no such file or not readable)" -- "$cli" estimate none.csv 1 1
  expect 1 "infomax: s.csv:1: the header has 2 columns and column 2 is 'Y0', DIM_X 2 and DIM_Y 1 need 3: X0,X1,Y0 (bmi's save_sample layout); check the dimensions" -- "$cli" estimate s.csv 2 1
  { echo "X0,Y0"; echo "1.5,2"; echo "0.25,abc"; } > bad.csv
  expect 1 "infomax: bad.csv:3:6: expected a finite number, found 'abc'" -- "$cli" estimate bad.csv 1 1
  expect 1 "infomax: --estimator: unknown estimator 'ksj' (did you mean 'ksg'?); known: binned, cca, dv, hellinger, infonce, interpolated, jsd, ksg, nwj, pearson, reverse_kl, smile, tuba" -- "$cli" estimate s.csv 1 1 --estimator ksj
  expect 1 "command line argument 1 (k=0): k: expected an integer >= 1, found 0" -- "$cli" estimate s.csv 1 1 --estimator ksg k=0
  expect 1 "infomax: DIM_X: expected a whole number of columns from 1 to 1048576, found 'x'" -- "$cli" estimate s.csv x 1
  head -101 s.csv > small.csv
  expect 1 "infomax: small.csv: 100 samples give 50 to train and 50 to test, fewer than a batch of 256: give more samples or a smaller batch" -- "$cli" estimate small.csv 1 1 --estimator nwj
  ;;
usage)
  "$cli" estimate s.csv 1 > out.txt 2> err.txt; rc=$?
  [ $rc = 1 ] || fail "missing DIM_Y: exit $rc"
  grep -qF "infomax estimate: DIM_Y is missing; see infomax estimate --help" err.txt || { cat err.txt; fail "missing DIM_Y message"; }
  "$cli" estimate s.csv 1 1 extra > out.txt 2> err.txt; rc=$?
  [ $rc = 1 ] || fail "extra argument: exit $rc"
  grep -qF "unexpected argument 'extra'" err.txt || { cat err.txt; fail "extra argument message"; }
  echo "usage errors refused"
  ;;
*) fail "unknown case" ;;
esac
echo "ok ($case)"
