#!/usr/bin/env bash
# -q silences progress and warnings, never the reason for a non-zero exit
# (like curl -sS): the last trouble is repeated in the one error line.
# Also: "1 line queued" (not "1 lines"), and a retry that would come after
# the --linger deadline is announced as giving up, not as a retry.
. "$(dirname "$0")/../lib.sh"

# A port nothing listens on: one a server had and gave back.
start_serve || { fail "serve starts"; finish; }
DEAD="ws://127.0.0.1:$PORT/ws"
stop "$SERVE_PID"

echo '{"type":"a"}' | timeout -k 2 20 "$WSB_BIN/wsbridge-pub" -q --url "$DEAD" --linger 1 \
	--retry-min 0.3 --retry-max 0.4 2>"$T/pq.err"
check_eq "pub -q: unacknowledged at --linger exits 75" "$?" 75
check_eq "... with one stderr line" "$(lines "$T/pq.err")" 1
check "... that names the cause" grep -q "not acknowledged.*last trouble: cannot connect to $DEAD: connection refused" "$T/pq.err"

echo '{"type":"a"}' | timeout -k 2 20 "$WSB_BIN/wsbridge-pub" --url "$DEAD" --linger 1 \
	--retry-min 0.3 --retry-max 0.4 2>"$T/pv.err"
check "without -q: '1 line queued'" grep -q "with 1 line queued" "$T/pv.err"
check "... never '1 lines'" test "$(grep -c '1 lines' "$T/pv.err")" -eq 0
check "a retry past --linger says giving up" grep -q "giving up in [0-9.]*s (--linger) with 1 line queued" "$T/pv.err"

# sub -q --count that times out while the broker is away says why.
PORT=
start_serve || fail "serve starts again"
"$WSB_BIN/wsbridge-sub" -q --url "$WS_URL" --count 5 --timeout 3 --retry-min 0.2 --retry-max 0.3 \
	>"$T/sq.out" 2>"$T/sq.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub connects"
stop "$SERVE_PID"
wait_pid $SUB 20
check_eq "sub -q --count: timeout exits 75" "$RC" 75
check_eq "... with one stderr line" "$(lines "$T/sq.err")" 1
check "... naming the lost connection" grep -q "timeout: 0 of 5 messages in 3s; last trouble: .*$WS_URL" "$T/sq.err"
finish
