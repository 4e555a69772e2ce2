#!/usr/bin/env bash
# The sanitizer jobs (scripts/test.sh runs asan and tsan after the main suite; docs/RELIABILITY.md):
#  asan: build-asan/ (clang-16, ASan+UBSan, libFuzzer coverage): every unit and integration test
#        (CTest: all but the labels scenario, interop, bench and install, which the main suite
#        runs), a few scenarios end to end in process, and each fuzz target for a few seconds.
#  tsan: build-tsan/ (clang-16, TSan): tests/concurrency (token single flight, the monitor, the
#        servers' thread pools), the only target that tree builds.
#   scripts/sanitize.sh [asan|tsan]...   (default: both)
#   scripts/sanitize.sh --all-asan       every test of the suite under ASan+UBSan (long)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=("$@")
((${#jobs[@]})) || jobs=(asan tsan)

"$repo/scripts/install-deps.sh" --sanitizers
supp=$repo/tests/sanitizers
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
symbolizer=/usr/lib/llvm-16/bin/llvm-symbolizer
[[ -x $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer TSAN_SYMBOLIZER_PATH=$symbolizer

# In process, so the mocks and the client both run instrumented: one scenario per kind of fault.
asan_scenarios='^scenario\.(happy_path|crash_and_restart|restrict_access_deny_then_grant|network_connection_reset|token_rejected_mid_sync|secret_rotation_overlap|throttling_backoff_honoured)(\.graph)?$'
ctest_args=(--output-on-failure --parallel "$(nproc)" --timeout 600)

for job in "${jobs[@]}"; do
  case $job in
    asan)
      "$repo/scripts/build.sh" --preset asan
      export EXO_SIGNING_KEY_POOL=$repo/build-asan/test-key-pool
      echo "sanitize.sh: unit, integration and fuzz tests under ASan+UBSan"
      # scenario_secret_hygiene runs the whole library (the main suite's job): 93 s under ASan.
      ctest --test-dir "$repo/build-asan" "${ctest_args[@]}" -LE 'scenario|interop|bench|install' \
        -E '^scenario_secret_hygiene$'
      echo "sanitize.sh: scenarios under ASan+UBSan"
      ctest --test-dir "$repo/build-asan" "${ctest_args[@]}" -R "$asan_scenarios" ;;
    --all-asan)
      "$repo/scripts/build.sh" --preset asan
      EXO_SIGNING_KEY_POOL=$repo/build-asan/test-key-pool ctest --test-dir "$repo/build-asan" \
        "${ctest_args[@]}" ;;
    tsan)
      "$repo/scripts/build.sh" --preset tsan concurrency_test
      ctest --test-dir "$repo/build-tsan" "${ctest_args[@]}" -L concurrency ;;
    *) echo "sanitize.sh: unknown job $job (asan, tsan, --all-asan)" >&2; exit 2 ;;
  esac
done
