# Sourced by the signal tests: long_spec NAME prints a tiny DIM spec that
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
