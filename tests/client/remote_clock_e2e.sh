#!/usr/bin/env bash
# exo-mailbox on the harness's simulated time, out of process, as exo-scenario drives a user's
# client: exo-harness --clock simulated; exo-mailbox monitor --clock-url --events in the
# background; a message delivered through the control API; time moved by a small driver loop that
# advances the clock only when the client is idle (a "monitor" wait for a later time listed, and
# no request being worked on on either server) and then exactly to that wait's untilMs. The
# "handed" event proves the client synced on the harness's time; SIGTERM ends its wait at once.
# Usage: remote_clock_e2e.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: remote_clock_e2e.sh BIN_DIR}
tmp=$(mktemp -d)
harness=; monitor=
cleanup() {
  [[ -n $monitor ]] && { kill -KILL "$monitor" 2>/dev/null || true; wait "$monitor" 2>/dev/null || true; }
  [[ -n $harness ]] && { kill "$harness" 2>/dev/null || true; wait "$harness" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- events"; cat "$tmp/events.jsonl" 2>/dev/null || true
  echo "--- exo-mailbox stderr"; tail -n 40 "$tmp/monitor.err" 2>/dev/null || true
  echo "--- exo-harness stderr"; tail -n 20 "$tmp/harness.log" 2>/dev/null || true
  exit 1
}

app=6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
tenant=3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01
secret=smk8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456
mailbox=inbox@contoso.onmicrosoft.com
cat >"$tmp/world.json" <<JSON
{"tenants":[{"id":"$tenant","displayName":"Contoso",
  "domains":["contoso.onmicrosoft.com"],
  "users":[{"userPrincipalName":"$mailbox","password":"Pw-12345-x","roles":[]}],
  "applications":[{"appId":"$app","displayName":"Remote Daemon",
    "passwordCredentials":[{"secretText":"$secret"}],
    "appRoleAssignments":[{"resource":"https://outlook.office365.com","appRole":"full_access_as_app"}]}]}]}
JSON

# The harness prints its ready JSON once both servers serve: a blocking read through a FIFO.
mkfifo "$tmp/stdout"
"$bin/exo-harness" --clock simulated --start-time 2027-03-01T08:00:00Z --world "$tmp/world.json" \
  --ca-dir "$tmp/ca" --ready-file "$tmp/ready.json" >"$tmp/stdout" 2>"$tmp/harness.log" &
harness=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || fail "the harness did not become ready"
get() { python3 -c "import json; print(json.load(open('$tmp/ready.json'))$1)"; }
aad=$(get '["aad"]'); ews=$(get '["ews"]'); ca=$(get '["ca"]')
control=$(get '["control"]'); ews_control=$(get '["ewsControl"]')

cat >"$tmp/scheduler.config" <<XML
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
    <add key="EmailIntegrationStateDir" value="$tmp"/>
  </appSettings>
</configuration>
XML
echo "$secret" | "$bin/exo-mailbox" protect-secret --key-file "$tmp/secret.key" --new-key \
  --config "$tmp/scheduler.config" >/dev/null || fail "protect-secret"

"$bin/exo-mailbox" monitor --config "$tmp/scheduler.config" --out-dir "$tmp/out" \
  --no-notifications --poll-interval 60 --clock-url "$control" --events "$tmp/events.jsonl" \
  >"$tmp/monitor.out" 2>"$tmp/monitor.err" &
monitor=$!

# The driver: idle = a "monitor" wait for a later time on some server, and on every server
# nothing in flight that is not parked on the clock. `drive idle` waits for that once; `drive
# handed` advances to each idle wake-up until a "handed" event appears. Real time only paces the
# reads and bounds a hang; it decides nothing.
drive() {
  python3 - "$1" "$ca" "$tmp/events.jsonl" "$monitor" "$control" "$ews_control" <<'PY'
import json, os, ssl, sys, time, urllib.request
goal, ca, events, pid, *controls = sys.argv[1:]
ctx = ssl.create_default_context(cafile=ca)

def call(url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"},
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.load(r)

def handed():
    if not os.path.exists(events):
        return []
    lines = open(events).read().split("\n")[:-1]  # the last one may still be being written
    return [e for e in map(json.loads, lines) if e["event"] == "handed"]

advances = 0
limit = time.monotonic() + 60
while time.monotonic() < limit:
    if goal == "handed" and handed():
        print(json.dumps({"advances": advances, "handed": handed()}))
        sys.exit(0)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        sys.exit("exo-mailbox exited")
    clocks = [call(c + "/clock") for c in controls]
    busy = any(c["inFlight"] > c["parked"] for c in clocks)
    waits = [w for c in clocks for w in c["waiting"]
             if w["who"] == "monitor" and w["untilMs"] > c["monotonicMs"]]
    if not busy and waits:
        until = min(w["untilMs"] for w in waits)
        if goal == "idle":
            print(json.dumps({"untilMs": until, "clocks": clocks}))
            sys.exit(0)
        call(controls[0] + "/clock/advance", {"toMs": until})
        advances += 1
        continue
    # No sleep: the next GET /clock is the wait (each read is a round trip to the harness).
sys.exit("no progress within 60 s of real time; last seen: " + json.dumps(clocks))
PY
}

idle=$(drive idle) || fail "the monitor never waited on the harness clock"
python3 -c "import json,sys; j=json.loads(sys.argv[1]); assert j['untilMs']==60000, j" "$idle" ||
  fail "the first wait should be one poll interval (60 s) ahead: $idle"
echo "ok: the monitor waits on the harness clock until t=60000 ms"

curl -sS --fail --cacert "$ca" -H 'Content-Type: application/json' \
  -d '{"from":"sender@contoso.onmicrosoft.com","subject":"Remote hello","body":"hi"}' \
  "$ews_control/mailboxes/$mailbox/deliver" >/dev/null || fail "deliver"
out=$(drive handed) || fail "the message was never handed"
python3 - "$out" <<'PY' || fail "unexpected hand-over: $out"
import json, sys
j = json.loads(sys.argv[1])
assert j["advances"] >= 1, j
(h,) = j["handed"]
assert h["subject"] == "Remote hello" and h["key"] and h["internetMessageId"], h
PY
ls "$tmp/out"/*.eml >/dev/null || fail "no .eml written by --out-dir"
echo "ok: handed after the runner advanced the clock: $out"

# SIGTERM ends the monitor's long poll at once (Notify -> cancel): it exits 0 with a "stopped"
# status, and the harness lists no wait of it any more.
kill -TERM "$monitor"
code=0; wait "$monitor" || code=$?
monitor=
[[ $code == 0 ]] || fail "exo-mailbox exited $code after SIGTERM"
python3 - "$tmp/events.jsonl" <<'PY' || fail "status events"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
phases = [e["phase"] for e in events if e["event"] == "status"]
assert phases[0] == "starting" and "healthy" in phases and phases[-1] == "stopped", phases
last = [e for e in events if e["event"] == "status"][-1]
assert last["handed"] == 1 and last["error"] is None, last
PY
waiting=$(curl -sS --cacert "$ca" "$control/clock" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["waiting"]))')
[[ $waiting == 0 ]] || fail "the harness still lists $waiting waits after the client stopped"
echo "ok: SIGTERM ended the wait; status events starting .. healthy .. stopped"
echo "3 passed, 0 failed"
