#!/usr/bin/env bash
# Fuzzing campaigns: builds the libFuzzer targets of fuzz/ and runs each named target (default:
# all) in turn from its seeds, its reproducers and what earlier campaigns learned, keeping what it
# learns in <tree>/fuzz-corpus/<name>. Prints per target the executions done and libFuzzer's final
# stats; exits non-zero when any target crashed, leaked or tripped a sanitizer, naming the
# reproducer to commit as fuzz/regressions/<name>/<what-it-is>.
#
#   scripts/fuzz.sh [--tree asan|fuzz] [--runs N | --time SECONDS] [--no-build] [target...]
#                   [-- libFuzzer flags...]
#
# --tree asan (the default): the clang ASan+UBSan tree build-asan, as CI's brief runs.
# --tree fuzz: the fuzz preset's tree build-fuzz (UBSan alone, -O2), several times faster, for
#   the long campaigns; a memory error that does not crash goes unseen there, so every input of
#   the grown corpus is then replayed once under ASan+UBSan (build-asan's fuzzer), and a finding
#   there fails the target as a crash would.
# One process per target: on two cores -fork/-jobs only split the same CPU. Targets:
# ews_request ews_response jwt_client jwt_ews jwt_aad token_form scheduler_config scenario
# autodiscover (what each reads: the header of fuzz/<name>_fuzz.cpp).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
asan_tree=${EXO_ASAN_BUILD_DIR:-$repo/build-asan}
preset=asan
all=(ews_request ews_response jwt_client jwt_ews jwt_aad token_form scheduler_config scenario
     autodiscover)
limit=(-runs=10000000)
build=1
targets=()
extra=()
while (($#)); do
  case $1 in
    --runs) limit=(-runs="$2"); shift 2 ;;
    --time) limit=(-max_total_time="$2"); shift 2 ;;
    --tree) preset=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all[@]}")
case $preset in
  asan) tree=$asan_tree ;;
  fuzz) tree=$repo/build-fuzz ;;
  *) echo "fuzz.sh: --tree is asan or fuzz, not $preset" >&2; exit 2 ;;
esac

if ((build)); then
  "$repo/scripts/install-deps.sh" --sanitizers
  "$repo/scripts/build.sh" --preset "$preset" "${targets[@]/#/fuzz_}"
  [[ $preset == fuzz ]] && "$repo/scripts/build.sh" --preset asan "${targets[@]/#/fuzz_}"
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
        -artifact_prefix="$artifacts/" "${extra[@]}")
  [[ -f $repo/fuzz/dict/$name.dict ]] && args+=(-dict="$repo/fuzz/dict/$name.dict")
  dirs=("$corpus" "$repo/fuzz/corpus/$name")
  [[ -d $repo/fuzz/regressions/$name ]] && dirs+=("$repo/fuzz/regressions/$name")
  # What the other tree's campaigns learned is read too (new units go to the first folder only).
  other=$asan_tree/fuzz-corpus/$name
  [[ $tree == "$asan_tree" ]] && other=$repo/build-fuzz/fuzz-corpus/$name
  [[ -d $other ]] && dirs+=("$other")
  echo "== $name ($preset tree)"
  status=0
  "$fuzzer" "${args[@]}" "${dirs[@]}" >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
    "$log" || true
  if ((status == 0)) && [[ $preset == fuzz ]]; then
    # Each input once under ASan+UBSan: libFuzzer runs the files it is given and stops.
    replayer=$asan_tree/bin/fuzz_$name
    [[ -x $replayer ]] || { echo "fuzz.sh: no $replayer to replay under ASan" >&2; exit 2; }
    replay_log=$tree/fuzz-logs/$name.asan-replay.log
    inputs=$(find "$corpus" -type f | wc -l)
    if find "$corpus" -type f -print0 |
        xargs -0 -r -n 500 "$replayer" -timeout=10 -rss_limit_mb=2048 \
          -artifact_prefix="$artifacts/" >"$replay_log" 2>&1; then
      echo "   replayed under ASan+UBSan: $inputs inputs, no finding"
    else
      status=1
      log=$replay_log
    fi
  fi
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
