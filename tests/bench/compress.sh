#!/usr/bin/env bash
# tests/bench/compress.sh — `make bench`, part (d): what --compress costs and
# saves. wsbridge-pub publishes MSGS messages of ~1 KiB JSON to SUBS
# subscribers, once to a broker without --compress and plain subscribers,
# once to a broker with --compress and subscribers that negotiated
# permessage-deflate. The subscribers are one Python process of raw
# sockets that count the bytes on the wire until each has every message.
# Reported per delivery: bytes on the wire and the broker's CPU time (user +
# system, from /proc), with the ratio compressed/plain. A message is
# compressed once for all subscribers, so the CPU cost per delivery should
# shrink as SUBS grows. Every wait is bounded; every process is stopped by
# PID. Then the clients: one wsbridge-sub and one wsbridge-pub, each with
# and without --compress, against a broker with --compress, each behind
# tests/tools/wireproxy.py (bytes on the wire) and measured by a parent
# that waits for it (user + system CPU of the whole run, per message).
# Environment: WSB_BIN; BENCH_SUBS (20), BENCH_CMSGS (5000),
# BENCH_TIMEOUT (60 s per run). Exit status 0, or 1 when a run did not
# deliver everything.
set -u
: "${WSB_BIN:?set WSB_BIN to the folder with the wsbridge binaries}"
SUBS=${BENCH_SUBS:-20}
MSGS=${BENCH_CMSGS:-5000}
TIMEOUT=${BENCH_TIMEOUT:-60}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/wsb-bench-compress.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

poll() {	# poll SECS CMD...
	local end=$(($(date +%s) + $1))
	shift
	until "$@" 2>/dev/null; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.05; done
}

# ~1 KiB JSON messages, different numbers in each (as a feed would have).
"$PY" - "$MSGS" >"$T/msgs.ndjson" <<'PYEOF'
import json, random, sys
random.seed(7)
for i in range(int(sys.argv[1])):
    rows = [{"symbol": s, "bid": round(random.uniform(10, 500), 2), "ask": round(random.uniform(10, 500), 2),
             "size": random.randint(1, 5000), "venue": random.choice(["XNAS", "XNYS", "ARCX", "BATS"])}
            for s in random.sample(["AAPL", "MSFT", "GOOG", "AMZN", "META", "NVDA", "TSLA", "AMD", "INTC",
                                    "ORCL", "IBM", "CSCO", "ADBE", "CRM", "QCOM"], 14)]
    print(json.dumps({"type": "quotes", "data": {"batch": i, "rows": rows}}, separators=(",", ":")))
PYEOF

cat >"$T/subs.py" <<'PYEOF'
# subs.py PORT N MSGS PMD READYFILE: N raw subscribers; prints total bytes read
import asyncio, base64, os, struct, sys

port, n, msgs, pmd, ready = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
total = 0

async def sub(i, started):
    global total
    r, w = await asyncio.open_connection("127.0.0.1", port)
    ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if pmd else ""
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(("GET /ws?type=quotes HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (key, ext)).encode())
    head = await r.readuntil(b"\r\n\r\n")
    assert (b"permessage-deflate" in head.lower()) == pmd, head
    started.append(i)
    if len(started) == n:
        open(ready, "w").close()
    buf, got, nbytes = b"", 0, 0
    while got < msgs + 1:                  # the greeting, then every message
        d = await r.read(1 << 16)
        if not d:
            raise SystemExit("connection closed after %d" % got)
        nbytes += len(d)
        buf += d
        while len(buf) >= 2:
            l, h = buf[1] & 0x7f, 2
            if l == 126:
                if len(buf) < 4: break
                l, h = struct.unpack(">H", buf[2:4])[0], 4
            elif l == 127:
                if len(buf) < 10: break
                l, h = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < h + l: break
            buf = buf[h + l:]
            got += 1
    total += nbytes
    w.close()

async def main():
    started = []
    await asyncio.gather(*(sub(i, started) for i in range(n)))
    print(total)

asyncio.run(main())
PYEOF

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run MODE(plain|compress): prints "bytes cpu_seconds"
run() {
	local mode=$1 args=() pmd=0 port serve subs t0 t1 bytes
	[ "$mode" = compress ] && args=(--compress) && pmd=1
	"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --max-queue 64M --max-memory 1G "${args[@]}" 2>"$T/serve.$mode.err" &
	serve=$!
	pids+=("$serve")
	poll 10 grep -q 'listening on' "$T/serve.$mode.err" || { echo "serve did not start" >&2; return 1; }
	port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/serve.$mode.err" | head -1)
	rm -f "$T/ready"
	timeout "$TIMEOUT" "$PY" "$T/subs.py" "$port" "$SUBS" "$MSGS" "$pmd" "$T/ready" >"$T/subs.$mode.out" 2>"$T/subs.$mode.err" &
	subs=$!
	pids+=("$subs")
	poll 20 test -e "$T/ready" || { echo "subscribers did not connect" >&2; return 1; }
	t0=$(cpu_ticks "$serve")
	timeout "$TIMEOUT" "$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$port/ws" <"$T/msgs.ndjson" 2>"$T/pub.$mode.err" ||
		{ echo "pub failed" >&2; return 1; }
	wait "$subs" || { echo "the subscribers did not get every message: $(head -c 300 "$T/subs.$mode.err")" >&2; return 1; }
	t1=$(cpu_ticks "$serve")
	kill "$serve"; wait "$serve" 2>/dev/null
	bytes=$(cat "$T/subs.$mode.out")
	echo "$bytes $(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", (b - a) / hz }')"
}

echo "(d) permessage-deflate: $MSGS messages of ~$(($(wc -c <"$T/msgs.ndjson") / MSGS)) B JSON to $SUBS subscribers"
# Not in $(...): a subshell's pids+= would not reach cleanup().
run plain >"$T/run.plain" && run compress >"$T/run.compress" || exit 1
plain=$(cat "$T/run.plain") comp=$(cat "$T/run.compress")
D=$((MSGS * SUBS))
awk -v d="$D" -v p="$plain" -v c="$comp" 'BEGIN {
	split(p, P, " "); split(c, C, " ")
	printf "    %-10s %12s %16s\n", "", "bytes/delivery", "CPU us/delivery"
	printf "    %-10s %12.0f %16.2f\n", "plain", P[1] / d, P[2] * 1e6 / d
	printf "    %-10s %12.0f %16.2f\n", "compress", C[1] / d, C[2] * 1e6 / d
	printf "    %-10s %11.0f%% %15.0f%%\n", "ratio", 100 * C[1] / P[1], (P[2] > 0 ? 100 * C[2] / P[2] : 0)
}'

# The clients. cpu FILE CMD...: runs CMD, writes its user + system seconds.
cpu() {
	"$PY" -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.3f" % (u.ru_utime + u.ru_stime))
sys.exit(rc)' "$@"
}
proxy() {	# proxy NAME PORT: a wireproxy in front of PORT; its port in $PROXY_PORT, its PID in $PROXY_PID
	"$PY" "$(dirname "$0")/../tools/wireproxy.py" --target "127.0.0.1:$2" --stats "$T/$1.json" >"$T/$1.port" 2>/dev/null &
	PROXY_PID=$!
	pids+=("$PROXY_PID")
	poll 10 test -s "$T/$1.port" && PROXY_PORT=$(head -1 "$T/$1.port")
}
wire() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["bytes"])' "$T/$1.json" "$2"; }
settled() { grep -q '"open": 0' "$T/$1.json"; }	# final totals: its client has gone
subscribed() { curl -sf "http://127.0.0.1:$1/health" | grep -q '"subscribers":[1-9]'; }

# clients MODE(plain|compress): prints "sub_bytes sub_cpu pub_bytes pub_cpu"
clients() {
	local mode=$1 args=() serve port sp pp sub spid ppid
	[ "$mode" = compress ] && args=(--compress)
	"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --max-queue 64M --max-memory 1G --compress 2>"$T/cserve.$mode.err" &
	serve=$!
	pids+=("$serve")
	poll 10 grep -q 'listening on' "$T/cserve.$mode.err" || { echo "serve did not start" >&2; return 1; }
	port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/cserve.$mode.err" | head -1)
	proxy "s.$mode" "$port" && sp=$PROXY_PORT spid=$PROXY_PID && proxy "p.$mode" "$port" && pp=$PROXY_PORT ppid=$PROXY_PID ||
		{ echo "proxy did not start" >&2; return 1; }
	cpu "$T/subcpu.$mode" timeout "$TIMEOUT" "$WSB_BIN/wsbridge-sub" "${args[@]}" --url "ws://127.0.0.1:$sp/ws" \
		--count "$MSGS" >/dev/null 2>"$T/csub.$mode.err" &
	sub=$!
	pids+=("$sub")
	poll 20 subscribed "$port" || { echo "sub did not subscribe" >&2; return 1; }
	cpu "$T/pubcpu.$mode" timeout "$TIMEOUT" "$WSB_BIN/wsbridge-pub" "${args[@]}" --url "ws://127.0.0.1:$pp/ws" \
		<"$T/msgs.ndjson" 2>"$T/cpub.$mode.err" || { echo "pub failed" >&2; return 1; }
	wait "$sub" || { echo "sub did not get every message: $(tail -c 300 "$T/csub.$mode.err")" >&2; return 1; }
	kill "$serve"; wait "$serve" 2>/dev/null
	poll 10 settled "s.$mode" && poll 10 settled "p.$mode" || { echo "proxies did not settle" >&2; return 1; }
	kill "$spid" "$ppid"; wait "$spid" "$ppid" 2>/dev/null
	echo "$(wire "s.$mode" down) $(cat "$T/subcpu.$mode") $(wire "p.$mode" up) $(cat "$T/pubcpu.$mode")"
}

echo "    the clients, $MSGS messages each, against serve --compress:"
clients plain >"$T/clients.plain" && clients compress >"$T/clients.compress" || exit 1
plain=$(cat "$T/clients.plain") comp=$(cat "$T/clients.compress")
awk -v m="$MSGS" -v p="$plain" -v c="$comp" 'BEGIN {
	split(p, P, " "); split(c, C, " ")
	printf "    %-18s %12s %16s\n", "", "bytes/message", "CPU us/message"
	printf "    %-18s %12.0f %16.2f\n", "sub", P[1] / m, P[2] * 1e6 / m
	printf "    %-18s %12.0f %16.2f\n", "sub --compress", C[1] / m, C[2] * 1e6 / m
	printf "    %-18s %12.0f %16.2f\n", "pub", P[3] / m, P[4] * 1e6 / m
	printf "    %-18s %12.0f %16.2f\n", "pub --compress", C[3] / m, C[4] * 1e6 / m
}'
