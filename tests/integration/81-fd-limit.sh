#!/usr/bin/env bash
# Descriptor limit and connection limits (issue 7 finding 5). Under
# `ulimit -n 64` a flood of idle TCP connections drives accept() to EMFILE:
# serve must stop accepting (idle CPU, one log line per episode, not a busy
# loop writing "accept: errno 24") and take new clients again once
# descriptors free; a subscriber connected before is not disturbed.
# --max-connections and --max-connections-per-ip answer 503 with a JSON
# body beyond their limit (127.0.0.1 against 127.0.0.2), /health still works.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/lim"
printf '#!/bin/sh\nexec prlimit --nofile=64:64 "%s/wsbridge-serve" "$@"\n' "$WSB_BIN" >"$T/lim/wsbridge-serve"
chmod +x "$T/lim/wsbridge-serve"
if [ -n "${WSB_SAN:-}" ]; then
	# ASan keeps descriptors of its own; the limit tested is the same.
	sed -i 's/64:64/96:96/' "$T/lim/wsbridge-serve"
fi
WSB_BIN="$T/lim" start_serve || { fail "serve starts under ulimit -n 64"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type after >"$T/by.out" 2>"$T/by.err" & BY=$!; track $BY
wait_subscribers 1 || fail "bystander subscribes"

pyrun 60 - "$PORT" "$SERVE_PID" "$SERVE_ERR" <<'PYEOF'
import os, sys, time
from rawws import *
port, pid, errf = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def cpu_ticks():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def logged(text, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if text in open(errf).read():
            return True
        time.sleep(0.02)
    return False

flood = [connect(port) for _ in range(120)]     # never send a byte
check("EMFILE is reached and logged", logged("not accepting until a descriptor frees", 10))
# A measurement window, not synchronisation: how busy is serve at the limit?
c0, e0, t0 = cpu_ticks(), os.path.getsize(errf), time.monotonic()
time.sleep(2)
ticks, grew = cpu_ticks() - c0, os.path.getsize(errf) - e0
hz = os.sysconf("SC_CLK_TCK")
check("serve idles at the limit (< 10% CPU over 2 s)", ticks < 0.2 * hz * (time.monotonic() - t0) / 2,
      "%d ticks" % ticks)
check("no log flood at the limit (< 200 bytes in 2 s)", grew < 200, "%d bytes" % grew)
check("one log line for the episode", open(errf).read().count("not accepting") == 1)
for s in flood[:60]:
    s.close()
ok = False
end = time.monotonic() + 10
while not ok and time.monotonic() < end:      # bounded: serve notices the closes
    try:
        s, rd = open_ws(port, timeout=2)
        ok = rd.frame(2) is not None
    except Exception:
        time.sleep(0.05)
check("a new client gets in once descriptors free", ok)
for s in flood[60:]:
    s.close()
done()
PYEOF
check "/health answers after the episode" wcurl -sf -o /dev/null "$HTTP_URL/health"
echo '{"type":"after","data":1}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
wait_lines "$T/by.out" 1 10
check "the bystander still receives" grep -q '"type":"after"' "$T/by.out"
check "lws's per-try accept line is not logged" sh -c "! grep -q 'accept: errno' '$SERVE_ERR'"
stop $SERVE_PID

# The soft limit is raised to the hard one at start.
printf '#!/bin/sh\nexec prlimit --nofile=64:512 "%s/wsbridge-serve" "$@"\n' "$WSB_BIN" >"$T/lim/wsbridge-serve"
unset PORT
WSB_BIN="$T/lim" start_serve || { fail "serve starts with a soft limit of 64"; finish; }
check "soft descriptor limit raised to the hard one" grep -Eq 'Max open files +512 +512' /proc/$SERVE_PID/limits
stop $SERVE_PID

unset PORT
start_serve --max-connections 3 --max-connections-per-ip 2 || { fail "serve with limits starts"; finish; }
pyrun 60 - "$PORT" <<'PYEOF'
import json, sys, time
from rawws import *
port = int(sys.argv[1])
a1, _ = open_ws(port)
a2, _ = open_ws(port)
s, st, hdrs, body = handshake(port)
check("third from 127.0.0.1 gets 503 (per address)", st == 503, st)
check("with a JSON body", json.loads(body or b"{}").get("error") == "too many connections from this address", body)
b1, _ = open_ws(port, src="127.0.0.2")
check("127.0.0.2 still gets in", True)
s, st, hdrs, body = handshake(port, src="127.0.0.3")
check("fourth in all gets 503 (--max-connections)", st == 503 and b"too many connections" in body, (st, body))
st, _, _, s = http(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
check("/health answers at the limit", st == 200, st)
a1.close()
ok = False
end = time.monotonic() + 10
while not ok and time.monotonic() < end:      # bounded: serve notices the close
    s, st, _, _ = handshake(port)
    ok = st == 101
check("after one leaves, 127.0.0.1 gets in again", ok)
done()
PYEOF
finish
