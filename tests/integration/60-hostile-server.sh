#!/usr/bin/env bash
# No client hangs (issue 7, finding 2). Against a hostile server
# (hostile_server.py) that accepts TCP and never answers the upgrade, or
# answers it and then goes silent, wsbridge-sub and wsbridge-pub time the
# handshake out (--connect-timeout), say so, and retry or give up with 69 by
# --retries; a silent open connection is dropped after missed pongs
# (--ping-interval) and the client reconnects and receives once the server
# is back.
. "$(dirname "$0")/../lib.sh"
fast=(--retry-min 0.1 --retry-max 0.2)

# A frozen broker: sub gives up after 1 + 2 attempts of 1 s each.
start_hostile mute || { fail "hostile server starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" --retries 2 --connect-timeout 1 "${fast[@]}" \
	>"$T/sub1.out" 2>"$T/sub1.err" &
SUB=$!; track $SUB
wait_pid $SUB 15
check_eq "sub --retries 2 against a frozen broker exits 69 in bounded time" "$RC" 69
check "…saying which connection had no handshake" \
	grep -q "connection to $HOSTILE_URL: no handshake within 1 s" "$T/sub1.err"
check_eq "…after exactly 3 attempts" "$(grep -c '^conn ' "$HOSTILE_LOG")" 3
check_eq "…and printed nothing" "$(lines "$T/sub1.out")" 0

# pub too (with a line waiting to go).
echo '{"type":"a"}' >"$T/in"
"$WSB_BIN/wsbridge-pub" --url "$HOSTILE_URL" --retries 1 --connect-timeout 0.5 "${fast[@]}" \
	<"$T/in" 2>"$T/pub1.err" &
PUB=$!; track $PUB
wait_pid $PUB 15
check_eq "pub --retries 1 against a frozen broker exits 69" "$RC" 69
check "…with the log line" grep -q "no handshake within 0.5 s" "$T/pub1.err"
stop $HOSTILE_PID

# A broker that is frozen once, then recovers: sub reconnects and receives.
start_hostile mute,ok || { fail "hostile server starts"; finish; }
"$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" --connect-timeout 1 --count 1 "${fast[@]}" \
	>"$T/sub2.out" 2>"$T/sub2.err" &
SUB=$!; track $SUB
wait_pid $SUB 15
check_eq "sub reconnects after a handshake timeout and exits 0 on --count" "$RC" 0
check "…with the message of the recovered broker" grep -q '"type":"hello"' "$T/sub2.out"
check "…and had logged the timeout and the retry" grep -q "no handshake within 1 s; retrying" "$T/sub2.err"
stop $HOSTILE_PID

# An open connection that goes silent (no data, no pong) is closed after 3
# ping intervals and retried; the next connection delivers.
start_hostile silent,ok || { fail "hostile server starts"; finish; }
t0=$(date +%s%N)
"$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" --ping-interval 1 --count 1 "${fast[@]}" \
	>"$T/sub3.out" 2>"$T/sub3.err" &
SUB=$!; track $SUB
wait_pid $SUB 20
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "sub leaves a silent connection and exits 0 on the next one" "$RC" 0
check "…which delivered" grep -q '"type":"hello"' "$T/sub3.out"
check "…after pinging the silent one" hostile_saw '^ping 1'
check "…and saying why it left" grep -q "connection to $HOSTILE_URL: no pong within 3 s" "$T/sub3.err"
check "…within 2-8 s (3 intervals of 1 s)" test "$ms" -ge 2000 -a "$ms" -le 8000
stop $HOSTILE_PID

# Option checks.
"$WSB_BIN/wsbridge-sub" --connect-timeout 0 2>"$T/e1"
check_eq "--connect-timeout 0 is a usage error" "$?" 64
"$WSB_BIN/wsbridge-sub" --ping-interval 0.5 2>"$T/e2"
check_eq "--ping-interval under 1 s is a usage error" "$?" 64
finish
