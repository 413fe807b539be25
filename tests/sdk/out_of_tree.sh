#!/usr/bin/env bash
# Replays docs/plugins.md in an empty folder: installs infomax from the build
# tree, writes every file the page marks <!-- file: NAME -->, and runs every
# command block marked <!-- run -->. Usage: out_of_tree.sh BUILD_DIR DOC
set -euo pipefail
build=$(cd "$1" && pwd)
doc=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export INFOMAX_PREFIX=$work/prefix
cmake --install "$build" --prefix "$INFOMAX_PREFIX" > "$work/install.log"
export PATH=$INFOMAX_PREFIX/bin:$PATH
unset INFOMAX_PLUGIN_PATH
mkdir "$work/chi2" && cd "$work/chi2"
# Extract the marked blocks in order: files are written, commands collected.
awk -v dir="$work/chi2" '
  /^<!-- file: .* -->$/ { file = $3; next }
  /^<!-- run -->$/      { run = 1; next }
  /^```/ {
    if (inblock) { inblock = 0; file = ""; run = 0; next }
    if (file != "" || run) { inblock = 1; next }
  }
  inblock && file != "" { print > (dir "/" file) }
  inblock && run        { print > (dir "/commands.sh") }
' "$doc"
for f in chi2.cpp CMakeLists.txt spec.yaml commands.sh; do
  [ -s "$f" ] || { echo "out_of_tree: docs/plugins.md gave no $f"; exit 1; }
done
echo "== commands from docs/plugins.md"; cat commands.sh
bash -euo pipefail commands.sh 2>&1 | tee output.txt
grep -q "^estimator chi2 0.1.0" output.txt
grep -qF "scale: number [> 0] = 1.0  # scores are multiplied by this" output.txt
grep -q "spec.yaml: valid" output.txt
grep -q "estimator chi2 (chi2)" output.txt
grep -q "scale: 0.25" output.txt
echo "out_of_tree: the walkthrough works"
