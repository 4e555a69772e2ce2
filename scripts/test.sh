#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (unit, end-to-end,
# interop, scenarios, the fuzz corpora and regressions) through CTest. Exit status 0 only when all
# pass. CI's .ci/run calls exactly this. Arguments go to ctest (e.g. -R client, -L interop).
# The sanitizer jobs (ASan+UBSan, TSan, libFuzzer) are scripts/sanitize.sh (docs/RELIABILITY.md).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}
"$repo/scripts/install-deps.sh"
"$repo/scripts/build.sh"
cd "$build"
# mock-aad's RSA signing keys, made once for the hundreds of test processes that start it.
export EXO_SIGNING_KEY_POOL=$build/test-key-pool
ctest --output-on-failure --parallel "$(nproc)" --timeout 600 "$@"
