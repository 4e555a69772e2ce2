#!/usr/bin/env bash
# exo-admin end to end: the seed's steps 1-5.8 (docs/examples/seed-setup.ps1) run through
# exo-admin against a running exo-harness, over HTTPS only: app registration, consent and secret
# through mock-aad's Graph subset; New-ServicePrincipal, a mail-enabled security group with a
# member, a RestrictAccess policy and Test-ApplicationAccessPolicy (Granted for the member,
# Denied for a non-member) through mock-ews's InvokeCommand. Then the seed's lines verbatim from
# standard input, whose last line carries the seed's typo: that line fails as PowerShell fails it.
set -euo pipefail
bin=${1:?usage: seed_e2e.sh BIN_DIR SEED_SCRIPT}
script=${2:?usage: seed_e2e.sh BIN_DIR SEED_SCRIPT}
tmp=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out "$tmp"/*.err; do [[ -f $f ]] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

# exo-harness prints its ready JSON on stdout once both servers serve: a blocking read of its
# first line through a FIFO is the readiness signal (no polling, no sleeping).
mkfifo "$tmp/stdout"
"$bin/exo-harness" --ca-dir "$tmp/ca" --ready-file "$tmp/ready.json" \
  --mailbox adelev@contoso.onmicrosoft.com --mailbox alexw@contoso.onmicrosoft.com \
  >"$tmp/stdout" 2>"$tmp/harness.log" &
pid=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || { cat "$tmp/harness.log"; fail "harness did not become ready"; }
[[ -s $tmp/ready.json ]] || fail "harness wrote no ready file"

admin=("$bin/exo-admin" --ready-file "$tmp/ready.json")

# 1. The whole setup script.
"${admin[@]}" --script "$script" >"$tmp/setup.out" 2>"$tmp/setup.err" ||
  fail "seed-setup.ps1 exited $?"
grep -q '^DisplayName  *Id  *AppId' "$tmp/setup.out" || fail "New-MgApplication table missing"
grep -Eq 'Office 365 Exchan|ServicePrincipal' "$tmp/setup.out" || fail "consent row missing"
grep -Eq '^.*Bizagi .*[A-Za-z0-9]{3}[0-9]Q~' "$tmp/setup.out" || fail "secret text not printed"
app_id=$(sed -n 's/^APPLICATION_ID (client id): //p' "$tmp/setup.out")
[[ $app_id =~ ^[0-9a-f-]{36}$ ]] || fail "no application id printed"
grep -q -- '-\{88\}' "$tmp/setup.out" || fail "Connect-ExchangeOnline banner missing"
grep -Eq "^EvenUsers +EvenUsers +Universal, SecurityEnabled +evenusers@contoso.onmicrosoft.com" \
  "$tmp/setup.out" || fail "New-DistributionGroup row missing"
grep -q "^AccessRight *: RestrictAccess" "$tmp/setup.out" || fail "policy list missing"
grep -q "^AppId *: $app_id" "$tmp/setup.out" || fail "policy AppId wrong"
results=$(sed -n 's/^AccessCheckResult *: //p' "$tmp/setup.out" | tr '\n' ' ')
[[ $results == "Granted Denied " ]] || fail "AccessCheckResult: got '$results', want 'Granted Denied '"
grep -q "Execution Policy Change" "$tmp/setup.err" || fail "no execution policy prompt"
echo "ok: seed-setup.ps1 (Entra steps 1-4, Exchange 5.1-5.8: Granted for the member, Denied otherwise)"

# 2. The same checks as JSON, the script read from standard input.
printf '%s\n' \
  "Connect-ExchangeOnline -UserPrincipalName admin@contoso.onmicrosoft.com" \
  "Test-ApplicationAccessPolicy -Identity adelev@contoso.onmicrosoft.com -AppId $app_id" \
  "Get-ServicePrincipal -Identity $app_id" |
  "${admin[@]}" --json >"$tmp/json.out" 2>"$tmp/json.err" || fail "json run exited $?"
python3 - "$tmp/json.out" "$app_id" <<'PY' || fail "json output"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines[0]["AccessCheckResult"] == "Granted", lines[0]
assert lines[1]["AppId"] == sys.argv[2], lines[1]
PY
grep -q -- '-\{88\}' "$tmp/json.out" && fail "banner on standard output with --json"
echo "ok: --json from standard input"

# 3. The seed's own lines, verbatim, with its typo in the last one.
cat >"$tmp/seed.ps1" <<PS1
Set-ExecutionPolicy RemoteSigned
Install-Module -Name ExchangeOnlineManagement
Import-Module ExchangeOnlineManagement
Connect-ExchangeOnline -UserPrincipalName admin@contoso.onmicrosoft.com
\$lc = Get-Credential
Connect-ExchangeOnline -Credential \$lc
Test-ApplicationAccessPolicy -Identity "<USER@your-domain.onmicrosoft.com>" -AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad
PS1
set +e
"${admin[@]}" --script "$tmp/seed.ps1" >"$tmp/seed.out" 2>"$tmp/seed.err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "the typo line: exit $rc, want 1"
grep -qF "Test-ApplicationAccessPolicy : A parameter cannot be found that matches parameter name 'AppIdad9b4ca0-9ed8-4c57-bd21-8e266ca24fad'." \
  "$tmp/seed.err" || fail "PowerShell's error for the typo missing"
grep -qF "$tmp/seed.ps1:7 char:77" "$tmp/seed.err" || fail "error position"
grep -qF "exo-admin: did you mean -AppId ad9b4ca0-9ed8-4c57-bd21-8e266ca24fad?" "$tmp/seed.err" ||
  fail "hint missing"
grep -q -- '-\{88\}' "$tmp/seed.out" || fail "banner missing in the verbatim run"
echo "ok: the seed's lines verbatim; the typo fails as PowerShell's NamedParameterNotFound"

# 4. A wrong password is Entra's error, and the line fails.
set +e
echo "Connect-ExchangeOnline -UserPrincipalName admin@contoso.onmicrosoft.com" |
  "${admin[@]}" --password wrong >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "wrong password: exit $rc"
grep -q "AADSTS50126" "$tmp/bad.err" || fail "wrong password: no AADSTS50126"
echo "ok: wrong password -> AADSTS50126, exit 1"
echo "4 passed, 0 failed"
