#!/usr/bin/env bash
# The load benchmark (a measurement, never a CI test): exo-harness (mock-aad and mock-ews in one
# process, real clock, HTTPS) under N concurrent kept-alive connections for D seconds per endpoint,
# driven by wrk from a second process:
#   token   POST {tenant}/oauth2/v2.0/token, client_credentials with a secret (a signed JWT each)
#   ews     POST /EWS/Exchange.asmx FindItem on the inbox, app-only with impersonation
#   graph   GET /v1.0/users/{mailbox}/messages?$top=10
# Reports per endpoint: requests, requests/s, latency percentiles, non-2xx answers and socket
# errors (wrk's connect/read/write/timeout), and of the harness process: threads, open descriptors
# and resident memory before, at the end of the load and after it (idle), so a descriptor leak or
# an unbounded pool or journal shows. JSON goes to build/bench/load.json.
# Exchange's throttling is lifted for the run (--throttling keeps it): it would answer most of the
# load with ErrorServerBusy/429 by design, and this measures the server, not the policy.
#   bench/load.sh [--connections 256] [--duration 60] [--only token,ews,graph] [--throttling]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}
connections=256 duration=60 only=token,ews,graph throttling=0
while (($#)); do
  case $1 in
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --throttling) throttling=1; shift ;;
    *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
"$repo/scripts/install-deps.sh" --load
[[ -x $build/bin/exo-harness ]] || "$repo/scripts/build.sh" exo-harness

tmp=$(mktemp -d)
harness=
cleanup() {
  [[ -n $harness ]] && { kill "$harness" 2>/dev/null || true; wait "$harness" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT

app=6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
tenant=3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01
secret=LoD8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456
mailbox=load@contoso.onmicrosoft.com
cat >"$tmp/world.json" <<JSON
{"tenants":[{"id":"$tenant","displayName":"Contoso","domains":["contoso.onmicrosoft.com"],
  "users":[{"userPrincipalName":"$mailbox","password":"Pw-12345-x","roles":[]}],
  "applications":[{"appId":"$app","displayName":"Load",
    "passwordCredentials":[{"secretText":"$secret"}],
    "appRoleAssignments":[
      {"resource":"https://outlook.office365.com","appRole":"full_access_as_app"},
      {"resource":"https://graph.microsoft.com","appRole":"Mail.ReadWrite"}]}]}]}
JSON
mkfifo "$tmp/stdout"
"$build/bin/exo-harness" --world "$tmp/world.json" --ca-dir "$tmp/ca" \
  --ready-file "$tmp/ready.json" --log-level warn >"$tmp/stdout" 2>"$tmp/harness.log" &
harness=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || { cat "$tmp/harness.log"; echo "load.sh: harness not ready" >&2; exit 1; }
get() { python3 -c "import json; print(json.load(open('$tmp/ready.json'))$1)"; }
aad=$(get '["aad"]'); ews=$(get '["ews"]'); ca=$(get '["ca"]'); control=$(get '["ewsControl"]')
graph=$(get '.get("graph", "")')
[[ -n $graph ]] || graph=${ews%/EWS/Exchange.asmx}

token() {  # a token for $1 (resource)
  curl -sf --cacert "$ca" -d "grant_type=client_credentials&client_id=$app" \
    --data-urlencode "client_secret=$secret" --data-urlencode "scope=$1/.default" \
    "$aad/$tenant/oauth2/v2.0/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
ews_token=$(token https://outlook.office365.com)
graph_token=$(token https://graph.microsoft.com)
# A few messages so FindItem and the Graph list answer with content.
for i in 1 2 3 4 5; do
  curl -sf --cacert "$ca" -H 'Content-Type: application/json' \
    -d "{\"from\":\"sender@fabrikam.com\",\"to\":\"$mailbox\",\"subject\":\"Load $i\",\"body\":\"hello\"}" \
    "$control/mailboxes/$mailbox/deliver" >/dev/null ||
    echo "load.sh: warning: could not deliver through $control/mailboxes/$mailbox/deliver" >&2
done

if ((!throttling)); then
  curl -sf --cacert "$ca" -X PUT -H 'Content-Type: application/json' \
    -d '{"maxConcurrency":100000,"maxConcurrentSync":100000,"budgetEnabled":false}' \
    "$control/throttling" >/dev/null
  curl -sf --cacert "$ca" -X PUT -H 'Content-Type: application/json' \
    -d '{"maxConcurrency":100000,"maxRequests":100000000}' "$control/graph/throttling" >/dev/null
fi

proc() {  # threads fds rss_kb hwm_kb of the harness
  local threads rss hwm fds
  threads=$(awk '/^Threads:/{print $2}' "/proc/$harness/status")
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$harness/status")
  hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$harness/status")
  fds=$(ls "/proc/$harness/fd" | wc -l)
  echo "{\"threads\":$threads,\"fds\":$fds,\"rssKb\":$rss,\"peakRssKb\":$hwm}"
}

# wrk's Lua: the method, body and headers, and a done() that prints JSON for this script.
lua() {  # method body-file header...
  local method=$1 body=$2
  shift 2
  {
    echo "wrk.method = \"$method\""
    [[ -n $body ]] && echo "wrk.body = io.open(\"$body\"):read(\"*a\")"
    for h in "$@"; do echo "wrk.headers[\"${h%%:*}\"] = \"${h#*: }\""; done
    cat <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, string.format('"%d":%d', status, n)) end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"requestsPerSecond":%.1f,"p50Ms":%.2f,"p99Ms":%.2f,' ..
    '"maxMs":%.2f,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,' ..
    '"non2xx":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status, table.concat(parts, ",")))
end
LUA
  } >"$tmp/script.lua"
}

cat >"$tmp/finditem.xml" <<XML
<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>$mailbox</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body><m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem></s:Body></s:Envelope>
XML
printf 'grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s' "$app" \
  "$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$secret")" \
  "https%3A%2F%2Foutlook.office365.com%2F.default" >"$tmp/token.form"

results=()
before=$(proc)
threads=$(nproc)
for what in ${only//,/ }; do
  case $what in
    token)
      lua POST "$tmp/token.form" "Content-Type: application/x-www-form-urlencoded"
      url="$aad/$tenant/oauth2/v2.0/token" ;;
    ews)
      lua POST "$tmp/finditem.xml" "Content-Type: text/xml; charset=utf-8" \
        "Authorization: Bearer $ews_token" "X-AnchorMailbox: $mailbox"
      url=$ews ;;
    graph)
      lua GET "" "Authorization: Bearer $graph_token"
      url="$graph/v1.0/users/$mailbox/messages?\$top=10" ;;
    *) echo "load.sh: unknown endpoint $what" >&2; exit 2 ;;
  esac
  echo "load: $what, $connections connections, ${duration}s: $url" >&2
  # wrk prints its own summary first; the script's JSON line is the last.
  wrk -t "$threads" -c "$connections" -d "${duration}s" --timeout 10s -s "$tmp/script.lua" "$url" \
    >"$tmp/wrk.$what.out" 2>&1 || true
  line=$(grep '^{' "$tmp/wrk.$what.out" | tail -1)
  [[ -n $line ]] || { cat "$tmp/wrk.$what.out" >&2; echo "load.sh: wrk failed" >&2; exit 1; }
  under=$(proc)
  results+=("\"$what\":{\"wrk\":$line,\"harnessUnderLoad\":$under}")
done
# Idle again: kept-alive connections are gone once wrk exits; give the server's threads the time
# its keep-alive and read timeouts allow to notice (bounded by those, not a tuning of the mock).
python3 - "$harness" <<'PY'
import os, sys, time
pid = sys.argv[1]
deadline = time.monotonic() + 40
while time.monotonic() < deadline:
    if len(os.listdir(f"/proc/{pid}/fd")) < 64: break
    time.sleep(0.5)
PY
after=$(proc)
mkdir -p "$build/bench"
{
  echo "{\"connections\":$connections,\"durationSeconds\":$duration,\"harnessBefore\":$before,"
  echo "\"harnessAfter\":$after,$(IFS=,; echo "${results[*]}")}"
} | python3 -m json.tool | tee "$build/bench/load.json"
