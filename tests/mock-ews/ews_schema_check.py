#!/usr/bin/env python3
"""Every EWS response mock-ews gives in a small monitor session validates against Microsoft's schema.

Starts exo-harness, gets a client-credentials token from mock-aad, delivers mail, runs GetFolder,
FindItem, GetItem (AllProperties with MIME) and SyncFolderItems as exchangelib sends them, then
takes every 200 response from mock-ews's journal and validates the first child of soap:Body with
xmllint against shared/ews-schema/libxml2/ews-validate.xsd.
Usage: ews_schema_check.py BIN_DIR SCHEMA_XSD
"""
import json, os, ssl, subprocess, sys, tempfile, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

bin_dir, schema = sys.argv[1], sys.argv[2]
if not os.path.exists(schema):
    # shared/ (with Microsoft's schema) sits beside the repository in CI and in a developer's
    # workspace; a bare clone elsewhere has nothing to validate against.
    print(f"SKIP: schema not found at {schema} (shared/ is expected beside the repository)")
    sys.exit(77)
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
APP, SECRET, BOX = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d", "xsd8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456", "monitor@contoso.onmicrosoft.com"

tmp = tempfile.mkdtemp()
world = {"tenants": [{"id": "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01", "displayName": "Contoso",
                      "domains": ["contoso.onmicrosoft.com"],
                      "users": [{"userPrincipalName": BOX, "password": "Pw-12345-x"}],
                      "applications": [{"appId": APP, "displayName": "Schema Daemon",
                                        "passwordCredentials": [{"secretText": SECRET}],
                                        "appRoleAssignments": [{"resource": "https://outlook.office365.com",
                                                                "appRole": "full_access_as_app"}]}]}]}
json.dump(world, open(f"{tmp}/world.json", "w"))
proc = subprocess.Popen([f"{bin_dir}/exo-harness", "--world", f"{tmp}/world.json", "--ca-dir", f"{tmp}/ca"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    # exo-harness prints its ready JSON once both servers accept connections: read it (a blocking
    # read on the pipe, bounded by the CTest timeout), never poll on the wall clock.
    text = ""
    ready = None
    for line in proc.stdout:
        text += line
        try:
            ready = json.loads(text)
            break
        except json.JSONDecodeError:
            continue
    assert ready is not None, "exo-harness exited before it was ready"
    ctx = ssl.create_default_context(cafile=ready["ca"])

    def http(url, data=None, headers=None, method=None):
        req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, context=ctx) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": APP, "client_secret": SECRET,
                                   "scope": "https://outlook.office365.com/.default"}).encode()
    status, body = http(ready["aad"] + "/contoso.onmicrosoft.com/oauth2/v2.0/token", form)
    assert status == 200, body
    token = json.loads(body)["access_token"]
    for i in range(3):
        status, body = http(f"{ready['ewsControl']}/mailboxes/{BOX}/deliver",
                            json.dumps({"from": "alice@fabrikam.com", "to": BOX, "subject": f"Order {i}",
                                        "body": "Hello"}).encode(), {"Content-Type": "application/json"})
        assert status in (200, 201), body

    def ews(op):
        env = (f'<s:Envelope xmlns:s="{SOAP}" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
               'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
               '<t:RequestServerVersion Version="Exchange2016"/><t:ExchangeImpersonation><t:ConnectingSID>'
               f'<t:PrimarySmtpAddress>{BOX}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>'
               f'</s:Header><s:Body>{op}</s:Body></s:Envelope>')
        status, body = http(ready["ews"], env.encode(), {"Authorization": "Bearer " + token, "X-AnchorMailbox": BOX,
                                                         "Content-Type": "text/xml; charset=utf-8"})
        assert status == 200, (status, body[:500])
        return ET.fromstring(body)

    ews('<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>'
        '<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>')
    found = ews('<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>'
                '<m:IndexedPageItemView MaxEntriesReturned="2" Offset="0" BasePoint="Beginning"/>'
                '<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>')
    item = found.find(".//{http://schemas.microsoft.com/exchange/services/2006/types}ItemId")
    ews('<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:IncludeMimeContent>true'
        '</t:IncludeMimeContent></m:ItemShape><m:ItemIds>'
        f'<t:ItemId Id="{item.get("Id")}" ChangeKey="{item.get("ChangeKey")}"/></m:ItemIds></m:GetItem>')
    ews('<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId>'
        '<t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned>'
        '</m:SyncFolderItems>')

    status, body = http(ready["ewsControl"] + "/journal?status=200")
    entries = json.loads(body)["entries"]
    passed = failed = 0
    for e in entries:
        if not e["path"].lower().endswith("/ews/exchange.asmx"):
            continue
        root = ET.fromstring(e["responseBody"].encode())
        payload = root.find(f"{{{SOAP}}}Body")[0]
        name = payload.tag.split("}")[1]
        path = f"{tmp}/{e['seq']}-{name}.xml"
        open(path, "wb").write(ET.tostring(payload))
        r = subprocess.run(["xmllint", "--noout", "--schema", schema, path], capture_output=True, text=True)
        if r.returncode == 0:
            passed += 1
            print(f"ok: {name} validates")
        else:
            failed += 1
            print(f"FAIL: {name}\n{r.stderr}")
    if passed < 4:
        print(f"expected at least 4 responses in the journal, validated {passed}")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
finally:
    proc.terminate()
    proc.wait()
