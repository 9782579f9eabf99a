"""Small helpers for the integration tests' Python clients.

Run with Debian's /usr/bin/python3 ($PY in tests/lib.sh), which has
python3-websockets (10.4 API). A script reports each check as a line
"PASS name" or "FAIL name — why" on stdout; tests/lib.sh's py_checks turns
those lines into the suite's PASS/FAIL lines. Every wait here is bounded.

    from wsclient import *
    async def main(port):
        ws = await connect(url(port))
        hello = await recv_json(ws)
        check("greeting", hello.get("type") == "connection_established", hello)
    run(main)
"""
import asyncio
import json
import os
import sys

import websockets

_failed = 0


def check(name, ok, detail=""):
    """Print a PASS or FAIL line; returns ok."""
    global _failed
    if ok:
        print("PASS " + name, flush=True)
    else:
        _failed += 1
        print("FAIL %s — %s" % (name, detail), flush=True)
    return ok


def url(port, query="", path="/ws"):
    return "ws://127.0.0.1:%s%s%s" % (port, path, ("?" + query) if query else "")


async def connect(u, timeout=10, **kw):
    """websockets.connect with a bound on the opening handshake. Library-level
    pings are off so that only the server's behaviour is observed."""
    kw.setdefault("ping_interval", None)
    kw.setdefault("max_size", None)
    return await asyncio.wait_for(websockets.connect(u, open_timeout=timeout, **kw), timeout + 1)


async def recv_json(ws, timeout=10):
    """Next message as a dict (raises asyncio.TimeoutError when none comes)."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws, pred, timeout=10):
    """Messages until one satisfies pred; returns (that one, the ones before)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    skipped = []
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise asyncio.TimeoutError("no matching message in %ss; got %r" % (timeout, skipped[-5:]))
        m = await recv_json(ws, left)
        if pred(m):
            return m, skipped
        skipped.append(m)


async def hello(ws, timeout=10):
    """The connection_established greeting (the first message)."""
    return await recv_json(ws, timeout)


async def wait_closed(ws, timeout=10):
    """Read until the connection closes; returns (close code, reason, messages read).
    code is None when no close frame was received (e.g. connection reset)."""
    got = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError("connection not closed in %ss" % timeout)
            got.append(await asyncio.wait_for(ws.recv(), left))
    except websockets.exceptions.ConnectionClosed as e:
        rcvd = e.rcvd
        return (rcvd.code if rcvd else None), (rcvd.reason if rcvd else None), got


def touch(path):
    """Tell the shell something is ready (it polls for the file)."""
    with open(path, "w") as f:
        f.write("ready\n")


def run(main, *args):
    """Run main(*argv[1:]) and exit 1 if any check failed or it raised."""
    global _failed
    try:
        asyncio.run(main(*(args or sys.argv[1:])))
    except Exception as e:  # report, don't hide: the shell counts this as a failure
        check("python client ran to the end", False, "%s: %s" % (type(e).__name__, e))
    sys.stdout.flush()
    os._exit(1 if _failed else 0)
