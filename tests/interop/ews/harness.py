#!/usr/bin/env python3
"""Runs one EWS interop client against a fresh exo-harness.

    harness.py BIN_DIR -- COMMAND [ARG...]

Writes a world (one tenant, two mailboxes, one daemon app with the full_access_as_app role), starts
BIN_DIR/exo-harness, reads its ready JSON from stdout, writes fixture.json and runs COMMAND with
EXO_INTEROP_FIXTURE, REQUESTS_CA_BUNDLE and NODE_EXTRA_CA_CERTS pointing at it and the harness CA.
Exits with COMMAND's status. When COMMAND fails, prints the last EWS exchanges from mock-ews's journal
(what the client sent, what it got back) and the harness log, so a failure names the operation.
Standard library only: it runs under /usr/bin/python3 next to Debian's python3-exchangelib.
"""
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request

TENANT_ID = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
APP_ID = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
MONITOR = f"monitor@{TENANT_DOMAIN}"
ALICE = f"alice@{TENANT_DOMAIN}"
JOURNAL_EXCERPT = 4000  # characters of each request and response body shown on failure


def password():
    # Users need one in the world file; no client here signs in as a user.
    return "Pw-" + secrets.token_urlsafe(12)


def read_ready(proc):
    """The ready JSON, read from the harness's stdout: it prints it once both servers accept."""
    text = ""
    for line in proc.stdout:
        text += line
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            continue
    return None


def dump_journal(ready, out):
    # EXO_INTEROP_JOURNAL_PATH: which exchanges to show (default the EWS endpoint; "/v1.0/" for Graph).
    wanted = os.environ.get("EXO_INTEROP_JOURNAL_PATH", "/EWS/")
    ctx = ssl.create_default_context(cafile=ready["ca"])
    try:
        with urllib.request.urlopen(ready["ewsControl"] + "/journal?path=" + wanted, context=ctx) as r:
            entries = json.load(r)["entries"]
    except Exception as e:  # diagnostics only: never mask the client's own failure
        print(f"harness: could not read the mock-ews journal: {e}", file=out)
        return
    entries = [e for e in entries if wanted.lower() in e.get("path", "").lower()]
    print(f"--- mock-ews journal: last {min(len(entries), 6)} of {len(entries)} {wanted} exchanges ---", file=out)
    for e in entries[-6:]:
        body = e.get("requestBody", "") or ""
        print(f"#{e.get('seq')} {e.get('method')} {e.get('path')} -> {e.get('status')}", file=out)
        print(f"  request:  {body[:JOURNAL_EXCERPT]}", file=out)
        print(f"  response: {(e.get('responseBody', '') or '')[:JOURNAL_EXCERPT]}", file=out)


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    bin_dir, command = args[0], args[2:]
    tmp = tempfile.mkdtemp(prefix="exo-ews-interop.")
    secret = secrets.token_hex(2)[:3] + "8Q~" + secrets.token_hex(17)
    world = {"tenants": [{
        "id": TENANT_ID, "displayName": "Contoso", "domains": [TENANT_DOMAIN],
        "users": [{"userPrincipalName": MONITOR, "displayName": "Mail Monitor", "password": password()},
                  {"userPrincipalName": ALICE, "displayName": "Alice Example", "password": password()}],
        "applications": [{
            "appId": APP_ID, "displayName": "Interop EWS Daemon",
            "passwordCredentials": [{"secretText": secret, "startDateTime": "-1d", "endDateTime": "+180d"}],
            "appRoleAssignments": [{"resource": "https://outlook.office365.com", "appRole": "full_access_as_app"}],
        }],
    }]}
    with open(f"{tmp}/world.json", "w") as f:
        json.dump(world, f)
    log = open(f"{tmp}/exo-harness.log", "w+")
    # --clock real: the clients check token expiry and stamp requests with the wall clock.
    proc = subprocess.Popen([f"{bin_dir}/exo-harness", "--world", f"{tmp}/world.json", "--ca-dir", f"{tmp}/ca",
                             "--clock", "real"], stdout=subprocess.PIPE, stderr=log, text=True)
    rc = 1
    ready = None
    try:
        ready = read_ready(proc)
        if ready is None:
            print("harness: exo-harness exited before it was ready", file=sys.stderr)
            return 1
        missing = [m for m in (MONITOR, ALICE) if m not in ready.get("mailboxes", [])]
        if missing:
            print(f"harness: no mailbox for {missing} in {ready.get('mailboxes')}", file=sys.stderr)
            return 1
        with open(f"{tmp}/ca-bundle.pem", "w") as bundle:
            for path in ("/etc/ssl/certs/ca-certificates.crt", ready["ca"]):
                if os.path.exists(path):
                    with open(path) as f:
                        bundle.write(f.read())
        fixture = {
            "aad": ready["aad"], "ews": ready["ews"], "ewsControl": ready["ewsControl"], "ca": ready["ca"],
            "tenantId": TENANT_ID, "tenantDomain": TENANT_DOMAIN, "appId": APP_ID, "secret": secret,
            "tokenUrl": f"{ready['aad']}/{TENANT_ID}/oauth2/v2.0/token",
            "resource": "https://outlook.office365.com", "monitor": MONITOR, "alice": ALICE,
        }
        with open(f"{tmp}/fixture.json", "w") as f:
            json.dump(fixture, f, indent=2)
        env = dict(os.environ)
        env.update({
            "EXO_INTEROP_FIXTURE": f"{tmp}/fixture.json",
            # requests (exchangelib, requests-oauthlib) lets this win over its default verify=True.
            "REQUESTS_CA_BUNDLE": f"{tmp}/ca-bundle.pem",
            # Node reads it once at start-up; @ewsjs/xhr (axios over https) uses Node's default agent.
            "NODE_EXTRA_CA_CERTS": ready["ca"],
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        })
        env.pop("CURL_CA_BUNDLE", None)
        rc = subprocess.run(command, env=env).returncode
        if rc != 0:
            dump_journal(ready, sys.stderr)
        return rc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, -15) or rc != 0:
            log.seek(0)
            lines = log.read().splitlines()
            if lines:
                print("--- exo-harness log (last 30 lines) ---", file=sys.stderr)
                print("\n".join(lines[-30:]), file=sys.stderr)
        log.close()
        if os.environ.get("EXO_KEEP_TMP"):
            print(f"harness: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
