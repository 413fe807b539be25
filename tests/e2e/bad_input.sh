#!/usr/bin/env bash
# One class of bad input per case, through the real CLI: exit code 1, the exact
# message (file:line:col or the command-line argument, and the fix), no run
# directory left behind, and no file that existed before changed.
#   bad_input.sh INFOMAX CASE
set -uo pipefail
cli=$(realpath "$1") case=$2
work=$(mktemp -d /tmp/infomax-bad-input.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > tiny.yaml <<'EOF'
name: tiny
kind: dim
seed: 7
data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}
encoder:
  type: layer_stack
  layers:
    - conv: {out: 8, kernel: 3}
    - relu
    - tap: local
    - flatten
    - linear: {out: 6}
    - tap: global
objectives:
  global: {weight: 0.5, estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}
train: {steps: 4, log_every: 2}
eval: {probes: [linear], features: [global]}
output: {dir: runs}
EOF

fail() { echo "FAIL ($case): $*"; exit 1; }
repeat() { head -c "$2" /dev/zero | tr '\0' "$1"; }  # a character $2 times
# expect RC EXPECTED_STDERR -- command...: runs it, compares exit code and stderr exactly.
expect() {
  local rc=$1 want=$2; shift 3
  local got
  got=$(timeout 20 "$@" 2>&1 >/dev/null); local code=$?
  [ "$code" = "$rc" ] || fail "exit $code, expected $rc; stderr: $got"
  [ "$got" = "$want" ] || fail "stderr differs:
  got:  $got
  want: $want"
  echo "ok ($case): exit $code: $got"
}
no_runs() { [ ! -e runs ] || fail "a run directory was left behind: $(find runs | head -3)"; }
# A finished run to evaluate, reproduce or resume.
finished_run() {
  "$cli" --threads 1 run tiny.yaml --no-progress >/dev/null 2>&1 && ls -d runs/tiny/*
}

case $case in
  eval_tap_typo)  # a typo under eval: is found before training
    expect 1 "command line argument 1 (eval.features=[globl]): eval.features[0]: unknown feature tap 'globl' (did you mean 'global'?); known: global, local, local_pooled (the taps of encoder 'layer_stack')" -- \
      "$cli" run tiny.yaml 'eval.features=[globl]'
    no_runs ;;
  eval_probe_typo)
    expect 1 "command line argument 1 (eval.probes=[linaer]): eval.probes[0]: expected one of linear, mlp, knn, found \"linaer\" (did you mean 'linear'?)" -- \
      "$cli" validate tiny.yaml 'eval.probes=[linaer]'
    no_runs ;;
  non_finite)
    expect 1 "command line argument 1 (optimizer.lr=.nan): optimizer.lr: expected a finite number, found .nan" -- \
      "$cli" run tiny.yaml optimizer.lr=.nan
    expect 1 "command line argument 1 (train.threads=5000): train.threads: expected an integer >= 0 and <= 1024, found 5000" -- \
      "$cli" run tiny.yaml train.threads=5000
    no_runs ;;
  step_overflow)
    expect 1 "command line argument 2 (train.epochs=9223372036854775807): train.epochs: 9223372036854775807 epochs of 8 steps are more steps than can be counted; use fewer epochs or train.steps" -- \
      "$cli" run tiny.yaml '~train.steps' train.epochs=9223372036854775807
    no_runs ;;
  batch_too_large)  # known before training: validate builds the trainer
    expect 1 "command line argument 1 (data.batch_size=512): data.batch_size: batch size 512 is larger than the 256 training samples" -- \
      "$cli" validate tiny.yaml data.batch_size=512 ;;
  long_name)  # used to crash (std::regex recursion) or fail on the file name
    { printf 'name: '; repeat a 300000; printf '\nkind: dim\n'; } > long.yaml
    expect 1 "long.yaml:1:7: name: expected a string of at most 100 characters, found \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" (300000 characters)" -- \
      "$cli" validate long.yaml
    long=$(printf 'a%.0s' $(seq 260)) cut=$(printf 'a%.0s' $(seq 55)) shown=$(printf 'a%.0s' $(seq 60))
    expect 1 "command line argument 1 (name=$cut... (265 characters)): name: expected a string of at most 100 characters, found \"$shown...\" (260 characters)" -- \
      "$cli" run tiny.yaml "name=$long"
    # 30 000 digits used to overflow the stack in the regex that typed plain scalars (exit 139).
    digits=$(printf '9%.0s' $(seq 30000)) cut=$(printf '9%.0s' $(seq 48)) shown=$(printf '9%.0s' $(seq 60))
    expect 1 "command line argument 1 (train.steps=$cut... (30012 characters)): train.steps: expected an integer from -9223372036854775808 to 9223372036854775807, found $shown... (30000 characters)" -- \
      "$cli" run tiny.yaml "train.steps=$digits"
    { printf 'extends: tiny.yaml\nseed: '; repeat 9 30000; printf '\n'; } > long_seed.yaml
    expect 1 "long_seed.yaml:2:7: seed: expected an integer from -9223372036854775808 to 9223372036854775807, found $shown... (30000 characters)" -- \
      "$cli" validate long_seed.yaml
    no_runs ;;
  output_dir_is_file)
    echo keep > afile
    expect 1 "command line argument 1 (output.dir=afile/sub): output.dir: afile is a file, not a folder: runs cannot be written under it; choose another output.dir" -- \
      "$cli" run tiny.yaml output.dir=afile/sub
    [ "$(cat afile)" = keep ] || fail "afile changed" ;;
  damaged_manifest)
    dir=$(finished_run) || fail "the tiny run did not finish"
    head -c 100 "$dir/manifest.json" > cut.json && cp cut.json "$dir/manifest.json"
    got=$("$cli" reproduce "$dir" 2>&1 >/dev/null); code=$?
    [ $code = 1 ] || fail "exit $code: $got"
    [[ $got == "infomax: $dir/manifest.json: not valid JSON ("*"): the file is damaged or was cut short" ]] || fail "$got"
    [ ! -e "$dir/reproductions" ] || fail "a reproduction was started"
    echo '{"threads": "two", "plugins": [], "libraries": ""}' > "$dir/manifest.json"
    expect 1 "infomax: $dir/manifest.json: \"threads\" is missing or not as infomax writes it: the file is damaged" -- \
      "$cli" reproduce "$dir" ;;
  unwritable_out)  # a filesystem error: exit 1 naming the path, not an internal error
    printf 'name: s\nbase: tiny.yaml\nseeds: [1, 2]\n' > s.yaml
    expect 1 "infomax: filesystem error: cannot create directories: No such file or directory [/proc/infomax-nope/s]: check the path and its permissions" -- \
      "$cli" suite s.yaml --out /proc/infomax-nope ;;
  damaged_runs_json)  # an edited runs.json: exit 1 naming the suite, not a JSON type error as internal error
    printf 'name: s\nbase: tiny.yaml\nseeds: [1, 2]\nthreads_per_run: 1\n' > s.yaml
    "$cli" suite s.yaml --out out > /dev/null 2>&1 || fail "the suite failed"
    sed -i '0,/"dir": "[^"]*"/s//"dir": 5/' out/s/runs.json
    cp out/s/table.md table.before
    expect 1 "infomax: out/s: runs.json or a run's results.json holds a value of an unexpected type ([json.exception.type_error.302] type must be string, but is number): the file was edited or damaged; run the suite (or the run) again to rewrite it" -- \
      "$cli" report out/s
    cmp table.before out/s/table.md || fail "table.md changed" ;;
  extends_not_a_map)
    printf -- '- a\n- b\n' > list.yaml
    printf 'extends: list.yaml\nname: b\n' > a.yaml
    expect 1 "a.yaml:1:10: extends: 'list.yaml' holds a list, not a map of settings: a spec extends only maps" -- "$cli" validate a.yaml
    echo 42 > scalar.yaml
    printf 'extends: [tiny.yaml, scalar.yaml]\nname: b\n' > b.yaml
    expect 1 "b.yaml:1:22: extends[1]: 'scalar.yaml' holds a single value, not a map of settings: a spec extends only maps" -- "$cli" validate b.yaml ;;
  malformed_argument)
    expect 1 "infomax: argument 'train.steps' followed by '10': expected key.path=value (did you mean 'train.steps=10'?)" -- \
      "$cli" run tiny.yaml train.steps 10
    no_runs ;;
  hostile_yaml)  # each refused in well under a second, with little memory
    {
      printf 'name: b\nkind: dim\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n'
      for i in $(seq 1 11); do
        printf 'a%d: &a%d [*a%d' $i $i $((i - 1)); for _ in $(seq 9); do printf ', *a%d' $((i - 1)); done; printf ']\n'
      done
    } > bomb.yaml
    { printf 'name: b\nkind: dim\n'; repeat '#' 2000000; echo; } > big.yaml
    { printf 'name: b\nkind: dim\nx: '; repeat '[' 5000; repeat ']' 5000; echo; } > deep.yaml
    start=$(date +%s%N)
    expect 1 "bomb.yaml:3:31: a4[7][8][8][8][7]: the document holds more than 100000 values (YAML aliases count each time they are used); a spec is far smaller: remove the aliases that repeat whole lists or maps" -- \
      "$cli" validate bomb.yaml
    expect 1 "big.yaml: 2000019 bytes: a spec file is at most 1048576 bytes (1 MiB) of text; is this the right file?" -- "$cli" validate big.yaml
    expect 1 "deep.yaml:3:260: nested more than 256 levels deep: a spec is far flatter" -- "$cli" validate deep.yaml
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "three hostile files refused in $ms ms"
    [ $ms -lt 3000 ] || fail "took $ms ms"
    if [ -x /usr/bin/time ]; then  # Debian's `time` package, where it is installed
      /usr/bin/time -f '%M' -o mem.txt "$cli" validate bomb.yaml >/dev/null 2>&1
      mem=$(tail -1 mem.txt)
      echo "the alias bomb's peak memory: $mem KB"
      [ "$mem" -le 204800 ] || fail "the alias bomb took $mem KB"
    fi ;;
  eval_unfinished)
    "$cli" --threads 1 run tiny.yaml train.steps=100000 train.checkpoint_every=1 --no-progress >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do ls runs/tiny/*/checkpoints/*.safetensors >/dev/null 2>&1 && break; sleep 0.1; done
    kill -INT $pid; wait $pid
    dir=$(ls -d runs/tiny/*)
    expect 1 "infomax: $dir: the run has not finished (no results.json); finish it (training, then its evaluation) with: infomax run --resume $dir" -- \
      "$cli" eval "$dir"
    [ ! -e "$dir/results.json" ] && ! ls "$dir"/results-eval-* >/dev/null 2>&1 || fail "eval wrote results for an unfinished run" ;;
  eval_overrides)
    dir=$(finished_run) || fail "the tiny run did not finish"
    sum=$(sha256sum "$dir/results.json")
    expect 1 "command line argument 1 (train.steps=3): train.steps: infomax eval re-evaluates a trained run: only eval.* settings can change here (train it again with infomax run for anything else)" -- \
      "$cli" eval "$dir" train.steps=3
    expect 1 "command line argument 1 (~~): ~: infomax eval re-evaluates a trained run: only eval.* settings can change here (train it again with infomax run for anything else)" -- \
      "$cli" eval "$dir" '~~'
    expect 1 "command line argument 1 (eval.features=[globl]): eval.features[0]: unknown feature tap 'globl' (did you mean 'global'?); known: global, local, local_pooled (the taps of encoder 'layer_stack')" -- \
      "$cli" eval "$dir" 'eval.features=[globl]'
    "$cli" --threads 1 eval "$dir" 'eval.probes=[knn]' 'eval.features=[local_pooled]' >/dev/null 2>&1 || fail "eval with eval.* overrides failed"
    out=$(ls "$dir"/results-eval-*.json)
    grep -q '"local_pooled"' "$out" && grep -q '"knn"' "$out" && grep -q '"eval_overrides"' "$out" || fail "$out lacks the new probe"
    [ "$(sha256sum "$dir/results.json")" = "$sum" ] || fail "results.json changed"
    # Evaluated again, the held-out bounds are the run's own: the trained
    # critics come back with the encoder (from the last checkpoint).
    held_out() { sed -n '/"held_out": {/,/^  }/p' "$1"; }
    rm "$out"
    "$cli" --threads 1 eval "$dir" >/dev/null 2>&1 || fail "eval failed"
    again=$(ls "$dir"/results-eval-*.json)
    [ -n "$(held_out "$dir/results.json")" ] || fail "the run has no held-out bounds to compare"
    [ "$(held_out "$again")" = "$(held_out "$dir/results.json")" ] || fail "held-out bounds differ: $(held_out "$again")"
    echo "ok ($case): $out" ;;
  suite_swept_override)
    printf 'name: s\nbase: tiny.yaml\nsweep:\n  - grid:\n      objectives.global.weight: [0.5, 1.0]\nseeds: [1, 2]\n' > s.yaml
    expect 1 "command line argument 1 (seed=3): seed: the suite sweeps 'seed' (s.yaml:6:1): a command-line value would give every run the same one; remove this argument, or change the sweep in the suite file" -- \
      "$cli" suite s.yaml seed=3 --out out
    expect 1 "command line argument 2 (objectives.global={weight: 2, estimator: jsd, discriminator: global_concat}): objectives.global: the suite sweeps 'objectives.global.weight' (s.yaml:5:7): a command-line value would give every run the same one; remove this argument, or change the sweep in the suite file" -- \
      "$cli" suite s.yaml train.steps=2 'objectives.global={weight: 2, estimator: jsd, discriminator: global_concat}' --out out
    [ ! -e out ] || fail "the suite made its directory" ;;
  suite_unknown_swept_key)
    printf 'name: s\nbase: tiny.yaml\nsweep:\n  - grid:\n      train.stepz: [1, 2]\n' > s.yaml
    expect 1 "infomax: s.yaml: 2 of 2 runs do not load; nothing was run:
2 runs ('train.stepz=1', ...): s.yaml:5:7: train.stepz: unknown key 'stepz' (did you mean 'steps'?); known keys: checkpoint_every, epochs, log_every, steps, threads" -- \
      "$cli" suite s.yaml --out out
    [ ! -e out ] || fail "the suite made its directory" ;;
  missing_dataset)  # the data is not there: where to get it (URL, checksum) and where to put it; the stand-in only when asked
    mkdir empty
    printf 'name: c\nkind: dim\ndata: {type: cifar10, batch_size: 8}\nencoder: {type: bn_conv32}\nobjectives:\n  global: {estimator: jsd, discriminator: global_concat}\noutput: {dir: runs}\n' > c.yaml
    expect 1 "c.yaml:3:7: data: CIFAR-10 not found in '$work/empty/cifar-10-batches-bin': download its binary version, https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (162 MB, md5 c32a1d4ab5d03f1284b67883e8d87530), unpack it (tar xzf) and set data.path to its cifar-10-batches-bin folder, or INFOMAX_DATA to the folder above that; for a smoke test without it, data.missing=synthetic stands in random images" -- \
      env INFOMAX_DATA="$work/empty" "$cli" run c.yaml
    no_runs
    printf 'name: f\nkind: dim\ndata: {type: idx, path: %s}\nencoder: {type: small_conv28}\nobjectives:\n  global: {estimator: jsd, discriminator: global_concat}\noutput: {dir: runs}\n' "$work/empty" > f.yaml
    expect 1 "f.yaml:3:25: data.path: $work/empty/t10k-images-idx3-ubyte: not found (nor $work/empty/t10k-images-idx3-ubyte.gz). Fashion-MNIST comes with Debian's package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist, or run tools/setup.sh), or from https://github.com/zalandoresearch/fashion-mnist (data/fashion: the four *-ubyte.gz files); MNIST from http://yann.lecun.com/exdb/mnist/. Put the four files in one folder and set data.path to it, or INFOMAX_DATA to the folder above a fashion-mnist/ one; docs/running.md (Data) gives their checksums" -- \
      "$cli" validate f.yaml
    # Opted in: it runs, and says so as a warning even with --quiet.
    got=$(env INFOMAX_DATA="$work/empty" "$cli" validate c.yaml data.missing=synthetic --quiet 2>&1 >/dev/null) || fail "the opted-in stand-in was refused: $got"
    echo "$got" | grep -q '^warning: using SYNTHETIC 3x32x32 images instead (data.missing: synthetic); accuracies are meaningless.$' ||
      fail "no warning for the stand-in: $got" ;;
  *) echo "unknown case $case"; exit 2 ;;
esac
