#!/usr/bin/env bash
# A broker that accepts the connection and then refuses every publish
# (cluster down: UNAVAILABLE) is met with the growing delay of a refused
# connect: opening proves nothing, an acknowledgement does. It used to reset
# the backoff at every open and reconnect each --retry-min forever. The
# refusals count against --retries too; once Redis is back, pub delivers.
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"
retry=(--retry-min 0.1 --retry-max 4)
WINDOW=6

start_redis || { fail "redis starts"; finish; }
start_instance A --cluster-timeout 1 || { fail "instance A starts"; finish; }
check "cluster ok" wait_cluster A ok
stop_redis
check "past --cluster-timeout the cluster is down" wait_cluster A down 10

# pub's stderr, each line stamped with the monotonic clock when it came.
mkfifo "$T/fifo" "$T/err.fifo"
"$PY" -u -c 'import sys, time
for l in sys.stdin: print("%.3f %s" % (time.monotonic(), l), end="", flush=True)' <"$T/err.fifo" >"$T/stamped" &
track $!
"$WSB_BIN/wsbridge-pub" --url "$A_WS" "${retry[@]}" --producer bo <"$T/fifo" 2>"$T/err.fifo" &
PUB=$!; track $PUB
exec 3>"$T/fifo"
echo '{"type":"t","data":{"n":1}}' >&3

refusals() { grep 'cannot publish now (UNAVAILABLE' "$T/stamped" | cut -d' ' -f1; }
# The window is read from the stamps: done once a refusal came WINDOW s
# after the first (with the old reset that took ~60 refusals, now ~7).
_window_seen() {
	refusals | awk -v w=$WINDOW 'NR == 1 { f = $1 } $1 - f >= w { ok = 1 } END { exit !ok }'
}
check "pub is refused, and keeps trying past a ${WINDOW}s window" poll 40 _window_seen
n=$(refusals | awk -v w=$WINDOW 'NR == 1 { f = $1 } $1 - f < w { n++ } END { print n }')
# 0.1 s doubling (x0.8..1.2) to 4 s: at most 8 in 6 s; at 0.1 s, 40 or more.
check "few refusals within ${WINDOW}s: the delay grows (got $n)" test "$n" -le 10
check "... more than a couple (got $n)" test "$n" -ge 4
gaps=$(refusals | awk 'NR > 1 { printf "%.3f ", $1 - p } { p = $1 }')
check "the 5th wait is longer than the 1st ($gaps)" \
	awk -v g="$gaps" 'BEGIN { split(g, a, " "); exit !(a[5] > 2 * a[1]) }'

# --retries counts the refusals like refused connects: 69 naming the cause.
echo '{"type":"t","data":{"n":2}}' >"$T/one"
"$WSB_BIN/wsbridge-pub" --url "$A_WS" "${retry[@]}" --retries 2 --producer r2 <"$T/one" 2>"$T/r2.err" &
R2=$!; track $R2
wait_pid $R2 30
check_eq "--retries 2: pub gives up with 69" "$RC" 69
check_eq "... after three refused connections" "$(grep -c 'cannot publish now (UNAVAILABLE' "$T/r2.err")" 3
check "... naming UNAVAILABLE in its last line" sh -c "tail -1 '$T/r2.err' | grep -q UNAVAILABLE"

start_redis 3>&- || { fail "redis restarts"; finish; }
check "cluster ok again" wait_cluster A ok 20
exec 3>&-
wait_pid $PUB 30
check_eq "once Redis is back pub delivers and exits 0" "$RC" 0
stop "$A_PID"
finish
