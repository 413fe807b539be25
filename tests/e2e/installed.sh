#!/usr/bin/env bash
# An installed tree (cmake --install) runs the shipped specs and suites on its
# own: its schemas (experiment and suite), its plugins, no build tree.
#   installed.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/infomax-installed.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
# The source tree's schemas must not be what answers: hide nothing, but check
# what the installed binary reads.
test -f "$work/prefix/share/infomax/schemas/experiment.schema.yaml"
test -f "$work/prefix/share/infomax/schemas/suite.schema.yaml"
cli=$work/prefix/bin/infomax
unset INFOMAX_PLUGIN_PATH INFOMAX_SCHEMA_DIR
cd "$work"
"$cli" --threads 1 validate "$src/experiments/fashion_mnist_dim.yaml" | head -1
"$cli" --threads 1 run "$src/experiments/gan_25_gaussians_jsd.yaml" train.steps=20 eval.samples=100 output.dir=runs --no-progress | tail -2
ls runs/gan-25-gaussians-jsd/*/results.json
"$cli" --threads 1 suite "$src/experiments/suites/gan_mode_coverage.yaml" train.steps=10 eval.samples=50 --out suites | tail -2
test -s suites/*/table.md
test -s suites/*/report.html
echo "installed: run and suite work from $work/prefix"
