#!/usr/bin/env python3
"""slowdns.py: a DNS server on loopback that answers every query after a delay.

Usage: slowdns.py --delay SECONDS --stats FILE [--zone slow.example]

Binds 127.0.0.1 on a free UDP port, prints {"port": N} on stdout, then serves until killed.
Names under the zone: A -> 127.0.0.1, AAAA -> no data; anything else NXDOMAIN. Each query is
answered `delay` seconds after it arrived, queries side by side, so a client that asks in parallel
gets all its answers after one delay. STATS gets "queries N\nmax_in_flight M\n" after each answer:
the most queries that were waiting at once shows whether the client asked in parallel.
"""
import argparse
import asyncio
import json
import struct
import sys


def parse_question(data):
    """(id, flags, qname labels lower-cased, qtype, end of question) or None."""
    if len(data) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", data[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    pos, labels = 12, []
    while pos < len(data) and len(labels) < 128:
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0 or pos + 1 + length > len(data):
            return None
        labels.append(data[pos + 1:pos + 1 + length].decode("ascii", "replace").lower())
        pos += 1 + length
    if pos + 4 > len(data):
        return None
    qtype, _qclass = struct.unpack("!HH", data[pos:pos + 4])
    return ident, flags, labels, qtype, pos + 4


def answer(data, zone):
    parsed = parse_question(data)
    if parsed is None:
        return None
    ident, flags, labels, qtype, end = parsed
    question = data[12:end]
    name = ".".join(labels)
    inside = name == zone or name.endswith("." + zone)
    rcode = 0 if inside else 3
    records = b""
    count = 0
    if inside and qtype == 1:
        records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
        count = 1
    reply_flags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode | 0x0400
    header = struct.pack("!HHHHHH", ident, reply_flags, 1, count, 0, 0)
    return header + question + records


class Server(asyncio.DatagramProtocol):
    def __init__(self, delay, stats, zone):
        self.delay, self.stats, self.zone = delay, stats, zone
        self.in_flight = self.maximum = self.queries = 0
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.queries += 1
        self.in_flight += 1
        self.maximum = max(self.maximum, self.in_flight)
        asyncio.get_running_loop().call_later(self.delay, self.reply, data, addr)

    def reply(self, data, addr):
        self.in_flight -= 1
        out = answer(data, self.zone)
        if out is not None:
            self.transport.sendto(out, addr)
        with open(self.stats, "w") as handle:
            handle.write("queries %d\nmax_in_flight %d\n" % (self.queries, self.maximum))


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--zone", default="slow.example")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Server(args.delay, args.stats, args.zone.lower().rstrip(".")), local_addr=("127.0.0.1", 0))
    print(json.dumps({"port": transport.get_extra_info("sockname")[1]}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
