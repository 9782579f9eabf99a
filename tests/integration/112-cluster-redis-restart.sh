#!/usr/bin/env bash
# Redis stopped and restarted mid-stream (with its data: appendonly, fsync
# always): the instances report degraded and keep their clients, the
# publisher is paused, not failed, the instances come back to ok by
# themselves and read the stream on from where they were: the subscriber
# gets every message once, without a gap. Then Redis restarted empty (its
# data lost): the promise is a gap record with reason "cluster", never a
# silent hole.
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"
K=1000 N=2000
retry=(--retry-min 0.1 --retry-max 0.5)
persist=(--appendonly yes --appendfsync always)

start_redis "${persist[@]}" || { fail "redis starts"; finish; }
start_instance A --cluster-timeout 30 || { fail "instance A starts"; finish; }
start_instance B --cluster-timeout 30 || { fail "instance B starts"; finish; }
check "both ok" wait_cluster A ok && wait_cluster B ok

"$WSB_BIN/wsbridge-sub" --url "$B_WS" "${retry[@]}" --count $N --timeout 90 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
check "sub is on B" wait_subs B 1

seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' >"$T/in"
mkfifo "$T/fifo"
"$WSB_BIN/wsbridge-pub" --url "$A_WS" "${retry[@]}" --producer rr <"$T/fifo" 2>"$T/pub.err" &
PUB=$!; track $PUB
exec 3>"$T/fifo"
sed -n "1,${K}p" "$T/in" >&3
wait_lines "$T/sub.out" $K 20 || fail "sub gets the first $K" "got $(lines "$T/sub.out")"

stop_redis
check_eq "redis stopped" "$RC" 0
check "A reports the cluster degraded" wait_cluster A degraded
check "B reports the cluster degraded" wait_cluster B degraded
check_eq "/health status degraded meanwhile" "$(field_of A status)" degraded
# Written while Redis is away: held, the publisher paused, nobody closed.
sed -n "$((K + 1)),${N}p" "$T/in" >&3 &
WRITER=$!; track $WRITER
check "A holds what arrives (publishers paused)" poll 10 _field_is A publishers_paused true
check_eq "the subscriber stays connected to B" "$(field_of B subscribers)" 1
check "the publisher is still running" kill -0 $PUB

start_redis "${persist[@]}" 3>&- || { fail "redis restarts"; finish; }	# not holding pub's input
check "A back to ok by itself" wait_cluster A ok 20
check "B back to ok by itself" wait_cluster B ok 20
wait_pid $WRITER 30
exec 3>&-
wait_pid $PUB 60
check_eq "pub exits 0: paused, not failed" "$RC" 0
wait_pid $SUB 60
check_eq "sub gets all $N" "$RC" 0
jq -r 'select(.type == "t") | .data.n' <"$T/sub.out" >"$T/got"
check "every message exactly once, in order" cmp "$T/got" <(seq $N)
check_eq "no gap: Redis kept its data" "$(grep -c '"type":"gap"' "$T/sub.out")" 0

# Redis comes back empty: what it had acknowledged may be gone, and every
# subscriber is told so in-band.
"$WSB_BIN/wsbridge-sub" --url "$B_WS" "${retry[@]}" --count 1 --timeout 60 >"$T/sub2.out" 2>"$T/sub2.err" &
SUB2=$!; track $SUB2
check "second sub is on B" wait_subs B 1
stop_redis
rm -rf "$T/redis"
start_redis || { fail "redis restarts empty"; finish; }
check "B back to ok after the loss" wait_cluster B ok 20
echo '{"type":"after"}' | "$WSB_BIN/wsbridge-pub" --url "$A_WS" "${retry[@]}" 2>"$T/pub2.err"
check_eq "a publish after the loss is accepted" "$?" 0
wait_pid $SUB2 30
check_eq "sub gets the gap record and the new message" "$RC" 0
check_eq "the gap says cluster, from after the last seq it had" \
	"$(jq -c 'select(.type == "gap") | [.reason, .from]' <"$T/sub2.out")" "[\"cluster\",$((N + 1))]"
check_eq "numbering goes on after it: one epoch, no seq repeated" "$(jq -c 'select(.type == "after") | .seq' <"$T/sub2.out")" $((N + 1))
for i in A B; do
	stop "$(eval "echo \$${i}_PID")"
	check_eq "instance $i exits 0 on SIGTERM" "$RC" 0
done
finish
