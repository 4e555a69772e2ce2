#!/usr/bin/env bash
# Secret hygiene (issue 8): every artifact the tools write, at their most verbose, holds no
# client secret, no password, no key and no token. One run produces them all: exo-harness's trace
# log and ready file; exo-mailbox doctor, fetch and monitor (their logs, cassettes, events, the
# .eml files, the SQLite checkpoint database with its -wal/-shm caught while the monitor runs, the
# protected .config); both mocks' journals and mock-aad's state; exo-admin signed in with the
# world administrator's password (plain and --json output); exo-scenario run over the whole
# library (trace log, HTML report, JUnit, transcripts), the out-of-process client under two
# scenarios (its config, log, cassette, events, database) and exo-scenario replay --verbose of
# the kept cassettes. Then every file below the run directory is read as bytes and searched for
# the secrets as written and as they travel (percent-encoded, JSON-escaped, base64), signed
# JWTs, client_secret= or a Bearer token that is not a redaction marker, and Entra-secret-shaped
# text. Each finding prints as FILE:OFFSET: WHAT. A planted file proves the scan finds each kind.
# Usage: secret_hygiene.sh BIN_DIR REPO_DIR   (EXO_HYGIENE_KEEP=1 keeps the files, for debugging)
set -euo pipefail
bin=${1:?usage: secret_hygiene.sh BIN_DIR REPO_DIR}
repo=${2:?usage: secret_hygiene.sh BIN_DIR REPO_DIR}
bin=$(cd "$bin" && pwd); repo=$(cd "$repo" && pwd)
tmp=$(mktemp -d)
# inputs/: what must hold the secrets (the world, the key, the admin script): never scanned.
# run/: everything the tools write, all of it scanned. TMPDIR points into it, so whatever a tool
# leaves in a temporary directory is scanned too.
in=$tmp/inputs; run=$tmp/run
mkdir -p "$in" "$run/tmp"
export TMPDIR=$run/tmp
harness=; monitor=
cleanup() {
  [[ -n $monitor ]] && { kill -KILL "$monitor" 2>/dev/null || true; wait "$monitor" 2>/dev/null || true; }
  [[ -n $harness ]] && { kill "$harness" 2>/dev/null || true; wait "$harness" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
[[ -n ${EXO_HYGIENE_KEEP:-} ]] && trap - EXIT  # debugging: keep the files
fail() {
  echo "FAIL: $*"
  for f in "$run"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -n 20 "$f"; }; done
  exit 1
}
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }

app=6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
tenant=3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01
# An Entra-shaped secret; passwords with characters that change when form-, percent-, JSON- or
# XML-encoded, so each spelling they travel in is hunted.
secret='Hyg8Q~s3cr3t.Value_with-tilde~0123456789ab'
admin=admin@contoso.onmicrosoft.com
admin_password='Adm!n-Hyg1ene#Pa55 w/rd"q'
mailbox=inbox@contoso.onmicrosoft.com
mailbox_password='Inb0x-Hyg1ene&Pa55=word'
probe_password='Pr0be-New-Mailb0x%Pa55!'
python3 - "$in/world.json" "$secret" "$admin_password" "$mailbox_password" <<PY
import json, sys
path, secret, admin_password, mailbox_password = sys.argv[1:]
json.dump({"tenants": [{"id": "$tenant", "displayName": "Contoso",
  "domains": ["contoso.onmicrosoft.com"],
  "users": [{"userPrincipalName": "$admin", "password": admin_password,
             "roles": ["Global Administrator"]},
            {"userPrincipalName": "$mailbox", "password": mailbox_password, "roles": []}],
  "applications": [{"appId": "$app", "displayName": "Hygiene Daemon",
    "passwordCredentials": [{"secretText": secret, "startDateTime": "-1d", "endDateTime": "+180d"}],
    "appRoleAssignments": [{"resource": "https://outlook.office365.com",
                            "appRole": "full_access_as_app"}]}]}]}, open(path, "w"))
PY

# ---- exo-harness at its most verbose; its ready JSON is read through a FIFO (no polling).
mkfifo "$tmp/harness.fifo"
"$bin/exo-harness" --log-level trace --world "$in/world.json" --ca-dir "$run/ca" \
  --ready-file "$run/ready.json" >"$tmp/harness.fifo" 2>"$run/harness.err" &
harness=$!
exec 3<"$tmp/harness.fifo"
read -r -t 60 -u 3 first || fail "the harness did not become ready"
printf '%s\n' "$first" >"$run/harness.out"
cat <&3 >>"$run/harness.out" &  # the rest of its stdout, until it exits
get() { python3 -c "import json; print(json.load(open('$run/ready.json'))$1)"; }
aad=$(get '["aad"]'); ews=$(get '["ews"]'); ca=$(get '["ca"]')
control=$(get '["control"]'); ews_control=$(get '["ewsControl"]')

# The scheduler's .config with the secret protected as an operator does it; the key stays an input.
cat >"$run/scheduler.config" <<XML
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
    <add key="EmailIntegrationStateDir" value="$run/state"/>
  </appSettings>
</configuration>
XML
mkdir -p "$run/state"
printf '%s\n' "$secret" | "$bin/exo-mailbox" --log-level trace protect-secret --key-file "$in/secret.key" \
  --new-key --config "$run/scheduler.config" >"$run/protect.out" 2>"$run/protect.err" ||
  fail "protect-secret exited $?"

deliver() {
  curl -sS --fail --cacert "$ca" -H 'Content-Type: application/json' \
    -d "{\"from\": \"sender@contoso.onmicrosoft.com\", \"to\": \"$mailbox\", \"subject\": \"$1\", \"body\": \"Body of $1\"}" \
    "$ews_control/mailboxes/$mailbox/deliver" >/dev/null || fail "deliver $1"
}

# ---- doctor and fetch, recording, at trace level. The .eml files are scanned too: their text is
# the sender's, which holds no secret here, so anything found in them the client put there.
rc=0
"$bin/exo-mailbox" --log-level trace doctor --config "$run/scheduler.config" \
  --record "$run/doctor-cassette.json" >"$run/doctor.out" 2>"$run/doctor.err" || rc=$?
[[ $rc == 0 ]] || fail "doctor: $rc failed checks"
"$bin/exo-mailbox" --log-level trace doctor --json --config "$run/scheduler.config" \
  >"$run/doctor-json.out" 2>"$run/doctor-json.err" || fail "doctor --json exited $?"
deliver "Order 1001"
deliver "Order 1002"
"$bin/exo-mailbox" --log-level trace fetch --config "$run/scheduler.config" --out-dir "$run/mail" \
  --record "$run/fetch-cassette.json" --events "$run/fetch-events.jsonl" \
  >"$run/fetch.out" 2>"$run/fetch.err" || fail "fetch exited $?"
[[ $(ls "$run/mail"/*.eml | wc -l) == 2 ]] || fail "fetch did not write 2 messages"
ok "doctor (plain, --json, --record) and fetch --record --events, at trace level"

# ---- monitor (real clock, streaming notifications) until it hands one message; its status
# lines come through a FIFO. The database is copied while it runs, -wal and -shm included.
deliver "Order 1003"
mkfifo "$tmp/monitor.fifo"
"$bin/exo-mailbox" --log-level trace monitor --config "$run/scheduler.config" --out-dir "$run/mail" \
  --poll-interval 1 --events "$run/monitor-events.jsonl" --record "$run/monitor-cassette.json" \
  >"$tmp/monitor.fifo" 2>"$run/monitor.err" &
monitor=$!
exec 4<"$tmp/monitor.fifo"
handed=
while read -r -t 60 -u 4 line; do
  printf '%s\n' "$line" >>"$run/monitor.out"
  [[ $line == *handed=1* ]] && { handed=1; break; }
done
[[ -n $handed ]] || fail "the monitor never handed the message"
mkdir -p "$run/state-while-monitoring"
cp "$run/state"/exo-mailbox.db* "$run/state-while-monitoring/"
[[ -e $run/state-while-monitoring/exo-mailbox.db-wal ]] || fail "no -wal file while the monitor runs"
kill -TERM "$monitor"
timeout 60 cat <&4 >>"$run/monitor.out" || true
code=0; wait "$monitor" || code=$?
monitor=
[[ $code == 0 ]] || fail "monitor exited $code after SIGTERM"
ok "monitor handed a message, its database copied mid-run ($(ls "$run/state-while-monitoring" | tr '\n' ' '))"

# ---- exo-admin signed in with the world administrator's password (from the environment, as
# a CI job would give it), plain and --json; New-Mailbox sends a new user's password.
cat >"$in/admin.ps1" <<PS
\$lc = Get-Credential
\$lc
Connect-ExchangeOnline -Credential \$lc -ShowBanner:\$false
Get-Mailbox -Identity $mailbox
New-Mailbox -Name "Hygiene Probe \$n" -MicrosoftOnlineServicesID probe\$n@contoso.onmicrosoft.com -Password '$probe_password'
Test-ApplicationAccessPolicy -Identity $mailbox -AppId $app
Connect-MgGraph -NoWelcome
Get-MgApplication -Filter "appId eq '$app'"
PS
for mode in plain json; do
  flags=(); [[ $mode == json ]] && flags=(--json)
  sed "s/\\\$n/$mode/g" "$in/admin.ps1" >"$in/admin-$mode.ps1"
  EXO_ADMIN_PASSWORD=$admin_password "$bin/exo-admin" --ready-file "$run/ready.json" "${flags[@]}" \
    --script "$in/admin-$mode.ps1" >"$run/admin-$mode.out" 2>"$run/admin-$mode.err" ||
    fail "exo-admin ($mode) exited $?: $(cat "$run/admin-$mode.out" "$run/admin-$mode.err")"
done
ok "exo-admin signed in with the administrator's password and ran its cmdlets"

# ---- Both mocks' journals (every entry) and mock-aad's state, then the harness stops so its
# log is complete.
save() { curl -sS --fail --cacert "$ca" -o "$run/$1" "$2" || fail "GET $2"; }
save aad-journal.json "$control/journal?limit=1000000"
save ews-journal.json "$ews_control/journal?limit=1000000"
save aad-state.json "$control/state"
python3 - "$run/aad-journal.json" "$run/ews-journal.json" <<'PY' || fail "journals too short"
import json, sys
aad, ews = (json.load(open(f))["entries"] for f in sys.argv[1:])
assert any("/oauth2/v2.0/token" in e["path"] for e in aad), "no token request journaled"
assert any(e["path"].lower() == "/ews/exchange.asmx" for e in ews), "no EWS request journaled"
assert any("InvokeCommand" in e["path"] for e in ews), "no admin API request journaled"
PY
kill -TERM "$harness"; wait "$harness" || true; harness=
ok "journals of mock-aad and mock-ews saved; the harness stopped"

# ---- The scenario library at trace level with every output, from the repository as CI runs
# it; the out-of-process client under two scenarios, its files kept by a wrapper; the cassettes.
mkdir -p "$run/scenarios"
cd "$repo"
rc=0
"$bin/exo-scenario" run -j 2 -k --log-level trace --report "$run/scenarios/report.html" \
  --junit "$run/scenarios/junit.xml" --transcript "$run/scenarios/transcripts" scenarios/library \
  >"$run/scenarios/run.out" 2>"$run/scenarios/run.err" || rc=$?
# A failing scenario (exit 1) is the scenario tests' business; its artifacts are scanned the same.
[[ $rc == 0 || $rc == 1 ]] || fail "exo-scenario run exited $rc: $(tail -n 5 "$run/scenarios/run.out")"
library=$(sed -nE 's/^running ([0-9]+) scenario.*/\1/p' "$run/scenarios/run.out")  # with Graph variants
[[ $(ls "$run/scenarios/transcripts" | wc -l) == "$library" ]] || fail "not one transcript per scenario run"

mkdir -p "$run/external"
cat >"$in/external-client.sh" <<SH
#!/usr/bin/env bash
# exo-mailbox under exo-scenario, its own files kept in $run/external: the runner's .config and,
# once the runner stops it (SIGTERM), its events, mail and database.
config=\$1 n=\$\$ keep=$run/external
cp "\$config" "\$keep/scheduler-\$n.config"
"$bin/exo-mailbox" --log-level trace monitor --config "\$config" --clock-url "\$2" --events "\$3" \\
  --no-notifications --out-dir "\$4" --poll-interval "\$5" --record "\$keep/cassette-\$n.json" \\
  >"\$keep/client-\$n.out" 2>"\$keep/client-\$n.err" &
child=\$!
trap 'kill -TERM \$child 2>/dev/null' TERM INT
# A wait the trap interrupts returns early: wait again until the child is gone, for its status.
while :; do
  rc=0; wait \$child || rc=\$?
  kill -0 \$child 2>/dev/null || break
done
cp "\$3" "\$keep/events-\$n.jsonl"; cp -r "\$4" "\$keep/out-\$n"
for f in "\$(dirname "\$config")"/exo-mailbox.db*; do cp "\$f" "\$keep/\$n-\$(basename "\$f")"; done
exit \$rc
SH
rc=0
"$bin/exo-scenario" run -k --log-level trace --transcript "$run/external/transcripts" \
  --client-command "bash $in/external-client.sh {config} {clock} {events} {out} {poll}" \
  scenarios/library/happy_path.jsonc scenarios/library/wrong_secret.jsonc \
  >"$run/external/run.out" 2>"$run/external/run.err" || rc=$?
[[ $rc == 0 ]] || fail "the out-of-process client under exo-scenario exited $rc: $(cat "$run/external/run.out")"
external=$(sed -nE 's/^running ([0-9]+) scenario.*/\1/p' "$run/external/run.out")  # EWS and Graph runs
[[ $(ls "$run/external"/cassette-*.json "$run/external"/*-exo-mailbox.db | wc -l) == $((2 * external)) ]] ||
  fail "the wrapper did not keep a cassette and a database per scenario"

for c in scenarios/cassettes/*.json; do
  n=$(basename "$c" .json)
  "$bin/exo-scenario" replay --verbose --log-level trace "$c" >"$run/replay-$n.out" 2>"$run/replay-$n.err" ||
    fail "replay $c exited $?"
done
cd - >/dev/null
ok "exo-scenario: $library scenarios (report, JUnit, transcripts), $external runs out of process, $(ls "$repo"/scenarios/cassettes/*.json | wc -l) cassettes replayed"

# ---- The scan.
# What the scenario worlds use: "secretValue"/"password" literals of the library (templates like
# {{secretValue}} and references like SecretText are names, not secrets) and the runner's admin
# password; their generated app secrets have Entra's shape, which the shape rule finds.
runner_admin=$(sed -n 's/^constexpr const char\* kAdminPassword = "\(.*\)";$/\1/p' "$repo/scenarios/src/runner.cpp")
[[ -n $runner_admin ]] || fail "kAdminPassword not found in scenarios/src/runner.cpp"

cat >"$tmp/scan.py" <<'PY'
import base64, json, os, re, sys, urllib.parse

# Redaction markers (mock-kit's journal, the client's cassettes), and the made-up secret
# exo-scenario replay gives the client in place of the real one (scenarios/src/replay.cpp), which
# --verbose shows as the client sends it.
MARKERS = {"<redacted>", "%3Credacted%3E", "<scrubbed>", "%3Cscrubbed%3E",
           "replay-dummy-secret-not-a-real-one"}
# The cassettes' stand-in for a token: its claims kept, signed by nobody.
UNSIGNED = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.(?:scrubbed)?")
# JSON rules also read JSON kept as a string inside JSON (journal and cassette bodies: \"...\").
RULES = [
    ("a signed JWT", re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"), None),
    ("client_secret= not redacted", re.compile(rb"client_secret=([^&\s\"'\\]*)"), 1),
    ("a credential form field not redacted",
     re.compile(rb"(?<![A-Za-z_])(?:client_assertion|password|refresh_token)=([^&\s\"'\\]*)"), 1),
    ("a JSON client_secret not redacted", re.compile(rb'"client_secret\\*"\s*:\s*\\*"([^"\\]*)'), 1),
    ("a JSON token field not redacted",
     re.compile(rb'"(?:access_token|refresh_token|id_token)\\*"\s*:\s*\\*"([^"\\]*)'), 1),
    ("a Bearer token", re.compile(rb"(?i)bearer[\s:\"]+([A-Za-z0-9._~+/=-]{20,})"), 1),
    ("an Entra-secret-shaped string", re.compile(rb"[A-Za-z0-9_.-]{4}Q~[A-Za-z0-9_.~-]{30,}"), None),
]

def spellings(text):
    raw = text.encode()
    forms = {"": raw, " (percent-encoded)": urllib.parse.quote(text, safe="").encode(),
             " (form-encoded)": urllib.parse.quote_plus(text).encode(),
             " (JSON-escaped)": json.dumps(text)[1:-1].encode(),
             " (XML-escaped)": text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").encode(),
             " (base64)": base64.b64encode(raw), " (base64url)": base64.urlsafe_b64encode(raw).rstrip(b"=")}
    return forms

def needles(spec):
    out = []
    for what, text in spec["secrets"]:
        seen = set()
        for how, b in spellings(text).items():
            if b not in seen:
                seen.add(b)
                out.append((what + how, b))
    key_hex = spec["keyHex"]
    key = bytes.fromhex(key_hex)
    out += [("the secret key (hex)", key_hex.lower().encode()), ("the secret key (HEX)", key_hex.upper().encode()),
            ("the secret key (raw bytes)", key), ("the secret key (base64)", base64.b64encode(key).rstrip(b"="))]
    return out

def scan_file(path, data, ndl):
    found = []
    for what, b in ndl:
        at = data.find(b)
        while at >= 0:
            found.append((at, what))
            at = data.find(b, at + 1)
    for what, rx, group in RULES:
        for m in rx.finditer(data):
            if group is not None:
                value = m.group(group).decode("latin-1")
                if (value in MARKERS or value == "" or (value.startswith("{{") and value.endswith("}}"))
                        or UNSIGNED.fullmatch(value)):
                    continue
            found.append((m.start(), what))
    return found

def scan(root, spec):
    ndl = needles(spec)
    files = nbytes = 0
    findings = []
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            data = open(path, "rb").read()
            rel = os.path.relpath(path, root)
            # The ready file (and the harness's stdout, the same JSON) hands the administrator's
            # password to exo-admin by design: that one field is blanked, offsets kept.
            for allowed in spec["allowed"].get(rel, []):
                b = allowed.encode()
                data = data.replace(b, b" " * len(b), 1)
            files += 1
            nbytes += len(data)
            findings += [(rel, at, what) for at, what in scan_file(path, data, ndl)]
    return files, nbytes, sorted(findings)

mode, spec_file = sys.argv[1:3]
spec = json.load(open(spec_file))
if mode == "self-check":
    # Each rule and each secret must be found in a file planted with it, or the scan proves nothing.
    files, nbytes, findings = scan(spec["planted"], spec)
    kinds = {what for _, _, what in findings}
    want = ({w for w, _ in spec["secrets"]} | {w for w, _, _ in RULES} | {"the secret key (hex)"} |
            set(spec["plantedWant"]))
    missing = sorted(w for w in want if w not in kinds)
    clean = [f for f in findings if f[0] == "clean.txt"]
    if missing or clean:
        print("self-check: not found:", missing, "false positives in clean.txt:", clean)
        sys.exit(1)
    print(f"self-check: {len(findings)} planted findings over {files} files, every rule and secret found")
    sys.exit(0)
files, nbytes, findings = scan(spec["root"], spec)
for rel, at, what in findings:
    print(f"{rel}:{at}: {what}")
print(f"scanned {files} files, {nbytes} bytes: {len(findings)} findings")
if files < spec["minFiles"] or nbytes < spec["minBytes"]:
    print(f"too little scanned: want at least {spec['minFiles']} files and {spec['minBytes']} bytes")
    sys.exit(1)
missing = [f for f in spec["required"] if not os.path.isfile(os.path.join(spec["root"], f))
           or os.path.getsize(os.path.join(spec["root"], f)) == 0]
if missing:
    print("artifacts missing or empty:", missing)
    sys.exit(1)
sys.exit(1 if findings else 0)
PY

python3 - "$tmp/spec.json" "$repo" "$run" "$in/secret.key" "$tmp/planted" "$secret" "$admin_password" \
  "$mailbox_password" "$probe_password" "$runner_admin" <<'PY'
import glob, json, os, re, sys, urllib.parse
spec_file, repo, run, key_file, planted, secret, admin_pw, mailbox_pw, probe_pw, runner_admin = sys.argv[1:]
secrets = [("the client secret", secret), ("the administrator's password", admin_pw),
           ("the mailbox user's password", mailbox_pw), ("the new mailbox's password", probe_pw),
           ("the scenario runner's admin password", runner_admin)]
literal = re.compile(r'"(secretValue|password)"\s*:\s*"((?:[^"\\]|\\.)*)"', re.I)
for f in sorted(glob.glob(os.path.join(repo, "scenarios/library/*.jsonc"))):
    for m in literal.finditer(open(f).read()):
        value = json.loads('"' + m.group(2) + '"')
        if re.fullmatch(r"\{\{.*\}\}|\$?[A-Za-z_][A-Za-z0-9_.]*", value):
            continue
        secrets.append((f"{os.path.basename(f)}'s {m.group(1)} literal", value))
ready = json.load(open(os.path.join(run, "ready.json")))
allowed_pw = json.dumps(ready["admin"]["password"])
allowed = {"ready.json": [allowed_pw], "harness.out": [allowed_pw]}
spec = {"root": run, "planted": planted, "secrets": secrets, "allowed": allowed,
        "keyHex": open(key_file).read().strip(),
        "minFiles": 100, "minBytes": 1_000_000,
        "required": ["harness.err", "ready.json", "scheduler.config", "doctor.out",
                     "doctor-cassette.json", "fetch.err", "fetch-cassette.json", "fetch-events.jsonl",
                     "monitor.out", "monitor.err", "monitor-cassette.json", "monitor-events.jsonl",
                     "state/exo-mailbox.db", "state-while-monitoring/exo-mailbox.db",
                     "state-while-monitoring/exo-mailbox.db-wal",
                     "state-while-monitoring/exo-mailbox.db-shm",
                     "aad-journal.json", "ews-journal.json", "aad-state.json",
                     "admin-plain.out", "admin-json.out", "scenarios/report.html",
                     "scenarios/junit.xml", "scenarios/run.out", "scenarios/run.err"],
        "plantedWant": ["the administrator's password (form-encoded)",
                        "the administrator's password (JSON-escaped)"]}
json.dump(spec, open(spec_file, "w"), indent=1)

# The planted tree: one file per secret as written, the administrator's password as it travels
# (a form-encoded sign-in, a JSON string), the key, and a line per rule; clean.txt holds the
# redaction markers and near misses that must not be reported.
os.makedirs(planted)
for i, (what, value) in enumerate(secrets):
    open(os.path.join(planted, f"secret-{i}.log"), "w").write(f"x {value} y\n")
open(os.path.join(planted, "encoded.txt"), "w").write(
    "username=a&password=" + urllib.parse.quote_plus(admin_pw) + "\n" + json.dumps({"p": admin_pw}) + "\n")
open(os.path.join(planted, "key.bin"), "wb").write(b"\0" + open(key_file).read().strip().encode() + b"\0")
open(os.path.join(planted, "rules.txt"), "w").write(
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU\n"
    "grant_type=client_credentials&client_secret=abc123&scope=x\n"
    "grant_type=password&username=u&password=abc123\n"
    '{"token_type": "Bearer", "refresh_token": "0.AAAA-opaque"}\n'
    '{"client_secret": "abc123"}\n'
    '{"responseBody": "{\\"access_token\\":\\"0.AAAA-opaque\\"}"}\n'
    "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\n"
    "aBc8Q~abcdefghijklmnopqrstuvwxyz0123456789\n")
open(os.path.join(planted, "clean.txt"), "w").write(
    "client_secret=%3Cscrubbed%3E&client_secret=<redacted>&client_secret=\n"
    '{"client_secret": "<scrubbed>"} {"client_secret": "{{daemon.secrets.old}}"}\n'
    '{"access_token": "<redacted>", "id_token": "eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJhIl19.scrubbed"}\n'
    "grant_type=password&username=u&password=<redacted>\n"
    "Authorization: Bearer <redacted>\nWWW-Authenticate: Bearer realm=\"\", client_id=\"x\"\n"
    "eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJhIl19.scrubbed\n")
PY
python3 "$tmp/scan.py" self-check "$tmp/spec.json" || fail "the scan's self-check"
ok "the scan finds each secret and each rule in planted files, and no marker"

python3 "$tmp/scan.py" scan "$tmp/spec.json" || fail "secrets or tokens in the artifacts above"
ok "no secret, password, key or token in any artifact"
echo "$passed passed, 0 failed"
