#!/usr/bin/env bash
# Redis away longer than --cluster-timeout: the instance stops holding
# publishes and refuses them with an error UNAVAILABLE (cluster "down");
# wsbridge-pub takes that as retryable (it reconnects and resends, never
# gives up on it), and once Redis is back every line arrives exactly once.
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"
K=300 N=600
retry=(--retry-min 0.1 --retry-max 0.3)
persist=(--appendonly yes --appendfsync always)

start_redis "${persist[@]}" || { fail "redis starts"; finish; }
start_instance A --cluster-timeout 1 || { fail "instance A starts"; finish; }
check "cluster ok" wait_cluster A ok

"$WSB_BIN/wsbridge-sub" --url "$A_WS" "${retry[@]}" --count $N --timeout 60 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
check "sub is on A" wait_subs A 1
seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' >"$T/in"
mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$A_WS" "${retry[@]}" --producer un <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"
sed -n "1,${K}p" "$T/in" >&3
wait_lines "$T/sub.out" $K 20 || fail "sub gets the first $K" "got $(lines "$T/sub.out")"

stop_redis
check "past --cluster-timeout the cluster is down" wait_cluster A down 10
sed -n "$((K + 1)),${N}p" "$T/in" >&3 &
WRITER=$!; track $WRITER
check "pub is told UNAVAILABLE and resends, not gives up" \
	poll 15 grep -q 'cannot publish now (UNAVAILABLE.*reconnecting to send' "$T/pub.err"
check "the publisher is still running" kill -0 $PUB
check_eq "the subscriber stays connected" "$(field_of A subscribers)" 1

start_redis "${persist[@]}" 3>&- || { fail "redis restarts"; finish; }	# not holding pub's input
check "cluster ok again" wait_cluster A ok 20
wait_pid $WRITER 30
exec 3>&-
wait_pid $PUB 60
check_eq "pub exits 0" "$RC" 0
wait_pid $SUB 60
check_eq "sub gets all $N" "$RC" 0
jq -r 'select(.type == "t") | .data.n' <"$T/sub.out" >"$T/got"
check "every line exactly once, in order" cmp "$T/got" <(seq $N)
stop "$A_PID"
check_eq "A exits 0 on SIGTERM" "$RC" 0
finish
