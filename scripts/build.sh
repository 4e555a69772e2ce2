#!/usr/bin/env bash
# Configures (once) and builds ExoHarness into build/ (override with EXO_BUILD_DIR). Warnings are
# errors when CI=true. Incremental: a second run rebuilds only what changed (ccache helps more).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}
# ccache: share hits across clones of the repository (CI builds a fresh clone every time).
export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=true
werror=OFF
[[ ${CI:-} == true ]] && werror=ON
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXO_WERROR=$werror
else
  cmake "$build" -DEXO_WERROR=$werror >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)"
