#!/usr/bin/env bash
# A user's own client under the scenarios, out of process: exo-mailbox (as any binary would be)
# runs on the world's simulated clock through the control API (--clock-url) and reports what it
# hands over and its status as --events JSON lines. Every library scenario that does not need the
# in-process library passes; the rest are skipped with the reason, never silently.
set -euo pipefail
bin=${1:?usage: external_client_test.sh EXO_SCENARIO LIBRARY SCHEMA}
lib=${2:?usage: external_client_test.sh EXO_SCENARIO LIBRARY SCHEMA}
schema=${3:?usage: external_client_test.sh EXO_SCENARIO LIBRARY SCHEMA}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

command="exo-mailbox monitor --config {config} --clock-url {clock} --events {events}"
command+=" --no-notifications --out-dir {out} --poll-interval {poll}"
set +e
"$bin" run -j 2 -k --junit "$tmp/junit.xml" --client-command "$command" "$lib" >"$tmp/out" 2>&1; rc=$?
set -e
cat "$tmp/out"
[[ $rc == 0 ]] || fail "exit $rc: a scenario failed with the out-of-process client"
summary=$(tail -n 5 "$tmp/out" | grep -E '^[0-9]+ passed')
passed=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$summary")
((passed >= 75)) || fail "only $passed scenarios ran out of process: $summary"
grep -q "skipped: " "$tmp/out" || fail "no skipped scenario says why"
if command -v xmllint >/dev/null; then
  xmllint --noout --schema "$schema" "$tmp/junit.xml"
  [[ $(xmllint --xpath 'count(//testcase/skipped)' "$tmp/junit.xml") -ge 1 ]] || fail "no <skipped> in JUnit"
fi
echo "ok: $summary"
