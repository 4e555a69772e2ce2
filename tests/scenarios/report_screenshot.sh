#!/usr/bin/env bash
# exo-scenario's --report as a person sees it: a few small library scenarios into one HTML
# report, rendered by headless Chromium into a PNG, which must be a real picture (PNG signature,
# the window's size, more than a blank page's bytes). The picture and the page are kept as
# BUILD_DIR/reports/report.{png,html} to look at. Without Chromium the test fails saying how to
# install it, unless EXO_SKIP_CHROMIUM=1 (then it is reported skipped).
set -euo pipefail
usage="usage: report_screenshot.sh EXO_SCENARIO BUILD_DIR SCENARIO.jsonc..."
bin=${1:?$usage}
build=${2:?$usage}
shift 2
(($# > 0)) || { echo "$usage"; exit 2; }
fail() { echo "FAIL: $*"; exit 1; }
width=1400 height=2000

chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium ]]; then
  if [[ ${EXO_SKIP_CHROMIUM:-} == 1 ]]; then
    echo "SKIP: chromium is not installed (EXO_SKIP_CHROMIUM=1)"
    exit 77
  fi
  fail "chromium is not installed: apt-get install chromium (or scripts/install-deps.sh);" \
       "EXO_SKIP_CHROMIUM=1 skips this test"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set +e
"$bin" run -k --report "$tmp/report.html" "$@" >"$tmp/out" 2>&1; rc=$?
set -e
cat "$tmp/out"
[[ $rc == 0 || $rc == 1 ]] || fail "exo-scenario exited $rc"
grep -q "^report: $tmp/report.html\$" "$tmp/out" || fail "no 'report: FILE' line"
runs=$(sed -nE 's/^running ([0-9]+) scenario.*/\1/p' "$tmp/out")  # a file may run over EWS and Graph
[[ $(grep -c '<svg' "$tmp/report.html") == "$runs" ]] || fail "want one timeline per scenario run ($runs)"

# Chromium as root needs --no-sandbox; a fresh HOME and profile keep it off the user's own, and
# /dev/shm in containers is often too small.
mkdir -p "$tmp/home"
set +e
HOME=$tmp/home timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
  --disable-dev-shm-usage --hide-scrollbars --no-first-run --user-data-dir="$tmp/profile" \
  --window-size=$width,$height --screenshot="$tmp/report.png" "file://$tmp/report.html" \
  >"$tmp/chromium.log" 2>&1
rc=$?
set -e
[[ $rc == 0 && -f $tmp/report.png ]] || {
  tail -n 20 "$tmp/chromium.log"
  fail "chromium exited $rc without a screenshot"
}

[[ $(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
  fail "report.png has no PNG signature"
# IHDR: width and height, big-endian, at bytes 16..23.
size=$(od -An -tu1 -j16 -N8 "$tmp/report.png" |
  awk '{print ($1*16777216+$2*65536+$3*256+$4) "x" ($5*16777216+$6*65536+$7*256+$8)}')
[[ $size == "${width}x${height}" ]] || fail "report.png is $size, want ${width}x${height}"
bytes=$(stat -c %s "$tmp/report.png")
((bytes > 20000)) || fail "report.png is $bytes bytes: a blank page?"

mkdir -p "$build/reports"
cp "$tmp/report.png" "$tmp/report.html" "$build/reports/"
echo "ok: $build/reports/report.png ($size, $bytes bytes)"
