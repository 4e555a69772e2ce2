#!/usr/bin/python3
"""exchangelib doing exo-ingest-probe's job, for ingest_bench: list the Inbox's unread items, fetch
each with its MIME, hand it over (a flushed "handed <Message-ID>" line on stdout) and mark it read.
Unmodified exchangelib (Debian's python3-exchangelib), used through its public API as a developer
would; the only subclass is OAuth2Credentials for its token_url, the documented way to use
another authority.

    exchangelib_ingest.py --ews-url URL --token-url URL --tenant ID --app ID --secret S
                          --mailbox SMTP [--page-size 512] [--chunk-size 50]

Batch sizes match the monitor's: it pages SyncFolderItems by 512 and fetches (GetItem with MIME)
50 ids at a time, then marks each message read with its own UpdateItem; so does this script
(FindItem pages of 512, GetItem chunks of 50, one save per message). Ends with a JSON line of
counts. Exit 77 when exchangelib cannot be imported.
"""
import argparse
import json
import sys
import time

try:
    import exchangelib
    from exchangelib import (IMPERSONATION, OAUTH2, Account, Configuration, FailFast, Identity,
                             OAuth2Credentials)
except ImportError as e:
    print(f"exchangelib_ingest: exchangelib is not importable: {e}", file=sys.stderr)
    sys.exit(77)


def peak_rss_kb():
    """The process's own peak RSS (VmHWM), a cross-check of what the parent gets from wait4."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--ews-url", "--token-url", "--tenant", "--app", "--secret", "--mailbox"):
        p.add_argument(name, required=True)
    p.add_argument("--page-size", type=int, default=512)
    p.add_argument("--chunk-size", type=int, default=50)
    args = p.parse_args()
    start = time.monotonic()

    class HarnessCredentials(OAuth2Credentials):
        @property
        def token_url(self):
            return args.token_url

    creds = HarnessCredentials(client_id=args.app, client_secret=args.secret, tenant_id=args.tenant,
                               identity=Identity(primary_smtp_address=args.mailbox))
    config = Configuration(service_endpoint=args.ews_url, credentials=creds, auth_type=OAUTH2,
                           retry_policy=FailFast())
    account = Account(primary_smtp_address=args.mailbox, config=config, autodiscover=False,
                      access_type=IMPERSONATION)

    # The ids first, oldest first: marking mail read while paging a filter(is_read=False) view by
    # offset would skip a page's worth of unread mail each time.
    unread = account.inbox.filter(is_read=False).order_by("datetime_received")
    unread = unread.only("id", "changekey")
    unread.page_size = args.page_size
    ids = [(item.id, item.changekey) for item in unread]
    listed = time.monotonic()

    handed = 0
    for item in account.fetch(ids=ids, only_fields=["message_id", "mime_content", "is_read"],
                              chunk_size=args.chunk_size):
        if isinstance(item, Exception):
            raise item
        assert item.mime_content, f"no MIME for {item.message_id}"
        print(f"handed {item.message_id}", flush=True)
        handed += 1
        item.is_read = True
        item.save(update_fields=["is_read"])

    print(json.dumps({"handed": handed, "listed": len(ids), "listSeconds": listed - start,
                      "seconds": time.monotonic() - start, "exchangelib": exchangelib.__version__,
                      "python": sys.version.split()[0], "vmHwmKb": peak_rss_kb()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
