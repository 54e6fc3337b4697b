#!/usr/bin/env python3
"""oddsmtp: a scripted, deliberately misbehaving SMTP server for mxcheck's
end-to-end lab tests.

Usage:
    python3 Tests/Lab/oddsmtp.py --state STATE.json --log COMMANDS.log [--pki DIR]

One listening socket per mode, every one on 127.0.0.1 with an OS-chosen port.
Once all of them listen, STATE.json is written atomically as
{"mode_name": port, ...}.  Every line a client sends (in any mode, also inside
TLS) is appended to COMMANDS.log as "MODE<TAB>line".  Lines starting with "!"
after the tab are markers written by the server itself:

    !early          slow_multiline: the client talked before the final 220 line
    !raw N bytes    non-line data read from the client (e.g. a TLS ClientHello
                    sent to a mode that never does TLS)
    !line-too-long  the client sent more than 64 KB without a line end

Control characters and non-ASCII bytes in logged lines are written as \\xNN.
Only the Python standard library is used (plus the `openssl` command line tool
when --pki is not given, to make a throwaway self-signed certificate).
Stops within a second on SIGTERM or SIGINT.
"""

import argparse
import json
import os
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
NAME = "odd.lab.example"
CONN_LIMIT = 60.0           # every connection ends by itself within this many seconds
HANDSHAKE_TIMEOUT = 15.0    # TLS handshake timeout
MAX_LINE = 64 * 1024        # cap on a received line
CLOSE_DRAIN = 1.0           # after our side closes for writing, wait this long for the peer

MODES = [
    "greet_421",
    "greet_554",
    "ehlo_rejected",
    "never_greets",
    "no_starttls",
    "starttls_454",
    "starttls_no_tls",
    "starttls_garbage",
    "tls_close_midhandshake",
    "plaintext_after_220",
    "starttls_ok",
    "pipelined_injection",
    "greeting_16mb",
    "drip",
    "slow_multiline",
    "bad_code",
    "mixed_codes",
    "ehlo_10000",
    "bare_lf",
    "rate_limit_after_2",
    "rate_limit_after_3",
    "rate_limit_reset",
    "count_concurrent",
    "gnutls_version_alert",
]


class ConnExpired(Exception):
    """The per-connection time budget is used up."""


class LineTooLong(Exception):
    """The client sent more than MAX_LINE bytes without a line end."""


class Closed(Exception):
    """The connection is finished; unwind the handler quietly."""


# --------------------------------------------------------------------------
# command log

class CommandLog:
    def __init__(self, path):
        self._lock = threading.Lock()
        self._f = open(path, "a", encoding="ascii", errors="backslashreplace")

    @staticmethod
    def escape(data):
        out = []
        for b in data:
            if 0x20 <= b < 0x7F and b != 0x5C:
                out.append(chr(b))
            elif b == 0x5C:
                out.append("\\\\")
            else:
                out.append("\\x%02x" % b)
        return "".join(out)

    def line(self, mode, data):
        self.write(mode, self.escape(data))

    def write(self, mode, text):
        with self._lock:
            try:
                self._f.write("%s\t%s\n" % (mode, text))
                self._f.flush()
            except (OSError, ValueError):
                pass

    def close(self):
        with self._lock:
            try:
                self._f.close()
            except OSError:
                pass


def errline(msg):
    try:
        sys.stderr.write("oddsmtp: %s\n" % msg)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------
# one connection

class Conn:
    def __init__(self, server, mode, sock, addr):
        self.server = server
        self.mode = mode
        self.raw = sock
        self.sock = sock            # the raw socket, or the SSLSocket after STARTTLS
        self.addr = addr
        self.buf = bytearray()
        self.tls = False
        self.eol = b"\r\n"
        self.binary = False         # the client has started speaking TLS at us
        self.deadline = time.monotonic() + CONN_LIMIT

    # -- time budget
    def remaining(self):
        return self.deadline - time.monotonic()

    def _timeout(self, limit=None):
        rem = self.remaining()
        if rem <= 0:
            raise ConnExpired("connection time budget (%ds) used up" % CONN_LIMIT)
        t = rem if limit is None else min(rem, limit)
        self.sock.settimeout(max(t, 0.01))

    def sleep(self, seconds):
        rem = self.remaining()
        if rem <= 0:
            raise ConnExpired("connection time budget (%ds) used up" % CONN_LIMIT)
        time.sleep(max(0.0, min(seconds, rem)))

    # -- logging
    def log(self, data):
        self.server.cmdlog.line(self.mode, data)

    def mark(self, text):
        self.server.cmdlog.write(self.mode, "!" + text)

    # -- output
    def send(self, data):
        self._timeout()
        self.sock.sendall(data)

    def reply(self, *lines):
        self.send(b"".join(l.encode("ascii") + self.eol for l in lines))

    # -- input
    def readline(self, timeout=None):
        """One line without its line end; None at EOF.  socket.timeout if
        nothing complete arrives in time."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                self.log(line)
                return line
            if len(self.buf) > MAX_LINE:
                self.mark("line-too-long")
                self.buf.clear()
                raise LineTooLong("client line longer than %d bytes" % MAX_LINE)
            self._timeout(timeout)
            data = self.sock.recv(65536)
            if not data:
                if self.buf:            # unterminated last fragment: still log it
                    self.log(bytes(self.buf))
                    self.buf.clear()
                return None
            self.buf += data

    def read_raw(self, timeout):
        """Whatever bytes arrive next (buffer first); b'' at EOF."""
        if self.buf:
            data = bytes(self.buf)
            self.buf.clear()
            return data
        self._timeout(timeout)
        return self.sock.recv(65536)

    def log_buffered_lines(self):
        """Log (and drop) complete plaintext lines still in the buffer."""
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                break
            line = bytes(self.buf[:i])
            del self.buf[:i + 1]
            if line.endswith(b"\r"):
                line = line[:-1]
            self.log(line)
        if self.buf:
            self.mark("raw %d bytes" % len(self.buf))
            self.buf.clear()

    # -- TLS
    def start_tls(self):
        self._timeout(HANDSHAKE_TIMEOUT)
        self.sock = self.server.tls_ctx.wrap_socket(self.raw, server_side=True)
        self.tls = True

    # -- closing
    def close_gracefully(self):
        """Half-close, give the peer a moment (logging what it still sends),
        then close; avoids an RST eating our last reply."""
        try:
            if self.tls:
                # Send close_notify (wait briefly for the peer's), then close.
                # The plain socket object was detached by wrap_socket().
                try:
                    self.sock.settimeout(min(CLOSE_DRAIN, max(self.remaining(), 0.01)))
                    plain = self.sock.unwrap()
                    plain.close()
                except (OSError, ValueError):
                    pass
            else:
                self.raw.shutdown(socket.SHUT_WR)
                end = time.monotonic() + CLOSE_DRAIN
                while True:
                    left = min(end - time.monotonic(), self.remaining())
                    if left <= 0:
                        break
                    try:
                        if self.binary:     # e.g. a TLS alert: not SMTP lines
                            data = self.read_raw(timeout=left)
                            if not data:
                                break
                            self.mark("raw %d bytes" % len(data))
                        elif self.readline(timeout=left) is None:
                            break
                    except (socket.timeout, LineTooLong, ConnExpired):
                        break
        except OSError:
            pass
        finally:
            self.close()
        raise Closed()

    def close(self):
        for s in (self.sock, self.raw):
            try:
                s.close()
            except OSError:
                pass

    def wait_and_log(self, seconds):
        """Read and log lines for up to `seconds` (no answers, except 221 to
        QUIT), then close."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                line = self.readline(timeout=left)
            except socket.timeout:
                break
            if line is None:
                break
            if verb_of(line) == b"QUIT":
                self.reply("221 2.0.0 Bye")
                break
        self.close_gracefully()


def verb_of(line):
    return line.strip().split(b" ", 1)[0].upper()


# --------------------------------------------------------------------------
# the ordinary SMTP dialogue, parametrised per mode

def ehlo_lines(c, starttls_offered, lower=False):
    caps = ["PIPELINING"]
    if starttls_offered and not c.tls:
        caps.append("STARTTLS")
    caps.append("8BITMIME")
    if lower:
        caps = [x.lower() for x in caps]
    items = [NAME] + caps
    return ["250-" + x for x in items[:-1]] + ["250 " + items[-1]]


def starttls_real(c):
    """Correct STARTTLS: 220, drop (but log) pipelined plaintext, handshake."""
    c.reply("220 2.0.0 Ready to start TLS")
    c.log_buffered_lines()
    c.start_tls()


def command_loop(c, starttls=None, offer_starttls=False, lower=False, ehlo=None):
    """starttls: callable(c) run on STARTTLS in plaintext (None: 502).
    ehlo: callable(c) replacing the EHLO answer (used in plaintext only)."""
    while True:
        line = c.readline()
        if line is None:
            return
        verb = verb_of(line)
        if verb == b"QUIT":
            if getattr(c, "on_quit", None):
                c.on_quit()
            c.reply("221 2.0.0 Bye")
            c.close_gracefully()
        elif verb == b"EHLO":
            if ehlo is not None and not c.tls:
                ehlo(c)
            else:
                c.reply(*ehlo_lines(c, offer_starttls and starttls is not None, lower))
        elif verb == b"HELO":
            c.reply("250 " + NAME)
        elif verb in (b"NOOP", b"RSET"):
            c.reply("250 2.0.0 Ok")
        elif verb == b"STARTTLS" and c.tls:
            c.reply("554 5.5.1 Error: TLS already active")
        elif verb == b"STARTTLS" and starttls is not None:
            starttls(c)
        else:
            c.reply("502 5.5.2 Error: command not recognized")


def greet(c):
    c.reply("220 %s ESMTP" % NAME)


# --------------------------------------------------------------------------
# modes

def mode_greet_421(c):
    c.reply("421 4.7.0 %s Too many connections, try later" % NAME)
    c.close_gracefully()


def mode_greet_554(c):
    c.reply("554 5.7.1 %s Service refused" % NAME)
    while True:
        line = c.readline()
        if line is None:
            return
        if verb_of(line) == b"QUIT":
            c.reply("221 2.0.0 Bye")
            c.close_gracefully()
        c.reply("503 5.5.1 Error: access denied")


def mode_ehlo_rejected(c):
    greet(c)

    def ehlo(c):
        c.reply("550 5.7.1 EHLO not accepted")
    command_loop(c, ehlo=ehlo)


def mode_never_greets(c):
    while True:
        try:
            if c.readline() is None:
                return
        except LineTooLong:
            continue


def mode_no_starttls(c):
    greet(c)
    command_loop(c)


def mode_starttls_454(c):
    greet(c)

    def starttls(c):
        c.reply("454 4.7.0 TLS not available due to local problem")
    command_loop(c, starttls=starttls, offer_starttls=True)


def _read_client_hello(c):
    c.log_buffered_lines()
    c.binary = True
    data = c.read_raw(timeout=10)
    if data:
        c.mark("raw %d bytes%s" % (len(data), " (TLS record)" if data[0] == 0x16 else ""))
    return data


def mode_starttls_no_tls(c):
    greet(c)

    def starttls(c):
        c.reply("220 2.0.0 Ready to start TLS")
        _read_client_hello(c)
        c.close()
        raise Closed()
    command_loop(c, starttls=starttls, offer_starttls=True)


GARBAGE = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
GARBAGE = (GARBAGE + b"this is not TLS " * 20)[:200]


def mode_starttls_garbage(c):
    greet(c)

    def starttls(c):
        c.reply("220 2.0.0 Ready to start TLS")
        _read_client_hello(c)
        c.send(GARBAGE)
        c.close_gracefully()
    command_loop(c, starttls=starttls, offer_starttls=True)


# TLS record header (handshake, TLS 1.2, length 0x7a) + ServerHello header
# (type 2, length 0x76, version 3,3) + the first 9 bytes of server random.
HALF_SERVER_HELLO = bytes.fromhex("16030300 7a 02000076 0303".replace(" ", "")) + \
    bytes.fromhex("5a1c9e07b3d2448f61")
assert len(HALF_SERVER_HELLO) == 20


def mode_tls_close_midhandshake(c):
    greet(c)

    def starttls(c):
        c.reply("220 2.0.0 Ready to start TLS")
        _read_client_hello(c)
        c.send(HALF_SERVER_HELLO)
        c.close_gracefully()
    command_loop(c, starttls=starttls, offer_starttls=True)


def mode_plaintext_after_220(c):
    greet(c)

    def starttls(c):
        c.send(b"220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected\r\n")
        c.log_buffered_lines()
        c.start_tls()
    command_loop(c, starttls=starttls, offer_starttls=True)


def mode_starttls_ok(c):
    greet(c)
    command_loop(c, starttls=starttls_real, offer_starttls=True)


def mode_pipelined_injection(c):
    """CVE-2011-0411: plaintext pipelined after STARTTLS is kept and answered
    inside TLS."""
    greet(c)

    def starttls(c):
        c.reply("220 2.0.0 Ready to start TLS")
        # Lines that were in the same write as STARTTLS are already in c.buf.
        # Also take plaintext lines that arrived separately but before the
        # ClientHello (peek, so no TLS bytes are consumed).
        while True:
            c._timeout(HANDSHAKE_TIMEOUT)
            data = c.raw.recv(4096, socket.MSG_PEEK)
            if not data or data[0] == 0x16:
                break
            i = data.find(b"\n")
            if i < 0:
                if len(data) >= 4096:
                    break
                c.sleep(0.05)
                continue
            c.buf += c.raw.recv(i + 1)
        c.start_tls()       # c.buf is kept: the loop answers it through TLS
    command_loop(c, starttls=starttls, offer_starttls=True)


def mode_greeting_16mb(c):
    try:
        c.send(b"220 ")
        chunk = b"x" * 65536
        for _ in range(16 * 1024 * 1024 // len(chunk)):
            c.send(chunk)
    except (OSError, ConnExpired):
        c.close()
        raise Closed()
    c.wait_and_log(30)


def mode_drip(c):
    text = b"220 slow greeting..."
    i = 0
    while c.remaining() > 0:
        b = text[i:i + 1] if i < len(text) else b"."
        i += 1
        try:
            c.send(b)
        except (OSError, ConnExpired):
            c.close()
            raise Closed()
        # wait 0.5 s, logging whatever the client sends meanwhile
        end = time.monotonic() + 0.5
        while True:
            left = min(end - time.monotonic(), c.remaining())
            if left <= 0:
                break
            try:
                if c.readline(timeout=left) is None:
                    c.close()
                    raise Closed()
            except socket.timeout:
                break
            except LineTooLong:
                continue


def mode_slow_multiline(c):
    c.reply("220-%s first line" % NAME)
    c.sleep(2.0)
    # Non-blocking peek (data stays queued and is handled normally later).
    c.raw.settimeout(0)
    try:
        early = c.raw.recv(4096, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        early = b""
    if early:
        c.mark("early")
    greet(c)
    command_loop(c, starttls=starttls_real, offer_starttls=True)


def mode_bad_code(c):
    c.send(b"22O " + NAME.encode() + b"\r\n")
    c.wait_and_log(10)


def mode_mixed_codes(c):
    c.send(b"220-" + NAME.encode() + b"\r\n250 " + NAME.encode() + b"\r\n")
    c.wait_and_log(10)


EHLO_10000 = b"".join(b"250-X-FILLER-%05d\r\n" % n for n in range(1, 10001)) + b"250 STARTTLS\r\n"


def mode_ehlo_10000(c):
    greet(c)

    def ehlo(c):
        c.send(EHLO_10000)
    # After the huge EHLO reply: keep reading (and logging) until the client
    # closes; answer like starttls_ok so a client without a cap still ends.
    command_loop(c, starttls=starttls_real, offer_starttls=True, ehlo=ehlo)


def mode_bare_lf(c):
    c.eol = b"\n"
    c.reply("220-%s" % NAME, "220 %s ESMTP" % NAME)
    command_loop(c, starttls=starttls_real, offer_starttls=True, lower=True)


def mode_rate_limit_after_2(c):
    n = c.server.next_count("rate_limit_after_2")
    if n > 2:
        c.reply("421 4.7.0 Too many connections")
        c.close_gracefully()
    mode_starttls_ok(c)


def mode_rate_limit_after_3(c):
    """Three connections are served (a basic check and its injection probe, then one more), every later
    one gets 421 until a connection to rate_limit_reset starts the count again."""
    n = c.server.next_count("rate_limit_after_3")
    if n > 3:
        c.reply("421 4.7.0 Too many connections")
        c.close_gracefully()
    mode_starttls_ok(c)


def mode_count_concurrent(c):
    """A correct server that greets after 0.3 s and logs `!concurrent N`, N connections open at once.
    A connection stops counting when QUIT arrives, before the 221: the client frees its slot only after
    it, so a client that keeps a limit is never seen above it."""
    n = c.server.enter("count_concurrent")
    left = [False]

    def leave():
        if not left[0]:
            left[0] = True
            c.server.leave("count_concurrent")

    c.on_quit = leave
    try:
        c.mark("concurrent %d" % n)
        time.sleep(0.3)
        mode_starttls_ok(c)
    finally:
        leave()


def mode_rate_limit_reset(c):
    c.server.reset_count("rate_limit_after_3")
    c.reply("221 2.0.0 rate_limit_after_3 count reset")
    c.close_gracefully()


# GnuTLS answers an SSLv3, TLS 1.0 or TLS 1.1 hello it refuses with a fatal protocol_version alert in a
# record marked 0xFEFD (DTLS 1.2); TLS 1.2 and 1.3 hellos get a real handshake.
GNUTLS_VERSION_ALERT = bytes.fromhex("15fefd00020246")


def _peek_client_hello(c):
    """The client's first TLS record, peeked (left in the socket for the TLS stack); b'' if none came."""
    end = time.monotonic() + min(10.0, max(c.remaining(), 0.01))
    data = b""
    for _ in range(500):
        left = end - time.monotonic()
        if left <= 0:
            break
        c.raw.settimeout(left)
        try:
            data = c.raw.recv(16 * 1024 + 5, socket.MSG_PEEK)
        except socket.timeout:
            break
        if not data or (len(data) >= 5 and len(data) >= 5 + (data[3] << 8 | data[4])):
            break
        time.sleep(0.01)
    return data


def _highest_version_offered(record):
    """The highest version a ClientHello record offers: supported_versions, else client_version; 0 if unreadable."""
    body = record[9:]
    if len(record) < 5 or record[0] != 0x16 or len(body) < 35:
        return 0
    version = body[0] << 8 | body[1]
    try:
        i = 34
        i += 1 + body[i]                           # legacy_session_id
        i += 2 + (body[i] << 8 | body[i + 1])      # cipher_suites
        i += 1 + body[i]                           # compression_methods
        end = min(len(body), i + 2 + (body[i] << 8 | body[i + 1]))
        i += 2
        while i + 4 <= end:
            kind, length = body[i] << 8 | body[i + 1], body[i + 2] << 8 | body[i + 3]
            data = body[i + 4:i + 4 + length]
            if kind == 43 and data:                # supported_versions
                listed = [data[j] << 8 | data[j + 1] for j in range(1, min(len(data) - 1, 1 + data[0]), 2)]
                known = [v for v in listed if 0x0300 <= v <= 0x0304]
                if known:
                    version = max(known)
            i += 4 + length
    except IndexError:
        pass
    return version


def mode_gnutls_version_alert(c):
    greet(c)

    def starttls(c):
        c.reply("220 2.0.0 Ready to start TLS")
        c.log_buffered_lines()
        if _highest_version_offered(_peek_client_hello(c)) >= 0x0303:
            c.start_tls()
            return
        _read_client_hello(c)
        c.send(GNUTLS_VERSION_ALERT)
        c.close_gracefully()
    command_loop(c, starttls=starttls, offer_starttls=True)


HANDLERS = {name: globals()["mode_" + name] for name in MODES}


# --------------------------------------------------------------------------
# server

class Server:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.cmdlog = CommandLog(args.log)
        self._counts = {}
        self._open = {}
        self._count_lock = threading.Lock()
        self.tmpdir = None
        self.tls_ctx = self._make_tls_context(args.pki)
        self.listeners = {}

    def enter(self, key):
        with self._count_lock:
            self._open[key] = self._open.get(key, 0) + 1
            return self._open[key]

    def leave(self, key):
        with self._count_lock:
            self._open[key] = self._open.get(key, 1) - 1

    def reset_count(self, key):
        with self._count_lock:
            self._counts[key] = 0

    def next_count(self, key):
        with self._count_lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def _make_tls_context(self, pki):
        if pki:
            key = os.path.join(pki, "valid.key")
            chain = os.path.join(pki, "valid.fullchain.pem")
        else:
            self.tmpdir = tempfile.mkdtemp(prefix="oddsmtp-pki-")
            key = os.path.join(self.tmpdir, "valid.key")
            chain = os.path.join(self.tmpdir, "valid.fullchain.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec",
                 "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", chain, "-days", "2",
                 "-subj", "/CN=" + NAME,
                 "-addext", "subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1" % NAME],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=30)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(chain, key)
        return ctx

    def listen_all(self):
        for mode in MODES:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, 0))
            s.listen(128)
            s.setblocking(False)
            self.listeners[mode] = s

    def write_state(self):
        state = {mode: s.getsockname()[1] for mode, s in self.listeners.items()}
        path = os.path.abspath(self.args.state)
        fd, tmp = tempfile.mkstemp(prefix=".oddsmtp-state-", dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(state, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def serve(self):
        sel = selectors.DefaultSelector()
        for mode, s in self.listeners.items():
            sel.register(s, selectors.EVENT_READ, mode)
        try:
            while not self.stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    try:
                        sock, addr = key.fileobj.accept()
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError as e:
                        errline("accept on %s: %s" % (key.data, e))
                        continue
                    t = threading.Thread(target=self.handle, args=(key.data, sock, addr),
                                         name="%s-%s" % (key.data, addr[1]), daemon=True)
                    t.start()
        finally:
            sel.close()
            for s in self.listeners.values():
                s.close()

    def handle(self, mode, sock, addr):
        c = Conn(self, mode, sock, addr)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c._timeout()
            HANDLERS[mode](c)
        except Closed:
            pass
        except LineTooLong as e:
            errline("%s %s:%d: %s" % (mode, addr[0], addr[1], e))
            try:
                c.reply("500 5.5.2 Error: line too long")
                c.close_gracefully()
            except Exception:
                pass
        except Exception as e:  # never let a connection take the server down
            msg = str(e).replace("\n", " ")
            errline("%s %s:%d: %s: %s" % (mode, addr[0], addr[1], type(e).__name__, msg))
        finally:
            c.close()

    def cleanup(self):
        self.cmdlog.close()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="scripted misbehaving SMTP server for mxcheck tests")
    ap.add_argument("--state", required=True, help="JSON file to write {mode: port} to once listening")
    ap.add_argument("--log", required=True, help="file to append MODE<TAB>line for every client line")
    ap.add_argument("--pki", help="directory with valid.key and valid.fullchain.pem")
    args = ap.parse_args(argv)

    server = Server(args)

    def on_signal(signum, frame):
        server.stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        server.listen_all()
        server.write_state()
        server.serve()
    finally:
        server.cleanup()
    return 0


# --------------------------------------------------------------------------
# hostile_text, hostile_refusal: servers whose text attacks the terminal that shows it (mxcheck's
# HostileOutputTests): an OSC window title, a clear-screen, a bidi override and bytes that are not
# UTF-8, in the banner, the EHLO lines, the replies and (hostile_text) the certificate's subject and
# names. Added after the modes above, so appended to MODES and HANDLERS here.

HOSTILE = b"\x1b]0;pwned\x07\x1b[2J\xe2\x80\xae\xff\xfe"
_hostile_ctx = None
_hostile_lock = threading.Lock()


def hostile_tls_context(server):
    """A certificate whose subject and SAN carry control and bidi characters, made once, beside STATE.json."""
    global _hostile_ctx
    with _hostile_lock:
        if _hostile_ctx is None:
            d = os.path.join(os.path.dirname(os.path.abspath(server.args.state)), "hostile-cert")
            os.makedirs(d, exist_ok=True)
            key, cert = os.path.join(d, "hostile.key"), os.path.join(d, "hostile.pem")
            subprocess.run(
                [b"openssl", b"req", b"-x509", b"-newkey", b"ec", b"-pkeyopt", b"ec_paramgen_curve:prime256v1",
                 b"-nodes", b"-keyout", os.fsencode(key), b"-out", os.fsencode(cert), b"-days", b"2", b"-utf8",
                 b"-subj", b"/O=evil\x1b]0;pwned\x07/CN=mx\xe2\x80\xae.lab.example",
                 b"-addext", b"subjectAltName=DNS:mx.lab.example,DNS:x\x1b[2J.lab.example,IP:127.0.0.1"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            _hostile_ctx = ctx
        return _hostile_ctx


def hostile_reply(c, code, lines):
    c.send(b"".join(b"%d-%s\r\n" % (code, l) for l in lines[:-1]) + b"%d %s\r\n" % (code, lines[-1]))


def mode_hostile_text(c):
    hostile_reply(c, 220, [b"mx.lab.example " + HOSTILE, b"mx.lab.example ESMTP \x1b[31mred\xe2\x80\xae"])
    while True:
        line = c.readline()
        if line is None:
            return
        verb = verb_of(line)
        if verb == b"EHLO":
            caps = [b"mx.lab.example greets " + HOSTILE, b"PIPELINING", b"X-\x1b]0;pwned\x07\xe2\x80\xae\xff"]
            if not c.tls:
                caps.append(b"STARTTLS")
            hostile_reply(c, 250, caps + [b"8BITMIME"])
        elif verb == b"STARTTLS" and not c.tls:
            c.send(b"220 2.0.0 Ready \x1b[2J\r\n")
            c.log_buffered_lines()
            c._timeout(HANDSHAKE_TIMEOUT)
            c.sock = hostile_tls_context(c.server).wrap_socket(c.raw, server_side=True)
            c.tls = True
        elif verb == b"QUIT":
            c.send(b"221 2.0.0 Bye \x1b]0;pwned\x07\r\n")
            c.close_gracefully()
        elif verb == b"NOOP":
            c.send(b"250 2.0.0 Ok \xe2\x80\xae\xff\r\n")
        else:
            c.send(b"502 5.5.2 \x1b[2J not recognized\r\n")


def mode_hostile_refusal(c):
    hostile_reply(c, 220, [b"mx.lab.example " + HOSTILE, b"mx.lab.example ESMTP"])
    while True:
        line = c.readline()
        if line is None:
            return
        if verb_of(line) == b"QUIT":
            c.send(b"221 2.0.0 Bye\r\n")
            c.close_gracefully()
        c.send(b"550 5.7.1 go away " + HOSTILE + b"\r\n")


for _mode in ("hostile_text", "hostile_refusal"):
    MODES.append(_mode)
    HANDLERS[_mode] = globals()["mode_" + _mode]


# --------------------------------------------------------------------------
# requiretls_tls, requiretls_plain_only: REQUIRETLS (RFC 8689) in the EHLO reply inside TLS only, or before
# TLS only (mxcheck's MTASTSCommandTests: only the reply inside TLS counts). Appended to MODES and HANDLERS.

def requiretls_loop(c, inside):
    greet(c)
    while True:
        line = c.readline()
        if line is None:
            return
        verb = verb_of(line)
        if verb == b"EHLO":
            lines = ehlo_lines(c, True)
            if c.tls == inside:
                lines = lines[:-1] + ["250-REQUIRETLS", lines[-1]]
            c.reply(*lines)
        elif verb == b"STARTTLS" and not c.tls:
            starttls_real(c)
        elif verb == b"QUIT":
            c.reply("221 2.0.0 Bye")
            c.close_gracefully()
        elif verb in (b"NOOP", b"RSET"):
            c.reply("250 2.0.0 Ok")
        else:
            c.reply("502 5.5.2 Error: command not recognized")


def mode_requiretls_tls(c):
    requiretls_loop(c, True)


def mode_requiretls_plain_only(c):
    requiretls_loop(c, False)


for _mode in ("requiretls_tls", "requiretls_plain_only"):
    MODES.append(_mode)
    HANDLERS[_mode] = globals()["mode_" + _mode]


if __name__ == "__main__":
    sys.exit(main())
