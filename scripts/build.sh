#!/usr/bin/env bash
# Configures (once) and builds ExoHarness. Incremental: a second run rebuilds only what changed
# (ccache helps more). Warnings are errors when CI=true.
#   scripts/build.sh                       g++, optimized: build/ (override with EXO_BUILD_DIR)
#   scripts/build.sh --preset asan [T...]  clang-16, ASan+UBSan+libFuzzer: build-asan/
#   scripts/build.sh --preset tsan [T...]  clang-16, TSan: build-tsan/
#   scripts/build.sh --preset fuzz [T...]  clang-16, UBSan+libFuzzer at -O2: build-fuzz/ (campaigns)
# Targets T (default: all) are built alone, as the TSan job does with concurrency_test.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
preset=default
targets=()
while (($#)); do
  case $1 in
    --preset) preset=$2; shift 2 ;;
    *) targets+=(--target "$1"); shift ;;
  esac
done
case $preset in
  default) build=${EXO_BUILD_DIR:-$repo/build} ;;
  asan | tsan | fuzz) build=$repo/build-$preset ;;
  *) echo "build.sh: unknown preset $preset (default, asan, tsan, fuzz)" >&2; exit 2 ;;
esac
# ccache: share hits across clones of the repository (CI builds a fresh clone every time).
export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=true
# Only CI forces the warning policy, on the g++ tree whose warnings the code is kept clean of; the
# clang trees are there for what the sanitizers find at run time, and configured exactly as a
# developer's (so CI's compiler cache serves both). A developer's own setting in the cache is left
# alone, so switching between this script and a manual build does not rebuild everything.
options=()
[[ ${CI:-} == true && $preset == default ]] && options+=(-DEXO_WERROR=ON)
# CI also drops debug info from the optimized build: at the same -O2 (so the same warnings) it
# halves compile time (the heaviest file: 109 s -> 47 s).
[[ ${CI:-} == true && $preset == default ]] &&
  options+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$repo" --preset "$preset" -B "$build" "${options[@]}"
elif ((${#options[@]})); then
  cmake "$build" "${options[@]}" >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)" "${targets[@]}"
