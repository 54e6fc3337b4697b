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
import struct
import sys


def question(data):
    """(qname, qtype) of a query, or None."""
    if len(data) < 12 or struct.unpack("!H", data[4:6])[0] != 1:
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
    return ".".join(labels) + ".", struct.unpack("!H", data[pos:pos + 2])[0]


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
