#!/usr/bin/env bash
# The console page keeps its place (headless chromium, tests/integration/cdp.py):
# a page cut off while more than --history is published resumes with
# since/epoch and shows a gap marker for what the broker no longer holds,
# then the rest, nothing twice; after a kill -9 and restart without a
# journal it reconnects by itself and marks the new epoch; what its publish
# box took while the broker was down is sent after the reconnect; with
# --journal a restart resumes with no gap and no duplicate, including what
# was published while the page was away.
. "$(dirname "$0")/../lib.sh"
export T
pyrun 200 - <<'PY'
from cdp import *
ORDERS = lambda a, b: [{"type": "order", "data": {"id": i}} for i in range(a, b + 1)]
SEQS = "rows.map(r => r[1]).join()"


async def gaps(b):
    return await b.eval("[...document.querySelectorAll('#rows tr.gap')].map(r => r.dataset.reason)")


async def no_journal(b):
    async with Serve("--history", "5", "--console-publish") as srv:
        if not check("the page connects", await b.goto(srv.http + "/") and await b.wait_state("open")):
            return False	# the rest would only wait out its bounds
        await srv.publish(ORDERS(1, 3))
        check("it shows seq 1-3", await b.wait_rows(SEQS + " == '3,2,1'"), await b.rows())

        # Cut off (the page's own client, closed), 20 published: 4-18 leave the history of 5.
        await b.eval("wsbConsole.close()")
        check("the page is disconnected", await b.wait_state("closed"))
        await srv.publish(ORDERS(4, 23))
        await b.eval("wsbConsole.update({})")
        check("it resumes", await b.wait_state("open"))
        check("a gap marker for seq 4-18, evicted from history", await b.wait(
            "(g => g && g.dataset.reason === 'evicted' && /seq 4–18 /.test(g.textContent))(" + Q + "('#rows tr.gap'))"),
            await b.eval(Q + "('#rows').innerText"))
        check("then 19-23 above it, nothing twice", await b.wait_rows(SEQS + " == '23,22,21,20,19,3,2,1'"), await b.rows())
        check("the marker sits between 3 and 19", await b.eval(
            "(g => g.previousElementSibling.dataset.seq === '19' && g.nextElementSibling.dataset.seq === '3')(" +
            Q + "('#rows tr.gap'))"))

        await srv.stop(signal.SIGKILL)
        check("kill -9: the page sees the broker go", await b.wait_state("reconnecting"))
        await b.eval(Q + "('#pub-type').value = 'console.test'; " + Q + "('#pub-data').value = '{\"x\": 1}'; " +
                     Q + "('#pub-form').requestSubmit()")
        check("its publish box queues while disconnected",
              await b.wait(Q + "('#pub-result').textContent === 'queued until connected'"),
              await b.eval(Q + "('#pub-result').textContent"))
        await srv.start()
        check("restarted on the same port: the page reconnects by itself", await b.wait_state("open", 30))
        check("and marks the new epoch (history lost in the restart)",
              await b.wait("(g => g.length == 2 && g[0] === 'epoch')([...document.querySelectorAll('#rows tr.gap')]"
                           ".map(r => r.dataset.reason))"), await gaps(b))
        got = await b.wait_rows("rows[0] && rows[0][0] === 'console.test' && rows")
        check("the queued message went out after the reconnect (seq 1 of the new epoch)",
              got and got[0][1] == 1 and got[0][2] == '{"x":1}', (await b.rows())[:3])
        await srv.publish(ORDERS(24, 25))
        check("and what is published after the restart appears", await b.wait_rows("rows[0][1] == 3 && rows[1][1] == 2"),
              (await b.rows())[:3])


async def journal(b):
    async with Serve("--journal", os.environ["T"] + "/journal") as srv:
        check("journal: the page connects", await b.goto(srv.http + "/") and await b.wait_state("open"))
        await srv.publish(ORDERS(1, 3))
        check("journal: seq 1-3", await b.wait_rows(SEQS + " == '3,2,1'"), await b.rows())
        await srv.restart()
        await srv.publish(ORDERS(4, 5))
        check("journal: after a restart the page reconnects and shows 4-5, nothing twice",
              await b.wait_rows(SEQS + " == '5,4,3,2,1'", 30), await b.rows())

        await b.eval("wsbConsole.close()")
        check("journal: the page is disconnected", await b.wait_state("closed"))
        await srv.restart()
        await srv.publish(ORDERS(6, 7))
        await b.eval("wsbConsole.update({})")
        check("journal: it resumes across a restart with what was published meanwhile",
              await b.wait_rows(SEQS + " == '7,6,5,4,3,2,1'"), await b.rows())
        check("journal: no gap marker (the epoch survived)", await gaps(b) == [], await gaps(b))


async def main():
    async with Browser() as b:
        if await no_journal(b) is not False:
            await journal(b)
run(main)
PY
finish
