#!/usr/bin/env python3
"""minclient.py: the least a client can do for mxcheck's basic check, as a benchmark's ceiling.

Usage: minclient.py --targets FILE --concurrency N --servername NAME

For each address:port line, two connections side by side, as mxcheck makes them: one says EHLO,
STARTTLS, completes a TLS handshake (no verification), EHLO again and QUIT; the other STARTTLS and
NOOP pipelined, the handshake and QUIT inside TLS. Prints "N endpoints in S s".
"""
import argparse
import concurrent.futures
import socket
import ssl
import time

CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CONTEXT.check_hostname = False
CONTEXT.verify_mode = ssl.CERT_NONE


def reply(stream):
    while True:
        line = stream.readline()
        if len(line) < 4 or line[3:4] != b"-":
            return line


def dialog(host, port, name, injection):
    with socket.create_connection((host, port), timeout=10) as raw:
        stream = raw.makefile("rb")
        reply(stream)
        raw.sendall(b"EHLO bench.example\r\n")
        reply(stream)
        raw.sendall(b"STARTTLS\r\nNOOP\r\n" if injection else b"STARTTLS\r\n")
        reply(stream)
        with CONTEXT.wrap_socket(raw, server_hostname=name) as tls:
            secure = tls.makefile("rb")
            if not injection:
                tls.sendall(b"EHLO bench.example\r\n")
                reply(secure)
            tls.sendall(b"QUIT\r\n")
            reply(secure)


def endpoint(line, name):
    host, _, port = line.rpartition(":")
    with concurrent.futures.ThreadPoolExecutor(2) as pair:
        for future in [pair.submit(dialog, host, int(port), name, flag) for flag in (False, True)]:
            future.result()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--servername", default="mx.lab.example")
    args = parser.parse_args()
    targets = [line.strip() for line in open(args.targets) if line.strip()]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(lambda line: endpoint(line, args.servername), targets))
    print("%d endpoints in %.2f s" % (len(targets), time.monotonic() - started))


if __name__ == "__main__":
    main()
