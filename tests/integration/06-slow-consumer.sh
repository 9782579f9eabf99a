#!/usr/bin/env bash
# A subscriber that stops reading is closed with 4008 ("slow consumer") and
# counted, while 20 others receive every message, complete and in order
# (resuming from the history if the machine was too busy for one of them).
. "$(dirname "$0")/../lib.sh"
N=10000 R=20	# messages of ~500 bytes; R reading subscribers

start_serve --max-queue 64k || { fail "serve starts"; finish; }
pad=$(printf '%0450d' 0)
seq $N | sed "s/.*/{\"type\":\"t\",\"data\":{\"n\":&,\"pad\":\"$pad\"}}/" >"$T/in"
seq $N >"$T/want"

# The stalled client: a raw socket with a tiny receive buffer that does the
# WebSocket handshake and then reads nothing until told to ($T/go); then it
# reads what is left and reports what it finds at the end of the stream. It
# is told to read again as soon as /health counts the slow consumer, so a
# server that lets a closing connection drain for a moment can deliver the
# close frame behind the data already in the socket.
PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 90 "$PY" - "$PORT" "$T" >"$T/stalled.out" 2>"$T/stalled.err" <<'PYEOF' &
import os, socket, struct, sys, time
from wsclient import check

port, d = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(10)
s.connect(("127.0.0.1", port))
s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % port).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(1)	# byte by byte: leave every frame in the kernel
    if not chunk:
        break
    buf += chunk
check("stalled client: handshake accepted (101)", buf.startswith(b"HTTP/1.1 101"), buf[:40])
open(os.path.join(d, "stalled.ready"), "w").close()

deadline = time.time() + 70
while not os.path.exists(os.path.join(d, "go")) and time.time() < deadline:
    time.sleep(0.05)

# Read until EOF or reset, then parse the frames.
data, err, closed = b"", None, False
t0 = time.time()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)	# drain quickly
s.settimeout(10)
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
        data += chunk
except socket.timeout:
    err = "a 10 s timeout: the connection is still open"
except OSError as e:
    err, closed = "%s" % e, True
frames, i, close = [], 0, None
while i + 2 <= len(data):
    op, ln = data[i] & 0x0F, data[i + 1] & 0x7F
    j = i + 2
    if ln == 126:
        ln, j = struct.unpack(">H", data[j:j + 2])[0], j + 2
    elif ln == 127:
        ln, j = struct.unpack(">Q", data[j:j + 8])[0], j + 8
    if j + ln > len(data):
        break
    frames.append(op)
    if op == 8:
        close = (struct.unpack(">H", data[j:j + 2])[0] if ln >= 2 else None, data[j + 2:j + ln])
    i = j + ln
print("stalled client observed: %d bytes in %.1f s, %d frames (%d text), %s, close frame %s, trailing %d bytes"
      % (len(data), time.time() - t0, len(frames), frames.count(1), "ended by " + (err or "EOF"),
         close, len(data) - i))
check("stalled client: connection was closed by the server", closed, err)
check("stalled client: close frame with code 4008", close is not None and close[0] == 4008, close)
check("stalled client: close frame is the last frame", frames[-1:] == [8], frames[-3:])
os._exit(0)
PYEOF
STALLED=$!; track $STALLED
poll 10 test -e "$T/stalled.ready" || fail "stalled client connects"

subs=()
for i in $(seq $R); do
	{ "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count $N --timeout 50 2>"$T/sub$i.err"; echo $? >"$T/sub$i.rc"; } |
		sed -n 's/^{"type":"t","data":{"n":\([0-9]*\),.*/\1/p' >"$T/sub$i.n" &
	subs+=($!); track $!
done
wait_subscribers $((R + 1)) 20 || fail "$R subscribers and the stalled one subscribe" "subscribers=$(health_field subscribers)"

"$WSB_BIN/wsbridge-pub" --url "$WS_URL" <"$T/in" 2>"$T/pub.err" &
PUB=$!; track $PUB
check "/health slow_consumers_closed >= 1" wait_health slow_consumers_closed 1 30
touch "$T/go"	# the stalled client reads again
wait_pid $PUB 40
check_eq "pub exits 0" "$RC" 0

ok=0
for i in $(seq $R); do
	wait_pid "${subs[$((i - 1))]}" 50
	if [ "$(cat "$T/sub$i.rc" 2>/dev/null)" = 0 ] && cmp -s "$T/want" "$T/sub$i.n"; then
		ok=$((ok + 1))
	else
		echo "sub $i: rc=$(cat "$T/sub$i.rc" 2>/dev/null) lines=$(lines "$T/sub$i.n")"
	fi
done
check_eq "all $R reading subscribers got all $N messages in order" $ok $R

# On an idle machine only the stalled client is closed. A reader starved of
# CPU for --max-stall (a busy 2-core CI box) is a slow consumer too: it is
# closed, says so and resumes from the history (its output was checked
# above). So every closure is accounted for: the stalled client plus each
# reader that reports one.
resumed=$(slow_resumes "$T"/sub*.err)
echo "readers closed as slow consumers and resumed: $resumed"
check_eq "/health slow_consumers_closed = the stalled client + readers that resumed" \
	"$(health_field slow_consumers_closed)" $((1 + resumed))
check "/health dropped > 0" wait_health dropped 1 10
check_eq "/health messages_in" "$(health_field messages_in)" $N
check "server still healthy" test "$(health_field status)" = healthy

wait_pid $STALLED 30
py_checks "$T/stalled.out" "$RC"
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
