#!/usr/bin/env bash
# The layers of libinfomax include only downward (docs/architecture.md), and
# no installed header includes yaml-cpp, oneDNN or TBB.
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
[ $bad = 0 ] && echo "layers: every include goes downward; installed headers are free of yaml-cpp, oneDNN and TBB"
exit $bad
