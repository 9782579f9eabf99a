#!/usr/bin/env bash
# --log-format json: lines about a connection carry it as fields (client,
# remote, code, reason; status for a refused upgrade), not only inside msg:
# a client that closes with 4000, one that sends too much (1009), one that
# vanishes without a close frame (1006), a refused token (401).
. "$(dirname "$0")/../lib.sh"

TOK=logf-secret-$$-q9
start_serve --log-format json -v --max-message 1k --token "$TOK" || { fail "serve starts"; finish; }
pyrun 30 - "$PORT" "$TOK" <<'PYEOF'
import socket
from wsclient import *

async def main(port, tok):
    ws = await connect(url(port, "token=" + tok))
    await recv_json(ws)
    await ws.close(4000, "bye now")
    ws = await connect(url(port, "token=" + tok))
    await recv_json(ws)
    await ws.send('{"type":"x","data":"' + "a" * 2000 + '"}')
    try:
        await asyncio.wait_for(ws.wait_closed(), 10)
    except asyncio.TimeoutError:
        pass
    check("the big message closes 1009", ws.close_code == 1009, ws.close_code)
    ws = await connect(url(port, "token=" + tok))
    await recv_json(ws)
    ws.transport.abort()          # no close frame
    try:
        await connect(url(port, "token=wrong"))
    except Exception:
        pass

run(main)
PYEOF
# every line stays one JSON object
check "every line is a JSON object" jq -e -s 'length > 3' "$SERVE_ERR"
J() { jq -e -s "$1" "$SERVE_ERR" >/dev/null; }
poll 10 J 'any(.[]; .code == 1006)'
check "a client's own close: client, remote, code 4000, reason" \
	J 'any(.[]; (.client|type)=="string" and .remote=="127.0.0.1" and .code==4000 and .reason=="bye now")'
check "the server's close for a big message: code 1009 and why" \
	J 'any(.[]; (.client|type)=="string" and .code==1009 and (.reason|test("larger than")))'
check "a connection gone without a close frame: 1006" J 'any(.[]; .code==1006 and .remote=="127.0.0.1")'
check "a refused upgrade: remote, status 401 and why" \
	J 'any(.[]; .status==401 and .remote=="127.0.0.1" and .reason=="invalid token")'
check "a connect line names client and remote" J 'any(.[]; (.msg|test("connected")) and .client and .remote)'
stop $SERVE_PID
check "the token is in no log line" sh -c "! grep -q '$TOK' '$SERVE_ERR'"
finish
