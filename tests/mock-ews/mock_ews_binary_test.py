#!/usr/bin/python3
"""The mock-ews binary on its own, trusting a tenant of a separately running mock-aad.

Starts build/bin/mock-aad with two tenants, then build/bin/mock-ews with --trust-tenant (the first
tenant only), --authority = mock-aad's URL and the shared --ca-dir, so mock-ews fetches the keys
through OIDC discovery over HTTPS. A token of the trusted tenant makes GetFolder succeed; a token of
the other tenant gets 401; bad flags and an unreachable authority behave as docs/mock-ews.md says.
Readiness is awaited by reading each process's ready JSON from its stdout (a blocking read bounded
by the CTest timeout), never by polling on the wall clock.
Usage: mock_ews_binary_test.py BIN_DIR
"""
import json, os, ssl, subprocess, sys, tempfile, urllib.error, urllib.parse, urllib.request

bin_dir = sys.argv[1]
for tool in ("mock-aad", "mock-ews"):
    if not os.access(f"{bin_dir}/{tool}", os.X_OK):
        print(f"SKIP: {bin_dir}/{tool} is not built")
        sys.exit(77)

CONTOSO, FABRIKAM = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01", "8e1d4c2b-7a6f-4e5d-9c3b-2a1f0e9d8c7b"
APP, SECRET = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d", "bin8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567"
OTHER_APP, OTHER_SECRET = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", "oth8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567"
BOX, OTHER_BOX = "inbox@contoso.onmicrosoft.com", "inbox@fabrikam.onmicrosoft.com"


def tenant(tid, name, domain, app, secret):
    return {"id": tid, "displayName": name, "domains": [domain],
            "users": [{"userPrincipalName": f"admin@{domain}", "password": "Pw-12345-x",
                       "roles": ["Global Administrator"]}],
            "applications": [{"appId": app, "displayName": f"{name} Daemon",
                              "passwordCredentials": [{"secretText": secret}],
                              "appRoleAssignments": [{"resource": "https://outlook.office365.com",
                                                      "appRole": "full_access_as_app"}]}]}


tmp = tempfile.mkdtemp()
ca_dir = f"{tmp}/ca"
json.dump({"tenants": [tenant(CONTOSO, "Contoso", "contoso.onmicrosoft.com", APP, SECRET),
                       tenant(FABRIKAM, "Fabrikam", "fabrikam.onmicrosoft.com", OTHER_APP, OTHER_SECRET)]},
          open(f"{tmp}/world.json", "w"))
procs = []
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {name}")
    else:
        failed += 1
        print(f"FAIL: {name} {detail}")


def start(args):
    """Starts a mock and returns (process, ready JSON) once it prints its ready JSON."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(f"{tmp}/{os.path.basename(args[0])}.log", "a"),
                            text=True)
    procs.append(proc)
    text = ""
    for line in proc.stdout:  # blocks until the next line or EOF
        text += line
        try:
            return proc, json.loads(text)
        except json.JSONDecodeError:
            continue
    raise AssertionError(f"{args[0]} exited ({proc.wait()}) before it was ready: "
                         + open(f"{tmp}/{os.path.basename(args[0])}.log").read())


def http(ctx, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def token(ctx, aad, domain, app, secret):
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": app, "client_secret": secret,
                                   "scope": "https://outlook.office365.com/.default"}).encode()
    status, _, body = http(ctx, f"{aad}/{domain}/oauth2/v2.0/token", form)
    assert status == 200, body
    return json.loads(body)["access_token"]


def get_folder(ctx, ews_url, bearer, box):
    env = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
           'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
           'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
           '<t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID>'
           f'<t:PrimarySmtpAddress>{box}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>'
           '</s:Header><s:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
           '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>')
    return http(ctx, ews_url, env.encode(), {"Authorization": "Bearer " + bearer, "X-AnchorMailbox": box,
                                            "Content-Type": "text/xml; charset=utf-8"})


try:
    # Bad flags fail fast with a message and exit code 2, before anything listens.
    r = subprocess.run([f"{bin_dir}/mock-ews", "--trust-tenant", "contoso"], capture_output=True, text=True)
    check("a --trust-tenant that is not a GUID is refused", r.returncode == 2 and "GUID" in r.stderr,
          f"(exit {r.returncode}: {r.stderr.strip()})")
    open(f"{tmp}/bad-world.json", "w").write('{"tenants": [{"displayName": "no id"}]}')
    r = subprocess.run([f"{bin_dir}/mock-ews", "--world", f"{tmp}/bad-world.json", "--no-tls"],
                       capture_output=True, text=True)
    check("a world tenant without an id is refused, naming the entry",
          r.returncode == 2 and "tenants[0]" in r.stderr, f"(exit {r.returncode}: {r.stderr.strip()})")

    aad_proc, aad = start([f"{bin_dir}/mock-aad", "--world", f"{tmp}/world.json", "--ca-dir", ca_dir])
    ews_proc, ews = start([f"{bin_dir}/mock-ews", "--trust-tenant", CONTOSO, "--authority", aad["aad"],
                           "--ca-dir", ca_dir, "--mailbox", f"{CONTOSO}:{BOX}", "--mailbox", f"{FABRIKAM}:{OTHER_BOX}",
                           "--ready-file", f"{tmp}/ews-ready.json"])
    check("the ready file repeats the ready JSON printed on stdout",
          json.load(open(f"{tmp}/ews-ready.json")) == ews)
    check("the ready JSON names the EWS URL, control API, CA and mailboxes",
          ews["ewsUrl"] == ews["ews"] + "/EWS/Exchange.asmx" and ews["control"] == ews["ews"] + "/_exo"
          and ews["ca"] == f"{ca_dir}/ca.pem" and ews["mailboxes"] == [BOX, OTHER_BOX], json.dumps(ews))
    check("the trusted tenant's keys were fetched at start-up",
          ews["trustedTenants"][0]["id"] == CONTOSO and ews["trustedTenants"][0]["keys"] >= 1
          and "error" not in ews["trustedTenants"][0], json.dumps(ews["trustedTenants"]))

    ctx = ssl.create_default_context(cafile=f"{ca_dir}/ca.pem")
    status, _, body = get_folder(ctx, ews["ewsUrl"], token(ctx, aad["aad"], "contoso.onmicrosoft.com", APP, SECRET), BOX)
    check("a token of the trusted tenant makes GetFolder succeed",
          status == 200 and b'ResponseClass="Success"' in body, f"(HTTP {status}: {body[:300]!r})")

    status, headers, body = get_folder(
        ctx, ews["ewsUrl"], token(ctx, aad["aad"], "fabrikam.onmicrosoft.com", OTHER_APP, OTHER_SECRET), OTHER_BOX)
    check("a token of a tenant that is not trusted gets 401", status == 401,
          f"(HTTP {status}: {headers.get('x-ms-diagnostics')})")

    # Discovery that cannot be reached does not stop start-up: the tenant is served, its tokens
    # are refused until a fetch succeeds, and the ready JSON says why.
    down_proc, down = start([f"{bin_dir}/mock-ews", "--trust-tenant", CONTOSO, "--authority", "https://127.0.0.1:1",
                             "--ca-dir", ca_dir, "--mailbox", f"{CONTOSO}:{BOX}"])
    check("an unreachable authority is reported in the ready JSON, not fatal",
          "error" in down["trustedTenants"][0] and down["trustedTenants"][0]["keys"] == 0,
          json.dumps(down["trustedTenants"]))
    status, _, _ = get_folder(ctx, down["ewsUrl"], token(ctx, aad["aad"], "contoso.onmicrosoft.com", APP, SECRET), BOX)
    check("while no keys could be fetched, tokens get 401", status == 401, f"(HTTP {status})")

    r = subprocess.run([f"{bin_dir}/mock-ews", "--trust-tenant", CONTOSO, "--authority", "https://127.0.0.1:1",
                        "--ca-dir", ca_dir, "--require-keys"], capture_output=True, text=True)
    check("--require-keys makes an unreachable authority fatal", r.returncode == 1 and CONTOSO in r.stderr,
          f"(exit {r.returncode}: {r.stderr.strip()})")
except AssertionError as e:
    check("setup", False, str(e))
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
