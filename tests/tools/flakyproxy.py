#!/usr/bin/python3
"""flakyproxy — a loopback TCP proxy that cuts every connection now and then.

    flakyproxy.py --listen 127.0.0.1:0 --target 127.0.0.1:PORT \\
                  [--cut-min 0.5] [--cut-max 2] [--seed N] [--max-time 300] [-v]

Forwards bytes both ways between each accepted connection and a new
connection to --target. Every uniformly random --cut-min..--cut-max seconds
it closes every open connection abruptly on both sides (SO_LINGER 0, so
the peers see a reset, not an orderly FIN, and whatever the proxy still held
in its buffers is lost), and goes on accepting new connections.

The first line on stdout is the port it listens on (the real one when
--listen asks for port 0). It exits by itself after --max-time seconds, or on
SIGTERM/SIGINT, and then prints one more stdout line:

    cuts=N ticks=N connections=N aborted=N bytes_up=N bytes_down=N dropped=N

cuts: the cut times at which at least one connection was open (and closed);
ticks: every cut time; connections: accepted in all; aborted: connections
closed by a cut; bytes_up: client to target; bytes_down: target to client
(both as read by the proxy); dropped: bytes read but still in the proxy's
write buffers when a cut discarded them (data caught in flight; what sat in
the kernel's socket buffers is lost too but not counted).
-v logs each cut on stderr.

Loopback only: --listen and --target must be 127.0.0.0/8, ::1 or localhost.
For the tests (tests/integration/25-flaky-proxy.sh): /usr/bin/python3,
standard library only.
"""
import argparse
import asyncio
import ipaddress
import random
import signal
import socket
import struct
import sys


def loopback_addr(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError("%r: want HOST:PORT" % text)
    host = host.strip("[]")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise argparse.ArgumentTypeError("%r: HOST must be an IP address or localhost" % text)
    if not ip.is_loopback:
        raise argparse.ArgumentTypeError("%r: loopback addresses only" % text)
    return host, int(port)


def positive(text):
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError("%r: must be > 0" % text)
    return v


class Stats:
    cuts = ticks = connections = aborted = up = down = dropped = 0


def hard_close(transport):
    """Close at once with a reset: SO_LINGER {on, 0 s}, then abort."""
    if transport is None:
        return
    Stats.dropped += transport.get_write_buffer_size()
    if transport.is_closing():
        transport.abort()
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


class Half(asyncio.Protocol):
    """One side of a proxied connection; writes what it reads to its peer,
    pausing its own reading while the peer's write buffer is full."""

    def __init__(self, pair, up):
        self.pair = pair
        self.up = up		# True: this side is the accepted client
        self.transport = None
        self.peer = None	# the other Half, once both are connected
        self.pending = []	# read before the peer existed (client side only)

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.up:
            Stats.up += len(data)
        else:
            Stats.down += len(data)
        if self.peer is None or self.peer.transport is None:
            self.pending.append(data)
            self.transport.pause_reading()
            return
        self.peer.transport.write(data)

    def eof_received(self):
        # Pass a half-close on; keep the other direction open.
        if self.peer is not None and self.peer.transport is not None and self.peer.transport.can_write_eof():
            try:
                self.peer.transport.write_eof()
            except OSError:
                pass
        return True

    def pause_writing(self):
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self):
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc):
        self.pair.lost()


class Pair:
    def __init__(self, proxy):
        self.proxy = proxy
        self.client = Half(self, True)
        self.target = None
        self.closed = False

    def lost(self):
        # One side went away: the other goes too (an abort, like a cut,
        # since the proxy cannot know what the peer still expected).
        if self.closed:
            return
        self.closed = True
        self.proxy.pairs.discard(self)
        hard_close(self.client.transport)
        if self.target is not None:
            hard_close(self.target.transport)

    def cut(self):
        if self.closed:
            return
        self.closed = True
        self.proxy.pairs.discard(self)
        hard_close(self.client.transport)
        if self.target is not None:
            hard_close(self.target.transport)

    async def connect(self, loop, target):
        try:
            _, half = await loop.create_connection(lambda: Half(self, False), target[0], target[1])
        except OSError as e:
            if self.proxy.verbose:
                print("flakyproxy: cannot connect to %s:%d: %s" % (target + (e,)), file=sys.stderr, flush=True)
            self.lost()
            return
        if self.closed:		# cut (or the client left) while connecting
            hard_close(half.transport)
            return
        self.target = half
        half.peer = self.client
        self.client.peer = half
        for data in self.client.pending:
            half.transport.write(data)
        self.client.pending = []
        self.client.transport.resume_reading()


class Proxy:
    def __init__(self, args):
        self.args = args
        self.verbose = args.verbose
        self.pairs = set()
        self.rng = random.Random(args.seed)

    def accepted(self):
        Stats.connections += 1
        pair = Pair(self)
        self.pairs.add(pair)
        loop = asyncio.get_running_loop()
        loop.create_task(pair.connect(loop, self.args.target))
        return pair.client

    async def cutter(self):
        while True:
            await asyncio.sleep(self.rng.uniform(self.args.cut_min, self.args.cut_max))
            Stats.ticks += 1
            victims = list(self.pairs)
            if victims:
                Stats.cuts += 1
                Stats.aborted += len(victims)
            for p in victims:
                p.cut()
            if self.verbose:
                print("flakyproxy: cut %d connection(s)" % len(victims), file=sys.stderr, flush=True)

    async def run(self):
        loop = asyncio.get_running_loop()
        host, port = self.args.listen
        server = await loop.create_server(self.accepted, host, port, reuse_address=True)
        print(server.sockets[0].getsockname()[1], flush=True)
        done = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, done.set)
        cutter = loop.create_task(self.cutter())
        try:
            await asyncio.wait_for(done.wait(), self.args.max_time)
        except asyncio.TimeoutError:
            if self.verbose:
                print("flakyproxy: --max-time %gs reached" % self.args.max_time, file=sys.stderr, flush=True)
        cutter.cancel()
        server.close()
        for p in list(self.pairs):
            p.cut()
        print("cuts=%d ticks=%d connections=%d aborted=%d bytes_up=%d bytes_down=%d dropped=%d"
              % (Stats.cuts, Stats.ticks, Stats.connections, Stats.aborted, Stats.up, Stats.down, Stats.dropped),
              flush=True)


def main():
    ap = argparse.ArgumentParser(description="loopback TCP proxy that cuts every connection every cut-min..cut-max s")
    ap.add_argument("--listen", type=loopback_addr, required=True, help="HOST:PORT to listen on (port 0: any free)")
    ap.add_argument("--target", type=loopback_addr, required=True, help="HOST:PORT to forward to")
    ap.add_argument("--cut-min", type=positive, default=0.5, help="shortest time between cuts, s (default 0.5)")
    ap.add_argument("--cut-max", type=positive, default=2.0, help="longest time between cuts, s (default 2)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: from the OS)")
    ap.add_argument("--max-time", type=positive, default=300.0, help="exit by itself after this many s (default 300)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log each cut on stderr")
    args = ap.parse_args()
    if args.cut_max < args.cut_min:
        ap.error("--cut-max is less than --cut-min")
    try:
        asyncio.run(Proxy(args).run())
    except OSError as e:
        print("flakyproxy: %s" % e, file=sys.stderr)
        return 69
    return 0


if __name__ == "__main__":
    sys.exit(main())
