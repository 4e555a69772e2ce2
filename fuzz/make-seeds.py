#!/usr/bin/env python3
"""Regenerates the fuzz targets' seed corpora (fuzz/corpus/<target>/) and the fuzz key.

Sources: the captured requests of real EWS clients (../shared/reference/captures/), mock-ews's
own answers as the test suite records them (build/ews-corpus/, made by ctest -R '^ews'; skipped
when absent), the recorded sessions in scenarios/cassettes/, the scenario library, and, for what
none of them holds, small hand-written inputs in the formats the targets' headers describe.
Tokens and assertions are signed with fuzz/keys/fuzz-app.pem (made here once, then kept: the
committed seeds are only valid for that key) at the simulated clock's start, 2026-11-02T09:00Z.
Needs python3-cryptography. Usage: fuzz/make-seeds.py [--ews-corpus DIR] [--shared DIR]
"""
import argparse, base64, datetime, hashlib, json, os, re, shutil, sys

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    sys.exit("make-seeds.py needs python3-cryptography (apt-get install python3-cryptography)")

FUZZ = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(FUZZ)
TENANT = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01"  # fuzz_support.hpp
APP = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
SECRET = "Xy78Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456-"
MAILBOX = "monitor@contoso.com"
KID = "fuzz-key-1"
NOW = int(datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.timezone.utc).timestamp())
SEP = "\n%%\n"


def key_and_cert():
    path = os.path.join(FUZZ, "keys", "fuzz-app.pem")
    if not os.path.exists(path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "exo-fuzz-app")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(1)
                .not_valid_before(datetime.datetime(2020, 1, 1))
                .not_valid_after(datetime.datetime(2040, 1, 1)).sign(key, hashes.SHA256()))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
            f.write(cert.public_bytes(serialization.Encoding.PEM))
    pem = open(path, "rb").read()
    return (serialization.load_pem_private_key(pem, None), x509.load_pem_x509_certificate(pem))


KEY, CERT = key_and_cert()
DER = CERT.public_bytes(serialization.Encoding.DER)


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header, payload, alg="RS256"):
    signing_input = b64url(json.dumps(header, separators=(",", ":"))) + "." + \
        b64url(json.dumps(payload, separators=(",", ":")))
    if alg == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    else:
        pad = padding.PKCS1v15()
    if alg in ("RS256", "PS256"):
        signature = KEY.sign(signing_input.encode(), pad, hashes.SHA256())
    else:
        signature = b""
    return signing_input + "." + b64url(signature)


class Corpus:
    def __init__(self, name):
        self.dir = os.path.join(FUZZ, "corpus", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)

    def add(self, name, text):
        data = text.encode() if isinstance(text, str) else text
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)


# ---- ews_request: the captured clients' requests, ids as the target's placeholders ----

def placeholders(body):
    body = re.sub(r'(<t:ItemId Id=")[^"]*(" ChangeKey=")[^"]*"', r'\1@ITEM0@\2@CK0@"', body)
    body = re.sub(r'(<t:(?:ItemId|ReferenceItemId) Id=")[^"]*"', r'\1@ITEM0@"', body)
    body = re.sub(r'(ChangeKey=")[^"]*"', r'\1@CK0@"', body)
    body = re.sub(r'(<t:FolderId Id=")[^"]*"( ChangeKey="[^"]*")?', r'\1@FOLDER@"', body)
    body = re.sub(r'(SyncState>)[^<]+(<)', r'\1@SYNCSTATE@\2', body)
    body = re.sub(r'(Watermark>)[^<]+(<)', r'\1@WATERMARK@\2', body)
    sub = "@STREAMSUB@" if "GetStreamingEvents" in body else "@SUBSCRIPTION@"
    return re.sub(r'(SubscriptionId>)[^<]+(<)', r'\g<1>' + sub + r'\2', body)


def envelope(body, mailbox=MAILBOX, version="Exchange2016"):
    return ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
            'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header>'
            f'<t:RequestServerVersion Version="{version}"/><t:ExchangeImpersonation>'
            f'<t:ConnectingSID><t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress>'
            '</t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body>'
            f'{body}</s:Body></s:Envelope>')


SHAPE = '<m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>'
MIME = base64.b64encode(b"From: a@fabrikam.com\r\nTo: monitor@contoso.com\r\nSubject: Hi\r\n"
                        b"Message-ID: <1@fabrikam.com>\r\n\r\nHello\r\n").decode()


def ews_request(shared):
    c = Corpus("ews_request")
    for capture in sorted(os.listdir(os.path.join(shared, "reference", "captures"))):
        client = capture.split("-")[0].replace("ews", "ewsjs")
        text = open(os.path.join(shared, "reference", "captures", capture)).read()
        seen, ops = set(), set()
        for section in text.split("\n#### ")[1:]:
            op = section.split()[1]
            if op in ops and op != "Subscribe":  # one of each, but pull and streaming
                continue
            ops.add(op)
            start = re.search(r"<(\?xml|[A-Za-z0-9]+:Envelope)", section)
            end = section.rfind("Envelope>")
            if not start or end < 0:
                continue
            body = placeholders(section[start.start():end + len("Envelope>")])
            if body in seen:
                continue
            seen.add(body)
            c.add(f"{client}-{section.split()[0]}-{op}.xml", body)
    hand = {
        "FindFolder": '<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>AllProperties'
                      '</t:BaseShape></m:FolderShape><m:IndexedPageFolderView MaxEntriesReturned='
                      '"5" Offset="0" BasePoint="Beginning"/><m:ParentFolderIds>'
                      '<t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds>'
                      '</m:FindFolder>',
        "CreateFolder": '<m:CreateFolder><m:ParentFolderId><t:FolderId Id="@FOLDER@"/>'
                        '</m:ParentFolderId><m:Folders><t:Folder><t:DisplayName>2026'
                        '</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>',
        "CopyItem": '<m:CopyItem><m:ToFolderId><t:DistinguishedFolderId Id="drafts"/>'
                    '</m:ToFolderId><m:ItemIds><t:ItemId Id="@ITEM1@"/><t:ItemId Id="@OTHERITEM@"/>'
                    '</m:ItemIds></m:CopyItem>',
        "FindItemRestriction":
            '<m:FindItem Traversal="Shallow">' + SHAPE + '<m:IndexedPageItemView '
            'MaxEntriesReturned="2" Offset="1" BasePoint="End"/><m:Restriction><t:And>'
            '<t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant>'
            '<t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo><t:Contains '
            'ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI '
            'FieldURI="item:Subject"/><t:Constant Value="order"/></t:Contains></t:And>'
            '</m:Restriction><m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI '
            'FieldURI="item:DateTimeReceived"/></t:FieldOrder></m:SortOrder><m:ParentFolderIds>'
            '<t:FolderId Id="@INBOX@"/></m:ParentFolderIds></m:FindItem>',
        "GetItemMime": '<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape>'
                       '<t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>'
                       '<m:ItemIds><t:ItemId Id="@ITEM0@" ChangeKey="@CK0@"/><t:ItemId '
                       'Id="@ITEM2@"/><t:ItemId Id="AAMkAGI2bogus"/></m:ItemIds></m:GetItem>',
        "UpdateItemFields":
            '<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="NeverOverwrite">'
            '<m:ItemChanges><t:ItemChange><t:ItemId Id="@ITEM1@" ChangeKey="@CK1@"/><t:Updates>'
            '<t:SetItemField><t:FieldURI FieldURI="item:Categories"/><t:Message><t:Categories>'
            '<t:String>Done</t:String></t:Categories></t:Message></t:SetItemField>'
            '<t:DeleteItemField><t:FieldURI FieldURI="item:Importance"/></t:DeleteItemField>'
            '<t:SetItemField><t:ExtendedFieldURI PropertyTag="0x1081" PropertyType="Integer"/>'
            '<t:Message><t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x1081" '
            'PropertyType="Integer"/><t:Value>261</t:Value></t:ExtendedProperty></t:Message>'
            '</t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>',
        "CreateItemMime": '<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId>'
                          '<t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items>'
                          f'<t:Message><t:MimeContent CharacterSet="UTF-8">{MIME}</t:MimeContent>'
                          '</t:Message></m:Items></m:CreateItem>',
        "CreateItemSend": '<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:Message>'
                          '<t:Subject>Report</t:Subject><t:Body BodyType="HTML">&lt;p&gt;Hi'
                          '&lt;/p&gt;</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>'
                          'adelev@contoso.com</t:EmailAddress></t:Mailbox></t:ToRecipients>'
                          '<t:CcRecipients><t:Mailbox><t:EmailAddress>x@fabrikam.com'
                          '</t:EmailAddress></t:Mailbox></t:CcRecipients></t:Message></m:Items>'
                          '</m:CreateItem>',
        "ForwardItem": '<m:CreateItem MessageDisposition="SendOnly"><m:Items><t:ForwardItem>'
                       '<t:ToRecipients><t:Mailbox><t:EmailAddress>adelev@contoso.com'
                       '</t:EmailAddress></t:Mailbox></t:ToRecipients><t:ReferenceItemId '
                       'Id="@ITEM2@"/><t:NewBodyContent BodyType="Text">fyi</t:NewBodyContent>'
                       '</t:ForwardItem></m:Items></m:CreateItem>',
        "SendItem": '<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="@ITEM0@"/>'
                    '</m:ItemIds></m:SendItem>',
        "DeleteItemHard": '<m:DeleteItem DeleteType="HardDelete"><m:ItemIds><t:ItemId '
                          'Id="@ITEM2@"/></m:ItemIds></m:DeleteItem>',
        "ResolveNames": '<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>adele'
                        '</m:UnresolvedEntry></m:ResolveNames>',
        "GetEvents": '<m:GetEvents><m:SubscriptionId>@SUBSCRIPTION@</m:SubscriptionId>'
                     '<m:Watermark>@WATERMARK@</m:Watermark></m:GetEvents>',
        "SyncWithState": '<m:SyncFolderItems><m:ItemShape><t:BaseShape>AllProperties'
                         '</t:BaseShape></m:ItemShape><m:SyncFolderId><t:FolderId Id="@INBOX@"/>'
                         '</m:SyncFolderId><m:SyncState>@SYNCSTATE@</m:SyncState><m:Ignore>'
                         '<t:ItemId Id="@ITEM0@"/></m:Ignore><m:MaxChangesReturned>10'
                         '</m:MaxChangesReturned><m:SyncScope>NormalItems</m:SyncScope>'
                         '</m:SyncFolderItems>',
    }
    for name, body in hand.items():
        c.add(f"hand-{name}.xml", envelope(body))
    # A session: change the inbox, then read the changes since the first sync.
    c.add("hand-session.xml", SEP.join([
        envelope(hand["CreateItemMime"].replace('"drafts"', '"inbox"')),
        envelope('<m:MoveItem><m:ToFolderId><t:FolderId Id="@FOLDER@"/></m:ToFolderId>'
                 '<m:ItemIds><t:ItemId Id="@ITEM1@"/></m:ItemIds></m:MoveItem>'),
        envelope(hand["SyncWithState"]), envelope(hand["GetEvents"])]))
    c.add("hand-principal-name.xml", envelope(hand["ResolveNames"]).replace(
        "PrimarySmtpAddress", "PrincipalName"))
    c.add("hand-no-impersonation.xml", re.sub("<t:ExchangeImpersonation>.*</s:Header>",
                                              "</s:Header>", envelope(hand["SendItem"])))


# ---- ews_response: mock-ews's recorded answers and cassettes, as scripts per operation ----

def pick(corpus_dir, op, want=None, error=False, limit=6000):
    best = None
    for name in sorted(os.listdir(corpus_dir)):
        text = open(os.path.join(corpus_dir, name), encoding="utf-8", errors="replace").read()
        if f"{op}Response" not in text or len(text) > limit:
            continue
        if error is not None and ('ResponseClass="Error"' in text) != error:
            continue
        if want and want not in text:
            continue
        if best is None or len(text) < len(best):
            best = text
    return best


def fault(code, text, backoff=None):
    detail = f'<t:Value Name="BackOffMilliseconds">{backoff}</t:Value>' if backoff else ""
    return ("HTTP 500\nContent-Type: text/xml; charset=utf-8\n\n"
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
            f'<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">'
            f'a:{code}</faultcode><faultstring xml:lang="en-US">{text}</faultstring><detail>'
            f'<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
            f'{code}</e:ResponseCode><e:Message xmlns:e="http://schemas.microsoft.com/exchange/'
            f'services/2006/errors">{text}</e:Message><t:MessageXml xmlns:t="http://schemas.'
            f'microsoft.com/exchange/services/2006/types">{detail}</t:MessageXml></detail>'
            '</s:Fault></s:Body></s:Envelope>')


def ews_response(ews_corpus):
    c = Corpus("ews_response")
    answers = {}
    if ews_corpus and os.path.isdir(ews_corpus):
        for key, op, want, *error in [("getfolder", "GetFolder", "FolderId"),
                              ("findfolder", "FindFolder", "DisplayName"),
                              ("createfolder", "CreateFolder", "FolderId"),
                              ("sync", "SyncFolderItems", ":Create>"),
                              ("getitem", "GetItem", "MimeContent", None),
                              ("update", "UpdateItem", None), ("move", "MoveItem", None),
                              ("delete", "DeleteItem", None), ("create", "CreateItem", None),
                              ("subscribe", "Subscribe", "SubscriptionId"),
                              ("stream", "GetStreamingEvents", "Notification"),
                              ("streamclosed", "GetStreamingEvents", "Closed")]:
            answers[key] = pick(ews_corpus, op, want, *error)
        answers["getitem-error"] = pick(ews_corpus, "GetItem", None, error=True)
        answers["sync-error"] = pick(ews_corpus, "SyncFolderItems", None, error=True)
    else:
        print(f"note: no {ews_corpus}: ews_response gets the cassettes' answers only")
    for name in sorted(os.listdir(os.path.join(REPO, "scenarios", "cassettes"))):
        if not name.endswith(".json"):
            continue
        session = json.load(open(os.path.join(REPO, "scenarios", "cassettes", name)))
        ews = [e for e in session["exchanges"]
               if "/EWS/" in e["request"]["url"] and "body" in e.get("response", {})]
        c.add(f"cassette-{name[:-5]}.txt", "all\n" + SEP.join(e["response"]["body"] for e in ews))
        for e in ews:
            if "<m:GetItem>" in e["request"].get("body", "") and "MimeContent" in \
                    e["response"]["body"]:
                answers.setdefault("getitem-cassette", e["response"]["body"])
    a = {k: v for k, v in answers.items() if v}
    scripts = {
        "resolve": ["getfolder"],
        "path": ["getfolder", "findfolder", "createfolder", "findfolder", "createfolder"],
        "sync": ["sync"], "fetch": ["getitem-cassette", "getitem-cassette"], "fetch-error": ["getitem"], "markread": ["update"],
        "move": ["move"], "delete": ["delete"], "reply": ["create"],
        "watch": ["subscribe", "stream", "streamclosed"],
    }
    for op, keys in scripts.items():
        if all(k in a for k in keys):
            c.add(f"recorded-{op}.txt", op.split("-")[0] + "\n" + SEP.join(a[k] for k in keys))
    if "sync-error" in a:
        c.add("recorded-sync-error.txt", "sync\n" + a["sync-error"])
    if "stream" in a:
        # Two envelopes in one streamed answer, as Exchange sends them on one connection.
        c.add("recorded-watch-two.txt", "watch\n" + a.get("subscribe", "") + SEP +
              a["stream"] + a.get("streamclosed", ""))
    c.add("fault-busy.txt", "sync\n" + fault("ErrorServerBusy", "The server cannot service "
                                             "this request right now.", 29000))
    c.add("fault-mailbox.txt", "resolve\n" + fault("ErrorNonExistentMailbox", "The SMTP address "
                                                   "has no mailbox associated with it."))
    c.add("http-401.txt", "markread\nHTTP 401\nx-ms-diagnostics: 2000008;reason=\"The token "
          "contains no permissions, or permissions can not be understood.\";error_category="
          "\"invalid_grant\"\n\n" + SEP + "HTTP 401\n\n")
    c.add("http-403.txt", "delete\nHTTP 403\nx-ms-diagnostics: 2000008;reason=\"The token "
          "contains not enough scope to make this call.\"\n\n")
    c.add("http-503.txt", "fetch\nHTTP 503\nRetry-After: 17\n\n")
    c.add("http-200-html.txt", "reply\nHTTP 200\nContent-Type: text/html\n\n<html><body>Sign in"
          "</body></html>")


# ---- Tokens: jwt_client, jwt_ews, jwt_aad ----

def access_claims(**changes):
    claims = {"aud": "https://outlook.office365.com", "iss": f"https://sts.windows.net/{TENANT}/",
              "iat": NOW, "nbf": NOW, "exp": NOW + 3599, "appid": APP, "appidacr": "1",
              "idp": f"https://sts.windows.net/{TENANT}/", "oid": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
              "roles": ["full_access_as_app"], "tid": TENANT, "ver": "1.0"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def jwt_ews():
    c = Corpus("jwt_ews")
    header = {"typ": "JWT", "alg": "RS256", "x5t": KID, "kid": KID}
    v2 = f"https://login.microsoftonline.com/{TENANT}/v2.0"
    variants = {
        "valid": access_claims(),
        "no-roles": access_claims(roles=None),
        "mail-read-only": access_claims(roles=["Mail.Read"]),
        "other-app": access_claims(appid="2b3c4d5e-6f70-4819-8a2b-3c4d5e6f7081"),
        "expired": access_claims(exp=NOW - 3600, nbf=NOW - 7200),
        "not-yet-valid": access_claims(nbf=NOW + 3600, exp=NOW + 7200),
        "float-dates": access_claims(exp=NOW + 3599.5, nbf=NOW - 0.25),
        "graph-v2": access_claims(aud="https://graph.microsoft.com", iss=v2, ver="2.0",
                                  roles=["Mail.ReadWrite"], azp=APP, appid=None),
        "on-premises": access_claims(aud="https://mail.contoso.com/"),
        "other-tenant": access_claims(iss="https://sts.windows.net/11111111-2222-3333-4444-"
                                          "555555555555/"),
        "delegated": access_claims(scp="EWS.AccessAsUser.All", roles=None, upn="a@contoso.com"),
    }
    for name, claims in variants.items():
        c.add(name, "Bearer " + jwt(header, claims))
    c.add("ps256", "Bearer " + jwt({**header, "alg": "PS256"}, access_claims(), "PS256"))
    c.add("unknown-kid", "Bearer " + jwt({**header, "kid": "rotated"}, access_claims()))
    c.add("alg-none", "Bearer " + jwt({"alg": "none", "kid": KID}, access_claims(), "none"))
    c.add("no-bearer", "Basic " + base64.b64encode(b"app:secret").decode())


def jwt_aad():
    c = Corpus("jwt_aad")
    sha1 = b64url(hashlib.sha1(DER).digest())
    sha256 = b64url(hashlib.sha256(DER).digest())
    aud = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"

    def claims(**changes):
        base = {"aud": aud, "iss": APP, "sub": APP, "jti": "5d1c7a36-0b0e-4f59-9a7e-1f0c2b3a4d5e",
                "nbf": NOW, "iat": NOW, "exp": NOW + 600}
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    header = {"alg": "RS256", "typ": "JWT", "x5t": sha1, "x5t#S256": sha256}
    c.add("valid-msal", jwt(header, claims()))
    c.add("x5t-only-padded", jwt({"alg": "RS256", "x5t": sha1 + "="}, claims(nbf=None)))
    c.add("ps256", jwt({**header, "alg": "PS256"}, claims(), "PS256"))
    c.add("aud-array-v1", jwt(header, claims(aud=["x", f"https://login.microsoftonline.com/"
                                                       f"contoso.com/oauth2/token"])))
    c.add("wrong-aud", jwt(header, claims(aud="https://login.microsoftonline.com/common")))
    c.add("expired", jwt(header, claims(exp=NOW - 900, nbf=NOW - 1500)))
    c.add("float-exp", jwt(header, claims(exp=NOW + 599.75, jti=None)))
    c.add("wrong-issuer", jwt(header, claims(iss="someone-else")))
    c.add("unregistered-cert", jwt({**header, "x5t": b64url(b"0" * 20), "x5t#S256": None},
                                   claims()))
    c.add("alg-none", jwt({"alg": "none", "x5t": sha1}, claims(), "none"))


def jwt_client():
    c = Corpus("jwt_client")
    token = jwt({"typ": "JWT", "alg": "RS256", "kid": KID}, access_claims())
    c.add("token-valid", "token\n" + token)
    c.add("token-roles-string", "token\n" + jwt({"alg": "RS256"}, access_claims(roles="x")))
    c.add("token-aud-number", "token\n" + jwt({"alg": "RS256"}, access_claims(aud=5)))
    c.add("token-opaque", "token\nEwBwA8l6BAAU-opaque-token")
    c.add("token-bad-base64", "token\neyJ.e$$$.sig")

    def answer(body, status=200, headers=""):
        return f"HTTP {status}\nContent-Type: application/json; charset=utf-8\n{headers}\n" + \
            json.dumps(body)
    c.add("v2-answer", answer({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                               "refresh_in": 1799, "access_token": token}))
    c.add("v1-answer", answer({"token_type": "Bearer", "expires_in": "3599", "ext_expires_in":
                               "3599", "expires_on": str(NOW + 3599), "not_before": str(NOW),
                               "resource": "https://outlook.office365.com", "access_token": token}))
    aadsts = {"error": "invalid_client", "error_description": "AADSTS7000222: The provided client "
              "secret keys for app '" + APP + "' are expired.", "error_codes": [7000222],
              "timestamp": "2026-11-02 09:00:00Z", "trace_id": "0", "correlation_id": "0",
              "error_uri": "https://login.microsoftonline.com/error?code=7000222"}
    c.add("aadsts-expired-secret", answer(aadsts, 401) + SEP + answer(aadsts, 401))
    c.add("aadsts-unknown-tenant", answer({**aadsts, "error": "invalid_request", "error_codes":
                                           [90002], "error_description": "AADSTS90002: Tenant "
                                           "'x' not found."}, 400))
    c.add("throttled", "HTTP 429\nRetry-After: 60\n\n" + SEP + answer({"access_token": token,
                                                                      "expires_in": 60}))
    c.add("html-500", "HTTP 500\nContent-Type: text/html\n\n<html>Service unavailable</html>")
    for name in sorted(os.listdir(os.path.join(REPO, "scenarios", "cassettes"))):
        if name.endswith(".json"):
            session = json.load(open(os.path.join(REPO, "scenarios", "cassettes", name)))
            for e in session["exchanges"]:
                if "/oauth2/" in e["request"]["url"] and "body" in e.get("response", {}):
                    c.add(f"cassette-{name[:-5]}", "HTTP %d\n\n%s" % (e["response"]["status"],
                                                                      e["response"]["body"]))
                    break


# ---- token_form ----

def token_form():
    c = Corpus("token_form")
    enc = lambda s: re.sub(r"[^A-Za-z0-9\-._~]", lambda m: "%%%02X" % ord(m.group()), s)
    scope = enc("https://outlook.office365.com/.default")
    base = f"client_id={APP}&scope={scope}&grant_type=client_credentials"
    c.add("secret", f"{base}&client_secret={enc(SECRET)}")
    c.add("wrong-secret", f"{base}&client_secret=nope")
    c.add("graph-scope", base.replace(scope, enc("https://graph.microsoft.com/.default")) +
          f"&client_secret={enc(SECRET)}")
    c.add("v1-resource", f"#v1\nclient_id={APP}&resource={enc('https://outlook.office365.com/')}"
          f"&grant_type=client_credentials&client_secret={enc(SECRET)}")
    basic = base64.b64encode(f"{APP}:{enc(SECRET)}".encode()).decode()
    c.add("basic-auth", f"#auth Basic {basic}\nscope={scope}&grant_type=client_credentials")
    c.add("domain-tenant", f"#tenant contoso.com\n{base}&client_secret={enc(SECRET)}")
    c.add("common-tenant", f"#tenant common\n{base}&client_secret={enc(SECRET)}")
    c.add("json-body", "#type application/json\n{\"grant_type\":\"client_credentials\"}")
    c.add("get", f"#method GET\n{base}")
    c.add("password", "#tenant organizations\nclient_id=fb78d390-0c51-40cd-8e17-fdbfab77341b&"
          f"scope={enc('https://outlook.office365.com/.default openid offline_access')}&grant_type="
          "password&username=admin%40contoso.onmicrosoft.com&password=Harness-Admin-Pa55%21")
    assertion = jwt({"alg": "RS256", "x5t": b64url(hashlib.sha1(DER).digest())},
                    {"aud": f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
                     "iss": APP, "sub": APP, "jti": "1", "exp": NOW + 600})
    c.add("assertion", f"{base}&client_assertion_type={enc('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}"
          f"&client_assertion={assertion}")
    c.add("unsupported-grant", "grant_type=authorization_code&code=x&client_id=" + APP)
    c.add("duplicates", f"{base}&scope=x&client_id=&client_secret={enc(SECRET)}&%zz=%")


# ---- scheduler_config, scenario, autodiscover ----

def scheduler_config():
    c = Corpus("scheduler_config")

    def config(extra, secret="exo1:abcd:AAAA:BBBB"):
        keys = [("EmailIntegrationIdApp", APP), ("EmailIntegrationTenantId", TENANT),
                ("EmailIntegrationClientSecret", secret),
                ("EmailIntegrationWebmailDefault", "https://outlook.office365.com/.default"),
                ("EmailIntegrationMailbox", MAILBOX)]
        adds = "".join(f'<add key="{k}" value="{v}"/>' for k, v in keys if v is not None)
        return ('<?xml version="1.0"?>\n<configuration><appSettings>' + adds + extra +
                '<add key="SomethingElse" value="ignored"/></appSettings></configuration>')
    c.add("minimal.config", config(""))
    c.add("full.config", config(
        '<add key="EmailIntegrationConnectionType" value="Exchange"/>'
        '<add key="EmailIntegrationPassword" value=""/>'
        '<add key="EmailIntegrationFolder" value="Inbox/Orders"/>'
        '<add key="EmailIntegrationDisposition" value="move:Processed/2026"/>'
        '<add key="EmailIntegrationPollingInterval" value="30"/>'
        '<add key="EmailIntegrationOnlyUnread" value="true"/>'
        '<add key="EmailIntegrationAuthority" value="https://127.0.0.1:8443"/>'
        '<add key="EmailIntegrationEwsUrl" value="https://outlook.office365.com/EWS/Exchange.asmx"/>'
        '<add key="EmailIntegrationAutodiscoverUrl" value="https://autodiscover.contoso.com"/>'
        '<add key="EmailIntegrationTransport" value="auto"/>'
        '<add key="EmailIntegrationStateDir" value="state"/>'
        '<add key="EmailIntegrationSecretKeyFile" value="../secret.key"/>'))
    c.add("certificate.config", config('<add key="EmailIntegrationCertificate" value="app.pem"/>',
                                       None))
    c.add("plaintext-secret.config", config("", "Xy78Q~plaintext"))
    c.add("domain-tenant.config", config("").replace(TENANT, "contoso.onmicrosoft.com"))
    c.add("misspelt.config", config('<add key="EmailIntegrationPolingInterval" value="5"/>'))
    c.add("graph.config", config('<add key="EmailIntegrationTransport" value="graph"/>'
                                 '<add key="EmailIntegrationDisposition" value="delete"/>'))


def scenario():
    c = Corpus("scenario")
    library = os.path.join(REPO, "scenarios", "library")
    files = sorted(os.listdir(library), key=lambda n: os.path.getsize(os.path.join(library, n)))
    total = 0
    for name in files:
        size = os.path.getsize(os.path.join(library, name))
        if total + size > 150_000 or len(os.listdir(c.dir)) >= 36:
            break
        total += size
        shutil.copy(os.path.join(library, name), os.path.join(c.dir, name))
    data = os.path.join(REPO, "tests", "scenarios", "data")
    for name in sorted(os.listdir(data)):
        shutil.copy(os.path.join(data, name), os.path.join(c.dir, "test-" + name))


def autodiscover():
    c = Corpus("autodiscover")
    ews = "https://outlook.office365.com/EWS/Exchange.asmx"
    v2 = lambda url: json.dumps({"Protocol": "EWS", "Url": url})

    def soap(body):
        return ('HTTP 200\nContent-Type: text/xml; charset=utf-8\n\n<s:Envelope xmlns:s="http://'
                'schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage '
                'xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response '
                'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">' + body +
                '</Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>')

    def user(code, target="", settings=""):
        t = f"<RedirectTarget>{target}</RedirectTarget>" if target else \
            '<RedirectTarget i:nil="true"/>'
        return (f"<ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses><UserResponse>"
                f"<ErrorCode>{code}</ErrorCode><ErrorMessage>x</ErrorMessage>{t}"
                f"<UserSettingErrors/><UserSettings>{settings}</UserSettings></UserResponse>"
                "</UserResponses>")

    def setting(name, value):
        return (f'<UserSetting i:type="StringSetting"><Name>{name}</Name><Value>{value}</Value>'
                "</UserSetting>")
    not_found = 'HTTP 404\n\n{"ErrorCode":"MailboxNotEnabledForRESTAPI","ErrorMessage":"No"}'
    c.add("v2-found", v2(ews))
    c.add("v2-redirect", "HTTP 302\nLocation: /autodiscover/autodiscover.json?Email=b%40contoso"
          ".com&Protocol=EWS&RedirectCount=1\n\n" + SEP + v2(ews))
    c.add("v2-no-url", '{"Protocol":"EWS"}' + SEP + soap("<ErrorCode>InvalidRequest</ErrorCode>"
                                                        "<ErrorMessage>bad</ErrorMessage>"))
    c.add("soap-found", not_found + SEP + soap(user(
        "NoError", settings=setting("ExternalEwsUrl", "https://mail.contoso.com/EWS/Exchange.asmx")
        + setting("UserMSOnline", "False"))))
    c.add("soap-online", not_found + SEP + soap(user(
        "NoError", settings=setting("InternalEwsUrl", ews) + setting("UserMSOnline", "True"))))
    c.add("soap-redirect-address", not_found + SEP + soap(user("RedirectAddress", "b@contoso.com"))
          + SEP + soap(user("NoError", settings=setting("ExternalEwsUrl", ews))))
    c.add("soap-redirect-url", not_found + SEP + soap(user(
        "RedirectUrl", "https://autodiscover.contoso.com/autodiscover/autodiscover.svc")) + SEP +
        soap(user("InvalidUser")))
    c.add("soap-401", not_found + SEP + "HTTP 401\nx-ms-diagnostics: 2000001;reason=\"x\"\n\n")
    c.add("v2-loop", SEP.join(["HTTP 301\nLocation: https://outlook.office365.com/autodiscover/"
                               "autodiscover.json/v1.0/monitor@contoso.com?Protocol=EWS\n\n"] * 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ews-corpus", default=os.path.join(REPO, "build", "ews-corpus"))
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared"))
    args = parser.parse_args()
    ews_request(args.shared)
    ews_response(args.ews_corpus)
    jwt_client()
    jwt_ews()
    jwt_aad()
    token_form()
    scheduler_config()
    scenario()
    autodiscover()
    for name in sorted(os.listdir(os.path.join(FUZZ, "corpus"))):
        d = os.path.join(FUZZ, "corpus", name)
        files = os.listdir(d)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in files)
        print(f"{name}: {len(files)} seeds, {size // 1024} KiB")


if __name__ == "__main__":
    main()
