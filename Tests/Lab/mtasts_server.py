#!/usr/bin/env python3
"""mtasts_server.py PKI_DIR STATE_DIR ADDRESS PORT: the MTA-STS policy hosts of the DNS lab (Tests/Lab/dns.sh).

A real HTTPS server (http.server behind ssl) on ADDRESS:PORT (the tests use 443 on 127.0.9.1) serving
https://mta-sts.<site>.lab.example/.well-known/mta-sts.txt for every site below. The certificate is chosen by
SNI; each certificate is made here by the openssl CLI from the lab PKI in PKI_DIR (its intermediate and its
unknown hierarchy) and written under STATE_DIR. Sites whose behaviour no well-behaved server has (a drip, a
silence, 10 MB, a header line without a colon) are the scripted mode of the same server: raw bytes on the
same TLS connection. Loopback only; every wait is bounded; writes STATE_DIR/mtasts-ready when listening.
"""
import http.server
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time

ZONE = "lab.example"
REQUEST_LOG = "/dev/null"
REQUEST_LOG_LOCK = threading.Lock()


def enforce(mx):
    return "version: STSv1\r\nmode: enforce\r\n" + "".join(f"mx: {m}\r\n" for m in mx) + "max_age: 604800\r\n"


MX12 = ["mx1.lab.example", "mx2.lab.example"]

# site -> (certificate, what the server does, body, content type)
SITES = {
    "sts-enforce": ("valid", "ok", enforce(MX12), "text/plain; charset=utf-8"),
    "sts-testing": ("valid", "ok", "version: STSv1\nmode: testing\nmx: mx1.lab.example\nmax_age: 604800\n", "text/plain"),
    "sts-none": ("valid", "ok", "version: STSv1\nmode: none\nmax_age: 604800\n", "text/plain"),
    "sts-uncovered": ("valid", "ok", enforce(["mx1.lab.example"]), "text/plain"),
    "sts-wild2": ("valid", "ok", enforce(["*.example"]), "text/plain"),
    "sts-wild1": ("valid", "ok", enforce(["*.lab.example"]), "text/plain"),
    "sts-redirect": ("valid", "redirect", "", "text/html"),
    "sts-404": ("valid", "notfound", "", "text/html"),
    "sts-big": ("valid", "big", "", "text/plain"),
    "sts-wrongname": ("wrongname", "ok", enforce(MX12), "text/plain"),
    "sts-partial": ("partial", "ok", enforce(MX12), "text/plain"),
    "sts-unknownca": ("unknownca", "ok", enforce(MX12), "text/plain"),
    "sts-expired": ("expired", "ok", enforce(MX12), "text/plain"),
    "sts-cnonly": ("cnonly", "ok", enforce(MX12), "text/plain"),
    "sts-maxage": ("valid", "ok", "version: STSv1\nmode: enforce\nmx: mx1.lab.example\nmax_age: 99999999\n", "text/plain"),
    "sts-short": ("valid", "ok", "version: STSv1\nmode: enforce\nmx: mx1.lab.example\nmax_age: 3600\n", "text/plain"),
    "sts-nomx": ("valid", "ok", "version: STSv1\nmode: enforce\nmax_age: 604800\n", "text/plain"),
    "sts-html": ("valid", "ok", enforce(["mx1.lab.example"]), "text/html"),
    "sts-dupkeys": ("valid", "ok", "version: STSv1\nmode: testing\nmode: enforce\nmx: mx1.lab.example\nmax_age: 604800\nmax_age: 1\n", "text/plain"),
    "sts-drip": ("valid", "drip", enforce(["mx1.lab.example"]), "text/plain"),
    "sts-silent": ("valid", "silent", "", "text/plain"),
    "sts-nocolon": ("valid", "nocolon", "", "text/plain"),
    "sts-chunked": ("valid", "chunked", enforce(["mx1.lab.example"]), "text/plain"),
    "sts-signedchunk": ("valid", "signedchunk", "", "text/plain"),
    "sts-garbage": ("valid", "garbage", "", "text/plain"),
    "sts-bench": ("valid", "ok", enforce(MX12), "text/plain"),
    # Its MX host (on the pool's 127.0.0.2) is not named by the pool's certificate (*.lab.example is one label).
    "sts-certname": ("valid", "ok", enforce(["mx.sts-certname.lab.example"]), "text/plain"),
}

CA_CNF = """
[ ca ]
default_ca = sts_ca
[ sts_ca ]
dir = $ENV::STS_CA_DIR
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
rand_serial = yes
unique_subject = no
default_md = sha256
policy = policy_any
email_in_dn = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ ext_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::STS_SAN
[ ext_cn_only ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = placeholder
"""


def openssl(*args, env=None):
    run = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60, env=env)
    if run.returncode != 0:
        sys.exit(f"mtasts_server.py: openssl {args[0]} failed: {run.stderr}")


def stamp(offset_days):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + offset_days * 86400))


def make_certificates(pki, out):
    """One RSA key for all; one leaf per site. Returns site -> (fullchain, key)."""
    os.makedirs(out, exist_ok=True)
    cnf = os.path.join(out, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(CA_CNF)
    key = os.path.join(out, "leaf.key")
    if not os.path.exists(key):
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    with open(os.path.join(out, "index.txt"), "w"):
        pass
    made = {}
    for site, (kind, _, _, _) in SITES.items():
        host = f"mta-sts.{site}.{ZONE}"
        san = {"wrongname": f"DNS:mta-sts.other.{ZONE}", "partial": f"DNS:mta*.{site}.{ZONE}"}.get(kind, f"DNS:{host}")
        issuer = "unknown-intermediate" if kind == "unknownca" else "intermediate"
        start, end = (stamp(-400), stamp(-30)) if kind == "expired" else (stamp(-1), stamp(365))
        csr = os.path.join(out, site + ".csr")
        pem = os.path.join(out, site + ".pem")
        env = dict(os.environ, STS_CA_DIR=out, STS_SAN=san)
        openssl("req", "-new", "-config", cnf, "-key", key, "-subj", f"/CN={host}", "-out", csr, env=env)
        openssl("ca", "-batch", "-config", cnf, "-notext", "-in", csr, "-out", pem,
                "-cert", os.path.join(pki, issuer + ".pem"), "-keyfile", os.path.join(pki, issuer + ".key"),
                "-startdate", start, "-enddate", end, "-extensions", "ext_cn_only" if kind == "cnonly" else "ext_leaf", env=env)
        chain = os.path.join(out, site + ".fullchain.pem")
        with open(chain, "w") as f:
            f.write(open(pem).read() + open(os.path.join(pki, issuer + ".pem")).read())
        made[site] = chain
    return made, key


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 20

    def log_message(self, *args):
        pass

    def site(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        prefix, suffix = "mta-sts.", "." + ZONE
        if host.startswith(prefix) and host.endswith(suffix):
            return host[len(prefix):-len(suffix)]
        return None

    def do_GET(self):
        site = self.site()
        # One line per request, so tests can count the fetches of a domain.
        with REQUEST_LOG_LOCK, open(REQUEST_LOG, "a") as log:
            log.write(f"{site}\n")
        if site not in SITES or self.path != "/.well-known/mta-sts.txt":
            return self.simple(404, b"not found\n", "text/plain")
        _, behaviour, body, content_type = SITES[site]
        body = body.encode()
        w = self.wfile
        if behaviour == "ok":
            return self.simple(200, body, content_type)
        if behaviour == "redirect":
            self.send_response(301)
            self.send_header("Location", f"https://www.{site}.{ZONE}/mta-sts.txt")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if behaviour == "notfound":
            return self.simple(404, b"<html>not here</html>", content_type)
        if behaviour == "big":
            # 10 MB, close-delimited: the client must stop at 64 KiB.
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
            line = b"mx: mx1.lab.example\n" * 1000
            try:
                for _ in range(500):
                    w.write(line)
            except OSError:
                pass
            self.close_connection = True
            return
        if behaviour == "drip":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body))
            w.flush()
            try:
                for byte in body[:60]:
                    w.write(bytes([byte]))
                    w.flush()
                    time.sleep(1)
            except OSError:
                pass
            self.close_connection = True
            return
        if behaviour == "silent":
            time.sleep(15)
            self.close_connection = True
            return
        if behaviour == "nocolon":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type text/plain\r\nContent-Length: 0\r\n\r\n")
            self.close_connection = True
            return
        if behaviour == "chunked":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 7):
                piece = body[i:i + 7]
                w.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            w.write(b"0\r\n\r\n")
            self.close_connection = True
            return
        if behaviour == "signedchunk":
            # A chunk size with a sign: not a hex number in chunked coding.
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            w.write(b"-5\r\nversion: STSv1\r\n0\r\n\r\n")
            self.close_connection = True
            return
        if behaviour == "garbage":
            return self.simple(200, bytes(range(256)) * 4, "text/plain")

    def simple(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: mtasts_server.py PKI_DIR STATE_DIR ADDRESS PORT")
    pki, state, address, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    global REQUEST_LOG
    REQUEST_LOG = os.path.join(state, "requests.log")
    chains, key = make_certificates(pki, os.path.join(state, "mtasts-pki"))
    contexts = {}
    for site, chain in chains.items():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        contexts[f"mta-sts.{site}.{ZONE}"] = context
    default = contexts[f"mta-sts.sts-enforce.{ZONE}"]

    def pick(sock, name, _):
        sock.context = contexts.get((name or "").lower(), default)

    default.sni_callback = pick
    for context in contexts.values():
        context.sni_callback = pick
    server = Server((address, port), PolicyHandler, bind_and_activate=False)
    server.socket = default.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.server_bind()
    server.server_activate()

    # Handshakes happen in the handler thread (do_handshake_on_connect=False), bounded by a timeout.
    original = server.finish_request

    def finish(request, client_address):
        request.settimeout(20)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        original(request, client_address)

    server.finish_request = finish
    with open(os.path.join(state, "mtasts-ready"), "w") as f:
        f.write(f"{address}:{port}\n")
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
