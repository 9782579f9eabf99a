#!/usr/bin/env bash
# Bounded valgrind churn: wsbridge-serve under valgrind (memcheck, full leak
# check) on a free 127.0.0.1 port, while Python clients churn connections
# for SECONDS: subscribers that connect, read a little and leave;
# publishers (plain and with ?producer= acks); snapshot and resume
# subscribers; slow readers that stop reading until the broker closes them
# 4008; garbage (bad HTTP, bad frames, half frames, dropped handshakes).
# Then SIGTERM, and it fails on any memcheck error, a definite leak, or a
# server that does not stop cleanly.
#   scripts/valgrind-churn.sh [SECONDS]   (default 60; make valgrind)
# Binaries from $WSB_BIN (default ./bin); KEEP=1 keeps the temp folder.
# Prints the figures: connections by kind, messages, valgrind's counts.
set -u
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
WSB_BIN=${WSB_BIN:-$root/bin}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/wsb-valgrind.XXXXXX")
pid=

die() { echo "valgrind-churn: FAIL: $*"; [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; echo "(files kept in $T)"; exit 1; }
command -v valgrind >/dev/null || die "valgrind is not installed (scripts/install-deps.sh valgrind)"
[ -x "$WSB_BIN/wsbridge-serve" ] || die "$WSB_BIN/wsbridge-serve is missing (make)"

# --errors-for-leak-kinds=definite: a definite leak is an error (exit 97);
# possibly/still reachable memory of libraries at exit is not.
valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--error-exitcode=97 --num-callers=30 --log-file="$T/valgrind.log" \
	"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --max-queue 64k --max-message 256k \
	--history 2000 --snapshot-key .data.k --journal "$T/journal" --fsync never \
	--journal-segment 64k --journal-retain 256k --ping-interval 2s 2>"$T/serve.err" &
pid=$!

# Startup under valgrind takes seconds: poll, bounded.
for _ in $(seq 600); do
	grep -q 'listening on' "$T/serve.err" && break
	kill -0 "$pid" 2>/dev/null || die "wsbridge-serve exited at start: $(tail -5 "$T/serve.err")"
	sleep 0.1
done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/serve.err" | head -1)
[ -n "$port" ] || die "wsbridge-serve did not say where it listens in 60 s"
echo "valgrind-churn: wsbridge-serve (pid $pid) on 127.0.0.1:$port, churning for ${secs}s"

timeout -k 5 $((secs + 60)) "$PY" - "$port" "$secs" <<'PYEOF' 2>"$T/churn.err" | tee "$T/churn.out"
import asyncio, json, os, random, socket, struct, sys, time
import websockets

port, secs = int(sys.argv[1]), float(sys.argv[2])
url = "ws://127.0.0.1:%d/ws" % port
stats = {}
deadline = time.monotonic() + secs

def count(k, n=1):
    stats[k] = stats.get(k, 0) + n

async def sub():
    q = random.choice(["", "?type=a*", "?snapshot=1", "?since=0", "?type=b&snapshot=1"])
    async with websockets.connect(url + q, max_size=None, open_timeout=30, close_timeout=2) as ws:
        for _ in range(random.randint(1, 20)):
            try:
                await asyncio.wait_for(ws.recv(), 0.5)
                count("messages received")
            except asyncio.TimeoutError:
                break
    count("subscribers")

async def pub():
    prod = random.random() < 0.5
    q = "?subscribe=none" + ("&producer=churn%d" % random.randint(0, 3) if prod else "")
    async with websockets.connect(url + q, max_size=None, open_timeout=30, close_timeout=2) as ws:
        greeting = json.loads(await asyncio.wait_for(ws.recv(), 30))
        pseq = greeting.get("accepted", 0)      # continue where the broker is
        for i in range(random.randint(1, 50)):
            m = {"type": random.choice(["a1", "a2", "b", "c"]),
                 "data": {"k": random.randint(0, 50), "pad": "x" * random.randint(0, 2000)}}
            if prod:
                pseq += 1
                m["producer"], m["pseq"] = greeting["producer"], pseq
            await ws.send(json.dumps(m))
            count("messages sent")
        await ws.send('{"type":"ping"}')
        await ws.send('{"type":"subscribe","types":["a*","b"]}')
        await ws.send('not json at all')
    count("publishers")

def handshake(sock, path="/ws"):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(4096)
        if not d:
            break
        buf += d
    return buf

def frame(payload, op=1, fin=True, mask=True):
    key = os.urandom(4)
    n = len(payload)
    h = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        h += bytes([(0x80 if mask else 0) | n])
    elif n < 65536:
        h += bytes([(0x80 if mask else 0) | 126]) + struct.pack(">H", n)
    else:
        h += bytes([(0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
    if not mask:
        return h + payload
    return h + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))

def slow_reader():
    # Subscribes to everything with a tiny receive buffer and never reads:
    # the broker's queue for it passes --max-queue and it is closed 4008.
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    handshake(s)
    time.sleep(random.uniform(3, 8))
    s.close()
    count("slow readers")

GARBAGE = [
    b"GARBAGE\r\n\r\n", b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00" * 100,
    b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", b"POST /health HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
]

def garbage():
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    k = random.randint(0, 5)
    try:
        if k < len(GARBAGE):
            s.sendall(GARBAGE[k])
        else:
            handshake(s)
            s.sendall(random.choice([
                frame(b'{"type":"a","data":', fin=False),        # half a message, then gone
                frame(b"", fin=False) + frame(b'{"type":"a"}', op=0),   # empty first fragment
                frame(b'{"type":"a"}', mask=False),                 # unmasked
                frame(b"\xff\xfe", op=2),                          # binary
                frame(b"x" * 300000),                              # past --max-message
                frame(b"\x03\xe8", op=8),                          # close
                frame(b'{"type":"a"}')[:5],                        # torn header
            ]))
        s.recv(65536)
    except OSError:
        pass
    s.close()
    count("garbage connections")

async def worker(kind):
    while time.monotonic() < deadline:
        try:
            if kind == "sub":
                await sub()
            elif kind == "pub":
                await pub()
            elif kind == "slow":
                await asyncio.to_thread(slow_reader)
            else:
                await asyncio.to_thread(garbage)
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
            count("client errors (%s)" % type(e).__name__)

async def main():
    kinds = ["sub"] * 6 + ["pub"] * 3 + ["slow"] * 2 + ["garbage"] * 2
    await asyncio.gather(*(worker(k) for k in kinds))

asyncio.run(main())
for k in sorted(stats):
    print("  %-40s %d" % (k, stats[k]))
PYEOF
crc=${PIPESTATUS[0]}
[ "$crc" -eq 0 ] || { tail -20 "$T/churn.err"; die "the churn clients failed (exit $crc)"; }
curl -sf --max-time 30 "http://127.0.0.1:$port/health" >"$T/health.json" || die "/health did not answer after the churn"
echo "  /health: $(cat "$T/health.json")"

kill -TERM "$pid"
for _ in $(seq 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "wsbridge-serve did not stop within 120 s of SIGTERM"
wait "$pid"
rc=$?
pid=
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$T/valgrind.log" | tail -1 | tr -d ,)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$T/valgrind.log" | tail -1 | tr -d ,)
sed -n 's/^==[0-9]*== *\(in use at exit\|total heap usage\|All heap blocks\|\(definitely\|indirectly\|possibly\) lost\|still reachable\|ERROR SUMMARY\)/  valgrind: \1/p' \
	"$T/valgrind.log"
[ -n "$errors" ] || die "no valgrind summary in $T/valgrind.log"
if [ "$rc" -ne 0 ] || [ "$errors" != 0 ] || [ "${definite:-0}" != 0 ]; then
	grep -E -A25 '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
		"$T/valgrind.log" | head -80
	die "wsbridge-serve exited $rc with $errors valgrind errors, ${definite:-0} bytes definitely lost"
fi
echo "valgrind-churn: PASS (exit $rc, 0 errors, 0 bytes definitely lost)"
[ -n "${KEEP:-}" ] && echo "(files kept in $T)" || rm -rf "$T"
