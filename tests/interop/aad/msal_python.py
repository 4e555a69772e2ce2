#!/usr/bin/python3
"""MSAL Python (Debian python3-msal) against mock-aad: client credentials with a secret and a
certificate, and the two secret failures. Run with /usr/bin/python3 via run-aad-interop.sh, which
sets REQUESTS_CA_BUNDLE to system roots + the harness CA (requests lets that variable override
the verify= MSAL puts on its session) and unsets CURL_CA_BUNDLE."""
import base64
import hashlib
import json
import os
import ssl
import sys
import time

import msal

fx = json.load(open(os.environ["EXO_INTEROP_FIXTURE"]))
with open(fx["certPem"]) as f:
    CERT = f.read()
with open(fx["keyPem"]) as f:
    KEY = f.read()
SCOPES = [fx["resource"] + "/.default"]
failures = 0


def check(name, fn):
    global failures
    try:
        note = fn()
        print(f"ok   {name}" + (f" ({note})" if note else ""), flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        failures += 1
        print(f"FAIL {name}: {type(e).__name__}: {' '.join(str(e).split())}", flush=True)


def app(credential, client_id=fx["appId"]):
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=f"{fx['aad']}/{fx['tenantId']}",
        # 127.0.0.1 is no Microsoft host: skip the hard-coded login.microsoftonline.com instance
        # discovery (which would also drop the port) and read {authority}/v2.0/.well-known directly.
        instance_discovery=False,
    )


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def assert_exo_app_token(result, appidacr):
    assert "access_token" in result, f"no access_token: {result}"
    c = claims(result["access_token"])
    expected = {"aud": fx["resource"], "iss": f"https://sts.windows.net/{fx['tenantId']}/",
                "tid": fx["tenantId"], "appid": fx["appId"], "ver": "1.0", "appidacr": appidacr}
    for k, v in expected.items():
        assert c.get(k) == v, f"{k} is {c.get(k)!r}, expected {v!r}"
    assert "full_access_as_app" in (c.get("roles") or []), f"roles {c.get('roles')!r}"
    assert c["exp"] > time.time() + 600, f"exp {c['exp']} is not comfortably in the future"


def assert_invalid_client(result, code):
    assert "access_token" not in result, "got a token"
    assert result.get("error") == "invalid_client", f"error {result.get('error')!r}: {result}"
    assert code in result.get("error_codes", []), f"error_codes {result.get('error_codes')!r}"
    assert f"AADSTS{code}:" in result.get("error_description", ""), result.get("error_description")


def secret_ok():
    assert_exo_app_token(app(fx["secret"]).acquire_token_for_client(scopes=SCOPES), "1")
    return f"msal {msal.__version__}"


def certificate_ok():
    der = ssl.PEM_cert_to_DER_cert(CERT)
    credential = {
        "private_key": KEY,
        "thumbprint": hashlib.sha1(der).hexdigest(),  # MSAL Python signs RS256 with x5t (SHA-1)
        "public_certificate": CERT,                   # sent as x5c
    }
    assert_exo_app_token(app(credential).acquire_token_for_client(scopes=SCOPES), "2")


def expired_secret():
    result = app(fx["expiredSecret"], fx["expiredAppId"]).acquire_token_for_client(scopes=SCOPES)
    assert_invalid_client(result, 7000222)


def wrong_secret():
    assert_invalid_client(app(fx["wrongSecret"]).acquire_token_for_client(scopes=SCOPES), 7000215)


check("msal-python: client secret -> EXO app token", secret_ok)
check("msal-python: certificate (RS256, x5t) -> EXO app token", certificate_ok)
check("msal-python: expired secret -> invalid_client 7000222", expired_secret)
check("msal-python: wrong secret -> invalid_client 7000215", wrong_secret)
sys.exit(1 if failures else 0)
