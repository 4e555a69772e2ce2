#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (unit, end-to-end,
# interop, scenarios, the fuzz corpora and regressions) through CTest, then the sanitizer jobs
# (scripts/sanitize.sh: the unit and integration tests under ASan+UBSan, the concurrent ones under
# TSan, each fuzz target briefly; docs/RELIABILITY.md). Exit status 0 only when all pass. CI's
# .ci/run calls exactly this. Arguments go to the main suite's ctest (e.g. -R client, -L interop)
# and skip the sanitizer jobs, as does EXO_SANITIZERS=off (said on every run that skips them).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}
"$repo/scripts/install-deps.sh"
"$repo/scripts/build.sh"
cd "$build"
# mock-aad's RSA signing keys, made once for the hundreds of test processes that start it.
export EXO_SIGNING_KEY_POOL=$build/test-key-pool
ctest --output-on-failure --parallel "$(nproc)" --timeout 600 "$@"
if (($#)); then
  echo "test.sh: sanitizer jobs skipped (ctest arguments given); scripts/sanitize.sh runs them"
  exit 0
elif [[ ${EXO_SANITIZERS:-on} == off ]]; then
  echo "test.sh: sanitizer jobs skipped (EXO_SANITIZERS=off); scripts/sanitize.sh runs them"
  exit 0
fi
"$repo/scripts/sanitize.sh" asan tsan
