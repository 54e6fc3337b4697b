#!/usr/bin/env python3
"""dnscount.py: a counting DNS forwarder on loopback, to see which questions a client asks.

Usage: dnscount.py --upstream 127.0.0.1:PORT --log FILE

Binds 127.0.0.1 on a free UDP port, prints {"port": N} on stdout, then serves until killed: each
query is passed to the upstream server (loopback only) and its answer back; LOG gets one line
"qname qtype" (lower case, absolute) per query as it arrives, flushed at once.
"""
import argparse
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slowdns import parse_question  # noqa: E402


def question(data):
    """(qname, qtype) of a query, or None; read by slowdns.py's parser."""
    parsed = parse_question(data)
    if parsed is None:
        return None
    _ident, _flags, labels, qtype, _end = parsed
    return ".".join(labels) + ".", qtype


class Upstream(asyncio.DatagramProtocol):
    def __init__(self, reply):
        self.reply = reply

    def datagram_received(self, data, _):
        self.reply(data)


class Forwarder(asyncio.DatagramProtocol):
    def __init__(self, upstream, log):
        self.upstream, self.log = upstream, log

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, client):
        asked = question(data)
        if asked:
            self.log.write("%s %d\n" % asked)
            self.log.flush()
        asyncio.get_running_loop().create_task(self.forward(data, client))

    async def forward(self, data, client):
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: Upstream(lambda reply: self.transport.sendto(reply, client)), remote_addr=self.upstream)
        transport.sendto(data)
        await asyncio.sleep(5)  # the answer comes well before; the socket is then closed
        transport.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    if not host.startswith("127."):
        sys.exit("dnscount.py: the upstream must be on loopback")
    log = open(args.log, "a")
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: Forwarder((host, int(port)), log), local_addr=("127.0.0.1", 0))
    print(json.dumps({"port": transport.get_extra_info("sockname")[1]}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
