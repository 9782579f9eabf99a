#!/usr/bin/env bash
# wsbridge-sub --compress offers permessage-deflate (RFC 7692; without
# lws's extension, see design.md). Against wsbridge-serve --compress it gets
# every message intact in compressed frames, in far fewer bytes than a
# plain subscriber beside it (each behind tests/tools/wireproxy.py, which
# counts the wire); over wss too; a broker without --compress serves it
# plain; and Python websockets, which compresses with settings of its own
# (server_max_window_bits=12, fragmented messages), is its peer too.
. "$(dirname "$0")/../lib.sh"
N=${COMPRESS_N:-500}

# ~1 KiB JSON messages, different numbers in each, as a feed has.
"$PY" - "$N" >"$T/msgs" <<'PYEOF'
import json, random, sys
random.seed(3)
for i in range(int(sys.argv[1])):
    rows = [{"symbol": s, "bid": round(random.uniform(10, 500), 2), "size": random.randint(1, 5000),
             "venue": random.choice(["XNAS", "XNYS", "ARCX"])} for s in random.sample(
             ["AAPL", "MSFT", "GOOG", "AMZN", "META", "NVDA", "TSLA", "AMD", "INTC", "ORCL", "IBM", "CSCO"], 12)]
    print(json.dumps({"type": "quotes", "data": {"i": i, "rows": rows, "note": "caf\u00e9"}}))
PYEOF

start_serve --compress || { fail "serve --compress starts"; finish; }
start_wireproxy z || { fail "proxy z starts"; finish; }; ZPORT=$PPORT
start_wireproxy p || { fail "proxy p starts"; finish; }; PLPORT=$PPORT
"$WSB_BIN/wsbridge-sub" --compress --url "ws://127.0.0.1:$ZPORT/ws" --count "$N" --timeout 60 >"$T/z.out" 2>"$T/z.err" &
ZSUB=$!
track $ZSUB
"$WSB_BIN/wsbridge-sub" --url "ws://127.0.0.1:$PLPORT/ws" --count "$N" --timeout 60 >"$T/p.out" 2>"$T/p.err" &
PSUB=$!
track $PSUB
wait_subscribers 2 || fail "both subscribers join"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/msgs" 2>"$T/pub.err"
check_eq "pub publishes everything" "$?" 0
wait_pid $ZSUB 60
check_eq "sub --compress gets all $N messages" "$RC $(lines "$T/z.out")" "0 $N"
wait_pid $PSUB 60
check "... the same bytes, in order, as the plain subscriber" cmp "$T/z.out" "$T/p.out"
check "... the data as published" cmp <(jq -c .data "$T/z.out") <(jq -c .data "$T/msgs")
wire_settled z
wire_settled p
check "... each in a compressed (RSV1) frame ($(wire z down rsv1) of $(wire z down frames))" \
	test "$(wire z down rsv1)" -ge "$N"
check_eq "the plain subscriber got no RSV1 frame" "$(wire p down rsv1)" 0
check "fewer bytes on the wire: $(wire z down bytes) against $(wire p down bytes) (less than half)" \
	test $(($(wire z down bytes) * 2)) -lt "$(wire p down bytes)"
stop $SERVE_PID
PORT=

# wss: the same, through TLS (the 101's header is hidden from lws there too).
make_test_cert
start_serve --compress --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { fail "wss serve starts"; finish; }
"$WSB_BIN/wsbridge-sub" --compress --url "$WS_URL" --cafile "$T/cert.pem" --count "$N" --timeout 60 \
	>"$T/tls.out" 2>"$T/tls.err" &
TSUB=$!
track $TSUB
wait_subscribers 1 || fail "wss subscriber joins"
"$WSB_BIN/wsbridge-pub" --compress --url "$WS_URL" --cafile "$T/cert.pem" <"$T/msgs" 2>"$T/tpub.err"
check_eq "pub --compress publishes over wss" "$?" 0
wait_pid $TSUB 60
check_eq "sub --compress over wss gets all $N" "$RC $(lines "$T/tls.out")" "0 $N"
check "... intact" cmp <(jq -c .data "$T/tls.out") <(jq -c .data "$T/msgs")
stop $SERVE_PID
PORT=

# A broker that does not compress: plain frames, nothing lost.
start_serve || { fail "plain serve starts"; finish; }
start_wireproxy q || { fail "proxy q starts"; finish; }
"$WSB_BIN/wsbridge-sub" --compress --url "ws://127.0.0.1:$PPORT/ws" --count 20 --timeout 30 \
	>"$T/q.out" 2>"$T/q.err" &
QSUB=$!
track $QSUB
wait_subscribers 1 || fail "subscriber joins the plain broker"
head -20 "$T/msgs" | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>/dev/null
wait_pid $QSUB 30
check_eq "sub --compress gets all 20 from a broker without --compress" "$RC $(lines "$T/q.out")" "0 20"
wire_settled q
check_eq "... in plain frames" "$(wire q down rsv1)" 0
stop $SERVE_PID

# Python websockets as the server: its own compression settings (a 12-bit
# window, a fragmented message, a large one), and it sees what we offered.
"$PY" - "$T/py.port" >"$T/pysrv.out" 2>"$T/pysrv.err" <<'PYEOF' &
import asyncio, json, sys
import websockets

async def handler(ws, path):
    ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    print("PASS websockets agreed:", ext if "permessage-deflate" in ext and "server_no_context_takeover" in ext
          else "FAIL " + ext, flush=True)
    await ws.send(json.dumps({"type": "connection_established", "seq": 0, "epoch": "py"}))
    for i in range(1, 41):
        await ws.send(json.dumps({"type": "t", "seq": i, "data": {"i": i, "pad": "caf\u00e9 " * 40}}))
    await ws.send(iter(['{"type":"frag","seq":41,', '"data":"' + "x" * 3000, '"}']))
    await ws.send(json.dumps({"type": "big", "seq": 42, "data": "quote " * 40000}))
    await ws.wait_closed()

async def main():
    async with websockets.serve(handler, "127.0.0.1", 0) as srv:
        open(sys.argv[1] + ".tmp", "w").write(str(srv.sockets[0].getsockname()[1]))
        import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
        await asyncio.sleep(60)

asyncio.run(main())
PYEOF
PYS=$!
track $PYS
poll 10 test -s "$T/py.port" || fail "the websockets server starts" "$(cat "$T/pysrv.err")"
"$WSB_BIN/wsbridge-sub" --compress --url "ws://127.0.0.1:$(cat "$T/py.port")/ws" --count 42 --timeout 30 \
	>"$T/py.out" 2>"$T/py.err"
check_eq "sub --compress gets all 42 from Python websockets" "$? $(lines "$T/py.out")" "0 42"
check "... the fragmented one whole" jq -se 'map(select(.seq == 41))[0].data | length == 3000' "$T/py.out"
check "... the large one whole" jq -se 'map(select(.seq == 42))[0].data | length == 240000' "$T/py.out"
check "... the others intact" jq -se 'map(select(.seq <= 40 and .seq > 0)) | length == 40 and
	all(.data.pad == ("café " * 40))' "$T/py.out"
check "websockets saw our offer and agreed" grep -q '^PASS websockets agreed' "$T/pysrv.out"
kill $PYS 2>/dev/null
finish
