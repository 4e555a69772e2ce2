#!/usr/bin/env bash
# exo-scenario as CI uses it: exit codes (0 passed, 1 failed, 2 format/usage with file:line:col),
# --junit writes well-formed XML, --transcript writes one file per scenario, byte-identical
# across two runs with one seed, and --filter selects by name or tag.
set -euo pipefail
bin=${1:?usage: cli_test.sh EXO_SCENARIO LIBRARY}
lib=${2:?usage: cli_test.sh EXO_SCENARIO LIBRARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 2: a syntax error, with its position.
printf '{\n  "name": "broken",\n  "world": {,}\n}\n' >"$tmp/broken.jsonc"
set +e
"$bin" run "$tmp/broken.jsonc" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
[[ $rc == 2 ]] || fail "format error: exit $rc, want 2"
grep -q "broken.jsonc:3:" "$tmp/err" || fail "no file:line in: $(cat "$tmp/err")"
set +e
"$bin" run --jobs 0 "$lib" >/dev/null 2>&1; rc=$?
set -e
[[ $rc == 2 ]] || fail "usage error: exit $rc, want 2"

# 1: a failing expectation, reported in the summary and as a JUnit failure.
cat >"$tmp/failing.jsonc" <<'JSON'
{"name": "failing", "seed": 9,
 "world": {"apps": [{"name": "daemon"}], "mailboxes": ["monitor@contoso.com"]},
 "timeline": [{"at": "+1m", "deliver": "A"}, {"at": "+3m", "expect": {"handed": ["B"]}}]}
JSON
set +e
"$bin" run --junit "$tmp/fail.xml" "$tmp/failing.jsonc" >"$tmp/out" 2>&1; rc=$?
set -e
[[ $rc == 1 ]] || fail "failing scenario: exit $rc, want 1"
grep -q 'FAIL failing' "$tmp/out" || fail "no FAIL line"
grep -q 'want \["B"\]' "$tmp/out" || fail "failure does not say what was wanted"
grep -q '<failure message=' "$tmp/fail.xml" || fail "no failure element"
python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$tmp/fail.xml" ||
  fail "JUnit XML is not well-formed"

# 0, twice with one seed: identical transcripts.
"$bin" run --filter throttling --jobs 2 --transcript "$tmp/t1" --junit "$tmp/ok.xml" "$lib" >"$tmp/out"
"$bin" run --filter throttling --transcript "$tmp/t2" "$lib" >/dev/null
ls "$tmp/t1"/*.transcript >/dev/null || fail "no transcript written"
diff -r "$tmp/t1" "$tmp/t2" || fail "transcripts differ between two runs with one seed"
grep -q "seed" "$tmp/out" || fail "the seed is not printed"
python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$tmp/ok.xml"
echo "ok"
