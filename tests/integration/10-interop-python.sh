#!/usr/bin/env bash
# Interop: a client on Debian's python3-websockets connects the way the
# existing dashboards do (ws://…/ws?token=…), gets connection_established
# first, ping → pong, and receives what wsbridge-pub publishes; curl checks
# /health, /, /metrics and that an unknown path is 404.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
echo '{"type":"warmup","data":0}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
check_eq "a first message is published before the client connects" "$(health_field seq)" 1

PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 30 "$PY" - "$PORT" "$T/ready" >"$T/py.out" 2>"$T/py.err" <<'PYEOF' &
import re
from wsclient import *

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

async def main(port, ready):
    ws = await connect("ws://127.0.0.1:%s/ws?token=abc" % port)
    m = await recv_json(ws)
    check("the first message is connection_established", m.get("type") == "connection_established", m)
    check("connection_established has a client_id", isinstance(m.get("client_id"), str) and m["client_id"], m)
    check("connection_established has seq = the last seq (1)", m.get("seq") == 1, m)
    check("connection_established has a message", isinstance(m.get("message"), str), m)
    check("connection_established has an ISO 8601 UTC timestamp", TS.match(str(m.get("timestamp"))), m)

    await ws.send(json.dumps({"type": "ping"}))
    m = await recv_json(ws)
    check("ping gets pong", m.get("type") == "pong", m)
    check("pong has an ISO 8601 UTC timestamp", TS.match(str(m.get("timestamp"))), m)

    touch(ready)
    m = await recv_json(ws, 20)
    check("a message published by wsbridge-pub arrives",
          m.get("type") == "order" and m.get("data") == {"symbol": "AAPL", "qty": 10}, m)
    check("it is stamped with seq 2", m.get("seq") == 2, m)
    check("it is stamped with an ISO 8601 UTC timestamp", TS.match(str(m.get("timestamp"))), m)
    await ws.close()
    check("the client closes cleanly (1000)", ws.close_code == 1000, ws.close_code)

run(main)
PYEOF
PYC=$!; track $PYC
poll 15 test -e "$T/ready" || fail "python client connects"
echo '{"type":"order","data":{"symbol":"AAPL","qty":10}}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_pid $PYC 25
py_checks "$T/py.out" "$RC"
[ -s "$T/py.err" ] && sed 's/^/  py stderr: /' "$T/py.err"

# HTTP endpoints on the same port.
curl -sf -D "$T/health.hdr" "$HTTP_URL/health" >"$T/health.json"
check_eq "/health answers 200" "$?" 0
check "/health is application/json" grep -qi '^content-type: application/json' "$T/health.hdr"
check_eq "/health status" "$(jq -r .status "$T/health.json")" healthy
for f in active_connections subscribers uptime_s messages_in messages_out dropped slow_consumers_closed seq; do
	check_eq "/health $f is a number" "$(jq -r ".$f | type" "$T/health.json")" number
done
check "/health timestamp is ISO 8601 UTC" grep -Eq '"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z"' "$T/health.json"
check_eq "/health messages_in" "$(jq .messages_in "$T/health.json")" 2
check_eq "/health seq" "$(jq .seq "$T/health.json")" 2

curl -sf "$HTTP_URL/" >"$T/root.json"
check_eq "/ answers 200" "$?" 0
check_eq "/ name" "$(jq -r .name "$T/root.json")" wsbridge-serve
check "/ version is a non-empty string" test -n "$(jq -r '.version // empty | strings' "$T/root.json")"
check_eq "/ endpoints lists /ws and /health" "$(jq -r '[.endpoints[]] | map(select(. == "/ws" or . == "/health")) | length' "$T/root.json")" 2

check_eq "unknown path is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/no/such/path")" 404
check_eq "GET /ws without upgrade is not 200" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/ws" | grep -c '^200$')" 0
curl -sf "$HTTP_URL/metrics" >"$T/metrics"
check "/metrics has wsbridge_messages_in_total 2" grep -q '^wsbridge_messages_in_total 2$' "$T/metrics"
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
