#!/usr/bin/env bash
# Record and replay end to end: exo-mailbox fetch --record against a running exo-harness writes a
# cassette with no secret and no real token in it; exo-scenario replay serves it back to the real
# client (exit 0, the same messages handed); a tampered cassette stops with the divergence (exit
# 1), one cut short says what the client asked beyond it (exit 1), a recorded connection reset is
# reproduced, and a file that is no cassette is refused (exit 2).
# Usage: replay_test.sh BIN_DIR [KEEP_DIR]  (KEEP_DIR: copy the recorded cassettes there)
set -euo pipefail
bin=${1:?usage: replay_test.sh BIN_DIR [KEEP_DIR]}
keep=${2:-}
tmp=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && { kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out "$tmp"/*.err; do [[ -f $f ]] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

app=6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
tenant=3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01
secret='Rpl8Q~replay-test-secret-value-0123456789ab'
mailbox=monitor@contoso.com
cat >"$tmp/world.json" <<JSON
{"tenants": [{"id": "$tenant", "displayName": "Contoso",
  "domains": ["contoso.onmicrosoft.com", "contoso.com"],
  "users": [{"userPrincipalName": "admin@contoso.onmicrosoft.com", "password": "Replay-Admin-Pa55!",
             "roles": ["Global Administrator"]}],
  "applications": [{"appId": "$app", "displayName": "Replay Daemon",
    "passwordCredentials": [{"secretText": "$secret", "startDateTime": "-1d", "endDateTime": "+180d"}],
    "appRoleAssignments": [{"resource": "https://outlook.office365.com", "appRole": "full_access_as_app"}]}]}]}
JSON

# exo-harness prints its ready JSON on stdout once both servers serve: a blocking read of its
# first line through a FIFO is the readiness signal (no polling, no sleeping).
mkfifo "$tmp/stdout"
"$bin/exo-harness" --world "$tmp/world.json" --ca-dir "$tmp/ca" --ready-file "$tmp/ready.json" \
  --mailbox $mailbox >"$tmp/stdout" 2>"$tmp/harness.log" &
pid=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || { cat "$tmp/harness.log"; fail "harness did not become ready"; }
get() { python3 -c "import json; print(json.load(open('$tmp/ready.json'))$1)"; }
aad=$(get '["aad"]'); ews=$(get '["ews"]'); ews_control=$(get '["ewsControl"]'); ca=$(get '["ca"]')

deliver() {
  curl -sS --fail --cacert "$ca" -H 'Content-Type: application/json' \
    -d "{\"from\": \"sender@contoso.com\", \"to\": \"$mailbox\", \"subject\": \"$1\", \"body\": \"Body of $1\"}" \
    "$ews_control/mailboxes/$mailbox/deliver" >/dev/null
}

# The scheduler's .config, the secret protected as an operator does it.
config() {  # config FILE STATE_DIR
  cat >"$1" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="EmailIntegrationIdApp" value="$app"/>
    <add key="EmailIntegrationTenantId" value="$tenant"/>
    <add key="EmailIntegrationWebmailDefault" value="https://outlook.office365.com/.default"/>
    <add key="EmailIntegrationMailbox" value="$mailbox"/>
    <add key="EmailIntegrationConnectionType" value="Exchange"/>
    <add key="EmailIntegrationAuthority" value="$aad"/>
    <add key="EmailIntegrationEwsUrl" value="$ews"/>
    <add key="EmailIntegrationCaBundle" value="$ca"/>
    <add key="EmailIntegrationStateDir" value="$2"/>
  </appSettings>
</configuration>
XML
  mkdir -p "$2"
  printf '%s\n' "$secret" | "$bin/exo-mailbox" protect-secret --key-file "$tmp/secret.key" \
    --config "$1" >/dev/null
}
printf '%s\n' "$secret" | "$bin/exo-mailbox" protect-secret --key-file "$tmp/secret.key" --new-key >/dev/null
config "$tmp/scheduler.config" "$tmp/state"

# 1. Record a real session.
deliver "Order 1001"
deliver "Order 1002"
"$bin/exo-mailbox" fetch --config "$tmp/scheduler.config" --out-dir "$tmp/mail" \
  --record "$tmp/session.json" >"$tmp/fetch.out" 2>"$tmp/fetch.err" || fail "fetch --record exited $?"
grep -q "recording to $tmp/session.json" "$tmp/fetch.err" || fail "fetch did not say where it records"
[[ $(ls "$tmp/mail" | wc -l) == 2 ]] || fail "fetch wrote $(ls "$tmp/mail" | wc -l) messages, want 2"
python3 - "$tmp/session.json" <<'PY' || fail "the cassette's shape"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["format"] == "exo-cassette" and c["version"] == 1, c
assert c["client"].startswith("ExoHarness-client/"), c["client"]
assert c["recordedAt"].endswith("Z"), c["recordedAt"]
ats = [e["at"] for e in c["exchanges"]]
assert ats[0] == 0 and ats == sorted(ats), ats
assert all("response" in e for e in c["exchanges"])
PY
ok "fetch --record wrote a cassette of $(python3 -c "import json; print(len(json.load(open('$tmp/session.json'))['exchanges']))" ) exchanges"

# 2. No secret and no real token in it. The harness's journals redact tokens, so a token of the
# same app from the same issuer stands in for the client's: its header (issuer key) and its whole
# text must be absent, and every JWT-shaped text in the cassette must be an unsigned placeholder.
grep -qF -- "$secret" "$tmp/session.json" && fail "the client secret is in the cassette"
grep -qF -- "$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$secret")" \
  "$tmp/session.json" && fail "the percent-encoded secret is in the cassette"
real_token=$(curl -sS --fail --cacert "$ca" "$aad/$tenant/oauth2/v2.0/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode client_id=$app \
  --data-urlencode "client_secret=$secret" --data-urlencode scope=https://outlook.office365.com/.default |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[[ $real_token == *.*.* ]] || fail "no token from the harness"
grep -qF -- "$real_token" "$tmp/session.json" && fail "an access token is in the cassette"
grep -qF -- "${real_token%%.*}." "$tmp/session.json" && fail "a token signed by the issuer is in the cassette"
grep -q 'Bearer <scrubbed>' "$tmp/session.json" || fail "no scrubbed Authorization header"
grep -q 'client_secret=%3Cscrubbed%3E' "$tmp/session.json" || fail "no scrubbed client_secret"
python3 - "$tmp/session.json" <<'PY' || fail "a JWT in the cassette is not a placeholder"
import base64, json, re, sys
text = open(sys.argv[1]).read()
found = re.findall(r'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*', text)
assert found, "the token answer lost its access_token"
for jwt in found:
    head, payload, sig = jwt.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert header["alg"] == "none" and sig == "scrubbed", (header, sig)
    assert "full_access_as_app" in claims.get("roles", []) and claims["exp"] > claims["iat"], claims
PY
grep -q 'Order 1001' "$tmp/session.json" || fail "mail contents are not kept"
ok "no secret, no real token; Authorization, client_secret and tokens scrubbed; mail kept"

# 3. Replay: the whole cassette consumed in order, the same messages handed.
"$bin/exo-scenario" replay "$tmp/session.json" >"$tmp/replay.out" 2>"$tmp/replay.err" ||
  fail "replay exited $?"
grep -q '^OK: the client consumed the whole cassette in order' "$tmp/replay.out" || fail "no OK verdict"
grep -Eq '^\[[0-9]+/[0-9]+\] \+00:00:0[0-9.]+ POST /EWS/Exchange.asmx SyncFolderItems → 200$' \
  "$tmp/replay.out" || fail "no exchange line for SyncFolderItems"
grep -q '^client healthy handed=2 ' "$tmp/replay.out" || fail "the client's final status"
grep -q '^last error: none' "$tmp/replay.out" || fail "a last error after a clean replay"
replayed=$(sed -n 's/^    handed "\(.*\)" .*/\1/p' "$tmp/replay.out" | sort)
recorded=$(for f in "$tmp"/mail/*.eml; do sed -n 's/^Subject: //p' "$f" | tr -d '\r'; done | sort)
[[ -n $recorded && $replayed == "$recorded" ]] ||
  fail "handed in replay: [$replayed], recorded: [$recorded]"
ok "replay consumed the cassette and handed the same messages ($(echo $replayed | tr '\n' ' '))"

"$bin/exo-scenario" replay --config "$tmp/scheduler.config" "$tmp/session.json" >"$tmp/with-config.out" \
  2>"$tmp/with-config.err" || fail "replay --config exited $?"
grep -q "(from $tmp/scheduler.config)" "$tmp/with-config.out" || fail "--config not used"
ok "replay --config with the real .config"

# 4. Tampered: one exchange removed, an operation changed.
python3 - "$tmp/session.json" "$tmp" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
ops = [e["request"].get("body", "") for e in c["exchanges"]]
get_item = next(i for i, b in enumerate(ops) if "<m:GetItem" in b)
removed = dict(c, exchanges=c["exchanges"][:get_item] + c["exchanges"][get_item + 1:])
json.dump(removed, open(sys.argv[2] + "/removed.json", "w"))
sync = next(i for i, b in enumerate(ops) if "<m:SyncFolderItems" in b)
changed = json.loads(json.dumps(c))
changed["exchanges"][sync]["request"]["body"] = ops[sync].replace("SyncFolderItems", "FindItem")
json.dump(changed, open(sys.argv[2] + "/changed.json", "w"))
short = dict(c, exchanges=c["exchanges"][:-1])
json.dump(short, open(sys.argv[2] + "/short.json", "w"))
open(sys.argv[2] + "/positions", "w").write(f"{get_item + 1} {sync + 1} {len(c['exchanges'])}\n")
PY
read -r get_item sync total <"$tmp/positions"
expect_exit() {  # expect_exit CODE NAME ARGS...
  local want=$1 name=$2 rc=0
  shift 2
  "$bin/exo-scenario" replay "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
  [[ $rc == "$want" ]] || fail "$name: exit $rc, want $want"
}
expect_exit 1 removed "$tmp/removed.json"
want="exchange $get_item: the client sent POST /EWS/Exchange.asmx GetItem, the cassette has UpdateItem"
grep -qF "$want" "$tmp/removed.err" || fail "removed: no '$want' in $(cat "$tmp/removed.err")"
grep -qF "FAILED: $want" "$tmp/removed.out" || fail "removed: no FAILED line"
expect_exit 1 changed "$tmp/changed.json"
want="exchange $sync: the client sent POST /EWS/Exchange.asmx SyncFolderItems, the cassette has FindItem"
grep -qF "$want" "$tmp/changed.err" || fail "changed: no '$want' in $(cat "$tmp/changed.err")"
expect_exit 1 short "$tmp/short.json"
want="the cassette ended after exchange $((total - 1)); the client went on with POST /EWS/Exchange.asmx UpdateItem"
grep -qF "$want" "$tmp/short.err" || fail "short: no '$want' in $(cat "$tmp/short.err")"
ok "tampered cassettes: exit 1 naming the divergence, or the request beyond the end"

# 5. A connection reset recorded (a mock-kit fault on SyncFolderItems) is reproduced.
curl -sS --fail --cacert "$ca" -H 'Content-Type: application/json' \
  -d '{"path": "/EWS/Exchange.asmx", "bodyContains": "SyncFolderItems", "reset": true, "times": 1}' \
  "$ews_control/faults" >/dev/null
deliver "Order 1003"
rc=0
"$bin/exo-mailbox" fetch --config "$tmp/scheduler.config" --out-dir "$tmp/mail" \
  --record "$tmp/reset.json" >"$tmp/reset-fetch.out" 2>"$tmp/reset-fetch.err" || rc=$?
[[ $rc == 5 ]] || fail "fetch across a reset: exit $rc, want 5"
python3 - "$tmp/reset.json" <<'PY' || fail "the reset is not recorded as an error"
import json, sys
last = json.load(open(sys.argv[1]))["exchanges"][-1]
assert "response" not in last and last["error"]["code"] == "HTTP transport", last
PY
"$bin/exo-scenario" replay "$tmp/reset.json" >"$tmp/reset.out" 2>"$tmp/reset.err" ||
  fail "replay of the reset exited $?"
grep -q 'SyncFolderItems → connection closed (recorded: HTTP transport' "$tmp/reset.out" ||
  fail "the reset is not replayed"
grep -q '^last error: HTTP transport (transient)' "$tmp/reset.out" || fail "the client's last error"
ok "a recorded connection reset is reproduced by closing the connection"

# 6. Not a cassette: exit 2 with a clear error.
echo 'garbage' >"$tmp/garbage.json"
expect_exit 2 garbage "$tmp/garbage.json"
grep -q 'garbage.json: not JSON: parse error at line 1, column 1' "$tmp/garbage.err" || fail "garbage message"
echo '{"format": "exo-cassette", "version": 7}' >"$tmp/future.json"
expect_exit 2 future "$tmp/future.json"
grep -q 'version 7 is not supported' "$tmp/future.err" || fail "version message"
python3 -c "
import json; c = json.load(open('$tmp/session.json')); del c['exchanges'][1]['request']['url']
json.dump(c, open('$tmp/nourl.json', 'w'))"
expect_exit 2 nourl "$tmp/nourl.json"
grep -q 'nourl.json: exchanges\[1\].request.url is missing' "$tmp/nourl.err" || fail "missing-field message"
expect_exit 2 absent "$tmp/absent.json"
ok "garbage, another version and a missing field: exit 2 naming the problem"

if [[ -n $keep ]]; then
  mkdir -p "$keep"
  cp "$tmp/session.json" "$keep/fetch_two_messages.json"
  cp "$tmp/reset.json" "$keep/sync_connection_reset.json"
fi
echo "$passed passed, 0 failed"
