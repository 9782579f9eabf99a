"""Headless Chromium driven over the DevTools protocol, and wsbridge-serve and
wsbridge-pub run from Python, for the console tests (45-49).

Debian's chromium (scripts/install-deps.sh check installs it) is started with
--remote-debugging-port=0; the port it took is read from DevToolsActivePort
in its fresh profile, and its page target is driven with Runtime.evaluate
over websockets (10.4). Every wait polls the DOM with a bound, never sleeps;
every process is stopped by its PID.

    from cdp import *
    async def main():
        async with Serve() as srv, Browser() as b:
            await b.goto(srv.http + "/")
            check("connects", await b.wait("document.querySelector('#state').dataset.state == 'open'"))
    run(main)
"""
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import websockets

from wsclient import check, run  # noqa: F401  (re-exported for the tests)

__all__ = ["BIN", "Q", "Serve", "Browser", "check", "run", "poll", "os", "json", "signal"]

BIN = os.environ["WSB_BIN"]
Q = "document.querySelector"	# for the tests' JavaScript expressions
CHROMIUM = shutil.which("chromium")
_children = []		# what we started, each in its own process group


def _start(argv, **kw):
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
    _children.append(p)
    return p


def _kill(p):
    """SIGKILL the process group of a child we started (chromium's helpers
    are in it), then reap the child."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    if p in _children:
        _children.remove(p)


def _on_term(sig, frame):
    # `timeout` in tests/lib.sh's pyrun ends us with SIGTERM: take what we
    # started along, or a browser would outlive the test.
    for p in list(_children):
        _kill(p)
    os._exit(124)


signal.signal(signal.SIGTERM, _on_term)


async def poll(fn, secs=10, every=0.05):
    """fn() (a coroutine function) until it returns something true; that
    value, or None after secs."""
    deadline = time.monotonic() + secs
    while True:
        v = await fn()
        if v or time.monotonic() >= deadline:
            return v or None
        await asyncio.sleep(every)


class Serve:
    """wsbridge-serve on 127.0.0.1 (port 0 the first time, then the same
    port: restart() keeps the address, as a browser's reconnect needs)."""

    def __init__(self, *args, tmp=None):
        self.args = list(args)
        self.port = 0
        self.proc = None
        self.tmp = tmp or os.environ.get("T") or tempfile.mkdtemp(prefix="wsb-serve-")
        self.n = 0

    async def start(self, *args):
        self.n += 1
        err = os.path.join(self.tmp, "serve.%d.err" % self.n)
        self.proc = _start([BIN + "/wsbridge-serve", "--listen", "127.0.0.1:%d" % self.port] + self.args + list(args),
                           stdout=subprocess.DEVNULL, stderr=open(err, "w"))

        async def listening():
            with open(err) as f:
                m = re.search(r"listening on [^ ]*:(\d+)", f.read())
            return m and int(m.group(1))
        port = await poll(listening, 10)
        if not port:
            raise RuntimeError("wsbridge-serve did not start: " + open(err).read()[-500:])
        self.port = port
        self.http = "http://127.0.0.1:%d" % port
        self.ws = "ws://127.0.0.1:%d/ws" % port
        if not await poll(self._healthy, 10):
            raise RuntimeError("/health never answered")
        return self

    async def _healthy(self):
        return await asyncio.to_thread(self.get_json, "/health")

    def get_json(self, path, accept=None):
        """GET path as JSON, or None if the broker does not answer."""
        try:
            req = urllib.request.Request(self.http + path, headers={"Accept": accept} if accept else {})
            with urllib.request.urlopen(req, timeout=2) as r:
                return json.load(r)
        except Exception:
            return None

    async def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                await asyncio.to_thread(self.proc.wait, 10)
            except subprocess.TimeoutExpired:
                pass
        if self.proc:
            _kill(self.proc)
        self.proc = None

    async def restart(self, *args, sig=signal.SIGTERM):
        await self.stop(sig)
        return await self.start(*args)

    async def publish(self, lines, *args):
        """wsbridge-pub the lines (dicts or strings); True if it exits 0."""
        data = "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)

        def pub():
            p = subprocess.run([BIN + "/wsbridge-pub", "--url", self.ws, "--linger", "10"] + list(args),
                               input=data.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
            return p.returncode == 0 or print("wsbridge-pub: " + p.stderr.decode()[-300:])
        return await asyncio.to_thread(pub)

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.stop(signal.SIGKILL)


class Browser:
    """One headless Chromium with a fresh profile and its first tab."""

    async def __aenter__(self):
        if not CHROMIUM:
            raise RuntimeError("chromium is not installed: scripts/install-deps.sh check installs it")
        self.profile = tempfile.mkdtemp(prefix="wsb-chromium-")
        self.proc = _start(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--window-size=1280,800", "--user-data-dir=" + self.profile,
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = await poll(self._port, 30)
        if not port:
            raise RuntimeError("chromium gave no DevTools port in 30 s")

        async def page_target():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=2) as r:
                    return next((t["webSocketDebuggerUrl"] for t in json.load(r) if t["type"] == "page"), None)
            except Exception:
                return None
        target = await poll(page_target, 20)
        if not target:
            raise RuntimeError("chromium has no page target")
        self.cdp = await websockets.connect(target, max_size=None, ping_interval=None, open_timeout=10)
        self.id = 0
        await self.call("Page.enable")
        await self.call("Runtime.enable")
        return self

    async def _port(self):
        try:
            with open(os.path.join(self.profile, "DevToolsActivePort")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    async def __aexit__(self, *exc):
        try:
            await self.cdp.close()
        except Exception:
            pass
        _kill(self.proc)
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method, timeout=20, **params):
        """One DevTools command; its result (events in between are dropped)."""
        self.id += 1
        mine = self.id
        await self.cdp.send(json.dumps({"id": mine, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            m = json.loads(await asyncio.wait_for(self.cdp.recv(), max(0.1, deadline - time.monotonic())))
            if m.get("id") == mine:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m["result"]

    async def eval(self, expr):
        """The value of a JavaScript expression in the page (None on an exception)."""
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            return None
        return r["result"].get("value")

    async def wait(self, expr, secs=10):
        """Poll expr until it is truthy; its value, or None after secs."""
        return await poll(lambda: self.eval(expr), secs)

    async def goto(self, url, secs=15):
        """Navigate and wait until the new page's script has run (#state set;
        the page may rewrite its own address, so that is not compared)."""
        await self.eval("window.wsbOldPage = true")
        await self.call("Page.navigate", url=url)
        return await self.wait("!window.wsbOldPage && document.readyState === 'complete' && "
                               "document.querySelector('#state') && document.querySelector('#version').textContent", secs)

    async def screenshot(self, path):
        r = await self.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    # The console page's DOM, as the tests read it.
    async def state(self):
        return await self.eval("document.querySelector('#state').dataset.state")

    async def wait_state(self, state, secs=15):
        return await self.wait("document.querySelector('#state').dataset.state === %s" % json.dumps(state), secs)

    async def rows(self):
        """The message rows, newest first, as [type, seq]."""
        return await self.eval("[...document.querySelectorAll('#rows tr.msg')].map(r => [r.dataset.type, +r.dataset.seq])")

    async def wait_rows(self, pred_js, secs=15):
        """Until pred_js (an expression over `rows`, the [type, seq, data] list) holds."""
        return await self.wait("(rows => %s)([...document.querySelectorAll('#rows tr.msg')].map("
                               "r => [r.dataset.type, +r.dataset.seq, r.cells[3].textContent]))" % pred_js, secs)
