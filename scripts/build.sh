#!/usr/bin/env bash
# Configures (once) and builds ExoHarness into build/ (override with EXO_BUILD_DIR). Warnings are
# errors when CI=true. Incremental: a second run rebuilds only what changed (ccache helps more).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}
# ccache: share hits across clones of the repository (CI builds a fresh clone every time).
export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=true
# Only CI forces the warning policy; a developer's own setting in the cache is left alone, so
# switching between this script and a manual build does not rebuild everything.
options=()
[[ ${CI:-} == true ]] && options+=(-DEXO_WERROR=ON)
if [[ ! -f $build/CMakeCache.txt ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}"
elif ((${#options[@]})); then
  cmake "$build" "${options[@]}" >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)"
