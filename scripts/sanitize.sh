#!/usr/bin/env bash
# The sanitizer jobs (scripts/test.sh runs them after the main suite; docs/RELIABILITY.md):
#  asan: build-asan/ (clang-16, ASan+UBSan, libFuzzer coverage): the unit tests listed below and
#        every fuzz target for a few seconds (CTest label fuzz).
#  tsan: build-tsan/ (clang-16, TSan): tests/concurrency, the only target that tree builds.
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

# The unit suites CI runs under ASan+UBSan: what needs no server process of the other tree.
asan_units=(common_test concurrency_test)
ctest_args=(--output-on-failure --parallel "$(nproc)" --timeout 600)

for job in "${jobs[@]}"; do
  case $job in
    asan)
      fuzz_targets=$(cd "$repo/fuzz" && ls ./*_fuzz.cpp | sed 's|^\./|fuzz_|; s|_fuzz\.cpp$||')
      # shellcheck disable=SC2086
      "$repo/scripts/build.sh" --preset asan "${asan_units[@]}" $fuzz_targets
      for unit in "${asan_units[@]}"; do
        echo "sanitize.sh: $unit under ASan+UBSan"
        "$repo/build-asan/bin/$unit" --gtest_brief=1
      done
      ctest --test-dir "$repo/build-asan" "${ctest_args[@]}" -L fuzz ;;
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
