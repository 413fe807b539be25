# Sourced by the signal tests. long_spec NAME prints a tiny DIM spec that
# trains for 200000 steps (far longer than any test waits), logs every 10 steps
# and checkpoints only when stopped (callers append output: where they need it).
long_spec() {
  cat <<YAML
name: $1
kind: dim
data: {type: synthetic, shape: [1, 12, 12], size: 256, classes: 4, batch_size: 32}
encoder:
  type: layer_stack
  layers: [{conv: {out: 8, kernel: 3}}, relu, {tap: local}, flatten, {linear: {out: 6}}, {tap: global}]
objectives:
  global: {estimator: jsd, discriminator: {type: global_concat, hidden: [16]}}
train: {steps: 200000, log_every: 10, checkpoint_every: 1000000}
eval: {probes: [linear]}
YAML
}

# long_suite DIR writes DIR/spec.yaml (long_spec long) and DIR/suite.yaml, a
# suite of it over seeds 1 and 2, one thread a run.
long_suite() {
  long_spec long > "$1/spec.yaml"
  cat > "$1/suite.yaml" <<YAML
name: long
base: spec.yaml
seeds: [1, 2]
threads_per_run: 1
YAML
}

# wait_for_training N SUITE_DIR waits until N of the suite's run logs
# (SUITE_DIR/*/run.log, looked for anew each time) show training (at most 60 s).
wait_for_training() {
  for _ in $(seq 1 600); do
    [ "$(grep -l "^epoch" "$2"/*/run.log 2>/dev/null | wc -l)" -ge "$1" ] && return
    sleep 0.1
  done
}
