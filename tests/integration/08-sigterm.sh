#!/usr/bin/env bash
# SIGTERM: serve closes every client with 1001 ("going away") and exits 0
# promptly; SIGINT does the same.
. "$(dirname "$0")/../lib.sh"

for sig in TERM INT; do
	unset PORT
	start_serve || { fail "serve starts"; finish; }
	PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 30 "$PY" - "$PORT" "$T/ready.$sig" "$sig" \
		>"$T/py.$sig.out" 2>"$T/py.$sig.err" <<'PYEOF' &
from wsclient import *

async def main(port, ready, sig):
    idle = await connect(url(port))				# subscribed to everything
    await hello(idle)
    sub = await connect(url(port, "type=order"))		# a filtered subscriber
    await hello(sub)
    await sub.send(json.dumps({"type": "ping"}))
    await recv_json(sub)
    touch(ready)
    for name, ws in (("idle client", idle), ("subscriber", sub)):
        code, reason, got = await wait_closed(ws, 20)
        check("SIG%s: %s sees close code 1001" % (sig, name), code == 1001, (code, reason, got))

run(main)
PYEOF
	PYC=$!; track $PYC
	poll 10 test -e "$T/ready.$sig" || fail "SIG$sig: python clients connect"
	check_eq "SIG$sig: 2 connections open" "$(health_field active_connections)" 2
	t0=$(date +%s%N)
	kill -$sig $SERVE_PID
	wait_pid $SERVE_PID 5
	check_eq "SIG$sig: serve exits 0 within 5 s" "$RC" 0
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "SIG$sig: serve exited in under 3 s (took ${ms} ms)" test $ms -lt 3000
	wait_pid $PYC 25
	py_checks "$T/py.$sig.out" "$RC"
	check "SIG$sig: the port is free again" poll 5 sh -c "! curl -s -o /dev/null $HTTP_URL/health"
done
finish
