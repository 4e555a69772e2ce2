#!/usr/bin/env bash
# The scenarios catch what they claim to: each deliberately broken client (exo-scenario
# --client-double) makes the scenario written against its mistake fail, exit 1, with a message
# that says why; the same scenario passes with the real client (its own CTest case).
set -euo pipefail
bin=${1:?usage: doubles_test.sh EXO_SCENARIO LIBRARY}
lib=${2:?usage: doubles_test.sh EXO_SCENARIO LIBRARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_caught() {  # double scenario-file regex-the-failure-must-match
  local double=$1 file=$2 why=$3 rc
  set +e
  "$bin" run --client-double "$double" "$lib/$file" >"$tmp/out" 2>&1; rc=$?
  set -e
  [[ $rc == 1 ]] || { cat "$tmp/out"; fail "$double: $file exited $rc, want 1 (the double went unnoticed)"; }
  grep -Eq "$why" "$tmp/out" || { cat "$tmp/out"; fail "$double: the failure does not say why (want /$why/)"; }
  echo "ok: $double caught by $file: $(grep -Em1 "$why" "$tmp/out" | sed 's/^ *//' | cut -c1-160)"
}

expect_caught ignores-backoff throttling_backoff_honoured.jsonc \
  'request\(s\) came before the back-off the server asked for had elapsed'
expect_caught ignores-backoff graph_throttling_retry_after.jsonc \
  'request\(s\) came before the back-off the server asked for had elapsed'
expect_caught never-refreshes-tokens token_refresh_over_hours.jsonc \
  'want healthy \(last error: .*(expired|401|Unauthorized)'
expect_caught commits-before-handing crash_mid_batch.jsonc \
  'never handed: \["Batch 3"\]'

set +e
"$bin" run --client-double no-such-double "$lib/happy_path.jsonc" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 2 ]] || fail "an unknown double: exit $rc, want 2"
echo "ok"
