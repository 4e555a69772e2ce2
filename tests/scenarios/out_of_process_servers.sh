#!/usr/bin/env bash
# The scenario library against out-of-process servers (exo-scenario --harness): every run that
# does not need the servers in-process passes with the in-process golden transcript, byte for
# byte; the rest are skipped saying why. Then servers and client both out of process.
set -euo pipefail
bin=${1:?usage: out_of_process_servers.sh EXO_SCENARIO SCENARIOS_DIR}
dir=${2:?usage: out_of_process_servers.sh EXO_SCENARIO SCENARIOS_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

set +e
"$bin" run --harness exo-harness -j 2 -k --golden "$dir/golden" "$dir/library" >"$tmp/out" 2>&1; rc=$?
set -e
cat "$tmp/out"
[[ $rc == 0 ]] || fail "exit $rc: a scenario failed (or its transcript differs) with out-of-process servers"
summary=$(grep -E '^[0-9]+ passed' "$tmp/out")
passed=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$summary")
((passed >= 80)) || fail "only $passed runs passed out of process: $summary"
grep -q "skipped: an on-premises server" "$tmp/out" || fail "no skip says why"

command="exo-mailbox monitor --config {config} --clock-url {clock} --events {events}"
command+=" --no-notifications --out-dir {out} --poll-interval {poll}"
set +e
"$bin" run --harness exo-harness --client-command "$command" -j 2 -k \
  "$dir/library/happy_path.jsonc" "$dir/library/deny_access.jsonc" \
  "$dir/library/network_slow_answer.jsonc" "$dir/library/crash_and_restart.jsonc" >"$tmp/both" 2>&1; rc=$?
set -e
cat "$tmp/both"
[[ $rc == 0 ]] || fail "exit $rc with the harness and exo-mailbox both out of process"
grep -Eq '^7 passed, 0 failed' "$tmp/both" || fail "want 7 runs passed: $(tail -n 3 "$tmp/both")"
echo "ok: $summary; and 7 runs with servers and client out of process"
