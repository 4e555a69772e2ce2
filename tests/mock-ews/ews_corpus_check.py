#!/usr/bin/env python3
"""Every successful EWS answer the mock-ews test suite produced validates against Microsoft's schema.

The EwsTest fixture writes each 200 response of each test to EXO_EWS_CORPUS_DIR (see
ews_fixture.hpp); this runs after those tests (a CTest fixture) and validates the first child of
every soap:Body with one xmllint run against shared/ews-schema/libxml2/ews-validate.xsd. A
streaming answer (GetStreamingEvents) holds several envelopes: each is checked.
Usage: ews_corpus_check.py CORPUS_DIR SCHEMA_XSD
"""
import os, re, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

corpus, schema = sys.argv[1], sys.argv[2]
if not os.path.exists(schema):
    print(f"SKIP: schema not found at {schema} (shared/ is expected beside the repository)")
    sys.exit(77)
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGES = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"
ET.register_namespace("m", MESSAGES)
ET.register_namespace("t", TYPES)
files = sorted(f for f in os.listdir(corpus) if f.endswith(".xml")) if os.path.isdir(corpus) else []
if not files:
    print(f"FAIL: no responses in {corpus}: did the mock_ews tests run with EXO_EWS_CORPUS_DIR set?")
    sys.exit(1)

out = tempfile.mkdtemp()
payloads, skipped, failed = [], 0, 0
envelope = re.compile(rb"<(?:[A-Za-z0-9_]+:)?Envelope[\s>].*?</(?:[A-Za-z0-9_]+:)?Envelope>", re.S)
for name in files:
    data = open(os.path.join(corpus, name), "rb").read()
    if re.search(rb"\.\.\.<\d+ more bytes>$", data):
        skipped += 1  # the journal cut a large body; nothing whole to validate
        continue
    docs = envelope.findall(data)
    if not docs:
        print(f"FAIL: {name}: no SOAP envelope")
        failed += 1
        continue
    for i, doc in enumerate(docs):
        try:
            root = ET.fromstring(doc)
        except ET.ParseError as e:
            print(f"FAIL: {name} #{i}: not well-formed: {e}")
            failed += 1
            continue
        body = root.find(f"{{{SOAP}}}Body")
        if body is None or len(body) == 0:
            print(f"FAIL: {name} #{i}: no soap:Body payload")
            failed += 1
            continue
        # Exchange streams events as m:Notifications/m:Notification (ews.md §2.10; exchangelib
        # reads only that form) where types.xsd declares t:Notification: map that one known
        # deviation back so everything inside the notification is still validated.
        for parent in body.iter(f"{{{MESSAGES}}}Notifications"):
            for child in parent:
                if child.tag == f"{{{MESSAGES}}}Notification":
                    child.tag = f"{{{TYPES}}}Notification"
        path = os.path.join(out, f"{name[:-4]}.{i}.xml")
        payload = ET.tostring(body[0], encoding="unicode")
        # ElementTree drops namespace declarations no element or attribute name uses, but
        # xsi:type="t:AlternateIdType" (ConvertId) refers to the t: prefix in a value: keep it.
        head, rest = payload.split(">", 1)
        if "xmlns:t=" not in head:
            tag_end = head.find(" ") if " " in head else len(head)
            head = head[:tag_end] + f' xmlns:t="{TYPES}"' + head[tag_end:]
        open(path, "w", encoding="utf-8").write(head + ">" + rest)
        payloads.append(path)

invalid = set()
for start in range(0, len(payloads), 200):
    chunk = payloads[start:start + 200]
    r = subprocess.run(["xmllint", "--noout", "--schema", schema, *chunk], capture_output=True, text=True)
    for line in r.stderr.splitlines():
        if line.endswith(" validates"):
            continue
        print(line if len(line) < 600 else line[:600] + " ...")
        m = re.match(r"^(.*?\.xml)[: ]", line)
        if m:
            invalid.add(m.group(1))
failed += len(invalid)
print(f"{len(payloads) - len(invalid)} response bodies validate, {len(invalid)} do not, "
      f"{failed - len(invalid)} unreadable, {skipped} cut by the journal")
sys.exit(1 if failed else 0)
