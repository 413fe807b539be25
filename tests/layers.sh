#!/usr/bin/env bash
# The layers of libinfomax include only downward (docs/architecture.md), no
# installed header includes yaml-cpp, oneDNN or TBB, and the programs in tools/
# include only installed headers (and their own), as any application would.
#   layers.sh SOURCE_DIR
set -uo pipefail
cd "$1/framework"
# A file's or an include's layer, from its path: 0 core, 1 config, 2 plugin SDK,
# 3 eval, 4 run directory, 5 experiment, 6 report.
rank() {
  case $1 in
    include/infomax/config/*|src/config/*|infomax/config/*|config/*) echo 1 ;;
    include/infomax/plugin/*|src/plugin/*|infomax/plugin/*|plugin/*) echo 2 ;;
    include/infomax/eval/*|src/eval/*|infomax/eval/*|eval/*) echo 3 ;;
    src/run_dir/*|run_dir/*) echo 4 ;;
    include/infomax/experiment/*|src/experiment/*|infomax/experiment/*|experiment/*) echo 5 ;;
    include/infomax/report/*|src/report/*|infomax/report/*|report/*) echo 6 ;;
    *) echo 0 ;;
  esac
}
names=(core config sdk eval run_dir experiment report)
bad=0
while IFS= read -r file; do
  from=$(rank "$file")
  while IFS= read -r inc; do
    to=$(rank "$inc")
    if [ "$to" -gt "$from" ]; then
      echo "upward include: $file (${names[$from]}) includes $inc (${names[$to]})"
      bad=1
    fi
  done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$file")
done < <(find include src -name '*.hpp' -o -name '*.cpp' | sort)
if grep -rlE '#include <(yaml-cpp|dnnl|oneapi|tbb)' include; then
  echo "an installed header (above) includes yaml-cpp, oneDNN or TBB"
  bad=1
fi
# tools/: "infomax/..." (installed) or a header beside the file.
cd "$1/tools"
while IFS= read -r file; do
  while IFS= read -r inc; do
    [[ $inc == infomax/* ]] && continue
    [ -e "$(dirname "$file")/$inc" ] && continue
    echo "tools include a library-internal header: $file includes $inc (use an installed header, infomax/...)"
    bad=1
  done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$file")
done < <(find . -name '*.hpp' -o -name '*.cpp' | sort)
[ $bad = 0 ] && echo "layers: every include goes downward; installed headers are free of yaml-cpp, oneDNN and TBB; tools/ includes only installed headers"
exit $bad
