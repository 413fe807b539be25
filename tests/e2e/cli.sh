#!/usr/bin/env bash
# The command line as a user meets it, one case per ctest test: each command's
# own help, arguments a command does not take refused by name, did-you-mean for
# commands and options, --quiet/--verbose, results on stdout and progress on
# stderr, and the completion script run by bash itself.
#   cli.sh INFOMAX SOURCE_DIR CASE
set -uo pipefail
cli=$(realpath "$1") src=$(realpath "$2") case=$3
work=$(mktemp -d /tmp/infomax-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL ($case): $*"; exit 1; }
# expect RC EXPECTED_STDERR -- command...: exit code and stderr exactly, stdout empty.
expect() {
  local rc=$1 want=$2; shift 3
  local got out
  out=$(timeout 60 "$@" 2>stderr.txt); local code=$?
  got=$(cat stderr.txt)
  [ "$code" = "$rc" ] || fail "exit $code, expected $rc; stderr: $got"
  [ "$got" = "$want" ] || fail "stderr differs:
  got:  $got
  want: $want"
  [ -z "$out" ] || fail "stdout not empty: $out"
  echo "ok ($case): exit $code: $got"
}
# A tiny spec that trains in a second.
cat > tiny.yaml <<'YAML'
name: tiny
kind: dim
data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}
encoder: {type: layer_stack, layers: [{conv: {out: 8, kernel: 3}}, relu, {tap: local}, flatten, {linear: {out: 6}}, {tap: global}]}
objectives:
  global: {estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}
train: {steps: 4, log_every: 1}
eval: {probes: [linear], features: [global]}
output: {dir: runs}
YAML

case $case in
  help_per_command)
    # Each command's page: its usage line, its own options with defaults, two examples; three ways to ask.
    for c in run eval suite report bench reproduce validate show plugins reference schema completion version help; do
      page=$("$cli" "$c" --help) || fail "$c --help failed"
      [ "$page" = "$("$cli" help "$c")" ] || fail "'infomax help $c' differs from '$c --help'"
      echo "$page" | grep -q "^Usage: infomax $c" || fail "$c: no usage line: $page"
      [ "$(echo "$page" | sed -n '/^Examples:/,$p' | grep -c '^  infomax')" = 2 ] || fail "$c: not two examples"
      [ "$page" != "$("$cli" --help)" ] || fail "$c --help prints the global page"
    done
    "$cli" bench --help | grep -q -- '--steps N:INT in \[1 - 1000000\]=20$' || fail "bench --help: no --steps default"
    "$cli" bench --help | grep -q -- '--warmup N:INT in \[0 - 1000000\]=5$' || fail "bench --help: no --warmup default"
    "$cli" run --help | grep -q -- '--resume DIR' || fail "run --help: no --resume"
    "$cli" run --help | grep -q -- '--json' && fail "run --help lists bench's --json"
    "$cli" --help | grep -qi 'bf16.*not implemented' && fail "the help page says bf16 is not implemented"
    echo "ok: every command has its own help" ;;
  refused_arguments)
    expect 1 "infomax plugins: unexpected argument 'x=1' (plugins takes nothing, or show NAME); see infomax plugins --help" -- "$cli" plugins x=1
    expect 1 "infomax version: unexpected argument 'extra' (version takes no arguments); see infomax version --help" -- "$cli" version extra
    expect 1 "infomax report: unexpected argument 'train.steps=3' (report takes one DIR); see infomax report --help" -- "$cli" report runs train.steps=3
    expect 1 "infomax reproduce: unexpected argument 'x=1' (reproduce takes one RUN_DIR); see infomax reproduce --help" -- "$cli" reproduce runs x=1
    expect 1 "infomax reference: unexpected argument 'x=1' (reference takes no arguments); see infomax reference --help" -- "$cli" reference x=1
    expect 1 "infomax plugins: option '--threads' does not apply to this command (it is an option of: run, eval, suite, bench, reproduce, validate, estimate); see infomax plugins --help" -- "$cli" plugins --threads 2
    expect 1 "infomax show: option '--threads' does not apply to this command; see infomax show --help" -- "$cli" --threads 2 show tiny.yaml
    expect 1 "infomax run: unexpected argument 'other.yaml' (run takes one SPEC.yaml; settings after it are key.path=value); see infomax run --help" -- "$cli" run tiny.yaml other.yaml
    expect 1 "infomax run --resume: unexpected override 'train.steps=3' (a resumed run keeps its spec; train longer with --extend train.steps=N); see infomax run --help" -- "$cli" run --resume runs/x train.steps=3
    expect 1 "infomax run: --extend goes with --resume DIR; see infomax run --help" -- "$cli" run tiny.yaml --extend train.steps=9
    expect 1 "infomax validate: SPEC.yaml is missing; see infomax validate --help" -- "$cli" validate
    expect 1 "infomax bench: --steps: Value 0 not in range 1 to 1000000; see infomax bench --help" -- "$cli" bench tiny.yaml --steps 0
    expect 1 "infomax suite: --partition requires --emit-slurm; see infomax suite --help" -- "$cli" suite s.yaml --partition short
    expect 1 "infomax completion: SHELL: fish not in {bash,zsh}; see infomax completion --help" -- "$cli" completion fish
    [ ! -e runs ] || fail "a refused command left a run directory" ;;
  spec_or_suite)
    # A suite handed to run/validate/show, a spec handed to suite: one line naming the right command, nothing written.
    printf 'name: sweep\nbase: tiny.yaml\nsweep:\n  - grid: {seed: [1, 2]}\n' > sweep.yaml
    for c in run validate show; do
      expect 1 "sweep.yaml:1:1: a suite (it has 'sweep:'), not an experiment spec: run it with \`infomax suite sweep.yaml\`" -- "$cli" $c sweep.yaml
    done
    expect 1 "tiny.yaml:1:1: an experiment spec (it has 'kind:'), not a suite: run it with \`infomax run tiny.yaml\`, or sweep it from a suite (base: tiny.yaml or sweep: [{grid: {spec: [...]}}])" -- "$cli" suite tiny.yaml
    [ ! -e runs ] && [ ! -e suites ] || fail "a refused command wrote $(ls)"
    ;;
  did_you_mean)
    expect 1 "infomax: unknown command 'valdate' (did you mean 'validate'?); known: bench, completion, estimate, eval, help, plugins, reference, report, reproduce, run, schema, show, suite, validate, version; see infomax --help" -- "$cli" valdate tiny.yaml
    expect 1 "infomax run: unknown option '--thread' (did you mean '--threads'?); known: --extend, --help, --no-progress, --plugin-path, --quiet, --resume, --threads, --verbose, -h, -q, -v; see infomax run --help" -- "$cli" run tiny.yaml --thread 2
    expect 1 "infomax help: unknown command 'sute' (did you mean 'suite'?); known: bench, completion, estimate, eval, help, plugins, reference, report, reproduce, run, schema, show, suite, validate, version; see infomax --help" -- "$cli" help sute
    # A command's longer spelling is recognised too.
    expect 1 "infomax help: unknown command 'evaluate' (did you mean 'eval'?); known: bench, completion, estimate, eval, help, plugins, reference, report, reproduce, run, schema, show, suite, validate, version; see infomax --help" -- "$cli" help evaluate
    # "--" ends the options: what follows is an operand, checked as one.
    "$cli" validate -- tiny.yaml > /dev/null 2>&1 || fail "validate -- tiny.yaml was refused"
    expect 1 "infomax validate: unexpected argument 'x.yaml' (validate takes one SPEC.yaml; settings after it are key.path=value); see infomax validate --help" -- "$cli" validate tiny.yaml -- x.yaml
    expect 1 "infomax version: unexpected argument 'x' (version takes no arguments); see infomax version --help" -- "$cli" version -- x ;;
  streams)
    # Results on stdout, progress on stderr: a pipe gets the result alone.
    "$cli" show tiny.yaml train.steps=2 > resolved.yaml 2> show.err || fail "show failed: $(cat show.err)"
    [ ! -s show.err ] || fail "show wrote to stderr: $(cat show.err)"
    "$cli" validate resolved.yaml > /dev/null || fail "the resolved spec written by show > file does not validate"
    "$cli" --threads 1 run tiny.yaml > run.out 2> run.err || fail "run failed: $(cat run.err)"
    [ "$(wc -l < run.out)" = 2 ] && grep -q '^run: runs/tiny/' run.out && grep -q '^report: runs/tiny/.*/report.html$' run.out ||
      fail "run's stdout is not its run and report paths: $(cat run.out)"
    grep -q 'step 4/4' run.err || fail "run's progress is not on stderr: $(cat run.err)"
    dir=$(sed -n 's/^run: //p' run.out)
    [ -s "$dir/results.json" ] || fail "the run printed on stdout is not a finished run: $dir"
    echo "ok: results on stdout, progress on stderr" ;;
  quiet_verbose)
    "$cli" --threads 1 run tiny.yaml --quiet > q.out 2> q.err || fail "run --quiet failed: $(cat q.err)"
    [ ! -s q.err ] || fail "--quiet still said: $(cat q.err)"
    [ "$(wc -l < q.out)" = 2 ] || fail "--quiet changed stdout: $(cat q.out)"
    grep -q 'step 4/4' runs/tiny/*/log.txt || fail "--quiet left log.txt without progress"
    "$cli" -v --threads 1 run tiny.yaml > v.out 2> v.err || fail "run --verbose failed: $(cat v.err)"
    grep -q '^threads: 1 (--threads)$' v.err || fail "--verbose does not say where the thread count came from: $(head -5 v.err)"
    grep -q '^plugins: [0-9]* parts registered' v.err || fail "--verbose does not say what plugins were loaded"
    [ "$(grep -c '^epoch .* step [1-4]/4' v.err)" = 4 ] || fail "--verbose does not show every metrics row: $(grep step v.err)"
    "$cli" --threads 1 run tiny.yaml > n.out 2> n.err || fail "run failed"
    grep -q '^threads:' n.err && fail "the default level says what --verbose says"
    expect 1 "infomax run: --quiet and --verbose contradict each other" -- "$cli" run tiny.yaml -q -v
    echo "ok: --quiet and --verbose" ;;
  completion_bash)
    "$cli" completion bash > infomax.bash || fail "completion bash failed"
    bash -n infomax.bash || fail "bash cannot parse the completion script"
    # Complete as bash would: COMP_WORDS and COMP_CWORD, then the function.
    complete_words() {
      bash -c 'source infomax.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _infomax; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
    }
    [ "$(complete_words infomax val)" = validate ] || fail "command: $(complete_words infomax val)"
    complete_words infomax bench --st | grep -qx -- --steps || fail "bench options: $(complete_words infomax bench --st)"
    complete_words infomax run --st | grep -qx -- --steps && fail "run completes bench's --steps"
    complete_words infomax run tiny.yaml train.st | grep -qx 'train.steps=' || fail "override keys: $(complete_words infomax run tiny.yaml train.st)"
    complete_words infomax run tiny.yaml encoder.lay | grep -qx 'encoder.layers=' || fail "a part's params: $(complete_words infomax run tiny.yaml encoder.lay)"
    complete_words infomax run tin | grep -qx 'tiny.yaml' || fail "spec files: $(complete_words infomax run tin)"
    complete_words infomax eval runs/ eval.pro | grep -qx 'eval.probes=' || fail "eval keys"
    complete_words infomax eval runs/ train.st | grep -q . && fail "eval completes training keys"
    complete_words infomax completion '' | tr '\n' ' ' | grep -qx 'bash zsh ' || fail "shells: $(complete_words infomax completion '')"
    complete_words infomax --threads 2 sh | grep -qx show || fail "a command after a global option"
    "$cli" completion zsh > _infomax || fail "completion zsh failed"
    head -1 _infomax | grep -q '^# zsh completion for infomax' || fail "the zsh script does not say what it is"
    grep -q 'bashcompinit' _infomax && grep -q '^complete -o filenames -F _infomax infomax$' _infomax || fail "the zsh script"
    if command -v zsh > /dev/null; then
      zsh -n _infomax || fail "zsh cannot parse its script"
      # What bashcompinit hands the function: COMP_WORDS from zsh's words, COMP_CWORD = CURRENT - 1
      # (zsh's compgen does not filter by the word; zsh itself does).
      got=$(zsh -c 'source ./_infomax; COMP_WORDS=(infomax bench --st); COMP_CWORD=2; _infomax; print -l -- "${COMPREPLY[@]}"' 2>&1)
      echo "$got" | grep -qx -- --steps && ! echo "$got" | grep -qx -- --resume || fail "zsh: bench's options: $got"
    else
      echo "zsh is not installed: its script was not run by zsh"
    fi
    echo "ok: completion" ;;
  reproduce_warns_first)
    # A difference the manifest records is said before the minutes of the re-run, on stderr.
    "$cli" --threads 1 run tiny.yaml > run.out 2>&1 || fail "run failed: $(cat run.out)"
    dir=$(sed -n 's/^run: //p' run.out)
    python3 -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); m['cpu']='another CPU'; json.dump(m, open(p,'w'))" "$dir/manifest.json"
    "$cli" reproduce "$dir" > rep.out 2> rep.err; code=$?
    [ "$code" = 0 ] || fail "reproduce: exit $code: $(cat rep.err)"
    head -1 rep.err | grep -q "^warning: CPU differs: run: another CPU; now: " || fail "the warning does not come first: $(head -3 rep.err)"
    grep -q 'reproduced: every metric' rep.out || fail "the verdict is not on stdout"
    grep -q '^warning:.*thread' rep.err && fail "a thread count alone was reported as a difference: $(cat rep.err)"
    echo "ok: reproduce warned first" ;;
  *) fail "unknown case" ;;
esac
