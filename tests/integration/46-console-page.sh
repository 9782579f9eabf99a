#!/usr/bin/env bash
# The console page in a real browser (headless Debian chromium over the
# DevTools protocol, tests/integration/cdp.py) against a real wsbridge-serve:
# it loads at http://127.0.0.1:PORT/ and http://localhost:PORT/ and connects
# (its own origin), shows what wsbridge-pub publishes newest first with a
# one-line payload that expands on click, the /health figures and the ping
# round trip; pause, clear and the row cap; ?type= from its address opens it
# filtered, and changing the filter rewrites the address; the jq filter box
# applies ?filter= (and shows the broker's refusal). Without chromium
# this fails and says so; it never skips.
. "$(dirname "$0")/../lib.sh"
export T WSB_TESTS
pyrun 150 - <<'PY'
import re
from cdp import *


async def main():
    async with Serve("--history", "2000") as srv, Browser() as b:
        if not check("the page loads at http://127.0.0.1:PORT/", await b.goto(srv.http + "/")):
            return		# the rest would only wait out its bounds
        check("it connects to the broker", await b.wait_state("open"), await b.state())
        check("the jq filter box is shown (/ lists the \"filter\" feature)", not await b.eval(Q + "('#filter-box').hidden"))
        check("no publish box without --console-publish", await b.eval(Q + "('#pub-form').hidden"))

        msgs = [{"type": "order", "data": {"id": i}} for i in (1, 2, 3)] + \
               [{"type": "tick", "data": {"px": 100 + i}} for i in (1, 2, 3)]
        check("wsbridge-pub publishes 6 messages", await srv.publish(msgs))
        got = await b.wait_rows("rows.length == 6 && rows")
        check("the page shows the 6 messages", got, await b.rows())
        got = got or []
        check("newest first", [r[1] for r in got] == [6, 5, 4, 3, 2, 1], got)
        check("type and a compact one-line payload", got and got[0][0] == "tick" and got[0][2] == '{"px":103}'
              and got[-1][2] == '{"id":1}', got)

        await b.eval(Q + "('#rows tr.msg').click()")
        detail = await b.wait("(d => d && d.textContent)(" + Q + "('#rows tr.detail'))")
        check("a click expands the whole message as indented JSON",
              detail and json.loads(detail).get("seq") == 6 and '\n  "type": "tick"' in detail, detail)
        await b.eval(Q + "('#rows tr.msg').click()")
        check("a second click folds it", await b.wait("!" + Q + "('#rows tr.detail')"))

        check("the /health figures appear (messages in, subscribers, seq)", await b.wait(
            Q + "('#st-messages_in').textContent === '6' && " + Q + "('#st-subscribers').textContent === '1' && " +
            Q + "('#st-seq').textContent === '6' && " + Q + "('#st-status').textContent === 'healthy'", 10),
            await b.eval(Q + "('.stats').innerText"))
        check("the ping round trip appears", await b.wait("/^rtt [0-9.]+ ms$/.test(" + Q + "('#rtt').textContent)"),
              await b.eval(Q + "('#rtt').textContent"))

        await b.eval(Q + "('#pause').click()")
        await srv.publish([{"type": "order", "data": {"id": 4}}, {"type": "order", "data": {"id": 5}}])
        check("paused: new messages wait, counted, out of the table",
              await b.wait("/paused, 2 waiting/.test(" + Q + "('#count').textContent)") and len(await b.rows()) == 6)
        check("the health figures go on while paused", await b.wait(Q + "('#st-messages_in').textContent === '8'", 10))
        await b.eval(Q + "('#pause').click()")
        check("resume shows them", await b.wait_rows("rows.length == 8 && rows[0][1] == 8"), await b.rows())
        await b.eval(Q + "('#clear').click()")
        check("clear empties the table", await b.wait_rows("rows.length == 0"))

        await srv.publish([{"type": "big", "data": "z" * 200000}])
        got = await b.wait_rows("rows[0] && rows[0][0] === 'big' && rows")
        check("a big message's line is cut", got and len(got[0][2]) == 401 and got[0][2].endswith("z…"),
              got and len(got[0][2]))
        await b.eval(Q + "('#rows tr.msg').click()")
        detail = await b.wait("(d => d && d.textContent)(" + Q + "('#rows tr.detail'))")
        check("and its detail is its first 64 KiB, saying so", detail and len(detail) < 65700 and
              re.search(r"z…\n\(200,\d{3} characters; the console keeps the first 65536\)$", detail),
              detail and detail[-80:])
        await b.eval(Q + "('#clear').click()")

        await srv.publish([{"type": "bulk", "data": {"n": i}} for i in range(600)])
        check("600 messages: the newest arrives", await b.wait_rows("rows.length && rows[0][1] == 609", 30),
              (await b.rows() or [None])[:1])
        check("and the table is capped at 500 rows", len(await b.rows()) == 500, len(await b.rows()))

        # A shared link opens filtered; localhost is the broker's own origin too.
        url = "http://localhost:%d/?type=order" % srv.port
        check("the page loads at http://localhost:PORT/?type=order", await b.goto(url))
        check("and connects from that origin", await b.wait_state("open"), await b.state())
        check("the filter box shows the URL's type", await b.eval(Q + "('#types').value") == "order")
        await srv.publish([{"type": "tick", "data": {"px": 1}}, {"type": "order", "data": {"id": 99}}])
        got = await b.wait_rows("rows.some(r => r[2] == '{\"id\":99}') && rows")
        check("/?type=order shows orders", got, await b.rows())
        check("and not ticks", got and all(r[0] == "order" for r in got), got)

        await b.eval(Q + "('#types').value = 'tick*, fill'; " + Q + "('#filter-form').requestSubmit()")
        check("changing the filter rewrites the address (a link to share)",
              await b.wait("location.search === '?type=tick*&type=fill'"), await b.eval("location.search"))
        check("and reconnects", await b.wait_state("open"))
        await srv.publish([{"type": "order", "data": {"id": 100}}, {"type": "tickets", "data": {"id": 101}}])
        got = await b.wait_rows("rows.some(r => r[0] == 'tickets') && rows")
        check("the new filter applies, from where the page was (no replay)",
              got and got[0][0] == "tickets" and not any(r[2] == '{"id":100}' for r in got), got)

        # The jq filter box: ?filter= for the WebSocket, and in the page's address.
        await b.eval(Q + "('#filter').value = '.data.id > 200'; " + Q + "('#filter-form').requestSubmit()")
        check("a jq filter goes into the address",
              await b.wait("new URLSearchParams(location.search).get('filter') === '.data.id > 200'"),
              await b.eval("location.search"))
        check("and reconnects with it", await b.wait_state("open"))
        await srv.publish([{"type": "tickets", "data": {"id": 150}}, {"type": "tickets", "data": {"id": 250}}])
        got = await b.wait_rows("rows.some(r => r[2] == '{\"id\":250}') && rows")
        check("the broker filters: only what the jq filter passes", got and not any(r[2] == '{"id":150}' for r in got),
              got)
        url = "http://127.0.0.1:%d/?type=order&filter=.data.id%%20%%3D%%3D%%203" % srv.port
        check("a link with ?filter= opens filtered", await b.goto(url) and await b.wait_state("open"))
        check("the filter box shows the link's filter", await b.eval(Q + "('#filter').value") == ".data.id == 3")
        await srv.publish([{"type": "order", "data": {"id": i}} for i in (2, 3, 4)])
        got = await b.wait_rows("rows.some(r => r[2] == '{\"id\":3}') && rows")
        check("and shows what it passes", got and all(r[2] == '{"id":3}' for r in got), got)
        await b.eval(Q + "('#filter').value = '.data.id >'; " + Q + "('#filter-form').requestSubmit()")
        check("a filter that does not compile: the broker's message is shown",
              await b.wait("/jq filter: .*syntax error/.test(" + Q + "('#notice').textContent)"),
              await b.eval(Q + "('#notice').textContent"))
        check("and the page stops (closed 1008), not reconnecting", await b.wait(
              "/closed 1008/.test(" + Q + "('#state-text').textContent)"), await b.eval(Q + "('#state-text').textContent"))

        # docs/protocol.md's ten-line dashboard, as written there, on the broker's origin.
        doc = open(os.environ["WSB_TESTS"] + "/../docs/protocol.md").read()
        html = re.search(r"## A dashboard on wsbridge.js.*?```html\n(.*?)```", doc, re.S).group(1)
        check("the dashboard in docs/protocol.md is ten lines", len(html.strip().split("\n")) <= 12, html)
        await b.goto(srv.http + "/console")
        await b.eval("document.open(); document.write(%s); document.close()" % json.dumps(html))
        check("it connects", await b.wait("document.title === 'orders'"), await b.eval("document.title"))
        await srv.publish([{"type": "tick", "data": 1}, {"type": "order", "data": {"id": 7}},
                           {"type": "fill", "data": {"id": 7}}])
        rows = await b.wait("(r => r.length == 2 && r)([...document.querySelectorAll('#orders tr')]"
                            ".map(t => t.textContent))")
        check("and shows orders and fills, newest first, not ticks", rows and rows[0].endswith('fill{"id":7}') and
              rows[1].endswith('order{"id":7}'), rows)

        await b.screenshot(os.environ["T"] + "/page.png")
        with open(os.environ["T"] + "/page.png", "rb") as f:
            check("a screenshot of the page is a PNG", f.read(8) == b"\x89PNG\r\n\x1a\n")
run(main)
PY
finish
