#!/usr/bin/env bash
# The benchmark suite in one command: installs the peers ExoHarness is measured against (Debian:
# wrk, nginx, OpenJDK 17, exchangelib; npm: oauth2-mock-server and WireMock at the versions
# bench/peers/package-lock.json pins, into build/bench-peers), builds what it runs, then runs
# bench/suite.py: loopback only, every load bounded in time, a table on stdout and
# build/bench/results.{json,md}. Options go to bench/suite.py (--quick, --runs N, --only P1,P2).
# Idempotent: a second run installs nothing. Network is needed only for the first install.
# EXO_BENCH_NO_BUILD=1 skips the build (the binaries in build/bin are used as they are).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}

"$repo/scripts/install-deps.sh"

packages=(wrk nginx openjdk-17-jre-headless python3-exchangelib openssl procps)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # policy-rc.d or not, nginx's own service is not wanted: the suite runs its own instance.
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if command -v service >/dev/null && [[ " ${missing[*]} " == *" nginx "* ]]; then
    "${sudo[@]}" service nginx stop >/dev/null 2>&1 || true
  fi
fi

# npm peers: exactly the locked tree, installed once per lock file.
peers=$build/bench-peers
if ! cmp -s "$repo/bench/peers/package-lock.json" "$peers/package-lock.json" ||
   [[ ! -d $peers/node_modules ]]; then
  echo "bench: installing the npm peers into $peers"
  mkdir -p "$peers"
  cp "$repo/bench/peers/package.json" "$repo/bench/peers/package-lock.json" "$peers/"
  (cd "$peers" && npm ci --no-audit --no-fund --cache "$peers/.npm-cache" >/dev/null)
fi

if [[ ${EXO_BENCH_NO_BUILD:-} != 1 ]]; then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    EXO_BUILD_DIR=$build "$repo/scripts/build.sh"
  else
    targets=(mock-aad mock-ews exo-harness exo-scenario exo-ingest-probe ingest_bench micro_bench
             exo-start-probe)
    args=()
    for t in "${targets[@]}"; do args+=(--target "$t"); done
    cmake --build "$build" --parallel "$(nproc)" "${args[@]}"
  fi
fi

# Debian's python3: exchangelib is its package, not a virtualenv's.
exec /usr/bin/python3 "$repo/bench/suite.py" --bin "$build/bin" --peers "$peers/node_modules" \
  --out "$build/bench" "$@"
