#!/usr/bin/env bash
# A reader that is slow but steady (about 400 KB/s) may pause the publishers
# for --max-stall per --stall-window, no more: after that it is a plain slow
# consumer. The publisher then runs at full speed, as measured by a fast
# subscriber, and the slow reader either keeps up or is closed 4008; it never
# paces everyone at its own rate (it used to, forever: 160 000 -> 1 100 msg/s).
# The check compares rates rather than using an absolute number, so a loaded
# machine slows both sides alike: the fast subscriber must get messages at
# least 3 times as fast as the slow reader does.
. "$(dirname "$0")/../lib.sh"
N=60000		# messages of about 340 bytes: 20 MB, ~50 s at the reader's pace

start_serve --max-queue 256k --max-stall 1 --stall-window 10 || { fail "serve starts"; finish; }
pad=$(printf '%0250d' 0)
seq $N | sed "s/.*/{\"type\":\"t\",\"data\":{\"n\":&,\"pad\":\"$pad\"}}/" >"$T/in"

# The slow reader: a raw socket with a small receive buffer that reads at a
# steady 400 KB/s (a token bucket, so it never bursts) until the server
# closes it, it has everything, or it is told to stop ($T/stop): then it
# reads what is left at full speed, to find a close frame behind the data
# already in the socket. It reports what it read at its pace, for how long,
# and the close code, in $T/slow.stats.
PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 90 "$PY" - "$PORT" "$T" "$N" >"$T/slow.out" 2>"$T/slow.err" <<'PYEOF' &
import os, socket, struct, sys, time
from wsclient import check

port, d, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
RATE, BURST = 400 * 1024, 16384
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(10)
s.connect(("127.0.0.1", port))
s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % port).encode())
head = b""
while b"\r\n\r\n" not in head:
    c = s.recv(1)
    if not c:
        break
    head += c
check("slow reader: handshake accepted (101)", head.startswith(b"HTTP/1.1 101"), head[:40])
open(os.path.join(d, "slow.ready"), "w").close()

buf, nbytes, texts, close, end = b"", 0, 0, None, "deadline"
tokens, last, first, stop_at, paced = 0.0, time.time(), None, time.time() + 80, None
s.settimeout(0.05)
while time.time() < stop_at:
    now = time.time()
    if paced and os.path.exists(os.path.join(d, "stop")):
        paced, stop_at = (texts, now - (first or now)), now + 20
        RATE, BURST = 64 << 20, 1 << 20
    tokens, last = min(BURST, tokens + RATE * (now - last)), now
    if tokens < 4096:
        time.sleep(0.01)
        continue
    try:
        chunk = s.recv(int(tokens))
    except socket.timeout:
        continue
    except OSError as e:
        end = "error %s" % e
        break
    if not chunk:
        end = "EOF"
        break
    first = first or now
    tokens -= len(chunk)
    nbytes += len(chunk)
    buf += chunk
    while len(buf) >= 2:	# whole frames off the front
        op, ln, j = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if ln == 126:
            if len(buf) < 4:
                break
            ln, j = struct.unpack(">H", buf[2:4])[0], 4
        elif ln == 127:
            if len(buf) < 10:
                break
            ln, j = struct.unpack(">Q", buf[2:10])[0], 10
        if len(buf) < j + ln:
            break
        if op == 1:
            texts += 1
        elif op == 8:
            close = struct.unpack(">H", buf[j:j + 2])[0] if ln >= 2 else 0
        buf = buf[j + ln:]
    if close is not None:
        end = "close frame"
        break
    if texts >= n + 1:	# the greeting, then every message
        end = "all read"
        break
ptexts, psecs = paced or (texts, time.time() - (first or time.time()))
psecs = max(psecs, 0.001)
with open(os.path.join(d, "slow.stats"), "w") as f:
    f.write("%d %.3f %d %s\n" % (ptexts, psecs, texts, close if close is not None else "none"))
print("slow reader: %d frames in %.1f s at its pace, %d frames and %d bytes in all, ended by %s, close %s"
      % (ptexts, psecs, texts, nbytes, end, close))
os._exit(0)
PYEOF
SLOW=$!; track $SLOW
poll 10 test -e "$T/slow.ready" || fail "slow reader connects"

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count $N --timeout 40 >"$T/fast.out" 2>"$T/fast.err" &
FAST=$!; track $FAST
wait_subscribers 2 || fail "both subscribers subscribe" "subscribers=$(health_field subscribers)"

t0=$(date +%s%N)
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err" &
PUB=$!; track $PUB
wait_pid $FAST 45
frc=$RC
t1=$(date +%s%N)
check_eq "the fast subscriber gets all $N messages (rc)" "$frc" 0
check_eq "the fast subscriber's count" "$(lines "$T/fast.out")" $N
wait_pid $PUB 20
check_eq "pub exits 0" "$RC" 0

touch "$T/stop"
wait_pid $SLOW 20
py_checks "$T/slow.out" "$RC"
read -r ptexts secs texts close <"$T/slow.stats" 2>/dev/null || { ptexts=0 secs=1 texts=0 close=none; }
ms=$(((t1 - t0) / 1000000))
fast_rate=$((N * 1000 / (ms > 0 ? ms : 1)))
slow_rate=$(awk -v t="$ptexts" -v s="$secs" 'BEGIN { printf "%d", t / s }')
echo "fast subscriber: $N in $ms ms ($fast_rate msg/s); slow reader: $ptexts in $secs s ($slow_rate msg/s), close $close"
check "publisher at full speed: the fast subscriber's rate $fast_rate msg/s >= 3 x the slow reader's $slow_rate msg/s" \
	test "$fast_rate" -ge $((3 * slow_rate))
check "the slow reader kept up or was closed 4008 (read $texts, close $close)" \
	test "$close" = 4008 -o "$texts" -ge "$N"
# The fast subscriber, starved of CPU on a busy machine, may be closed as
# slow too; it then says so and resumes (its count was checked above).
sc=$(health_field slow_consumers_closed) resumed=$(slow_resumes "$T/fast.err")
check "slow_consumers_closed is at most the slow reader + the fast one's resumes ($resumed) (got $sc)" \
	test "${sc:-9}" -le $((1 + resumed))
check "server still healthy" test "$(health_field status)" = healthy

stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
