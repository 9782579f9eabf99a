#!/usr/bin/env bash
# The console page with --token (headless chromium, tests/integration/cdp.py):
# /?token= connects and the token leaves the address bar and the history at
# once; without one the page asks for it in a form and connects with what
# is typed; a wrong token is said to be refused, and the form comes back.
. "$(dirname "$0")/../lib.sh"
export T
pyrun 120 - <<'PY'
from cdp import *


async def main():
    async with Serve("--token", "s3cret-tok") as srv, Browser() as b:
        if not check("the page loads with ?token=", await b.goto(srv.http + "/?type=order&token=s3cret-tok")):
            return		# the rest would only wait out its bounds
        check("and connects with it", await b.wait_state("open"), await b.state())
        check("the token is gone from the address bar, the rest kept",
              await b.eval("location.href") == srv.http + "/?type=order", await b.eval("location.href"))
        check("and from the history entry", "s3cret" not in (await b.eval("document.URL")))
        await srv.publish([{"type": "order", "data": {"id": 1}}], "--token", "s3cret-tok")
        check("it shows messages", await b.wait_rows("rows.length == 1"))

        check("without a token the page loads", await b.goto(srv.http + "/"))
        check("and asks for one instead of connecting",
              await b.wait("!" + Q + "('#token-form').hidden") and await b.state() == "idle",
              await b.state())
        await b.eval(Q + "('#token').value = 'wrong'; " + Q + "('#token-form').requestSubmit()")
        check("a wrong token: refused, and it says so", await b.wait(
            "!" + Q + "('#notice').hidden && /wrong token/.test(" + Q + "('#notice').textContent) && !" +
            Q + "('#token-form').hidden", 20), await b.eval(Q + "('#notice').textContent"))
        check("it never connected", await b.state() != "open")
        await b.eval(Q + "('#token').value = 's3cret-tok'; " + Q + "('#token-form').requestSubmit()")
        check("the right token typed in the form connects", await b.wait_state("open"), await b.state())
        check("the notice goes", await b.wait(Q + "('#notice').hidden"))
        check("the typed token is not left in the form", await b.eval(Q + "('#token').value") == "")
        check("nor in the address", "s3cret" not in await b.eval("location.href"))
        check("it starts from now (no replay without since=)",
              await b.wait("document.querySelectorAll('#rows tr.msg').length == 0"))
run(main)
PY
finish
