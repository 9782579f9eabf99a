#!/usr/bin/env bash
# wsbridge-health for cron and scripts:
# - -q prints nothing when healthy; a failure is one line on stderr even
#   when stdout goes elsewhere (and with -q);
# - --url (or the operand) takes the ws:// URL the other tools use, with its
#   path for --ws, and $WSBRIDGE_URL is honoured;
# - --wait SECS blocks until the broker is healthy (0), or 75;
# - --watch on a terminal prints a short human line with message rates.
. "$(dirname "$0")/../lib.sh"
H="$WSB_BIN/wsbridge-health"

start_serve --path /feed || { fail "serve starts"; finish; }
FEED="ws://127.0.0.1:$PORT/feed"
"$H" -q --url "$HTTP_URL" >"$T/q.out" 2>"$T/q.err"
check_eq "-q on a healthy broker exits 0" "$?" 0
check "and prints nothing at all" test ! -s "$T/q.out" -a ! -s "$T/q.err"

# A port nothing listens on.
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 2>"$T/gone.err" &
GONE=$!; track $GONE
poll 10 grep -q 'listening on' "$T/gone.err"
GPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/gone.err")
stop $GONE
"$H" --url "http://127.0.0.1:$GPORT" >"$T/down.out" 2>"$T/down.err"
check_eq "a broker that is down exits 69" "$?" 69
check_eq "with one line on stderr while stdout goes to a file" "$(lines "$T/down.err")" 1
check "naming the failure" grep -q 'error: critical: unreachable' "$T/down.err"
"$H" -q --url "http://127.0.0.1:$GPORT" >"$T/downq.out" 2>"$T/downq.err"
check_eq "-q still says a failure on stderr" "$(lines "$T/downq.err")" 1
check_eq "-q: and nothing on stdout (cron mails that too)" "$(lines "$T/downq.out")" 0

"$H" --url "$FEED" --ws >"$T/ws.out" 2>"$T/ws.err"
check_eq "--url takes the clients' ws:// URL, and --ws its path" "$?" 0
check "(the WebSocket was timed)" grep -q '"ws_ms":[0-9]' "$T/ws.out"
"$H" "$FEED" -q
check_eq "the URL as an operand" "$?" 0
WSBRIDGE_URL="$FEED" "$H" -q
check_eq "\$WSBRIDGE_URL is honoured" "$?" 0
WSBRIDGE_URL="$FEED" WSBRIDGE_HEALTH_URL="http://127.0.0.1:$GPORT" "$H" -q >/dev/null 2>&1
check_eq "\$WSBRIDGE_HEALTH_URL wins over it" "$?" 69

# --wait: nothing listens yet; the broker comes up while health waits.
"$H" --wait 20 --url "ws://127.0.0.1:$GPORT/ws" >"$T/wait.out" 2>"$T/wait.err" &
HW=$!; track $HW
PORT=$GPORT
start_serve || fail "serve on the waited-for port"
wait_pid $HW 20
check_eq "--wait returns 0 once the broker is healthy" "$RC" 0
check "and says so once on stdout" grep -q '"status":"ok"' "$T/wait.out"
stop "$SERVE_PID"
t0=$(date +%s%N)
"$H" --wait 1 --url "ws://127.0.0.1:$GPORT/ws" >/dev/null 2>"$T/wait2.err"
rc=$? ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "--wait on a broker that stays down exits 75" "$rc" 75
check "after the whole wait (${ms} ms)" test "$ms" -ge 950 -a "$ms" -lt 8000
check "saying why" grep -q 'not healthy within --wait 1s: unreachable' "$T/wait2.err"

# --watch on a terminal: one short line per probe with rates.
PORT=
start_serve || fail "serve restarts"
pyrun 30 - "$H" "$HTTP_URL" "$WSB_BIN/wsbridge-pub" "$WS_URL" <<'PY'
import os, pty, re, select, signal, subprocess, sys, time
health, url, pub, ws = sys.argv[1:5]
m, s = pty.openpty()
p = subprocess.Popen([health, "--watch", "0.3", url], stdout=s, stderr=s)
os.close(s)
out, fed, end = b"", False, time.time() + 15
line = re.compile(rb"^\d\d:\d\d:\d\d healthy +conns \d+ subs \d+  in \d+/s out \d+/s  seq \d+  [\d.]+ ms\r?$", re.M)
while time.time() < end:
    r, _, _ = select.select([m], [], [], 0.1)
    if r:
        out += os.read(m, 4096)
    if not fed and line.search(out):
        fed = True
        msgs = "".join('{"type":"t","n":%d}\n' % i for i in range(2000))
        subprocess.run([pub, "--url", ws], input=msgs.encode(), timeout=10)
    if re.search(rb"in [1-9]\d*/s", out):
        break
p.send_signal(signal.SIGINT)
p.wait(timeout=5)
text = out.decode(errors="replace")
print(("PASS" if line.search(out) else "FAIL") + " --watch on a terminal prints a human line")
print(("PASS" if "{" not in text else "FAIL") + " and no JSON")
print(("PASS" if re.search(r"in [1-9]\d*/s", text) else "FAIL") + " the rate of messages in shows the traffic")
if "FAIL" in text or not line.search(out):
    print(text[-800:])
PY
finish
