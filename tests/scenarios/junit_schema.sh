#!/usr/bin/env bash
# exo-scenario's --junit output validates against the JUnit format CI servers read
# (schema/junit.xsd: what Jenkins, GitLab, GitHub reporters and Ant agree on): one run of a
# passing library scenario and a deliberately failing one (data/happy_path_wrong_handed.jsonc,
# markup in its subjects), so the file holds a testcase without and one with a <failure>.
set -euo pipefail
bin=${1:?usage: junit_schema.sh EXO_SCENARIO PASSING.jsonc FAILING.jsonc SCHEMA.xsd}
passing=${2:?usage: junit_schema.sh EXO_SCENARIO PASSING.jsonc FAILING.jsonc SCHEMA.xsd}
failing=${3:?usage: junit_schema.sh EXO_SCENARIO PASSING.jsonc FAILING.jsonc SCHEMA.xsd}
schema=${4:?usage: junit_schema.sh EXO_SCENARIO PASSING.jsonc FAILING.jsonc SCHEMA.xsd}
fail() { echo "FAIL: $*"; exit 1; }

command -v xmllint >/dev/null ||
  fail "xmllint is not installed: apt-get install libxml2-utils (or scripts/install-deps.sh)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

set +e
"$bin" run -k --transport ews --junit "$tmp/junit.xml" "$passing" "$failing" >"$tmp/out" 2>&1; rc=$?
set -e
cat "$tmp/out"
[[ $rc == 1 ]] || fail "exit $rc, want 1 (one scenario passes, one fails)"
[[ -s $tmp/junit.xml ]] || fail "no JUnit file written"

xmllint --noout --schema "$schema" "$tmp/junit.xml" || {
  cat "$tmp/junit.xml"
  fail "the JUnit XML does not validate against $schema"
}
# The schema would also accept an empty suite: check that both cases are there, one failed.
[[ $(xmllint --xpath 'count(//testcase)' "$tmp/junit.xml") == 2 ]] || fail "want 2 testcases"
[[ $(xmllint --xpath 'count(//testcase/failure)' "$tmp/junit.xml") == 1 ]] || fail "want 1 failure"
[[ $(xmllint --xpath 'string(/testsuites/testsuite/@failures)' "$tmp/junit.xml") == 1 ]] ||
  fail "testsuite failures= is not 1"
# And the schema is no rubber stamp: a testcase without a name, or a time with a unit, is refused.
sed 's/<testcase classname="scenarios" name="[^"]*"/<testcase classname="scenarios"/' "$tmp/junit.xml" >"$tmp/bad1.xml"
sed 's/ time="\([0-9.]*\)"/ time="\1s"/' "$tmp/junit.xml" >"$tmp/bad2.xml"
for bad in "$tmp/bad1.xml" "$tmp/bad2.xml"; do
  if xmllint --noout --schema "$schema" "$bad" 2>/dev/null; then fail "the schema accepts $(basename "$bad")"; fi
done
echo "ok: $(basename "$schema") validates exo-scenario's JUnit XML"
