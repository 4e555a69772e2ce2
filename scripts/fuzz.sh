#!/usr/bin/env bash
# Fuzzing campaigns: builds the libFuzzer targets of fuzz/ in the clang ASan+UBSan tree
# (build-asan, configured here when absent) and runs each named target (default: all) in turn
# from its seeds and reproducers, keeping what it learns in build-asan/fuzz-corpus/<name>.
# Prints per target the executions done and libFuzzer's final stats; exits non-zero when any
# target crashed, leaked or tripped a sanitizer, naming the reproducer to commit as
# fuzz/regressions/<name>/<what-it-is>.
#
#   scripts/fuzz.sh [--runs N | --time SECONDS] [--no-build] [target...]
#
# One process per target: on two cores -fork/-jobs only split the same CPU. Targets:
# ews_request ews_response jwt_client jwt_ews jwt_aad token_form scheduler_config scenario
# autodiscover (what each reads: the header of fuzz/<name>_fuzz.cpp).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tree=${EXO_ASAN_BUILD_DIR:-$repo/build-asan}
all=(ews_request ews_response jwt_client jwt_ews jwt_aad token_form scheduler_config scenario
     autodiscover)
limit=(-runs=10000000)
build=1
targets=()
while (($#)); do
  case $1 in
    --runs) limit=(-runs="$2"); shift 2 ;;
    --time) limit=(-max_total_time="$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all[@]}")

if ((build)); then
  "$repo/scripts/install-deps.sh" --sanitizers
  "$repo/scripts/build.sh" --preset asan "${targets[@]/#/fuzz_}"
fi

failed=()
for name in "${targets[@]}"; do
  fuzzer=$tree/bin/fuzz_$name
  [[ -x $fuzzer ]] || { echo "fuzz.sh: no $fuzzer (build it, or drop --no-build)" >&2; exit 2; }
  corpus=$tree/fuzz-corpus/$name
  artifacts=$tree/fuzz-artifacts/$name
  log=$tree/fuzz-logs/$name.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  args=("${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -f $repo/fuzz/dict/$name.dict ]] && args+=(-dict="$repo/fuzz/dict/$name.dict")
  dirs=("$corpus" "$repo/fuzz/corpus/$name")
  [[ -d $repo/fuzz/regressions/$name ]] && dirs+=("$repo/fuzz/regressions/$name")
  echo "== $name"
  status=0
  "$fuzzer" "${args[@]}" "${dirs[@]}" >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
    "$log" || true
  if ((status != 0)); then
    failed+=("$name")
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written to' "$log" | head -5
    echo "   full log: $log"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: crashes in ${failed[*]}; reproducers under $tree/fuzz-artifacts/" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]}"
