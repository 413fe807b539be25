#!/usr/bin/env bash
# layers.sh catches what it is for: in a copy of the tree, an upward include
# injected into the eval layer, and a library-internal header included by a
# tool, each make it fail and name the file.
#   layers_injected.sh SOURCE_DIR
set -uo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for case in eval tools; do
  rm -rf "$work/tree"; mkdir -p "$work/tree"
  cp -r "$src/framework" "$src/tools" "$src/tests" "$work/tree/"
  bash "$work/tree/tests/layers.sh" "$work/tree" > "$work/clean.txt" || { cat "$work/clean.txt"; fail "the copy fails before anything is injected"; }
  if [ $case = eval ]; then
    sed -i '0,/^#include/s//#include "infomax\/experiment\/run.hpp"\n#include/' "$work/tree/framework/src/eval/mi.cpp"
    want='upward include: src/eval/mi.cpp (eval) includes infomax/experiment/run.hpp (experiment)'
  else
    sed -i '0,/^#include/s//#include "config\/document.hpp"\n#include/' "$work/tree/tools/infomax/commands.cpp"
    want='tools include a library-internal header: ./infomax/commands.cpp includes config/document.hpp'
  fi
  bash "$work/tree/tests/layers.sh" "$work/tree" > "$work/out.txt" && { cat "$work/out.txt"; fail "$case: layers.sh passed an injected include"; }
  grep -qF "$want" "$work/out.txt" || { cat "$work/out.txt"; fail "$case: expected: $want"; }
  echo "$case: refused: $want"
done
