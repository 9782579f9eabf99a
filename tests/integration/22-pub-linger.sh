#!/usr/bin/env bash
# The server is killed and never comes back: pub, retrying forever by
# default, waits --linger for acknowledgements after EOF, then exits 75 and
# names how many lines were not acknowledged and the first of them.
# With --retries exhausted first it exits 69 with the same report.
. "$(dirname "$0")/../lib.sh"
retry=(--retry-min 0.05 --retry-max 0.2)
msg() { seq "$1" "$2" | sed 's/.*/{"type":"t","data":{"n":&}}/'; }

start_serve || { fail "serve starts"; finish; }
mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --linger 2 <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"
msg 1 100 >&3
wait_health messages_in 100 || fail "serve gets the first 100"
kill -KILL $SERVE_PID
wait_pid $SERVE_PID 10
check "pub notices the server is gone" poll 10 grep -q disconnected "$T/pub.err"
msg 101 150 >&3
t0=$(date +%s%N)
exec 3>&-
wait_pid $PUB 15
t1=$(date +%s%N)
check_eq "pub exits 75" "$RC" 75
ms=$(((t1 - t0) / 1000000))
check "pub waited about --linger 2 (${ms} ms)" test "$ms" -ge 1800 -a "$ms" -le 5000
report=$(sed -n 's/.*error: \([0-9]*\) lines not acknowledged, first: stdin:\([0-9]*\).*/\1 \2/p' "$T/pub.err")
check "pub reports the count and the first line" test -n "$report"
read -r count first <<<"$report"
# Lines 101..150 were never sent to a live server; acks of the first 100
# may have been cut by the kill, in which case the count is larger.
check "the count and the first line agree (${count:-?} from line ${first:-?})" \
	test "${count:-0}" -ge 50 -a "$((${count:-0} + ${first:-0} - 1))" -eq 150

# --retries: no server at all, 2 failed attempts, then 69 with the report.
msg 1 3 | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --retries 2 2>"$T/pub2.err"
check_eq "pub exits 69 when --retries is exhausted" "$?" 69
check "and still reports what was not acknowledged" grep -q '3 lines not acknowledged, first: stdin:1' "$T/pub2.err"
finish
