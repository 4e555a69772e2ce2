#!/usr/bin/python3
"""exchangelib 4.9 (Debian python3-exchangelib, unmodified) against what the seed's step 5 configures.

    admin_policy_cases.py        (run by tests/interop/run-admin-interop.sh, which starts exo-harness,
                                  runs the seed's steps 1-5.8 through exo-admin and sets
                                  EXO_INTEROP_FIXTURE and REQUESTS_CA_BUNDLE)

Issue 5: exchangelib is served for a mailbox outside the RestrictAccess group until the access policy
has propagated (more than 1 h), then refused with HTTP 403; the member stays served. The same for the
EWS allow list (Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs ..., 24 h): served until
the list has propagated, then 403 for every mailbox, and served again once a list naming the app has.

Time moves only through the harness clock (POST {ewsControl}/clock/advance; mock-aad and mock-ews share
it). The instants come from GET {ewsControl}/admin/state (`propagatesUntil`), so each boundary is
probed on both sides: two minutes before it (still the old answer) and one minute after it.

Only public exchangelib API: OAuth2Credentials subclassed for its token_url, Configuration with the
harness EWS URL (no autodiscover) and FailFast, a fresh Account and credentials for every probe.
"""
import datetime
import json
import logging
import os
import ssl
import subprocess
import sys
import traceback
import urllib.error
import urllib.request

from exchangelib import (
    IMPERSONATION,
    OAUTH2,
    Account,
    Configuration,
    FailFast,
    Identity,
    OAuth2Credentials,
    close_connections,
)
from exchangelib.errors import MalformedResponseError

FIXTURE = json.load(open(os.environ["EXO_INTEROP_FIXTURE"]))
CONTROL = FIXTURE["ewsControl"]
APP_ID = FIXTURE["appId"]
MEMBER, OUTSIDER = FIXTURE["member"], FIXTURE["nonMember"]
OTHER_APP_ID = FIXTURE["otherAppId"]
_ctx = ssl.create_default_context(cafile=FIXTURE["ca"])


def say(text=""):
    print(text, flush=True)


def ok(what):
    say(f"ok: {what}")


# --- the harness control API (not EWS) --------------------------------------------------------------


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(CONTROL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=_ctx) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now():
    status, clock = control("GET", "/clock")
    assert status == 200, f"GET /clock: {status} {clock}"
    return parse_time(clock["now"][:19] + "Z")


def org_state():
    status, state = control("GET", "/admin/state")
    assert status == 200, f"GET /admin/state: {status} {state}"
    (org,) = [o for o in state["organizations"] if o["id"] == FIXTURE["tenantId"]]
    return org


def advance_to(instant, why):
    """Moves the shared clock forward to `instant` (a datetime)."""
    before = now()
    seconds = int((instant - before).total_seconds())
    assert seconds > 0, f"advance_to {instant}: the clock is already at {before}"
    status, reply = control("POST", "/clock/advance", {"seconds": seconds})
    assert status == 200, f"POST /clock/advance: {status} {reply}"
    say(f"   clock: {before:%Y-%m-%d %H:%M:%S} -> {now():%Y-%m-%d %H:%M:%S}Z (+{seconds // 60} min {seconds % 60} s; {why})")


def deliver(to, subject):
    status, reply = control("POST", f"/mailboxes/{to}/deliver",
                            {"from": "orders@fabrikam.com", "to": to, "subject": subject, "body": "interop"})
    assert status in (200, 201), f"deliver to {to}: {status} {reply}"


def ews_403s():
    """mock-ews's journal of EWS requests answered 403, with the rule that refused each (annotations
    the client cannot see: `denied`, `denied.detail`)."""
    status, journal = control("GET", "/journal?path=/EWS/&status=403")
    assert status == 200, f"GET /journal: {status} {journal}"
    return [e.get("annotations") or {} for e in journal["entries"]]


# --- exo-admin --------------------------------------------------------------------------------------


def exo_admin(*lines):
    """Runs PowerShell lines through exo-admin (signed in as the ready file's administrator)."""
    script = "\n".join(("Connect-ExchangeOnline -UserPrincipalName admin@contoso.onmicrosoft.com -ShowBanner:$false",)
                       + lines) + "\n"
    for line in script.splitlines():
        say(f"   PS> {line}")
    r = subprocess.run([FIXTURE["exoAdmin"], "--ready-file", FIXTURE["readyFile"]], input=script,
                       capture_output=True, text=True, timeout=60)
    out = "\n".join(f"   | {l}" for l in r.stdout.strip("\n").splitlines() if l.strip())
    if out:
        say(out)
    assert r.returncode == 0, f"exo-admin exited {r.returncode}:\n{r.stderr}"
    return r.stdout


# --- exchangelib ------------------------------------------------------------------------------------


class HarnessCredentials(OAuth2Credentials):
    """Client credentials against mock-aad: only the authority differs from Entra ID."""

    @property
    def token_url(self):
        return FIXTURE["tokenUrl"]


class StatusRecorder(logging.Handler):
    """exchangelib's documented debug log of each POST: the statuses it saw (and the bodies)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.exchanges = []

    def emit(self, record):
        vals = record.args if isinstance(record.args, dict) else {}
        if "status_code" in vals:
            self.exchanges.append({"status": vals.get("status_code"), "headers": vals.get("response_headers")})
        elif "xml_response" in vals and self.exchanges:
            self.exchanges[-1]["response"] = vals.get("xml_response")


RECORDER = StatusRecorder()
logging.getLogger("exchangelib.util").addHandler(RECORDER)
logging.getLogger("exchangelib.util").setLevel(logging.DEBUG)


STAGE = {"name": None}


def inbox_subjects(smtp):
    """What an integration does first: a fresh Account (version probe with ExchangeImpersonation,
    then FindItem in the Inbox). Fresh credentials and no cached protocol, so nothing carries over."""
    close_connections()
    creds = HarnessCredentials(client_id=APP_ID, client_secret=FIXTURE["secret"], tenant_id=FIXTURE["tenantId"],
                               identity=Identity(primary_smtp_address=smtp))
    config = Configuration(service_endpoint=FIXTURE["ews"], credentials=creds, auth_type=OAUTH2,
                           retry_policy=FailFast())
    STAGE["name"] = "Account() (its version probe, ConvertId)"
    acc = Account(primary_smtp_address=smtp, config=config, autodiscover=False, access_type=IMPERSONATION)
    STAGE["name"] = "inbox.all() (FindItem)"
    return sorted(m.subject for m in acc.inbox.all().only("subject"))


def expect_served(smtp, when):
    subjects = inbox_subjects(smtp)
    assert subjects, f"{smtp}: empty Inbox"
    ok(f"{when}: {smtp} served (Inbox: {subjects})")


def expect_403(smtp, when, denied, detail):
    """HTTP 403 with an empty body: exchangelib 4.9 has no type of its own for it. FailFast's
    raise_response_errors ends in MalformedResponseError (a TransportError) 'Unknown failure in
    response. Code: 403 headers: {...} content: '. mock-ews's journal names the rule that refused."""
    seen, denials = len(RECORDER.exchanges), len(ews_403s())
    try:
        subjects = inbox_subjects(smtp)
    except MalformedResponseError as e:
        assert type(e) is MalformedResponseError, type(e)
        text = str(e)
        assert text.startswith("Unknown failure in response. Code: 403 headers: "), text
        assert text.endswith(" content: "), f"403 with a body: {text}"
        statuses = [x["status"] for x in RECORDER.exchanges[seen:]]
        assert statuses and statuses[-1] == 403, statuses
        assert not RECORDER.exchanges[-1].get("response"), RECORDER.exchanges[-1].get("response")
        new = ews_403s()[denials:]
        assert len(new) == 1, f"mock-ews journal: {len(new)} new 403s, want 1: {new}"
        j = new[0]
        assert j.get("mailbox") == smtp and j.get("client_id") == APP_ID, j
        assert j.get("denied") == denied and detail in j.get("denied.detail", ""), \
            f"journal: denied={j.get('denied')!r} ({j.get('denied.detail')!r}), want {denied!r} ({detail!r})"
        ok(f"{when}: {smtp} refused: HTTP 403, empty body -> exchangelib.errors.MalformedResponseError"
           f"('Unknown failure in response. Code: 403 headers: {{...}} content: ') from {STAGE['name']}")
        say(f"      HTTP statuses exchangelib saw: {statuses}"
            + (" (500: its Exchange2019 probe is ErrorInvalidRequest, it retries as Exchange2016)"
               if statuses[:1] == [500] else ""))
        say(f"      mock-ews journal: {j.get('operation')} denied={j.get('denied')} ({j.get('denied.detail')})")
    else:
        raise AssertionError(f"{when}: {smtp} was served ({subjects}), want HTTP 403")


# --- the phases -------------------------------------------------------------------------------------


def policy_until():
    (policy,) = [p for p in org_state()["applicationAccessPolicies"] if APP_ID in p["identity"]]
    return policy


def phase_access_policy():
    say("== 1. ApplicationAccessPolicy RestrictAccess (EvenUsers): served before the delay, 403 after")
    policy = policy_until()
    until = parse_time(policy["propagatesUntil"])
    created = now()  # an upper bound: New-ApplicationAccessPolicy ran a moment ago
    say(f"   now {created:%H:%M:%S}Z, just after New-ApplicationAccessPolicy; the policy reaches EWS at "
        f"{until:%H:%M:%S}Z ({(until - created).total_seconds() / 60:.1f} min later)")
    assert (until - created) > datetime.timedelta(hours=1), "the access policy must take more than 1 h"
    expect_served(OUTSIDER, "right after the policy (Test-ApplicationAccessPolicy already says Denied)")
    expect_served(MEMBER, "right after the policy")
    advance_to(until - datetime.timedelta(minutes=2), "two minutes before the policy reaches EWS")
    expect_served(OUTSIDER, "2 min before the delay ends")
    advance_to(until + datetime.timedelta(minutes=1), "one minute after")
    expect_403(OUTSIDER, "after the delay", "ApplicationAccessPolicy", "excludes the mailbox")
    expect_served(MEMBER, "after the delay (member of EvenUsers)")


def phase_remove_policy():
    say("== 2. Remove-ApplicationAccessPolicy, so that the allow list alone decides below")
    exo_admin("$p = Get-ApplicationAccessPolicy",
              "Remove-ApplicationAccessPolicy -Identity $p.Identity -Confirm:$false",
              'Test-ApplicationAccessPolicy -Identity "' + OUTSIDER + '" -AppId ' + APP_ID)
    policies = [p for p in org_state()["applicationAccessPolicies"] if APP_ID in p["identity"]]
    until = max(parse_time(p["propagatesUntil"]) for p in policies)
    expect_403(OUTSIDER, "right after the removal (Test-ApplicationAccessPolicy says Granted)",
               "ApplicationAccessPolicy", "excludes the mailbox")
    advance_to(until + datetime.timedelta(minutes=1), "the removal reaches EWS")
    expect_served(OUTSIDER, "after the removal has propagated")


def allow_list_until():
    config = org_state()["organizationConfig"]
    return config, parse_time(config["ewsAllowedAppIdsPropagatesUntil"])


def phase_allow_list():
    say("== 3. EWS allow list: EwsEnabled True with the app listed (the baseline Microsoft asks for)")
    exo_admin(f'Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "{APP_ID}"',
              "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy")
    config, until = allow_list_until()
    enabled_until = parse_time(config["ewsEnabledPropagatesUntil"])
    say(f"   EwsEnabled reaches EWS at {enabled_until:%Y-%m-%d %H:%M}Z, EwsAllowedAppIDs at {until:%Y-%m-%d %H:%M}Z")
    expect_served(MEMBER, "right after Set-OrganizationConfig")
    advance_to(until + datetime.timedelta(minutes=1), "both settings reach EWS")
    expect_served(MEMBER, "EwsEnabled True, app listed")
    expect_served(OUTSIDER, "EwsEnabled True, app listed")

    say("== 4. EWS allow list without the app: served before the delay (24 h), 403 for every mailbox after")
    exo_admin(f'Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "{OTHER_APP_ID}"',
              "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy")
    _, until = allow_list_until()
    say(f"   EwsAllowedAppIDs reaches EWS at {until:%Y-%m-%d %H:%M:%S}Z")
    expect_served(MEMBER, "right after the list dropped the app")
    expect_served(OUTSIDER, "right after the list dropped the app")
    advance_to(until - datetime.timedelta(minutes=2), "two minutes before the list reaches EWS")
    expect_served(MEMBER, "2 min before the delay ends")
    advance_to(until + datetime.timedelta(minutes=1), "one minute after")
    expect_403(MEMBER, "after the delay", "EwsAllowedAppIDs", f"app {APP_ID} is not in EwsAllowedAppIDs")
    expect_403(OUTSIDER, "after the delay", "EwsAllowedAppIDs", f"app {APP_ID} is not in EwsAllowedAppIDs")

    say("== 5. The app back in the allow list: still 403 until the list propagates, then served")
    exo_admin(f'Set-OrganizationConfig -EwsAllowedAppIDs "{OTHER_APP_ID},{APP_ID}"',
              "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy")
    _, until = allow_list_until()
    expect_403(MEMBER, "right after the app was listed again", "EwsAllowedAppIDs", "is not in EwsAllowedAppIDs")
    advance_to(until + datetime.timedelta(minutes=1), "the list reaches EWS")
    expect_served(MEMBER, "after the delay")
    expect_served(OUTSIDER, "after the delay")


def main():
    try:
        for smtp in (MEMBER, OUTSIDER):
            deliver(smtp, f"Hello {smtp.split('@')[0]}")
        phase_access_policy()
        phase_remove_policy()
        phase_allow_list()
    except Exception:
        print("FAIL: exchangelib against the seed's access policy and the EWS allow list", file=sys.stderr)
        traceback.print_exc()
        for x in RECORDER.exchanges[-3:]:
            print(f"--- exchangelib saw HTTP {x['status']}: {str(x.get('response'))[:1500]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
