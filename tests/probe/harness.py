#!/usr/bin/env python3
"""Real-TLS tests of `agentwatch probe` (issue 12), on 127.0.0.1 only.

A throw-away PKI is made here with the `cryptography` package (roots, an
intermediate, leaves whose CRL distribution point and AIA URLs point at
loopback ports), and real servers are started: TLS servers with Python's
ssl module (OpenSSL), an HTTP server for AIA certificates and CRLs, and
hostile ones written as raw sockets.  Every scenario has one fault and
runs the built binary, `agentwatch probe --format json`, then checks the
verdict, the exit status and the fields that name the cause.

Network: every address used is 127.0.0.1.  The DNS scenario uses a name
under the reserved .invalid TLD which agentwatch answers itself (RFC 6761);
its first label is 64 bytes long, so that even a resolver library that
did query would reject it locally (glibc does: no socket is opened).

Usage: harness.py [SCENARIO...]   (AW_BIN names the binary)
Prints one line per check and "probe: N passed, M failed"; exit 1 on a
failure, 77 (skipped) without the cryptography package.
"""
import base64
import datetime
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
except ImportError:
    print("probe: python3 cryptography is missing (scripts/deps.sh python3-cryptography)")
    sys.exit(77)

LOOP = "127.0.0.1"
AW_BIN = os.environ.get("AW_BIN", "build/agentwatch")
# "cryptoapi": the Windows engine under wine (packaging/windows/test-wine.sh),
# whose errors are the system's words, not the socket's.
ENGINE = os.environ.get("AW_PROBE_ENGINE", "openssl")


def ssl_words(*words):
    """Words only the OpenSSL engine's own HTTP client writes."""
    return list(words) if ENGINE == "openssl" else []
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


# ---- PKI ---------------------------------------------------------------

def full_sign(builder, key):
    """builder.sign(key, SHA-256), signed again until both integers of the
    ECDSA signature, r and s, take all 32 bytes.  Wine's CryptoAPI (the
    Windows engine under packaging/windows/test-wine.sh) rejects a P-256
    signature whose r or s is shorter, as DER writes about one in 256 of
    each, with CERT_TRUST_IS_NOT_SIGNATURE_VALID; Windows does not.  Measured
    2026-12-07 under Debian 12's wine: the same intermediate and two leaves,
    the one with a 31-byte r root-untrusted, the one with 32 bytes ok, twice.
    It was the intermittent wine failure of this harness (a leaf, a CRL or
    an OCSP answer signed afresh each run), not the stalled chain call that
    c19ac2b suspected."""
    while True:
        signed = builder.sign(key, hashes.SHA256())
        r, s = decode_dss_signature(signed.signature)
        if r >= 1 << 248 and s >= 1 << 248:
            return signed


class CA:
    def __init__(self, name, issuer=None, cdp=None, aia=None):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.issuer = issuer
        self.revoked = []
        b = self._builder(self.name, self.key.public_key(), NOW - DAY, NOW + 3650 * DAY)
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                          False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                            critical=False)
        b = add_urls(b, cdp, aia, None)
        signer = issuer if issuer else self
        if issuer:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.key.public_key()), critical=False)
        self.cert = full_sign(b, signer.key)

    def _builder(self, subject, pub, nb, na):
        return (x509.CertificateBuilder().subject_name(subject)
                .issuer_name(self.issuer.name if self.issuer else subject)
                .public_key(pub).serial_number(x509.random_serial_number())
                .not_valid_before(nb).not_valid_after(na))

    def leaf(self, names, cdp=None, aia=None, ocsp=None, nb=None, na=None):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(nb or NOW - DAY).not_valid_after(na or NOW + 90 * DAY))
        sans = []
        for n in names:
            try:
                import ipaddress
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            self.key.public_key()), critical=False)
        b = add_urls(b, cdp, aia, ocsp)
        return key, full_sign(b, self.key)

    def crl(self, revoked=(), last=None, nxt=None):
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.name)
             .last_update(last or NOW - DAY).next_update(nxt or NOW + 7 * DAY))
        for cert in revoked:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder()
                                          .serial_number(cert.serial_number)
                                          .revocation_date(NOW - DAY).build())
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            self.key.public_key()), critical=False)
        return full_sign(b, self.key).public_bytes(serialization.Encoding.DER)


def add_urls(b, cdp, aia, ocsp):
    if cdp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(cdp)], None, None, None)]), critical=False)
    descs = []
    if aia:
        descs.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                            x509.UniformResourceIdentifier(aia)))
    if ocsp:
        descs.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                            x509.UniformResourceIdentifier(ocsp)))
    if descs:
        b = b.add_extension(x509.AuthorityInformationAccess(descs), critical=False)
    return b


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


# ---- servers -------------------------------------------------------------

class Server:
    """A listening socket on 127.0.0.1 and a thread serving each connection
    with handler(conn); stopped by closing the socket."""

    def __init__(self, handler, backlog=16):
        self.sock = socket.socket()
        self.sock.bind((LOOP, 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.stopped = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        try:
            conn.settimeout(30)
            self.handler(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self.stopped = True
        self.sock.close()


def http_server(routes):
    """routes: path -> bytes, or a callable(conn) that writes the answer;
    a path ending in "/" -> callable(conn, rest): every path under it."""
    def handle(conn):
        req = b""
        while b"\r\n\r\n" not in req and len(req) < 8192:
            chunk = conn.recv(4096)
            if not chunk:
                return
            req += chunk
        path = req.split(b" ")[1].decode()
        body = routes.get(path)
        under = next((k for k in list(routes) if k.endswith("/") and path.startswith(k)), None)
        if body is None and under is not None:
            routes[under](conn, path[len(under):])
        elif body is None:
            conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        elif callable(body):
            body(conn)
        else:
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return Server(handle)


def tls_server(certfile, keyfile, configure=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    if configure:
        configure(ctx)

    def handle(conn):
        with ctx.wrap_socket(conn, server_side=True) as s:
            s.recv(1024)
            s.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    return Server(handle)


def raw_tls_hostile(mode):
    def handle(conn):
        conn.recv(16384)    # the ClientHello
        if mode == "close":
            return
        if mode == "silent":
            conn.recv(1)    # until the client gives up
        elif mode == "garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n" + os.urandom(512))
            conn.recv(1)
        elif mode == "trickle":
            # A plausible TLS record header, then one byte a half-second.
            for b in b"\x16\x03\x03\x40\x00" + b"\x02" * 200:
                conn.sendall(bytes([b]))
                time.sleep(0.5)
    return Server(handle)


def endless(conn):
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/pkix-crl\r\n\r\n")
    block = b"\x30" * 65536
    while True:
        conn.sendall(block)


def trickle_http(conn):
    for b in b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"\x30" * 1000:
        conn.sendall(bytes([b]))
        time.sleep(0.2)


def big_crl(conn):
    """50 MB announced and sent (streamed, never built in memory)."""
    size = 50 * 1024 * 1024
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
    block = b"\x30" * 65536
    for _ in range(size // len(block)):
        conn.sendall(block)


def big_crl_unannounced(conn):
    size = 50 * 1024 * 1024
    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
    block = b"\x30" * 65536
    for _ in range(size // len(block)):
        conn.sendall(block)


def garbage_http(conn):
    conn.sendall(os.urandom(4096))


def ocsp_responder(issuer, signer, statuses):
    """An OCSP responder for GET requests (RFC 6960 A.1) about certificates
    of issuer: statuses maps a serial to (cert, "good" or "revoked");
    signer (a CA) signs the answer, so another CA's key forges one."""
    def handle(conn, rest):
        req = ocsp.load_der_ocsp_request(base64.b64decode(urllib.parse.unquote(rest)))
        known = statuses.get(req.serial_number)
        if known is None:
            resp = ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED)
        else:
            cert, status = known
            revoked = status == "revoked"
            nxt = NOW - datetime.timedelta(minutes=30) if status == "stale" else NOW + DAY
            b = ocsp.OCSPResponseBuilder().add_response(
                cert=cert, issuer=issuer.cert, algorithm=hashes.SHA1(),
                cert_status={"revoked": ocsp.OCSPCertStatus.REVOKED,
                             "unknown": ocsp.OCSPCertStatus.UNKNOWN}.get(
                                 status, ocsp.OCSPCertStatus.GOOD),
                this_update=NOW - datetime.timedelta(hours=1), next_update=nxt,
                revocation_time=NOW - DAY if revoked else None, revocation_reason=None)
            b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
            resp = full_sign(b, signer.key)
        body = resp.public_bytes(serialization.Encoding.DER)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return handle


# ---- scenarios -----------------------------------------------------------

class World:
    """The PKI, its files and the shared HTTP server."""

    def __init__(self, d):
        self.d = d
        # Bound but never listening: connections are refused, and no other
        # process (tests run in parallel) can take the port meanwhile.
        self.closed_sock = socket.socket()
        self.closed_sock.bind((LOOP, 0))
        self.closed = self.closed_sock.getsockname()[1]
        self.routes = {}
        self.http = http_server(self.routes)
        h = f"http://{LOOP}:{self.http.port}"
        self.h = h
        self.root = CA("agentwatch test root")
        self.other_root = CA("agentwatch other root")
        self.inter = CA("agentwatch test issuing CA", self.root, cdp=f"{h}/root.crl",
                        aia=f"{h}/root.crt")
        self.routes["/root.crt"] = der(self.root.cert)
        self.routes["/inter.crt"] = der(self.inter.cert)
        self.routes["/root.crl"] = self.root.crl()
        self.routes["/big.crl"] = big_crl
        self.routes["/big2.crl"] = big_crl_unannounced
        self.routes["/endless.crl"] = endless
        self.routes["/trickle.crl"] = trickle_http
        self.routes["/garbage.crl"] = garbage_http
        self.routes["/stale.crl"] = self.inter.crl(last=NOW - 30 * DAY, nxt=NOW - 2 * DAY)
        self.ca_file = self.write("ca.pem", pem(self.root.cert))
        self.other_ca = self.write("other-ca.pem", pem(self.other_root.cert))
        self.servers = []
        self.revoked_leaves = []
        self.ocsp = {}
        self.routes["/ocsp/"] = ocsp_responder(self.inter, self.inter, self.ocsp)
        self.routes["/forged/"] = ocsp_responder(self.inter, self.other_root, self.ocsp)

    def write(self, name, data):
        path = os.path.join(self.d, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def leaf_files(self, tag, names=("localhost", LOOP), cdp="inter.crl", aia="inter.crt",
                   chain=("inter",), issuer=None, **kw):
        issuer = issuer or self.inter
        cdp_url = cdp if cdp is None or "://" in cdp else f"{self.h}/{cdp}"
        aia_url = aia if aia is None or "://" in aia else f"{self.h}/{aia}"
        key, cert = issuer.leaf(list(names), cdp=cdp_url, aia=aia_url, **kw)
        body = pem(cert)
        for c in chain:
            body += pem({"inter": self.inter.cert, "root": self.root.cert,
                         "other": self.other_root.cert}[c])
        certfile = self.write(f"{tag}.pem", body)
        keyfile = self.write(f"{tag}.key", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return cert, certfile, keyfile

    def serve(self, tag, configure=None, **kw):
        cert, cf, kf = self.leaf_files(tag, **kw)
        s = tls_server(cf, kf, configure)
        self.servers.append(s)
        return cert, s.port

    def publish_inter_crl(self):
        self.routes["/inter.crl"] = self.inter.crl(self.revoked_leaves)


def run_probe(args, timeout=120):
    t = time.monotonic()
    p = subprocess.run([AW_BIN, "probe", "--no-store", "--format", "json"] + args,
                       capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t


KEYS = ["target", "host", "port", "addresses", "verdict", "detail", "cause", "remedy",
        "checks", "chain", "urls"]
CERT_KEYS = ["subject", "issuer", "serial", "not_before", "not_after", "sha1", "sha256", "san",
             "sent_by_server"]
URL_KEYS = ["kind", "url", "result", "error", "http_status", "bytes", "this_update",
            "next_update"]


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.timings = []

    def check(self, name, ok, info=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {info}")


def expect(res, name, args, verdict, exit_code=None, contains=(), check=None):
    p, secs = run_probe(args)
    res.timings.append((name, verdict, secs))
    try:
        obj = json.loads(p.stdout.splitlines()[0])
    except (ValueError, IndexError):
        res.check(name, False, f"no JSON: rc={p.returncode} out={p.stdout!r} err={p.stderr!r}")
        return None
    want_rc = exit_code if exit_code is not None else (0 if verdict == "ok" else 1)
    res.check(f"{name}: verdict {verdict}", obj.get("verdict") == verdict,
              f"got {obj.get('verdict')}: {obj.get('detail')} / {obj.get('checks')}")
    res.check(f"{name}: exit {want_rc}", p.returncode == want_rc, f"got {p.returncode}")
    missing = [k for k in KEYS if k not in obj]
    missing += [f"chain.{k}" for c in obj.get("chain", []) for k in CERT_KEYS if k not in c]
    missing += [f"urls.{k}" for u in obj.get("urls", []) for k in URL_KEYS if k not in u]
    missing += [f"checks.{k}" for c in obj.get("checks", []) for k in ("step", "result",
                                                                        "detail", "ms")
                if k not in c]
    res.check(f"{name}: every JSON key", not missing, str(missing))
    steps = [c["step"] for c in obj.get("checks", [])]
    res.check(f"{name}: steps in order", steps == ["dns", "tcp", "tls", "chain", "trust",
                                                    "validity", "name", "revocation"], str(steps))
    text = json.dumps(obj)
    for c in contains:
        res.check(f"{name}: mentions {c!r}", c in text, obj.get("detail", ""))
    if check:
        for label, fn in check:
            res.check(f"{name}: {label}", fn(obj), text[:600])
    return obj


def url(obj, suffix):
    return next((u for u in obj["urls"] if u["url"].endswith(suffix)), None)


def main():
    only = set(sys.argv[1:])
    res = Results()
    with tempfile.TemporaryDirectory(prefix="aw-probe-") as d:
        w = World(d)
        ca = ["--ca-file", w.ca_file]
        _, good_port = w.serve("good", ocsp=f"http://{LOOP}:{w.closed}/ocsp")
        revoked_cert, revoked_port = w.serve("revoked")
        w.revoked_leaves.append(revoked_cert)
        w.publish_inter_crl()
        _, leafonly_port = w.serve("leafonly", chain=())
        _, leafonly_dead_port = w.serve("leafonly-dead", chain=(),
                                        aia=f"http://{LOOP}:{w.closed}/inter.crt")
        _, untrusted_port = w.serve("untrusted", chain=("inter", "root"))
        _, expired_port = w.serve("expired", nb=NOW - 400 * DAY, na=NOW - 10 * DAY)
        _, notyet_port = w.serve("notyet", nb=NOW + 10 * DAY, na=NOW + 400 * DAY)
        _, wrongname_port = w.serve("wrongname", names=("other.example",))
        _, offline_port = w.serve("offline", cdp=f"http://{LOOP}:{w.closed}/inter.crl")
        _, stale_port = w.serve("stale", cdp="stale.crl")
        ocsp_port = {}
        for tag, cdp, path, status in (
                ("good", None, "ocsp", "good"), ("revoked", None, "ocsp", "revoked"),
                ("dead", None, None, "good"),
                ("good-cdp-dead", f"http://{LOOP}:{w.closed}/inter.crl", "ocsp", "good"),
                ("forged", None, "forged", "good"),
                ("dead-cdp-dead", f"http://{LOOP}:{w.closed}/inter.crl", None, "good"),
                ("stale", None, "ocsp", "stale"), ("unknown", None, "ocsp", "unknown"),
                ("not-known", None, "ocsp", None)):
            where = f"{w.h}/{path}" if path else f"http://{LOOP}:{w.closed}/ocsp"
            cert, ocsp_port[tag] = w.serve(f"ocsp-{tag}", cdp=cdp, ocsp=where)
            if status:    # None: a serial the responder does not know
                w.ocsp[cert.serial_number] = (cert, status)
        hostile_crl = {}
        for tag in ("big", "big2", "endless", "trickle", "garbage"):
            hostile_crl[tag] = w.serve(f"crl-{tag}", cdp=f"{tag}.crl")[1]

        def alert(ctx):
            ctx.sni_callback = lambda s, name, c: ssl.ALERT_DESCRIPTION_ACCESS_DENIED
        _, alert_port = w.serve("alert", configure=alert)

        def no_common_cipher(ctx):
            # TLS 1.2 only, with a suite OpenSSL's DEFAULT list never offers.
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-ECDSA-ARIA128-GCM-SHA256")
        _, proto_port = w.serve("proto", configure=no_common_cipher)
        close_srv = raw_tls_hostile("close")
        silent_srv = raw_tls_hostile("silent")
        garbage_srv = raw_tls_hostile("garbage")
        trickle_srv = raw_tls_hostile("trickle")
        # A listening socket whose accept queue is full: SYNs go unanswered.
        full = socket.socket()
        full.bind((LOOP, 0))
        full.listen(0)
        fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect((LOOP, full.getsockname()[1]))
            except BlockingIOError:
                pass
            fillers.append(c)
        time.sleep(0.2)

        def want(name):
            return not only or name in only

        loc = lambda port: f"localhost:{port}"
        ip = lambda port: f"{LOOP}:{port}"
        if want("dns"):
            expect(res, "dns", ["a" * 64 + ".invalid"], "dns-failure")
        if want("tcp-refused"):
            expect(res, "tcp-refused", ca + [ip(w.closed)], "tcp-refused")
        if want("tcp-timeout"):
            expect(res, "tcp-timeout", ca + ["--timeout", "1", ip(full.getsockname()[1])],
                   "tcp-timeout")
        if want("no-serverhello"):
            expect(res, "no-serverhello (close)", ca + [ip(close_srv.port)],
                   "tls-no-serverhello", contains=["private key"])
            expect(res, "no-serverhello (silent)", ca + ["--timeout", "1", ip(silent_srv.port)],
                   "tls-no-serverhello", contains=["stayed silent"])
        if want("alert"):
            expect(res, "alert", ca + [loc(alert_port)], "tls-alert",
                   contains=["access denied"])
        if want("protocol"):
            expect(res, "no common cipher", ca + [ip(proto_port)], "tls-protocol",
                   contains=["handshake failure", "no TLS version or cipher suite in common"])
        if want("garbage"):
            expect(res, "garbage (TLS)", ca + [ip(garbage_srv.port)], "tls-protocol",
                   contains=["not TLS"])
        if want("trickle"):
            expect(res, "trickle (TLS)", ca + ["--timeout", "2", ip(trickle_srv.port)],
                   "tls-protocol", contains=["did not finish within 2000 ms"])
        if want("ok"):
            expect(res, "ok", ca + [ip(good_port)], "ok", check=[
                ("chain sent by server", lambda o: [c["sent_by_server"] for c in o["chain"]]
                 == [True, True]),
                ("CRL fetched with dates", lambda o: url(o, "/inter.crl")["result"] == "ok"
                 and url(o, "/inter.crl")["next_update"] is not None),
                # CryptoAPI asks OCSP itself: the Windows engine lists the URL
                ("OCSP asked, the CRL decides when it fails", lambda o:
                 url(o, "/ocsp")["kind"] == "ocsp" and url(o, "/ocsp")["result"]
                 == ("fail" if ENGINE == "openssl" else "skip")),
                ("sha1 thumbprint", lambda o: len(o["chain"][0]["sha1"]) == 40)])
            expect(res, "ok by name", ca + ["https://localhost:%d/agent" % good_port], "ok")
        if want("no-revocation"):
            expect(res, "no-revocation", ca + ["--no-revocation", ip(offline_port)], "ok",
                   check=[("revocation skipped", lambda o: o["checks"][7]["result"] == "skip")])
        if want("leafonly"):
            expect(res, "leaf only, AIA reachable", ca + [ip(leafonly_port)], "ok",
                   contains=["only its own certificate", "Windows"], check=[
                       ("issuer fetched, not sent", lambda o: [c["sent_by_server"]
                                                               for c in o["chain"]]
                        == [True, False])])
            expect(res, "leaf only, AIA unreachable", ca + [ip(leafonly_dead_port)],
                   "chain-incomplete", contains=[f"{LOOP}:{w.closed}/inter.crt"])
        if want("untrusted"):
            expect(res, "root untrusted", ["--ca-file", w.other_ca, ip(untrusted_port)],
                   "root-untrusted", contains=["agentwatch test root"])
        if want("expired"):
            expect(res, "expired", ca + [ip(expired_port)], "cert-expired",
                   contains=["expired at"])
        if want("notyet"):
            expect(res, "not yet valid", ca + [ip(notyet_port)], "cert-not-yet-valid")
        if want("name"):
            expect(res, "name mismatch", ca + [loc(wrongname_port)], "name-mismatch",
                   contains=["other.example"])
        if want("revoked"):
            expect(res, "revoked", ca + [ip(revoked_port)], "revoked")
        if want("offline"):
            expect(res, "CDP offline", ca + [ip(offline_port)], "revocation-offline",
                   contains=[f"{LOOP}:{w.closed}/inter.crl"] + ssl_words("Connection refused"))
            expect(res, "stale CRL", ca + [ip(stale_port)], "revocation-offline",
                   contains=["stale CRL"])
        if want("ocsp"):
            ocsp_url = lambda o: next(u for u in o["urls"] if u["kind"] == "ocsp")
            expect(res, "OCSP only, good", ca + [ip(ocsp_port["good"])], "ok", check=[
                ("OCSP answered with dates", lambda o: ocsp_url(o)["result"] == "ok"
                 and ocsp_url(o)["http_status"] == 200 and ocsp_url(o)["bytes"] > 0
                 and ocsp_url(o)["this_update"] is not None
                 and ocsp_url(o)["next_update"] is not None),
                ("one OCSP answer", lambda o: "1 OCSP answer," in o["checks"][7]["detail"])])
            expect(res, "OCSP only, revoked", ca + [ip(ocsp_port["revoked"])], "revoked",
                   contains=["CN=localhost"])
            expect(res, "OCSP only, responder down", ca + [ip(ocsp_port["dead"])],
                   "revocation-offline", contains=[f"{LOOP}:{w.closed}/ocsp",
                                                   "Connection refused"])
            expect(res, "OCSP good, CDP down", ca + [ip(ocsp_port["good-cdp-dead"])], "ok",
                   check=[("the CRL failed", lambda o: url(o, "/inter.crl")["result"]
                           == "fail")])
            expect(res, "OCSP and CDP down", ca + [ip(ocsp_port["dead-cdp-dead"])],
                   "revocation-offline", contains=[f"{LOOP}:{w.closed}/inter.crl",
                                                   f"{LOOP}:{w.closed}/ocsp"])
            expect(res, "OCSP answer stale", ca + [ip(ocsp_port["stale"])],
                   "revocation-offline", contains=["stale OCSP response"])
            expect(res, "OCSP status unknown", ca + [ip(ocsp_port["unknown"])],
                   "revocation-offline", contains=["does not know this certificate"])
            expect(res, "OCSP responder refuses", ca + [ip(ocsp_port["not-known"])],
                   "revocation-offline", contains=["the responder answered 'unauthorized'"])
            expect(res, "OCSP answer signed by another CA", ca + [ip(ocsp_port["forged"])],
                   "revocation-offline", contains=[f"{w.h}/forged",
                                                   "cannot be verified"])
            expect(res, "OCSP with --no-revocation", ca + ["--no-revocation",
                                                          ip(ocsp_port["dead"])], "ok",
                   check=[("OCSP not asked", lambda o: ocsp_url(o)["result"] == "skip")])
        if want("hostile-crl"):
            expect(res, "50 MB CRL (announced)", ca + [ip(hostile_crl["big"])],
                   "revocation-offline", contains=ssl_words("larger than the limit"))
            expect(res, "50 MB CRL (unannounced)", ca + [ip(hostile_crl["big2"])],
                   "revocation-offline", contains=ssl_words("stopped reading"))
            expect(res, "endless CRL", ca + [ip(hostile_crl["endless"])],
                   "revocation-offline", contains=ssl_words("stopped reading"))
            expect(res, "trickling CRL", ca + ["--timeout", "2", ip(hostile_crl["trickle"])],
                   "revocation-offline", contains=ssl_words("timed out after 2000 ms"))
            expect(res, "garbage CRL server", ca + [ip(hostile_crl["garbage"])],
                   "revocation-offline", contains=ssl_words("not an HTTP response"))
        if want("usage"):
            for label, args in (("bad target", ["https://"]),
                                ("bad port", ["localhost:99999"]),
                                ("ftp target", ["ftp://x"]),
                                ("missing ca-file", ["--ca-file", os.path.join(d, "nope.pem"),
                                                     ip(good_port)]),
                                ("ca-file without a certificate",
                                 ["--ca-file", w.write("empty.pem", b"junk\n"), ip(good_port)]),
                                ("bad timeout", ["--timeout", "0", ip(good_port)]),
                                ("bad format", ["--format", "xml", ip(good_port)])):
                p, _ = run_probe(args)
                res.check(f"usage: {label}: exit 2 with one line",
                          p.returncode == 2 and p.stdout == "" and
                          p.stderr.startswith("agentwatch: ") and
                          p.stderr.count("\n") == 1, f"rc={p.returncode} err={p.stderr!r}")
        if want("multi"):
            p, _ = run_probe(ca + [ip(good_port), ip(w.closed)])
            lines = p.stdout.splitlines()
            res.check("two targets: two JSON lines, exit 1",
                      len(lines) == 2 and p.returncode == 1 and
                      [json.loads(x)["verdict"] for x in lines] == ["ok", "tcp-refused"],
                      p.stdout[:300])
            p = subprocess.run([AW_BIN, "probe", "--no-store"] + ca + [ip(good_port)],
                               capture_output=True, text=True, timeout=60)
            res.check("text format: checklist", p.returncode == 0 and "OK" in p.stdout and
                      "[ok  ] revocation" in p.stdout, p.stdout)

        if want("store"):
            import sqlite3
            db = os.path.join(d, "aw.db")
            base = [AW_BIN, "--db", db, "probe", "--format", "json"] + ca
            p1 = subprocess.run(base + [ip(good_port)], capture_output=True, text=True)
            p2 = subprocess.run(base + [ip(revoked_port)], capture_output=True, text=True)
            con = sqlite3.connect(db)
            rows = con.execute("SELECT rule, category, target, code FROM findings"
                               " ORDER BY id").fetchall()
            certs = con.execute("SELECT target, length(sha256), first_seen <= last_seen"
                                " FROM server_certs ORDER BY target").fetchall()
            con.close()
            res.check("store: a finding per probe", p1.returncode == 0 and p2.returncode == 1
                      and rows == [("probe.ok", "health", ip(good_port), "ok"),
                                   ("probe.revoked", "ssl", ip(revoked_port), "revoked")],
                      str(rows) + p1.stderr + p2.stderr)
            res.check("store: the server certificate per target",
                      sorted(certs) == sorted([(ip(good_port), 64, 1),
                                               (ip(revoked_port), 64, 1)]), str(certs))
            p3 = subprocess.run(base + ["--no-store"], capture_output=True, text=True)
            got = sorted(json.loads(x)["verdict"] for x in p3.stdout.splitlines())
            res.check("store: without TARGET, the stored findings' targets",
                      got == ["ok", "revoked"] and p3.returncode == 1, p3.stdout + p3.stderr)
            p4 = subprocess.run([AW_BIN, "--db", os.path.join(d, "empty.db"), "probe"],
                                capture_output=True, text=True)
            res.check("store: no TARGET and nothing stored: exit 2", p4.returncode == 2,
                      p4.stderr)
            # servers: in the configuration come after the stored targets,
            # each target once (the good server is in both).
            cfg = os.path.join(d, "servers.yaml")
            with open(cfg, "w") as f:
                f.write(f"servers:\n  - https://{ip(good_port)}/agent\n"
                        f"  - {ip(w.closed)}\n")
            def withcfg(dbfile, *extra):
                return subprocess.run([AW_BIN, "--config", cfg, "--db", dbfile, "probe",
                                       "--format", "json", *extra] + ca,
                                      capture_output=True, text=True)
            p5 = withcfg(db, "--no-store")
            got = [(json.loads(x)["target"], json.loads(x)["verdict"])
                   for x in p5.stdout.splitlines()]
            res.check("servers: after the stored targets, each once",
                      sorted(got[:2]) == sorted([(ip(good_port), "ok"),
                                                 (ip(revoked_port), "revoked")])
                      and got[2:] == [(ip(w.closed), "tcp-refused")] and p5.returncode == 1,
                      p5.stdout + p5.stderr)
            p6 = withcfg(os.path.join(d, "empty2.db"))
            got = [json.loads(x)["verdict"] for x in p6.stdout.splitlines()]
            res.check("servers: nothing stored, the configured servers",
                      got == ["ok", "tcp-refused"] and p6.returncode == 1,
                      p6.stdout + p6.stderr)

        if want("history"):
            # One port, two certificates in sequence (the binding moved to a
            # certificate for another name): report names the change, with
            # both thumbprints as the probes saw them, and the failure.
            db = os.path.join(d, "history.db")
            _, cf_a, kf_a = w.leaf_files("hist-a")
            _, cf_b, kf_b = w.leaf_files("hist-b", names=("other.example",))
            ctxs = []
            for cf, kf in ((cf_a, kf_a), (cf_b, kf_b)):
                c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                c.load_cert_chain(cf, kf)
                ctxs.append(c)
            current = [ctxs[0]]

            def swapping(conn):
                with current[0].wrap_socket(conn, server_side=True) as s:
                    s.recv(1024)
                    s.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            hist = Server(swapping)
            w.servers.append(hist)
            base = [AW_BIN, "--db", db, "probe", "--format", "json"] + ca + [ip(hist.port)]
            p1 = subprocess.run(base, capture_output=True, text=True)
            current[0] = ctxs[1]
            time.sleep(0.01)
            p2 = subprocess.run(base, capture_output=True, text=True)
            r1, r2 = json.loads(p1.stdout or "{}"), json.loads(p2.stdout or "{}")
            rep = subprocess.run([AW_BIN, "--db", db, "report", "--format", "json"],
                                 capture_output=True, text=True)
            servers = json.loads(rep.stdout or "{}").get("servers", [])
            sv = servers[0] if len(servers) == 1 else {}
            sha_a = (r1.get("chain") or [{}])[0].get("sha1")
            sha_b = (r2.get("chain") or [{}])[0].get("sha1")
            res.check("history: two certificates, probed in sequence",
                      r1.get("verdict") == "ok" and r2.get("verdict") == "name-mismatch"
                      and sha_a and sha_b and sha_a != sha_b, p1.stdout + p2.stdout)
            res.check("history: report JSON names the change and the failure",
                      sv.get("target") == ip(hist.port) and sv.get("verdict") == "name-mismatch"
                      and sv.get("certificate_changed") is True and sv.get("old_sha1") == sha_a
                      and sv.get("sha1") == sha_b and sv.get("changed_at") is not None
                      and sv.get("failures_began") == sv.get("changed_at"),
                      rep.stdout + rep.stderr)
            rep = subprocess.run([AW_BIN, "--db", db, "report"], capture_output=True, text=True)
            res.check("history: report table line",
                      f"certificate of {ip(hist.port)} changed at " in rep.stdout
                      and f"({sha_a} \u2192 {sha_b}); failures began at " in rep.stdout,
                      rep.stdout + rep.stderr)
            # ECS export: each probe finding carries the certificate that
            # probe saw (A, B, then A again), a refused probe none.
            current[0] = ctxs[0]
            p3 = subprocess.run(base, capture_output=True, text=True)
            p4 = subprocess.run([AW_BIN, "--db", db, "probe", "--format", "json", ip(w.closed)],
                                capture_output=True, text=True)
            r3 = json.loads(p3.stdout or "{}")
            ex = subprocess.run([AW_BIN, "--db", db, "export", "--format", "ecs"],
                                capture_output=True, text=True)
            lines = [json.loads(x) for x in ex.stdout.splitlines()]

            def ecs_tls(c):
                return {"hash": {"sha1": c["sha1"].upper(), "sha256": c["sha256"].upper()},
                        "subject": c["subject"], "issuer": c["issuer"],
                        "not_before": c["not_before"], "not_after": c["not_after"],
                        "x509": {"alternative_names": [n.split(":", 1)[1] for n in
                                                       c["san"].split(", ") if n],
                                 "subject": {"distinguished_name": c["subject"]},
                                 "issuer": {"distinguished_name": c["issuer"]},
                                 "serial_number": c["serial"].upper(),
                                 "not_before": c["not_before"],
                                 "not_after": c["not_after"]}}
            want_tls = [ecs_tls((r.get("chain") or [{}])[0]) for r in (r1, r2, r3)]
            got_tls = [ln.get("tls", {}).get("server") for ln in lines]
            res.check("ecs: tls.server.* of each probe as it saw it, none when refused",
                      len(lines) == 4 and got_tls[:3] == want_tls and got_tls[3] is None
                      and [ln["rule"]["id"] for ln in lines] ==
                      ["probe.ok", "probe.name-mismatch", "probe.ok", "probe.tcp-refused"]
                      and want_tls[0]["x509"]["alternative_names"]
                      and (r3.get("chain") or [{}])[0].get("sha1") == sha_a
                      and p4.returncode == 1,
                      ex.stdout[:2000] + ex.stderr + p4.stderr)

        for s in w.servers + [w.http, close_srv, silent_srv, garbage_srv, trickle_srv]:
            s.stop()
        for c in fillers:
            c.close()
        full.close()
    if os.environ.get("AW_PROBE_TIMINGS"):
        for name, verdict, secs in res.timings:
            print(f"time {verdict:20s} {secs * 1000:7.0f} ms  {name}")
    print(f"probe: {res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
