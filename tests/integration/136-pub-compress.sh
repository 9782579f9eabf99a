#!/usr/bin/env bash
# wsbridge-pub --compress: against wsbridge-serve --compress every publish
# goes out as one compressed (RSV1), masked frame, fewer bytes on the wire
# (tests/tools/wireproxy.py between them counts), and a plain subscriber
# gets every message intact and acknowledged (lws inflates on the broker);
# a message too small to gain goes plain (RFC 7692 allows both), and a
# broker without --compress gets plain frames, nothing lost.
. "$(dirname "$0")/../lib.sh"
N=${COMPRESS_N:-500}

"$PY" - "$N" >"$T/msgs" <<'PYEOF'
import json, random, sys
random.seed(5)
for i in range(int(sys.argv[1])):
    rows = [{"symbol": s, "px": round(random.uniform(10, 500), 2), "qty": random.randint(1, 5000)}
            for s in random.sample(["AAPL", "MSFT", "GOOG", "AMZN", "META", "NVDA", "TSLA", "AMD", "IBM"], 9)]
    print(json.dumps({"type": "fills", "data": {"i": i, "rows": rows, "desk": "Zürich"}}))
PYEOF
echo '{"type":"fills","data":1}' >>"$T/msgs"	# too small to gain: plain
N=$((N + 1))

# publish PROXYNAME [PUB ARGS...]: all of msgs through that proxy, with a
# plain subscriber on the broker; its output in $T/PROXYNAME.sub.
publish() {
	local name=$1 sub
	shift
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count "$N" --timeout 60 >"$T/$name.sub" 2>"$T/$name.suberr" &
	sub=$!
	track $sub
	wait_subscribers 1 || fail "the subscriber joins"
	"$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$PPORT/ws" "$@" <"$T/msgs" 2>"$T/$name.puberr"
	check_eq "pub ${*:-without --compress} publishes all $N and has them acknowledged" "$?" 0
	wire_settled "$name"
	wait_pid $sub 60
	check_eq "... the subscriber gets all $N" "$RC $(lines "$T/$name.sub")" "0 $N"
	check "... intact" cmp <(jq -c .data "$T/$name.sub") <(jq -c .data "$T/msgs")
}

start_serve --compress || { fail "serve --compress starts"; finish; }
start_wireproxy z || { fail "proxy z starts"; finish; }
publish z --compress
check_eq "each but the small one in a compressed frame" "$(wire z up rsv1)" $((N - 1))
start_wireproxy p || { fail "proxy p starts"; finish; }
publish p
check_eq "pub without --compress: none" "$(wire p up rsv1)" 0
check "fewer bytes on the wire: $(wire z up bytes) against $(wire p up bytes) (less than 60%)" \
	test $(($(wire z up bytes) * 10)) -lt $(($(wire p up bytes) * 6))
stop $SERVE_PID
PORT=

start_serve || { fail "plain serve starts"; finish; }
start_wireproxy q || { fail "proxy q starts"; finish; }
publish q --compress
check_eq "a broker without --compress gets plain frames" "$(wire q up rsv1)" 0
stop $SERVE_PID
finish
