#!/usr/bin/env bash
# Golden transcripts: --update-golden records a passing run, --golden compares; a behavioural
# change (here: the golden file claims one token request fewer) fails with the count that moved
# and a unified diff, and a missing golden file says how to record it.
set -euo pipefail
bin=${1:?usage: golden_test.sh EXO_SCENARIO LIBRARY}
lib=${2:?usage: golden_test.sh EXO_SCENARIO LIBRARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" run --transport ews --golden "$tmp/g" --update-golden "$lib/happy_path.jsonc" >/dev/null
golden=$(ls "$tmp/g"/*.transcript)
"$bin" run --transport ews --golden "$tmp/g" "$lib/happy_path.jsonc" >/dev/null || fail "an unchanged run differs from its golden"

# The golden says the client made one token request fewer than it does.
python3 - "$golden" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines(True)
i = next(i for i, l in enumerate(lines) if " http aad token " in l)
del lines[i]
open(p, "w").writelines(lines)
PY
set +e
"$bin" run --transport ews --golden "$tmp/g" "$lib/happy_path.jsonc" >"$tmp/out" 2>&1; rc=$?
set -e
[[ $rc == 1 ]] || fail "a changed transcript: exit $rc, want 1"
grep -q "the transcript differs from" "$tmp/out" || fail "no golden failure: $(cat "$tmp/out")"
grep -Eq "http aad token: 0 -> 1|http aad token: [0-9]+ -> [0-9]+" "$tmp/out" || fail "the changed count is not said: $(cat "$tmp/out")"
grep -Eq "^ *[+].* http aad token " "$tmp/out" || fail "no diff line for the extra request: $(cat "$tmp/out")"

rm -f "$golden"
set +e
"$bin" run --transport ews --golden "$tmp/g" "$lib/happy_path.jsonc" >"$tmp/out" 2>&1; rc=$?
set -e
[[ $rc == 1 ]] || fail "a missing golden: exit $rc, want 1"
grep -q -- "--update-golden" "$tmp/out" || fail "a missing golden does not say how to record it"
echo "ok"
