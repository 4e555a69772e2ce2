#!/usr/bin/env bash
# Installs the build into a fresh prefix and builds docs/example against it twice: with
# find_package(exo) and with pkg-config (exo-client). Usage: install_test.sh <build dir> <source dir>
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/exo-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/exo/client/mailbox_client.hpp include/exo/common/result.hpp \
         lib/libexo_client.a lib/cmake/exo/exoConfig.cmake lib/pkgconfig/exo-client.pc \
         bin/exo-mailbox; do
  [[ -e $prefix/$f || -e $prefix/${f/lib\//lib\/x86_64-linux-gnu\/} ]] || { echo "missing $f"; exit 1; }
done
# Nothing of the mocks is installed.
if find "$prefix" -path '*mock*' | grep -q .; then echo "mock files were installed"; exit 1; fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/docs/example" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  "${launcher[@]}" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
# Both refuse bad arguments with a message (exit 2); what matters is that they linked and run.
out=$("$work/cmake-build/print-new-mail" 2>&1 || true)
grep -q usage <<<"$out"

libdir=$(dirname "$(find "$prefix" -name exo-client.pc)")
export PKG_CONFIG_PATH=$libdir
c++ -std=c++23 -o "$work/pc-example" "$src/docs/example/print_new_mail.cpp" \
  $(pkg-config --cflags --libs exo-client)
out=$("$work/pc-example" /nonexistent.config 2>&1 || true)
grep -q "nonexistent.config" <<<"$out"
"$prefix/bin/exo-mailbox" --help | grep -q "Exit codes"
echo "installed, and docs/example built with find_package(exo) and pkg-config"
