#!/usr/bin/env bash
# exo-harness end to end: both servers come up behind one ready file and one CA; a consented app
# gets a token from mock-aad that mock-ews accepts (GetFolder on the Inbox), and a request without
# a token is refused with Exchange's 401.
set -euo pipefail
bin=${1:?usage: harness_smoke.sh BIN_DIR}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
app=6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
secret=smk8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456
cat >"$tmp/world.json" <<JSON
{"tenants":[{"id":"3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01","displayName":"Contoso",
  "domains":["contoso.onmicrosoft.com"],
  "users":[{"userPrincipalName":"inbox@contoso.onmicrosoft.com","password":"Pw-12345-x","roles":[]}],
  "applications":[{"appId":"$app","displayName":"Smoke Daemon",
    "passwordCredentials":[{"secretText":"$secret"}],
    "appRoleAssignments":[{"resource":"https://outlook.office365.com","appRole":"full_access_as_app"}]}]}]}
JSON
# exo-harness writes the ready file, then prints the same JSON on stdout: a blocking read of its
# first line through a FIFO is the readiness signal (no polling).
mkfifo "$tmp/stdout"
"$bin/exo-harness" --world "$tmp/world.json" --ca-dir "$tmp/ca" --ready-file "$tmp/ready.json" \
  >"$tmp/stdout" 2>"$tmp/log" &
pid=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || { cat "$tmp/log"; echo "harness did not become ready"; exit 1; }
[[ -s $tmp/ready.json ]] || { cat "$tmp/log"; echo "harness printed no ready file"; exit 1; }
get() { python3 -c "import json; print(json.load(open('$tmp/ready.json'))$1)"; }
aad=$(get '["aad"]'); ews=$(get '["ews"]'); ca=$(get '["ca"]')

token=$(curl -sS --cacert "$ca" "$aad/contoso.onmicrosoft.com/oauth2/v2.0/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode client_id=$app \
  --data-urlencode "client_secret=$secret" \
  --data-urlencode scope=https://outlook.office365.com/.default |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

soap='<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<s:Header><t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>inbox@contoso.onmicrosoft.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>
<s:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>'
out=$(curl -sS --cacert "$ca" -H "Authorization: Bearer $token" -H 'Content-Type: text/xml; charset=utf-8' \
  -H 'X-AnchorMailbox: inbox@contoso.onmicrosoft.com' --data "$soap" -w '\n%{http_code}' "$ews")
code=${out##*$'\n'}
[[ $code == 200 ]] || { echo "GetFolder: HTTP $code"; echo "$out"; exit 1; }
grep -q 'ResponseClass="Success"' <<<"$out" || { echo "GetFolder did not succeed: $out"; exit 1; }
echo "ok: token from mock-aad accepted by mock-ews (GetFolder inbox)"

code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ca" --data "$soap" -H 'Content-Type: text/xml' "$ews")
[[ $code == 401 ]] || { echo "no token: expected 401, got $code"; exit 1; }
echo "ok: no token -> 401"
echo "1 passed, 0 failed"
