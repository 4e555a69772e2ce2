#!/usr/bin/env bash
# Installs what ExoHarness needs to build and test on Debian 12 (bookworm), and nothing when all
# of it is already there. Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates curl openssl
  libssl-dev libcpp-httplib-dev nlohmann-json3-dev libpugixml-dev libsqlite3-dev sqlite3
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libxml2-utils python3 python3-msal python3-exchangelib
  chromium fonts-liberation  # the scenario report's screenshot test renders it headless
)
# --sanitizers (scripts/sanitize.sh, scripts/fuzz.sh): clang-16, the oldest of Debian 12's clangs
# that compiles libstdc++ 12's std::expected (cmake/Sanitizers.cmake), its sanitizer and libFuzzer
# runtimes, and llvm-16's symbolizer for readable reports. --load (bench/load.sh): wrk.
for profile in "$@"; do
  case $profile in
    --sanitizers) packages+=(clang-16 libclang-rt-16-dev llvm-16) ;;
    --load) packages+=(wrk) ;;
    *) echo "install-deps: unknown option $profile (--sanitizers, --load)" >&2; exit 2 ;;
  esac
done
# Node.js 20 or newer for the npm interop clients (msal-node 7 needs it). Debian 12's own nodejs
# is 18, so it is installed only when no node is present at all.
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "install-deps: warning: node $(node --version 2>/dev/null) is older than 20; the npm interop" \
       "tests need Node.js 20 or newer" >&2
fi
