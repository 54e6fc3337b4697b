#!/usr/bin/env python3
"""slowsmtp.py: SMTP listeners that greet after a delay, for the run engine's tests and benchmarks.

Usage: slowsmtp.py --address ADDR (--count N | --ports P,P,...) --delay SECONDS [--code 220|421] [--log FILE]

Binds ADDR on N free ports (or the given ports), prints {"ports": [...]} on stdout, then serves until
killed. Each connection waits `delay` seconds, then greets: `421` closes at once; `220` answers EHLO
without STARTTLS, anything else with 250, QUIT with 221. The log counts connections ("connections N").
Bind ADDR to 127.0.0.1 (or, inside a network namespace of its own, 0.0.0.0): loopback only.
"""
import argparse
import asyncio
import json
import socket
import sys


class Counter:
    def __init__(self, path):
        self.path, self.connections = path, 0

    def add(self):
        self.connections += 1
        if self.path:
            with open(self.path, "w") as handle:
                handle.write("connections %d\n" % self.connections)


async def session(reader, writer, delay, code, counter):
    counter.add()
    try:
        await asyncio.sleep(delay)
        if code == 421:
            writer.write(b"421 4.3.2 slow.lab.example busy, try later\r\n")
            await writer.drain()
            return
        writer.write(b"220 slow.lab.example ESMTP\r\n")
        await writer.drain()
        for _ in range(20):
            line = await asyncio.wait_for(reader.readline(), 30)
            if not line:
                return
            verb = line.strip().split(b" ")[0].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-slow.lab.example\r\n250 PIPELINING\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 5.5.2 not here\r\n")
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--ports", default="")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--code", type=int, choices=(220, 421), default=220)
    parser.add_argument("--log", default="")
    args = parser.parse_args()
    counter = Counter(args.log)
    wanted = [int(p) for p in args.ports.split(",") if p] or [0] * args.count
    servers, ports = [], []
    for port in wanted:
        server = await asyncio.start_server(
            lambda r, w: session(r, w, args.delay, args.code, counter), args.address, port, backlog=4096,
            family=socket.AF_INET)
        servers.append(server)
        ports.append(server.sockets[0].getsockname()[1])
    print(json.dumps({"ports": ports}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
