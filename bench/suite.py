#!/usr/bin/env python3
"""The benchmark suite: ExoHarness side by side with what users would pick instead, on this machine
in this run. Loopback only; every load bounded in time; prints a table and writes JSON.

    bench/suite.py --bin build/bin --peers build/bench-peers/node_modules --out build/bench
                   [--runs 3] [--seconds 5] [--quick] [--only P1,P2,P3,P4,P5,micro]
                   [--ingest-transports ews,graph]

Run through scripts/bench.sh, which installs the peers and builds first (docs/BENCHMARKS.md).
Standard library only. A benchmark, not a test: it exits non-zero only when something could not
be measured, never because a goal was missed.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TENANT = "3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01"  # mock-aad's default tenant
DOMAIN = "contoso.onmicrosoft.com"
APP_ID = "6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
SECRET = "bench8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
MAILBOX = "monitor@" + DOMAIN
CONNECTIONS = [1, 8, 64]
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-exchangelib is


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def insecure():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def http(method, url, body=None, headers=None, ctx=None, timeout=30):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx or insecure(), timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def command_output(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


class Server:
    """A server process in its own process group, stopped with the group."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env, cwd=cwd)

    def wait_http(self, url, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log.name}")
            try:
                http("GET", url, timeout=5)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout} s")

    def wait_file(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log.name}")
            if os.path.exists(path) and os.path.getsize(path) > 0:
                try:
                    with open(path) as f:
                        return json.load(f)
                except ValueError:
                    pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} wrote no {path} within {timeout} s")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.log.close()


def group_cpu_seconds(pgid):
    """User plus system CPU seconds of every process in process group `pgid`."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # state ppid pgrp ... utime stime at 11, 12
            total += int(fields[11]) + int(fields[12])
    return total / tick


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text):
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def wrk(url, connections, seconds, script, server=None):
    """One closed-loop load: wrk with `connections` keep-alive connections for `seconds`; with
    `server`, also the CPU the server used (cores busy on average)."""
    cpu0 = group_cpu_seconds(server.proc.pid) if server else None
    threads = min(2, connections)
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
            "--timeout", "10s", "-s", script, url]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    cores = (group_cpu_seconds(server.proc.pid) - cpu0) / seconds if server else None
    out = p.stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    if not rps or p.returncode != 0 or p.stderr.strip():
        raise RuntimeError(f"wrk gave no figures for {url}: {out} {p.stderr}")
    requests = int(total.group(1)) if total else 0
    if errors > 0.01 * max(1, requests):
        raise RuntimeError(f"{errors} of {requests} requests to {url} failed: {out}")
    return {"rps": float(rps.group(1)), "p50Ms": _ms(lat.get("50", "")),
            "p99Ms": _ms(lat.get("99", "")), "requests": requests,
            "errors": errors, "serverCores": cores,
            "perCpuSecond": float(rps.group(1)) / cores if cores else None}


def lua_string(s):
    level = 1
    while ("]" + "=" * level + "]") in s:
        level += 1
    eq = "=" * level
    return f"[{eq}[{s}]{eq}]"


def wrk_script(path, headers, bodies, method="POST"):
    """A wrk script sending `bodies` in turn (each thread from its own start)."""
    lines = [f'wrk.method = "{method}"']
    for k, v in headers.items():
        lines.append(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}")
    if len(bodies) == 1:
        lines.append(f"wrk.body = {lua_string(bodies[0])}")
    else:
        lines.append("local bodies = {")
        lines += [f"  {lua_string(b)}," for b in bodies]
        lines.append("}")
        lines.append("local n = 0")
        lines.append("request = function()")
        lines.append("  n = n + 1")
        lines.append("  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])")
        lines.append("end")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def self_signed(dir_):
    """An EC P-256 certificate for 127.0.0.1 for the peers (wrk does not verify)."""
    cert, key = os.path.join(dir_, "peer-cert.pem"), os.path.join(dir_, "peer-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "2",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def world_file(dir_):
    path = os.path.join(dir_, "world.json")
    world = {"tenants": [{"id": TENANT, "domains": [DOMAIN], "applications": [{
        "appId": APP_ID, "displayName": "Bench Daemon",
        "passwordCredentials": [{"secretText": SECRET}],
        "appRoleAssignments": [{"resource": "https://outlook.office365.com",
                                "appRole": "full_access_as_app"}]}]}]}
    with open(path, "w") as f:
        json.dump(world, f)
    return path


def token_form(client_id=APP_ID, secret=SECRET):
    return urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret,
                                   "scope": "https://outlook.office365.com/.default"})


def envelope(body):
    return ("<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope "
            "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "
            "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><s:Header>"
            "<t:RequestServerVersion Version=\"Exchange2016\"/><t:ExchangeImpersonation>"
            "<t:ConnectingSID><t:PrimarySmtpAddress>" + MAILBOX +
            "</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header>"
            "<s:Body>" + body + "</s:Body></s:Envelope>")


def find_item(offset):
    return envelope(
        "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
        "</m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"50\" Offset=\"" + str(offset) +
        "\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
        "</m:ParentFolderIds></m:FindItem>")


def get_item(item_id, change_key):
    return envelope("<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>"
                    "<m:ItemIds><t:ItemId Id=\"" + item_id + "\" ChangeKey=\"" + change_key +
                    "\"/></m:ItemIds></m:GetItem>")


class Suite:
    def __init__(self, args):
        self.a = args
        self.bin = os.path.abspath(args.bin)
        self.peers = os.path.abspath(args.peers)
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="exo-bench-")
        self.logs = os.path.join(self.out, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.result = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"), "machine": self.machine(), "args": vars(args), "load": {}}
        self.world = world_file(self.tmp)
        self.ca_dir = os.path.join(self.tmp, "ca")
        self.ingests = 0  # ingest_bench runs so far: each writes its own JSON

    # ---- the machine and the versions ----
    def machine(self):
        cpu = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
        first = lambda s: s.splitlines()[0] if s else "absent"
        return {
            "cpu": cpu, "nproc": os.cpu_count(), "memGiB": round(mem_kb / 1048576, 1),
            "kernel": os.uname().release,
            "commit": command_output(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
            "dirty": bool(command_output(["git", "-C", REPO, "status", "--porcelain"])),
            "openssl": first(command_output(["openssl", "version"])),
            "wrk": first(command_output(["wrk", "-v"])),
            "nginx": first(command_output(["nginx", "-v"])),
            "java": first(command_output(["java", "-version"])),
            "node": first(command_output(["node", "--version"])),
            "oauth2-mock-server": self.npm_version("oauth2-mock-server"),
            "wiremock": self.npm_version("wiremock"),
            "exchangelib": first(command_output([SYSTEM_PYTHON, "-c",
                                                 "import exchangelib; print(exchangelib.__version__)"])),
        }

    def npm_version(self, name):
        try:
            with open(os.path.join(self.a.peers, name, "package.json")) as f:
                return json.load(f)["version"]
        except OSError:
            return "absent"

    def section(self, name):
        self.result["load"][name] = loadavg()
        log(f"== {name} (load average {' '.join(map(str, loadavg()))})")

    # ---- the RS256 limit ----
    def sign_limit(self, multi=2):
        """openssl speed's RS256 (RSA-2048) signs per second: per CPU second of each process
        (its default divisor is user CPU time), summed over `multi` processes."""
        out = command_output(["openssl", "speed", "-seconds", "3", "-multi", str(multi), "rsa2048"]
                             if multi > 1 else ["openssl", "speed", "-seconds", "3", "rsa2048"])
        m = re.search(r"rsa\s+2048 bits\s+\S+\s+\S+\s+([0-9.]+)", out)
        return float(m.group(1)) if m else None

    # ---- P1 ----
    def p1(self):
        self.section("P1")
        port_a, port_o = free_port(), free_port()
        cert, key = self_signed(self.tmp)
        aad = Server("mock-aad", [os.path.join(self.bin, "mock-aad"), "--listen",
                                  f"127.0.0.1:{port_a}", "--world", self.world, "--ca-dir",
                                  self.ca_dir], os.path.join(self.logs, "p1-mock-aad.log"))
        oms_bin = os.path.join(self.peers, ".bin", "oauth2-mock-server")
        oms = Server("oauth2-mock-server", [oms_bin, "-a", "127.0.0.1", "-p", str(port_o), "-c",
                                            cert, "-k", key],
                     os.path.join(self.logs, "p1-oauth2-mock-server.log"))
        try:
            aad.wait_http(f"https://127.0.0.1:{port_a}/{TENANT}/v2.0/.well-known/openid-configuration")
            oms.wait_http(f"https://127.0.0.1:{port_o}/.well-known/openid-configuration")
            aad_url = f"https://127.0.0.1:{port_a}/{TENANT}/oauth2/v2.0/token"
            oms_url = f"https://127.0.0.1:{port_o}/token"
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            for url in (aad_url, oms_url):
                status, body = http("POST", url, token_form(), form)
                if status != 200 or "access_token" not in body:
                    raise RuntimeError(f"no token from {url}: {status} {body[:300]}")
            script_a = wrk_script(os.path.join(self.tmp, "p1-aad.lua"), form, [token_form()])
            script_o = wrk_script(os.path.join(self.tmp, "p1-oms.lua"), form, [token_form()])
            servers = {"mock-aad": (aad_url, script_a, aad),
                       "oauth2-mock-server": (oms_url, script_o, oms)}
            for name, (url, script, _) in servers.items():  # warm-up, unmeasured
                wrk(url, 8, self.a.warmup, script)
            limits, singles, runs = [], [], {n: {c: [] for c in CONNECTIONS} for n in servers}
            for r in range(self.a.runs):
                limits.append(self.sign_limit())
                singles.append(self.sign_limit(1))
                for c in CONNECTIONS:
                    for name, (url, script, server) in servers.items():
                        runs[name][c].append(wrk(url, c, self.a.seconds, script, server))
                log(f"  run {r + 1}: limit {limits[-1]} sign/s, "
                    + ", ".join(f"{n} {runs[n][64][-1]['rps']:.0f}/s" for n in servers))
        finally:
            aad.stop()
            oms.stop()
        limit = median(limits)
        table = {}
        for name in runs:
            table[name] = {str(c): self.summarize(runs[name][c]) for c in CONNECTIONS}
        ours, peer = table["mock-aad"]["64"], table["oauth2-mock-server"]["64"]
        one = median(singles)
        self.result["P1"] = {
            "signLimitPerSecond": limit, "signLimitRuns": limits, "servers": table,
            "signPerCpuSecond": one,
            # Load-independent: tokens per CPU second the server used, against openssl's signs
            # per CPU second (what 100 % of the limit means on one core).
            "cpuEfficiencyAt64": ours["perCpuSecond"] / one if one and ours["perCpuSecond"] else None,
            "ofLimitAt64": ours["rps"] / limit if limit else None,
            "peerOfLimitAt64": peer["rps"] / limit if limit else None,
            "p99RatioAt64": ours["p99Ms"] / peer["p99Ms"] if peer["p99Ms"] else None,
        }

    @staticmethod
    def summarize(runs):
        return {"rps": median([r["rps"] for r in runs]), "p50Ms": median([r["p50Ms"] for r in runs]),
                "serverCores": median([r["serverCores"] for r in runs]),
                "perCpuSecond": median([r["perCpuSecond"] for r in runs]),
                "p99Ms": median([r["p99Ms"] for r in runs]),
                "errors": sum(r["errors"] for r in runs), "runs": [r["rps"] for r in runs]}

    # ---- P2 ----
    def start_harness(self, tag):
        ready = os.path.join(self.tmp, f"{tag}-ready.json")
        h = Server("exo-harness", [os.path.join(self.bin, "exo-harness"), "--world", self.world,
                                   "--ca-dir", self.ca_dir, "--mailbox", MAILBOX, "--ready-file",
                                   ready], os.path.join(self.logs, f"{tag}-exo-harness.log"))
        return h, h.wait_file(ready)

    def p2(self):
        self.section("P2")
        messages = self.a.messages
        harness, ready = self.start_harness("p2")
        peers_dir = os.path.join(self.tmp, "p2-peers")
        os.makedirs(os.path.join(peers_dir, "wiremock", "mappings"), exist_ok=True)
        os.makedirs(os.path.join(peers_dir, "wiremock", "__files"), exist_ok=True)
        os.makedirs(os.path.join(peers_dir, "www"), exist_ok=True)
        wiremock = nginx = None
        try:
            ctx = ssl.create_default_context(cafile=ready["ca"])
            control = ready["ewsControl"]
            body = "".join(f"Line {n} of the message about the order, shipped today.\r\n"
                           for n in range(40))
            for i in range(messages):
                status, text = http("POST", f"{control}/mailboxes/{MAILBOX}/deliver", json.dumps(
                    {"from": f"sender{i % 7}@fabrikam.com", "subject": f"Order {10000 + i} shipped",
                     "body": body}), {"Content-Type": "application/json"}, ctx)
                if status not in (200, 201):
                    raise RuntimeError(f"deliver: {status} {text[:300]}")
            status, text = http("POST", f"{ready['aad']}/{TENANT}/oauth2/v2.0/token", token_form(),
                                {"Content-Type": "application/x-www-form-urlencoded"}, ctx)
            token = json.loads(text)["access_token"]
            status, text = http("PUT", f"{control}/throttling", json.dumps(
                {"budgetEnabled": False, "maxConcurrency": 0, "maxConcurrentSync": 0}),
                {"Content-Type": "application/json"}, ctx)
            if status not in (200, 204):
                raise RuntimeError(f"throttling: {status} {text[:300]}")
            headers = {"Authorization": f"Bearer {token}", "X-AnchorMailbox": MAILBOX,
                       "Content-Type": "text/xml; charset=utf-8"}
            ews = ready["ews"]
            finds = [find_item(o) for o in range(0, messages - 49, 50)]
            ids = []
            canned = {}
            for b in finds:
                status, text = http("POST", ews, b, headers, ctx)
                if status != 200 or 'ResponseClass="Success"' not in text:
                    raise RuntimeError(f"FindItem: {status} {text[:300]}")
                canned.setdefault("finditem", text)
                ids += re.findall(r'<t:ItemId Id="([^"]+)" ChangeKey="([^"]+)"', text)
            gets = [get_item(i, k) for i, k in ids]
            for b in gets[:: max(1, len(gets) // 20)]:
                status, text = http("POST", ews, b, headers, ctx)
                if status != 200 or 'ResponseClass="Success"' not in text:
                    raise RuntimeError(f"GetItem: {status} {text[:300]}")
                canned.setdefault("getitem", text)
            log(f"  {messages} messages, {len(ids)} ids; FindItem answer {len(canned['finditem'])} B,"
                f" GetItem answer {len(canned['getitem'])} B")
            # The peers serve the same bytes: WireMock matching the operation in the body, nginx a
            # static file (POST answered through error_page, the usual idiom).
            for op in ("finditem", "getitem"):
                for d in (os.path.join(peers_dir, "wiremock", "__files"), os.path.join(peers_dir, "www")):
                    with open(os.path.join(d, f"{op}.xml"), "w") as f:
                        f.write(canned[op])
            mappings = {"mappings": [
                {"request": {"method": "POST", "urlPath": "/EWS/Exchange.asmx",
                             "bodyPatterns": [{"contains": f"<m:{op}"}]},
                 "response": {"status": 200, "bodyFileName": f"{op.lower()}.xml",
                              "headers": {"Content-Type": "text/xml; charset=utf-8"}}}
                for op in ("FindItem", "GetItem")]}
            with open(os.path.join(peers_dir, "wiremock", "mappings", "ews.json"), "w") as f:
                json.dump(mappings, f)
            wm_port, ng_port = free_port(), free_port()
            wiremock = Server("wiremock", self.wiremock_argv(wm_port, os.path.join(peers_dir, "wiremock")),
                              os.path.join(self.logs, "p2-wiremock.log"))
            cert, key = self_signed(self.tmp)
            nginx = Server("nginx", self.nginx_argv(ng_port, peers_dir, cert, key),
                           os.path.join(self.logs, "p2-nginx.log"))
            wiremock.wait_http(f"https://127.0.0.1:{wm_port}/__admin/health")
            nginx.wait_http(f"https://127.0.0.1:{ng_port}/finditem.xml")
            wm = f"https://127.0.0.1:{wm_port}/EWS/Exchange.asmx"
            cases = {}
            for op, bodies in (("FindItem", finds), ("GetItem", gets)):
                s = wrk_script(os.path.join(self.tmp, f"p2-{op}.lua"), headers, bodies)
                ng = f"https://127.0.0.1:{ng_port}/{op.lower()}.xml"
                cases[op] = {"exo-harness": (ews, s, harness), "WireMock": (wm, s, wiremock),
                             "nginx": (ng, s, nginx)}
                status, text = http("POST", wm, bodies[0], headers)
                if status != 200 or text != canned[op.lower()]:
                    raise RuntimeError(f"WireMock {op}: {status} {text[:200]}")
                status, text = http("POST", ng, bodies[0], headers)
                if status != 200 or text != canned[op.lower()]:
                    raise RuntimeError(f"nginx {op}: {status} {text[:200]}")
            for op in cases:  # warm-up (WireMock's JIT), unmeasured
                for name, (url, s, _) in cases[op].items():
                    wrk(url, 64, self.a.warmup, s)
            runs = {op: {n: {c: [] for c in CONNECTIONS} for n in cases[op]} for op in cases}
            for r in range(self.a.runs):
                for op in cases:
                    for c in CONNECTIONS:
                        for name, (url, s, server) in cases[op].items():
                            runs[op][name][c].append(wrk(url, c, self.a.seconds, s, server))
                log(f"  run {r + 1}: " + "; ".join(
                    f"{op} " + ", ".join(f"{n} {max(runs[op][n][c][-1]['rps'] for c in CONNECTIONS):.0f}/s"
                                         for n in cases[op]) for op in cases))
            # Still correct after the load: the server's answers are the mailbox's.
            status, text = http("POST", ews, finds[-1], headers, ctx)
            if status != 200 or 'ResponseClass="Success"' not in text:
                raise RuntimeError(f"FindItem after load: {status} {text[:300]}")
        finally:
            for s in (harness, wiremock, nginx):
                if s:
                    s.stop()
        out = {"messages": messages, "responseBytes": {k: len(v) for k, v in canned.items()},
               "cases": {}}
        for op in runs:
            table = {n: {str(c): self.summarize(runs[op][n][c]) for c in CONNECTIONS} for n in runs[op]}
            best = {n: max(table[n][str(c)]["rps"] for c in CONNECTIONS) for n in table}
            out["cases"][op] = {"servers": table, "best": best,
                                "vsWireMock": best["exo-harness"] / best["WireMock"],
                                "vsNginx": best["exo-harness"] / best["nginx"]}
        self.result["P2"] = out

    def wiremock_argv(self, port, root):
        jar = os.path.join(self.peers, "wiremock", "build")
        jars = [f for f in os.listdir(jar) if f.startswith("wiremock-standalone") and f.endswith(".jar")]
        return ["java", "-jar", os.path.join(jar, jars[0]), "--https-port", str(port),
                "--disable-http", "--bind-address", "127.0.0.1", "--root-dir", root,
                "--no-request-journal", "--disable-banner"]

    def nginx_argv(self, port, dir_, cert, key):
        conf = os.path.join(dir_, "nginx.conf")
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(f"""{user}daemon off;
worker_processes auto;
pid {dir_}/nginx.pid;
error_log {dir_}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir_}/body; proxy_temp_path {dir_}/proxy;
  fastcgi_temp_path {dir_}/fastcgi; uwsgi_temp_path {dir_}/uwsgi; scgi_temp_path {dir_}/scgi;
  keepalive_requests 10000000;
  types {{ text/xml xml; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    root {dir_}/www;
    location / {{ error_page 405 =200 $uri; }}
  }}
}}
""")
        return ["nginx", "-p", dir_, "-e", os.path.join(dir_, "error.log"), "-c", conf]

    # ---- P3 ----
    def p3(self):
        self.section("P3")
        # The CA directory exists already (P1/P2, or made here): the servers load it ("warm").
        warm = Server("ca", [os.path.join(self.bin, "mock-aad"), "--ca-dir", self.ca_dir,
                             "--ready-file", os.path.join(self.tmp, "ca-ready.json")],
                      os.path.join(self.logs, "p3-ca.log"))
        warm.wait_file(os.path.join(self.tmp, "ca-ready.json"))
        warm.stop()
        cert, key = self_signed(self.tmp)
        peers_dir = os.path.join(self.tmp, "p3-peers")
        os.makedirs(os.path.join(peers_dir, "www"), exist_ok=True)
        with open(os.path.join(peers_dir, "www", "finditem.xml"), "w") as f:
            f.write("<ok/>")
        os.makedirs(os.path.join(peers_dir, "wiremock", "mappings"), exist_ok=True)
        probe = os.path.join(self.bin, "exo-start-probe")
        ready = os.path.join(self.tmp, "p3-ready.json")

        def servers():
            p = {n: free_port() for n in ("aad", "ews", "oms", "wm", "ng")}
            return {
                "mock-aad": ["--url", f"https://127.0.0.1:{p['aad']}/{TENANT}/v2.0/.well-known/openid-configuration",
                             "--", os.path.join(self.bin, "mock-aad"), "--listen",
                             f"127.0.0.1:{p['aad']}", "--world", self.world, "--ca-dir", self.ca_dir],
                "mock-ews": ["--url", f"https://127.0.0.1:{p['ews']}/EWS/Exchange.asmx", "--",
                             os.path.join(self.bin, "mock-ews"), "--port", str(p["ews"]),
                             "--ca-dir", self.ca_dir, "--mailbox", f"{TENANT}:{MAILBOX}"],
                "exo-harness": ["--ready-file", ready, "--ready-key", "aad", "--path",
                                f"/{TENANT}/v2.0/.well-known/openid-configuration", "--",
                                os.path.join(self.bin, "exo-harness"), "--world", self.world,
                                "--ca-dir", self.ca_dir, "--ready-file", ready],
                "oauth2-mock-server": ["--url", f"https://127.0.0.1:{p['oms']}/.well-known/openid-configuration",
                                       "--", os.path.join(self.peers, ".bin", "oauth2-mock-server"),
                                       "-a", "127.0.0.1", "-p", str(p["oms"]), "-c", cert, "-k", key],
                "WireMock": ["--url", f"https://127.0.0.1:{p['wm']}/__admin/health", "--"]
                            + self.wiremock_argv(p["wm"], os.path.join(peers_dir, "wiremock")),
                "nginx": ["--url", f"https://127.0.0.1:{p['ng']}/finditem.xml", "--"]
                         + self.nginx_argv(p["ng"], peers_dir, cert, key),
            }

        runs = {}
        for r in range(self.a.runs):
            for name, argv in servers().items():
                p = subprocess.run([probe, "--idle-ms", str(self.a.idle_ms), "--log",
                                    os.path.join(self.logs, f"p3-{name}.log")] + argv,
                                   capture_output=True, text=True, timeout=180)
                if p.returncode != 0:
                    raise RuntimeError(f"start probe of {name}: {p.stderr}")
                runs.setdefault(name, []).append(json.loads(p.stdout.strip().splitlines()[-1]))
            log(f"  run {r + 1}: " + ", ".join(f"{n} {v[-1]['startMs']:.1f} ms" for n, v in runs.items()))
        table = {n: {"startMs": median([x["startMs"] for x in v]),
                     "idleRssMb": median([x["idleRssKb"] / 1024 for x in v]),
                     "idlePssMb": median([x["idlePssKb"] / 1024 for x in v]),
                     "processes": v[-1]["processes"], "startRuns": [x["startMs"] for x in v]}
                 for n, v in runs.items()}
        self.result["P3"] = {"servers": table, "idleMs": self.a.idle_ms}

    # ---- P4 ----
    def ingest(self, messages, extra, work_dir=None, transport="ews"):
        self.ingests += 1
        out = os.path.join(self.tmp, f"ingest-{self.ingests}.json")
        argv = [os.path.join(self.bin, "ingest_bench"), "--messages", str(messages), "--json", out,
                "--python", SYSTEM_PYTHON, "--transport", transport] + extra
        if work_dir:
            argv += ["--work-dir", work_dir]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=7200)
        if p.returncode != 0:
            raise RuntimeError(f"ingest_bench: {p.stdout} {p.stderr}")
        lines = p.stdout.strip().splitlines()
        log("  " + "\n  ".join(lines[:1] + lines[-2:]))
        with open(out) as f:
            return json.load(f)["clients"]

    def p4(self):
        self.section("P4")
        n = self.a.ingest_messages
        transports = [t for t in self.a.ingest_transports.split(",") if t]
        def pick(run, prefix):
            return next(c for c in run if c["client"].startswith(prefix))
        # The transports take turns in every round, so each sees the machine the other saw.
        runs = {t: [] for t in transports}
        for r in range(self.a.ingest_runs):
            for t in transports:
                runs[t].append(self.ingest(n, [], transport=t))
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        tmpfs, big = {t: [] for t in transports}, {}
        if shm:
            d = tempfile.mkdtemp(prefix="exo-ingest-", dir=shm)
            try:
                # Without the fsync the transports' own costs show; as many runs as on disk, since
                # these short runs are the ones other processes' load moves most.
                for r in range(self.a.ingest_runs):
                    for t in transports:
                        tmpfs[t].append(pick(self.ingest(n, ["--no-exchangelib"], d, t),
                                             "exo-ingest-probe"))
                if self.a.ingest_big:
                    for t in transports:
                        big[t] = pick(self.ingest(self.a.ingest_big, ["--no-exchangelib"], d, t),
                                      "exo-ingest-probe")
            finally:
                shutil.rmtree(d, ignore_errors=True)
        summary = lambda xs: {"messagesPerSecond": median([x["messagesPerSecond"] for x in xs]),
                              "peakRssMb": median([x["peakRssMb"] for x in xs]),
                              "cpuSeconds": median([x["cpuSeconds"] for x in xs]),
                              "runs": [x["messagesPerSecond"] for x in xs],
                              "client": xs[0]["client"]} if xs and "messagesPerSecond" in xs[0] else None
        by = {}
        for t in transports:
            p = summary([pick(r, "exo-ingest-probe") for r in runs[t]])
            e = summary([pick(r, "exchangelib") for r in runs[t]])  # None over Graph: EWS only
            tf, bg = summary(tmpfs.get(t)), big.get(t)
            by[t] = {
                "probe": p, "exchangelib": e, "probeTmpfs": tf,
                "probeBig": dict(summary([bg]), messages=self.a.ingest_big) if bg else None,
                "speedup": p["messagesPerSecond"] / e["messagesPerSecond"] if p and e else None,
                "speedupTmpfs": (tf["messagesPerSecond"] / e["messagesPerSecond"]) if tf and e else None,
                "peakRssGrowth": (bg["peakRssMb"] / tf["peakRssMb"]) if bg and tf else None,
            }
        # EWS's figures stay at the top level, where results.json has always had them.
        self.result["P4"] = dict(by.get("ews", {}), messages=n, transports=transports,
                                 graph=by.get("graph"))
        ews, graph = by.get("ews"), by.get("graph")
        if ews and graph:
            ratio = lambda k: (graph[k]["messagesPerSecond"] / ews[k]["messagesPerSecond"]
                               if graph.get(k) and ews.get(k) else None)
            self.result["P4"]["graphOfEws"] = ratio("probe")
            self.result["P4"]["graphOfEwsTmpfs"] = ratio("probeTmpfs")
            # CPU seconds of the client: what the load of other processes does not move.
            self.result["P4"]["graphCpuOfEwsTmpfs"] = (
                graph["probeTmpfs"]["cpuSeconds"] / ews["probeTmpfs"]["cpuSeconds"]
                if graph.get("probeTmpfs") and ews.get("probeTmpfs") else None)

    # ---- P5 ----
    def p5(self):
        self.section("P5")
        line = re.compile(r"\] (PASS|FAIL)\S* (\S+) \((\d+) ms, \+(\d+):(\d\d):(\d\d) simulated")
        runs = []
        for r in range(self.a.runs):
            t0 = time.monotonic()
            p = subprocess.run([os.path.join(self.bin, "exo-scenario"), "run", "-j1",
                                os.path.join(REPO, "scenarios", "library")],
                               capture_output=True, text=True, timeout=1800, cwd=REPO)
            wall = time.monotonic() - t0
            scen = [{"name": m[1], "passed": m[0] == "PASS", "wallMs": int(m[2]),
                     "simulatedS": int(m[3]) * 3600 + int(m[4]) * 60 + int(m[5])}
                    for m in line.findall(p.stdout)]
            if not scen:
                raise RuntimeError(f"exo-scenario printed no results: {p.stdout[-2000:]} {p.stderr[-2000:]}")
            runs.append({"wallS": wall, "scenarios": scen})
            log(f"  run {r + 1}: {len(scen)} scenarios in {wall:.1f} s")
        best = min(runs, key=lambda x: x["wallS"])
        scen = runs[[x["wallS"] for x in runs].index(median([x["wallS"] for x in runs]))]["scenarios"] \
            if len(runs) % 2 else best["scenarios"]
        sim = sum(s["simulatedS"] for s in scen)
        wall_ms = sum(s["wallMs"] for s in scen)
        per = sorted(((s["simulatedS"] * 1000 / max(1, s["wallMs"]), s["name"]) for s in scen))
        self.result["P5"] = {
            "scenarios": len(scen), "failed": sum(not s["passed"] for s in scen),
            "wallS": median([x["wallS"] for x in runs]), "wallRuns": [x["wallS"] for x in runs],
            "simulatedS": sim, "ratio": sim * 1000 / max(1, wall_ms),
            "slowest": sorted(scen, key=lambda s: -s["wallMs"])[:5],
            "lowestRatios": [{"name": n, "ratio": r} for r, n in per[:5]], "perScenario": scen,
        }

    # ---- micro ----
    def micro(self):
        self.section("micro")
        out = os.path.join(self.tmp, "micro.json")
        p = subprocess.run([os.path.join(self.bin, "micro_bench"),
                            f"--benchmark_repetitions={self.a.runs}",
                            "--benchmark_report_aggregates_only=true",
                            f"--benchmark_min_time={self.a.micro_min_time}",
                            "--benchmark_out_format=json", f"--benchmark_out={out}"],
                           capture_output=True, text=True, timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"micro_bench: {p.stderr[-2000:]}")
        with open(out) as f:
            data = json.load(f)
        rows = {}
        for b in data["benchmarks"]:
            if b.get("aggregate_name") != "median":
                continue
            unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
            rows[b["run_name"]] = {"cpuUs": b["cpu_time"] * unit, "realUs": b["real_time"] * unit}
        self.result["micro"] = rows

    def run(self):
        steps = {"P1": self.p1, "P2": self.p2, "P3": self.p3, "P4": self.p4, "P5": self.p5,
                 "micro": self.micro}
        only = self.a.only.split(",") if self.a.only else list(steps)
        failed = []
        for name in only:
            try:
                steps[name]()
            except Exception as e:  # noqa: BLE001: one section's failure must not lose the others
                log(f"  {name} failed: {e}")
                self.result[name] = {"error": str(e)}
                failed.append(name)
        self.result["load"]["end"] = loadavg()
        self.result["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")
        self.result["goals"] = goals(self.result)
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.result, f, indent=2)
        report = render(self.result)
        with open(os.path.join(self.out, "results.md"), "w") as f:
            f.write(report)
        print(report)
        log(f"written: {self.out}/results.json, {self.out}/results.md")
        shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if failed else 0


def fmt(x, spec=".0f"):
    return "n/a" if x is None else format(x, spec)


def goals(r):
    """Each goal of issue 7 with its figure and whether it is met (None: not measured)."""
    g = []
    p1 = r.get("P1", {})
    if "servers" in p1:
        g.append(["P1", "tokens/s at 64 connections >= 85 % of the RS256 sign limit",
                  f"{p1['ofLimitAt64'] * 100:.0f} % (peer {p1['peerOfLimitAt64'] * 100:.0f} %); per CPU "
                  f"second {fmt(p1['cpuEfficiencyAt64'] and p1['cpuEfficiencyAt64'] * 100)} % of openssl's",
                  p1["ofLimitAt64"] >= 0.85])
        g.append(["P1", "p99 at 64 connections <= 1/3 of oauth2-mock-server's",
                  f"{p1['p99RatioAt64']:.2f}x the peer's p99", p1["p99RatioAt64"] <= 1 / 3])
    p2 = r.get("P2", {})
    for op, c in p2.get("cases", {}).items():
        g.append(["P2", f"{op} >= 2x WireMock", f"{c['vsWireMock']:.2f}x", c["vsWireMock"] >= 2])
        g.append(["P2", f"{op} >= 1/2 of nginx", f"{c['vsNginx']:.2f}x", c["vsNginx"] >= 0.5])
    p3 = r.get("P3", {}).get("servers")
    if p3:
        for ours, peer in (("mock-aad", "oauth2-mock-server"), ("mock-ews", "WireMock"),
                           ("exo-harness", "WireMock")):
            if ours in p3:
                g.append(["P3", f"{ours} start to first request <= 20 ms",
                          f"{p3[ours]['startMs']:.1f} ms", p3[ours]["startMs"] <= 20])
                if peer in p3:
                    share = p3[ours]["idleRssMb"] / p3[peer]["idleRssMb"]
                    g.append(["P3", f"{ours} idle RSS a small fraction (<= 25 %) of {peer}'s",
                              f"{share * 100:.0f} %", share <= 0.25])
    p4 = r.get("P4", {})
    if p4.get("speedup") is not None:
        g.append(["P4", "ingest >= 10x exchangelib (durable checkpoint on disk)",
                  f"{p4['speedup']:.1f}x", p4["speedup"] >= 10])
    if p4.get("speedupTmpfs") is not None:
        g.append(["P4", "ingest >= 10x exchangelib (checkpoint on tmpfs)",
                  f"{p4['speedupTmpfs']:.1f}x", p4["speedupTmpfs"] >= 10])
    if p4.get("peakRssGrowth") is not None:
        g.append(["P4", f"peak RSS flat from {p4['messages']} to {p4['probeBig']['messages']} (<= 1.2x)",
                  f"{p4['peakRssGrowth']:.2f}x", p4["peakRssGrowth"] <= 1.2])
    p4g = p4.get("graph") or {}
    if p4g.get("peakRssGrowth") is not None:
        g.append(["P4", f"peak RSS flat from {p4['messages']} to {p4g['probeBig']['messages']} over "
                  "Microsoft Graph (<= 1.2x)", f"{p4g['peakRssGrowth']:.2f}x", p4g["peakRssGrowth"] <= 1.2])
    p5 = r.get("P5", {})
    if "wallS" in p5:
        g.append(["P5", "scenario library within 10 s (-j1)", f"{p5['wallS']:.1f} s", p5["wallS"] <= 10])
        g.append(["P5", "simulated-to-wall >= 10,000x", f"{p5['ratio']:,.0f}x", p5["ratio"] >= 10000])
    return g


def render(r):
    m = r["machine"]
    L = [f"# ExoHarness benchmark suite, {r['started']}", "",
         f"{m['cpu']}, {m['nproc']} CPUs, {m['memGiB']} GiB, Linux {m['kernel']}; commit {m['commit']}"
         + (" (with uncommitted changes)" if m["dirty"] else ""),
         f"{m['openssl']}; {m['wrk']}; {m['nginx']}; {m['java']}; node {m['node']}; "
         f"oauth2-mock-server {m['oauth2-mock-server']}; WireMock {m['wiremock']}; "
         f"exchangelib {m['exchangelib']}",
         "Load average (1, 5, 15 min) at each section: " + "; ".join(
             f"{k} {' '.join(map(str, v))}" for k, v in r["load"].items()), ""]
    L += ["## Goals", "", "| # | goal | measured | status |", "|---|---|---|---|"]
    for p, what, fig, ok in r["goals"]:
        L.append(f"| {p} | {what} | {fig} | {'met' if ok else 'MISSED'} |")
    for name in ("P1", "P2", "P3", "P4", "P5", "micro"):
        if "error" in r.get(name, {}):
            L.append(f"| {name} | (not measured) | {r[name]['error'][:200]} | n/a |")
    p1 = r.get("P1", {})
    if "servers" in p1:
        L += ["", f"## P1 token issuance (client credentials, HTTPS keep-alive, wrk; medians of "
              f"{r['args']['runs']} runs of {r['args']['seconds']} s)", "",
              f"RS256 sign limit (`openssl speed -multi 2 rsa2048`): {fmt(p1['signLimitPerSecond'])}/s; "
              f"one process: {fmt(p1['signPerCpuSecond'])} per CPU second", "",
              "| server | connections | tokens/s | of limit | p50 ms | p99 ms | server CPUs busy | "
              "tokens per CPU s | errors |", "|---|---|---|---|---|---|---|---|---|"]
        for s, by in p1["servers"].items():
            for c, x in by.items():
                L.append(f"| {s} | {c} | {fmt(x['rps'])} | {fmt(100 * x['rps'] / p1['signLimitPerSecond'])} % "
                         f"| {fmt(x['p50Ms'], '.2f')} | {fmt(x['p99Ms'], '.2f')} | {fmt(x['serverCores'], '.2f')} "
                         f"| {fmt(x['perCpuSecond'])} | {x['errors']} |")
    p2 = r.get("P2", {})
    if "cases" in p2:
        L += ["", f"## P2 EWS over HTTPS keep-alive ({p2['messages']} messages; exo-harness validates the "
              f"JWT on every request; wrk, medians of {r['args']['runs']} runs of {r['args']['seconds']} s)",
              "", "| operation | server | connections | requests/s | p50 ms | p99 ms | server CPUs busy | "
              "requests per CPU s | errors |", "|---|---|---|---|---|---|---|---|---|"]
        for op, c in p2["cases"].items():
            for s, by in c["servers"].items():
                for n, x in by.items():
                    L.append(f"| {op} | {s} | {n} | {fmt(x['rps'])} | {fmt(x['p50Ms'], '.2f')} | "
                             f"{fmt(x['p99Ms'], '.2f')} | {fmt(x['serverCores'], '.2f')} | "
                             f"{fmt(x['perCpuSecond'])} | {x['errors']} |")
    p3 = r.get("P3", {})
    if "servers" in p3:
        L += ["", f"## P3 start to first served request, and idle memory ({p3['idleMs']} ms after it)",
              "", "| server | start ms | idle RSS MB | idle PSS MB | processes |", "|---|---|---|---|---|"]
        for s, x in p3["servers"].items():
            L.append(f"| {s} | {x['startMs']:.1f} | {x['idleRssMb']:.1f} | {x['idlePssMb']:.1f} | {x['processes']} |")
    p4 = r.get("P4", {})
    by = {"EWS": p4 if p4.get("probe") else None, "Graph": p4.get("graph")}
    if any(by.values()):
        L += ["", f"## P4 ingest of {p4['messages']} messages (sync, MIME, mark read, checkpoint)", "",
              "| client | over | messages/s | peak RSS MB | CPU s |", "|---|---|---|---|---|"]
        rows = []
        for over, t in by.items():
            if not t:
                continue
            rows += [("exo-ingest-probe, checkpoint on disk", over, t["probe"]),
                     ("exo-ingest-probe, checkpoint on tmpfs", over, t.get("probeTmpfs"))]
            if t.get("probeBig"):
                rows.append((f"exo-ingest-probe, {t['probeBig']['messages']} messages, tmpfs", over,
                             t["probeBig"]))
        if p4.get("exchangelib"):
            rows.append((p4["exchangelib"]["client"], "EWS", p4["exchangelib"]))
        for name, over, x in rows:
            if x:
                L.append(f"| {name} | {over} | {x['messagesPerSecond']:.0f} | {x['peakRssMb']:.1f} | "
                         f"{x['cpuSeconds']:.1f} |")
        if p4.get("graphOfEws") is not None:
            L += ["", f"Over Microsoft Graph the probe ingests at {p4['graphOfEws']:.2f}x its EWS rate with "
                  f"the checkpoint on disk, {fmt(p4.get('graphOfEwsTmpfs'), '.2f')}x on tmpfs, where it "
                  f"uses {fmt(p4.get('graphCpuOfEwsTmpfs'), '.2f')}x the CPU."]
    p5 = r.get("P5", {})
    if "wallS" in p5:
        L += ["", f"## P5 scenario library (`exo-scenario run -j1 scenarios/library`)", "",
              f"{p5['scenarios']} scenarios ({p5['failed']} failed) in {p5['wallS']:.1f} s (runs: "
              + ", ".join(f"{x:.1f}" for x in p5["wallRuns"]) + f"); {p5['simulatedS'] / 3600:.1f} h simulated, "
              f"{p5['ratio']:,.0f}x; slowest: "
              + ", ".join(f"{s['name']} {s['wallMs']} ms" for s in p5["slowest"][:3])
              + "; lowest ratios: " + ", ".join(f"{x['name']} {x['ratio']:,.0f}x" for x in p5["lowestRatios"][:3])]
    mi = r.get("micro", {})
    if mi and "error" not in mi:
        L += ["", "## Micro-benchmarks (Google Benchmark, median CPU time per operation)", "",
              "| benchmark | µs |", "|---|---|"]
        for n, x in mi.items():
            L.append(f"| {n} | {x['cpuUs']:.1f} |")
    return "\n".join(L) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    p.add_argument("--peers", default=os.path.join(REPO, "build", "bench-peers", "node_modules"))
    p.add_argument("--out", default=os.path.join(REPO, "build", "bench"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=int, default=5, help="each wrk load")
    p.add_argument("--warmup", type=int, default=5, help="unmeasured load before each server's runs")
    p.add_argument("--messages", type=int, default=500, help="P2's Inbox")
    p.add_argument("--idle-ms", type=int, default=2000)
    p.add_argument("--ingest-messages", type=int, default=10000)
    p.add_argument("--ingest-runs", type=int, default=3)
    p.add_argument("--ingest-big", type=int, default=100000, help="P4 memory check (0: skip)")
    p.add_argument("--ingest-transports", default="ews,graph",
                   help="what P4's probe reads the mailbox over, comma-separated: ews, graph")
    p.add_argument("--micro-min-time", default="0.5")
    p.add_argument("--only", default="", help="comma-separated: P1,P2,P3,P4,P5,micro")
    p.add_argument("--quick", action="store_true",
                   help="one run, 2 s loads, 1000-message ingest: minutes, not half an hour")
    a = p.parse_args()
    if a.quick:
        a.runs, a.seconds, a.warmup, a.ingest_runs = 1, 2, 2, 1
        a.ingest_messages, a.ingest_big, a.idle_ms, a.micro_min_time = 1000, 10000, 500, "0.1"
    return Suite(a).run()


if __name__ == "__main__":
    sys.exit(main())
