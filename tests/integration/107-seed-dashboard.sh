#!/usr/bin/env bash
# Issue 9: a dashboard page written exactly as the old systems wrote theirs
# (tests/integration/seed_dashboard.html: a bare WebSocket with ?token=,
# {"type":"ping"}, reconnect with exponential backoff) in headless chromium:
# it connects, gets the greeting, ping/pong, broadcasts, a get_state answer,
# reconnects after a broker restart; with a wrong token it sees close 1008
# "Invalid token" and stops, as the old servers made it.
. "$(dirname "$0")/../lib.sh"
export T
pyrun 150 - <<'PY'
import functools, http.server, threading
from cdp import *



def page_server():
    """The page from its own origin, as a dashboard is (an HTTP server thread)."""
    h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.environ["PYTHONPATH"])
    h.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


async def main():
    web = page_server()
    origin = "http://127.0.0.1:%d" % web.server_address[1]
    async with Serve("--token", "tok", "--allow-origin", origin) as srv, Browser() as b:
        page = origin + "/seed_dashboard.html?port=%d&token=" % srv.port
        await b.call("Page.navigate", url=page + "tok")
        check("the page connects", await b.wait("window.dash && dash.state() === 'connected'", 20),
              await b.eval("window.dash && dash.stats"))
        check("and gets the greeting", await b.wait("dash.stats.greetings === 1"))
        check("ping is answered with pong (latency measured)",
              await b.wait("dash.stats.latency !== null && dash.stats.latency >= 0"))
        await srv.publish([{"type": "tick", "data": {"symbol": "EURUSD", "bid": 1.085}},
                           {"type": "position_update", "data": {"symbol": "BTC/USDT", "status": "open"}}],
                          "--token", "tok")
        check("it shows broadcasts", await b.wait("dash.stats.types.tick === 1 && dash.stats.types.position_update === 1"),
              await b.eval("dash.stats.types"))
        check("no producer stamp reaches the page",
              await b.eval("[...document.querySelectorAll('#log li')].every(li => !/\"producer\"|\"pseq\"/.test(li.textContent))"))
        await b.eval("dash.send({type: 'get_state'})")
        check("get_state is answered with the current state",
              await b.wait("dash.stats.types.tick === 2 && dash.stats.types.position_update === 2"),
              await b.eval("dash.stats.types"))
        await b.eval("dash.send({type: 'order', data: {qty: 100}})")
        check("a page holding the token may not publish (FORBIDDEN, default with a token)",
              await b.wait("dash.stats.last_error && dash.stats.last_error.code === 'FORBIDDEN'"),
              await b.eval("dash.stats"))

        await srv.restart()
        check("it reconnects after a broker restart", await b.wait(
            "dash.stats.reconnections >= 1 && dash.state() === 'connected' && dash.stats.greetings === 2", 30),
            await b.eval("dash.stats"))
        await srv.publish([{"type": "tick", "data": {"symbol": "EURUSD", "bid": 1.086}}], "--token", "tok")
        check("and receives broadcasts again", await b.wait("dash.stats.types.tick >= 3"),
              await b.eval("dash.stats.types"))

        await b.call("Page.navigate", url=page + "wrong")
        check("a wrong token: close 1008 'Invalid token', seen by the page", await b.wait(
            "window.dash && dash.state() === 'error' && dash.stats.close_codes[0] === 1008 && "
            "dash.stats.close_reasons[0] === 'Invalid token'", 20), await b.eval("window.dash && dash.stats"))
        check("and it stops reconnecting", await b.eval("dash.stats.reconnections") == 0)
    web.shutdown()

run(main)
PY
finish
