#!/usr/bin/env bash
# run-brief.sh FUZZER SEEDS REGRESSIONS DICT ARTIFACTS: what CTest's fuzz.<name> runs. Replays the
# seeds and reproducers, then fuzzes for EXO_FUZZ_SECONDS (default 5) from them into a fresh
# temporary corpus (the committed folders are only read). Fails on any crash, leak or sanitizer
# report; the reproducer is left in ARTIFACTS and printed.
set -euo pipefail
fuzzer=$1 seeds=$2 regressions=$3 dict=$4 artifacts=$5
seconds=${EXO_FUZZ_SECONDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$artifacts/")
[[ -f $dict ]] && args+=(-dict="$dict")
dirs=("$work")
for d in "$seeds" "$regressions"; do [[ -d $d ]] && dirs+=("$d"); done
if ! "$fuzzer" "${args[@]}" "${dirs[@]}"; then
  echo "run-brief.sh: $(basename "$fuzzer") failed; reproducer(s) in $artifacts:" >&2
  ls -1 "$artifacts" >&2
  exit 1
fi
