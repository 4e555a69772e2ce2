#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the scenario suite end to end
# (scenarios/library: the real client against mock-aad and mock-ews on simulated time), writing
# its HTML report, JUnit report and transcripts under build/reports/; the exit code is the suite's.
#   scripts/run.sh [exo-scenario options]   e.g. --filter hybrid, --seed 7
#   scripts/run.sh --serve [--once]         instead: start exo-harness, self-check, print its
#                                           endpoints, serve until Ctrl-C (--once: stop after
#                                           the check)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EXO_BUILD_DIR:-$repo/build}
serve=0 once=0
if [[ ${1:-} == --serve ]]; then
  serve=1
  shift
  [[ ${1:-} == --once ]] && once=1
fi

"$repo/scripts/install-deps.sh"
"$repo/scripts/build.sh"

if ((!serve)); then
  reports=$build/reports
  rm -rf "$reports/transcripts"
  mkdir -p "$reports"
  status=0
  (cd "$repo" && "$build/bin/exo-scenario" run -j "$(nproc)" -k --junit "$reports/scenarios.xml" \
    --report "$reports/scenarios.html" --transcript "$reports/transcripts" \
    --golden scenarios/golden "$@" scenarios/library) ||
    status=$?
  echo
  echo "HTML report:  $reports/scenarios.html (a timeline picture per scenario; open it in a browser)"
  echo "JUnit report: $reports/scenarios.xml"
  echo "Transcripts:  $reports/transcripts/ (one per scenario, on simulated time)"
  exit $status
fi

state=$(mktemp -d -t exoharness-XXXXXX)
ready=$state/ready.json
# exo-harness writes the ready file, then prints the same JSON: a blocking read of its first line
# through a FIFO is the readiness signal (bounded; EOF if the harness dies first).
mkfifo "$state/stdout"
"$build/bin/exo-harness" --ready-file "$ready" --ca-dir "$state/ca" >"$state/stdout" \
  2>"$state/harness.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$state"' EXIT
exec 3<"$state/stdout"
if ! read -r -t 60 -u 3 _ || [[ ! -s $ready ]]; then
  cat "$state/harness.log" >&2
  echo "run: exo-harness did not become ready" >&2
  exit 1
fi

field() { python3 -c "import json,sys; d=json.load(open('$ready')); print($1)"; }
aad=$(field 'd["aad"]'); ca=$(field 'd["ca"]'); tid=$(field 'd["tenant"]["id"]')
upn=$(field 'd["admin"]["upn"]'); pw=$(field 'd["admin"]["password"]')
ews=$(field 'd["ews"]'); mailboxes=$(field '", ".join(d["mailboxes"])')

# Self-check: the Global Administrator signs in as Connect-ExchangeOnline -Credential would.
status=$(curl -sS -o "$state/token.json" -w '%{http_code}' --cacert "$ca" \
  "$aad/$tid/oauth2/v2.0/token" \
  --data-urlencode grant_type=password --data-urlencode client_id=fb78d390-0c51-40cd-8e17-fdbfab77341b \
  --data-urlencode "username=$upn" --data-urlencode "password=$pw" \
  --data-urlencode scope=https://outlook.office365.com/.default)
[[ $status == 200 ]] || { echo "run: token self-check failed (HTTP $status)" >&2; cat "$state/token.json" >&2; exit 1; }
# And EWS answers as Exchange does to a request without a token: 401 with a Bearer challenge.
ews_status=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ca" -X POST -H 'Content-Type: text/xml' \
  --data '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>' "$ews")
[[ $ews_status == 401 ]] || { echo "run: EWS self-check failed (HTTP $ews_status)" >&2; exit 1; }

cat <<INFO
ExoHarness is up.
  Entra ID (mock-aad): $aad/$tid          (OIDC: $aad/$tid/v2.0/.well-known/openid-configuration)
  Exchange (mock-ews): $ews
  Mailboxes:           $mailboxes
  Control API:         $aad/_exo           (clock, faults, journal, state; EWS: $(field 'd["ewsControl"]'))
  Harness CA:          $ca
                       export NODE_EXTRA_CA_CERTS=$ca REQUESTS_CA_BUNDLE=$ca
  Tenant:              $tid ($(field 'd["tenant"]["domain"]'))
  Global admin:        $upn / $pw
  Ready file:          $ready
  Self-check:          password grant for Exchange Online -> HTTP 200; EWS without a token -> 401
INFO
((once)) && exit 0
echo "Serving until Ctrl-C (log: $state/harness.log)"
wait $pid
