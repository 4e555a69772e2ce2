#!/usr/bin/python3
"""exchangelib 4.9 (Debian python3-exchangelib), used as a developer would, against exo-harness.

    exchangelib_cases.py CASE      (run by harness.py, which sets EXO_INTEROP_FIXTURE and the CA)

One case per behaviour, so a failure names it. Only public API: OAuth2Credentials is subclassed for its
token_url (the documented way to use another authority), Configuration gets the harness EWS URL.
"""
import email
import email.policy
import json
import logging
import os
import ssl
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
    FaultTolerance,
    Folder,
    Identity,
    OAuth2Credentials,
)
from exchangelib.errors import ErrorFolderNotFound, ErrorServerBusy

FIXTURE = json.load(open(os.environ["EXO_INTEROP_FIXTURE"]))
CONTROL = FIXTURE["ewsControl"]
MONITOR, ALICE = FIXTURE["monitor"], FIXTURE["alice"]
_ctx = ssl.create_default_context(cafile=FIXTURE["ca"])


class HarnessCredentials(OAuth2Credentials):
    """Client credentials against mock-aad: only the authority differs from Entra ID."""

    @property
    def token_url(self):
        return FIXTURE["tokenUrl"]


def control(method, path, body=None):
    """The harness control API (not EWS): deliver mail, move the clock, force throttling."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(CONTROL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=_ctx) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")


def deliver(to, subject, body="Hello from the interop test", sender="orders@fabrikam.com"):
    status, reply = control("POST", f"/mailboxes/{to}/deliver",
                            {"from": sender, "to": to, "subject": subject, "body": body})
    assert status in (200, 201), f"deliver to {to}: {status} {reply}"
    # Exchange stamps DateTimeReceived in whole seconds: step the clock so the order is unambiguous.
    status, reply = control("POST", "/clock/advance", {"seconds": 61})
    assert status == 200, f"clock/advance: {status} {reply}"
    return reply


def account(smtp=MONITOR, retry_policy=None):
    # Fresh credentials per Account: exchangelib caches one Protocol per (endpoint, credentials).
    creds = HarnessCredentials(client_id=FIXTURE["appId"], client_secret=FIXTURE["secret"],
                               tenant_id=FIXTURE["tenantId"], identity=Identity(primary_smtp_address=smtp))
    config = Configuration(service_endpoint=FIXTURE["ews"], credentials=creds, auth_type=OAUTH2,
                           retry_policy=retry_policy or FailFast())
    return Account(primary_smtp_address=smtp, config=config, autodiscover=False, access_type=IMPERSONATION)


def unread(acc):
    return list(acc.inbox.filter(is_read=False).order_by("-datetime_received"))


class ExchangeRecorder(logging.Handler):
    """Keeps what exchangelib logs about each EWS POST (its documented debug logging), so a failing
    case can show the request the client sent and the response it could not use."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.exchanges = []

    def emit(self, record):
        vals = record.args if isinstance(record.args, dict) else {}
        if "status_code" in vals:
            self.exchanges.append({"url": vals.get("url"), "status": vals.get("status_code")})
        elif "xml_request" in vals and self.exchanges:
            self.exchanges[-1].update(request=vals.get("xml_request"), response=vals.get("xml_response"))

    def dump(self, out, last=4, limit=3000):
        def text(b):
            return (b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b))[:limit]

        print(f"--- last {min(last, len(self.exchanges))} of {len(self.exchanges)} EWS exchanges (exchangelib) ---",
              file=out)
        for e in self.exchanges[-last:]:
            print(f"POST {e['url']} -> {e['status']}\n  sent: {text(e.get('request'))}\n  got:  "
                  f"{text(e.get('response'))}", file=out)


RECORDER = ExchangeRecorder()
logging.getLogger("exchangelib.util").addHandler(RECORDER)
logging.getLogger("exchangelib.util").setLevel(logging.DEBUG)


def ok(what):
    print(f"ok: {what}", flush=True)


# --- cases ------------------------------------------------------------------------------------------


def case_find_unread():
    for i in range(3):
        deliver(MONITOR, f"Order {i}")
    acc = account()
    items = unread(acc)
    assert [m.subject for m in items] == ["Order 2", "Order 1", "Order 0"], [m.subject for m in items]
    ok("filter(is_read=False).order_by('-datetime_received') lists the three mails, newest first")
    assert all(m.is_read is False for m in items), [m.is_read for m in items]
    assert all(m.sender and m.sender.email_address == "orders@fabrikam.com" for m in items), \
        [m.sender for m in items]
    ok("each has is_read False and the sender")
    assert acc.inbox.filter(is_read=False).count() == 3
    ok("count() agrees")


def case_fetch_mime():
    deliver(MONITOR, "Invoice 42", body="Please find the invoice attached.")
    acc = account()
    (item,) = unread(acc)
    mime = item.mime_content
    assert isinstance(mime, bytes) and mime, f"mime_content is {mime!r}"
    msg = email.message_from_bytes(mime, policy=email.policy.default)
    assert msg["Subject"] == "Invoice 42", msg["Subject"]
    assert "orders@fabrikam.com" in str(msg["From"]), msg["From"]
    text = msg.get_body(preferencelist=("plain", "html")).get_content()
    assert "Please find the invoice attached." in text, text
    ok("a listed item carries mime_content that parses as the delivered message")
    (only,) = acc.inbox.all().only("mime_content")
    assert only.mime_content == mime
    ok("only('mime_content') fetches the same bytes")


def case_mark_read():
    deliver(MONITOR, "First")
    deliver(MONITOR, "Second")
    acc = account()
    items = unread(acc)
    assert [m.subject for m in items] == ["Second", "First"], [m.subject for m in items]
    target = items[0]
    old_changekey = target.changekey
    target.is_read = True
    target.save(update_fields=["is_read"])
    assert target.changekey and target.changekey != old_changekey, (old_changekey, target.changekey)
    ok("save(update_fields=['is_read']) returns a new change key")
    assert [m.subject for m in unread(acc)] == ["First"]
    ok("the item no longer matches is_read=False")
    fresh = acc.inbox.get(id=target.id)
    assert fresh.is_read is True
    ok("GetItem reports is_read True")


def folder_named(parent, name):
    """The developer's idiom: use the folder if it exists, create it if not."""
    try:
        return parent / name
    except ErrorFolderNotFound:
        folder = Folder(parent=parent, name=name)
        folder.save()
        return folder


def case_move():
    deliver(MONITOR, "Move me")
    deliver(MONITOR, "Stay here")
    acc = account()
    processed = folder_named(acc.inbox, "Processed")
    assert processed.id, "Folder.save() gave no folder id"
    ok("Folder(parent=inbox, name='Processed').save() creates the folder")
    acc.inbox.refresh()  # the children cache must now know the folder
    again = folder_named(acc.inbox, "Processed")
    assert again.id == processed.id, (again.id, processed.id)
    ok("inbox / 'Processed' finds it afterwards")
    (item,) = [m for m in acc.inbox.all() if m.subject == "Move me"]
    item.move(processed)
    assert [m.subject for m in processed.all()] == ["Move me"], [m.subject for m in processed.all()]
    assert [m.subject for m in acc.inbox.all()] == ["Stay here"], [m.subject for m in acc.inbox.all()]
    ok("move() puts the item in the folder and takes it out of the inbox")


def case_reply():
    deliver(MONITOR, "Question about order 7", body="When will it ship?", sender=ALICE)
    acc = account()
    (item,) = unread(acc)
    assert item.author and item.author.email_address == ALICE, item.author
    item.create_reply(subject="Re: Question about order 7", body="It ships tomorrow.").send()
    ok("create_reply(...).send() succeeds")
    sent = [m.subject for m in acc.sent.all()]
    assert sent == ["Re: Question about order 7"], sent
    ok("a copy is saved in Sent Items")
    alice = account(ALICE)
    replies = list(alice.inbox.all())
    assert [m.subject for m in replies] == ["Re: Question about order 7"], [m.subject for m in replies]
    reply = replies[0]
    assert reply.sender and reply.sender.email_address == MONITOR, reply.sender
    assert "It ships tomorrow." in (reply.text_body or str(reply.body)), reply.body
    ok("the reply arrives in the other mailbox, from the monitor, with the text")


def case_sync():
    deliver(MONITOR, "Before 1")
    deliver(MONITOR, "Before 2")
    acc = account()
    first = list(acc.inbox.sync_items())
    state = acc.inbox.item_sync_state
    assert sorted((c, i.subject) for c, i in first) == [("create", "Before 1"), ("create", "Before 2")], first
    before1 = next(i for _, i in first if i.subject == "Before 1")
    assert state, "no sync state after the first sync"
    ok("the first sync_items() returns every item as a create, and a sync state")
    # Changes between the two syncs: one new mail, one mail marked read.
    deliver(MONITOR, "After")
    before1.is_read = True
    before1.save(update_fields=["is_read"])
    second = list(acc.inbox.sync_items())
    kinds = sorted(c for c, _ in second)
    assert kinds == ["create", "read_flag_change"], second
    created = next(i for c, i in second if c == "create")
    assert created.subject == "After", created.subject
    flag_id, is_read = next(v for c, v in second if c == "read_flag_change")
    assert flag_id.id == before1.id and is_read is True, (flag_id, is_read)
    assert acc.inbox.item_sync_state and acc.inbox.item_sync_state != state
    ok("the second sync_items() returns only the new mail and the read-flag change")
    third = list(acc.inbox.sync_items())
    assert third == [], third
    ok("a third sync_items() returns nothing")


def case_filter_subject():
    deliver(MONITOR, "Invoice 42")
    deliver(MONITOR, "Invoice 43")
    acc = account()
    assert [m.subject for m in acc.inbox.filter(subject="Invoice 42")] == ["Invoice 42"]
    ok("filter(subject=...) (IsEqualTo item:Subject) finds exactly that mail")
    got = sorted(m.subject for m in acc.inbox.filter(subject__contains="Invoice"))
    assert got == ["Invoice 42", "Invoice 43"], got
    ok("filter(subject__contains=...) (Contains Substring IgnoreCase) finds both")


def throttle_next_ews_requests(back_off_ms, times=None):
    """Makes mock-ews answer ErrorServerBusy as a SOAP fault (HTTP 500) with BackOffMilliseconds."""
    force = {"form": "fault", "backOffMs": back_off_ms}
    if times is not None:
        force["times"] = times
    status, reply = control("PUT", "/throttling", {"force": force})
    assert status in (200, 204), f"PUT /throttling: {status} {reply}"


def case_server_busy():
    deliver(MONITOR, "Busy")
    acc = account()  # the version probe and folder lookups run before the server gets busy
    inbox = acc.inbox
    throttle_next_ews_requests(back_off_ms=30000)
    try:
        list(inbox.filter(is_read=False))
    except ErrorServerBusy as e:
        assert e.back_off == 30.0, f"back_off {e.back_off!r}, want 30.0 (BackOffMilliseconds 30000)"
        ok("FailFast raises exchangelib.errors.ErrorServerBusy with back_off 30.0")
    else:
        raise AssertionError("no ErrorServerBusy while the server is busy")


def case_server_busy_retry():
    deliver(MONITOR, "Busy once")
    acc = account(retry_policy=FaultTolerance(max_wait=60))
    inbox = acc.inbox
    throttle_next_ews_requests(back_off_ms=1000, times=1)
    before = len(RECORDER.exchanges)
    assert [m.subject for m in unread_in(inbox)] == ["Busy once"]
    statuses = [e["status"] for e in RECORDER.exchanges[before:]]
    assert statuses[:2] == [500, 200], statuses
    ok("FaultTolerance backs off BackOffMilliseconds once and the retried query succeeds")


def unread_in(folder):
    return list(folder.filter(is_read=False).order_by("-datetime_received"))


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: {sys.argv[0]} {{{','.join(CASES)}}}", file=sys.stderr)
        return 2
    try:
        CASES[sys.argv[1]]()
    except Exception:
        print(f"FAIL: exchangelib {sys.argv[1]}", file=sys.stderr)
        traceback.print_exc()
        RECORDER.dump(sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
