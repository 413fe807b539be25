#!/usr/bin/env bash
# Installs what infomax needs from Debian 12 (only what is missing) and builds
# it in Release into ./build. Safe to run again: it reuses the build directory.
#   tools/setup.sh            install what training needs + build
#   tools/setup.sh --tests    also what the tests need (Chromium, Python's jsonschema)
#   BUILD_DIR=... tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make
  libdnnl-dev ocl-icd-opencl-dev   # oneDNN 2.6; its CMake config needs the OpenCL headers
  libtbb-dev libfmt-dev zlib1g-dev nlohmann-json3-dev
  libyaml-cpp-dev libboost-dev libboost-filesystem-dev
  libcli11-dev                     # the command line (header-only)
  catch2
  libopenmpi-dev openmpi-bin      # MPI: suites across ranks and data-parallel runs (mpirun)
  dataset-fashion-mnist            # the default dataset, in /usr/share/datasets/fashion-mnist
)
case "${1:-}" in
  --tests) packages+=(
    chromium                       # the tests render HTML reports headless to PNG
    python3-jsonschema python3-yaml  # the tests check every shipped spec against the JSON Schema
  ) ;;
  "") ;;
  *) echo "setup: unknown option '$1' (use: tools/setup.sh [--tests])" >&2; exit 1 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)"
