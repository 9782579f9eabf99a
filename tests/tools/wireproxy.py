# wireproxy.py — a TCP proxy that counts what crosses it, for the
# compression tests (135, 136) and anyone who wants bytes on the wire.
#
#   wireproxy.py --target HOST:PORT --stats FILE
#
# Listens on 127.0.0.1 (a free port, printed as the first line of stdout)
# and forwards every connection to the target untouched. Each direction's
# bytes are counted, and after its HTTP head (the upgrade request, the 101)
# its WebSocket frames are followed: data frames, and of those how many had
# RSV1 (compressed, RFC 7692). FILE holds the totals as one JSON object,
# {"up": {...}, "down": {...}, "open": N} (up: client to server), each with
# bytes, frames (data frames) and rsv1, and how many connections are open,
# rewritten at most every 50 ms and whenever a connection ends: once "open"
# is back to 0 after a client has gone, its counts are final.
import argparse, asyncio, json, os, struct, time

stats = {"up": {"bytes": 0, "frames": 0, "rsv1": 0}, "down": {"bytes": 0, "frames": 0, "rsv1": 0}, "open": 0}
last = 0.0


def dump(force=False):
    global last
    if force or time.monotonic() - last > 0.05:
        last = time.monotonic()
        with open(args.stats + ".tmp", "w") as f:
            json.dump(stats, f)
        os.replace(args.stats + ".tmp", args.stats)


class Follow:
    """One direction's frames, after its HTTP head."""
    def __init__(self, st):
        self.st, self.buf, self.head = st, b"", True

    def feed(self, d):
        self.st["bytes"] += len(d)
        self.buf += d
        if self.head:
            if b"\r\n\r\n" not in self.buf:
                return
            self.buf, self.head = self.buf.split(b"\r\n\r\n", 1)[1], False
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, h = b1 & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, h = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, h = struct.unpack(">Q", self.buf[2:10])[0], 10
            h += 4 if b1 & 0x80 else 0
            if len(self.buf) < h + n:
                return
            if not b0 & 8:
                self.st["frames"] += 1
                self.st["rsv1"] += 1 if b0 & 0x40 else 0
            self.buf = self.buf[h + n:]


async def pipe(r, w, follow):
    try:
        while True:
            d = await r.read(1 << 16)
            if not d:
                break
            follow.feed(d)
            w.write(d)
            await w.drain()
            dump()
    except (ConnectionError, OSError):
        pass
    finally:
        w.close()
        dump(True)


async def handle(cr, cw):
    host, port = args.target.rsplit(":", 1)
    try:
        sr, sw = await asyncio.open_connection(host, int(port))
    except OSError:
        cw.close()
        return
    stats["open"] += 1
    await asyncio.gather(pipe(cr, sw, Follow(stats["up"])), pipe(sr, cw, Follow(stats["down"])))
    stats["open"] -= 1
    dump(True)


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    dump(True)
    print(srv.sockets[0].getsockname()[1], flush=True)
    async with srv:
        await srv.serve_forever()


p = argparse.ArgumentParser()
p.add_argument("--target", required=True)
p.add_argument("--stats", required=True)
args = p.parse_args()
asyncio.run(main())
