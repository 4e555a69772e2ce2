#!/usr/bin/env bash
# Interop driver (issue 5): the seed's steps 1-5.8 through exo-admin against exo-harness, then
# unmodified exchangelib against what they configured (tests/interop/ews/admin_policy_cases.py).
#
#   run-admin-interop.sh [BIN_DIR]
#
# BIN_DIR holds exo-harness and exo-admin (default: $EXO_BIN_DIR, else build/bin under the repo root).
#  1. Starts exo-harness (real clock, advanceable through its control API) with the mailboxes
#     adelev@ (to be the group member) and alexw@ (outside the group); waits for its ready JSON with a
#     blocking read of its stdout through a FIFO (no polling, no sleeping).
#  2. Runs docs/examples/seed-setup.ps1 through exo-admin, unchanged, plus one appended line that
#     prints the client secret (the seed's table cuts it to the console width); checks the outputs the
#     seed shows, as tests/exo-admin/seed_e2e.sh does.
#  3. Writes fixture.json and runs admin_policy_cases.py under /usr/bin/python3 with the harness CA.
# Exit status: 0 passed, 1 failed, 77 python3-exchangelib is missing (CTest skip).
# EXO_KEEP_TMP=1 keeps the directory (ready.json, fixture.json, exo-harness.log, setup output).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=${1:-${EXO_BIN_DIR:-$repo/build/bin}}
python=${EXO_SYSTEM_PYTHON:-/usr/bin/python3}

die() { echo "run-admin-interop: $*" >&2; exit 1; }
skip() {
  if [[ ${CI:-} == true ]]; then die "$* (CI=true: a missing client fails the run)"; fi
  echo "run-admin-interop: SKIP: $*" >&2; exit 77
}
for b in exo-harness exo-admin; do
  [[ -x $bin_dir/$b ]] || die "no $b in $bin_dir (build it: /tmp/exo-build $b, or ninja -C build $b)"
done
[[ -x $python ]] || skip "$python not found"
"$python" -c 'import exchangelib' 2>/dev/null || skip "python3-exchangelib is not installed for $python"

MEMBER=adelev@contoso.onmicrosoft.com
OUTSIDER=alexw@contoso.onmicrosoft.com
OTHER_APP_ID=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9   # "some other app" for the EWS allow list

tmp=$(mktemp -d "${TMPDIR:-/tmp}/exo-admin-interop.XXXXXX")
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [[ -n ${EXO_KEEP_TMP:-} ]]; then echo "run-admin-interop: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/setup.out "$tmp"/setup.err; do [[ -s $f ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done
  echo "--- exo-harness log (last 40 lines)" >&2
  tail -n 40 "$tmp/exo-harness.log" >&2 || true
  exit 1
}

# --- 1. exo-harness; its ready JSON on stdout is the readiness signal (it writes the file first).
# The real clock runs from a fixed start: past the allow list's required-from date (2026-10-10) and far
# from EWS's final cut-off (2027-04-01), whatever the machine's date, so the ~50 h of jumps below stay
# inside the calendar the test is about.
mkfifo "$tmp/stdout"
"$bin_dir/exo-harness" --ca-dir "$tmp/ca" --ready-file "$tmp/ready.json" --clock real \
  --start-time 2026-11-02T09:00:00Z \
  --mailbox "$MEMBER" --mailbox "$OUTSIDER" >"$tmp/stdout" 2>"$tmp/exo-harness.log" &
pid=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || fail "exo-harness did not become ready"
[[ -s $tmp/ready.json ]] || fail "exo-harness wrote no ready file"
read_ready() { "$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$tmp/ready.json" "$1"; }
ca=$(read_ready 'r["ca"]')
echo "== exo-harness ready: aad $(read_ready 'r["aad"]'), ews $(read_ready 'r["ews"]'), mailboxes $(read_ready '", ".join(r["mailboxes"])')"

# --- 2. The seed's steps 1-5.8, verbatim (docs/examples/seed-setup.ps1), and the secret for the client.
cp "$repo/docs/examples/seed-setup.ps1" "$tmp/seed-setup.ps1"
# shellcheck disable=SC2016  # PowerShell, not shell, expands this
printf '%s\n' 'Write-Host "CLIENT_SECRET: $($secret.SecretText)"' >>"$tmp/seed-setup.ps1"
echo "== seed steps 1-5.8: exo-admin --ready-file ready.json --script seed-setup.ps1 (docs/examples/seed-setup.ps1 + one Write-Host)"
"$bin_dir/exo-admin" --ready-file "$tmp/ready.json" --script "$tmp/seed-setup.ps1" \
  >"$tmp/setup.out" 2>"$tmp/setup.err" || fail "seed-setup.ps1: exo-admin exited $?"
grep -v '^CLIENT_SECRET: ' "$tmp/setup.out" | grep -v '^-\{88\}$' | sed -n '/^This V3 EXO/,/^Starting with EXO V3.7/!p' |
  cat -s | sed 's/^/   | /'
app_id=$(sed -n 's/^APPLICATION_ID (client id): //p' "$tmp/setup.out")
secret=$(sed -n 's/^CLIENT_SECRET: //p' "$tmp/setup.out")
[[ $app_id =~ ^[0-9a-f-]{36}$ ]] || fail "no application id printed"
[[ $secret =~ ^[A-Za-z0-9]{3}[0-9]Q~ ]] || fail "no client secret printed"
grep -q -- '-\{88\}' "$tmp/setup.out" || fail "Connect-ExchangeOnline banner missing"
grep -Eq "^EvenUsers +EvenUsers +Universal, SecurityEnabled +evenusers@contoso.onmicrosoft.com" \
  "$tmp/setup.out" || fail "New-DistributionGroup row missing"
grep -q "^AccessRight *: RestrictAccess" "$tmp/setup.out" || fail "New-ApplicationAccessPolicy: no RestrictAccess"
grep -q "^AppId *: $app_id" "$tmp/setup.out" || fail "New-ApplicationAccessPolicy: AppId"
results=$(sed -n 's/^AccessCheckResult *: //p' "$tmp/setup.out" | tr '\n' ' ')
[[ $results == "Granted Denied " ]] || fail "AccessCheckResult: got '$results', want 'Granted Denied '"
grep -q "Execution Policy Change" "$tmp/setup.err" || fail "no execution policy prompt (5.1)"
echo "ok: seed steps 1-5.8 through exo-admin: app $app_id registered, consented, secret issued;" \
  "New-ServicePrincipal, EvenUsers with $MEMBER, RestrictAccess policy;" \
  "Test-ApplicationAccessPolicy Granted ($MEMBER), Denied ($OUTSIDER)"

# --- 3. exchangelib against it.
cat /etc/ssl/certs/ca-certificates.crt "$ca" >"$tmp/ca-bundle.pem" 2>/dev/null || cat "$ca" >"$tmp/ca-bundle.pem"
"$python" - "$tmp" "$app_id" "$secret" "$MEMBER" "$OUTSIDER" "$OTHER_APP_ID" "$bin_dir/exo-admin" <<'PY'
import json, sys
tmp, app_id, secret, member, outsider, other, exo_admin = sys.argv[1:]
r = json.load(open(f"{tmp}/ready.json"))
tid = r["tenant"]["id"]
json.dump({"aad": r["aad"], "ews": r["ews"], "ewsControl": r["ewsControl"], "ca": r["ca"], "tenantId": tid,
           "tokenUrl": f"{r['aad']}/{tid}/oauth2/v2.0/token", "appId": app_id, "secret": secret,
           "member": member, "nonMember": outsider, "otherAppId": other,
           "exoAdmin": exo_admin, "readyFile": f"{tmp}/ready.json"}, open(f"{tmp}/fixture.json", "w"), indent=2)
PY
rc=0
env -u CURL_CA_BUNDLE EXO_INTEROP_FIXTURE="$tmp/fixture.json" REQUESTS_CA_BUNDLE="$tmp/ca-bundle.pem" \
  NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
  "$python" "$here/ews/admin_policy_cases.py" || rc=$?
if ((rc != 0)); then
  echo "--- exo-harness log (last 40 lines)" >&2
  tail -n 40 "$tmp/exo-harness.log" >&2 || true
  echo "run-admin-interop: FAILED" >&2
  exit 1
fi
echo "run-admin-interop: passed"
