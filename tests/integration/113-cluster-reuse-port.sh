#!/usr/bin/env bash
# Two instances with --reuse-port listen on one port (SO_REUSEPORT): the
# kernel spreads connections over both, and Redis carries the messages, so
# they serve one fan-out together. Without --reuse-port the second one
# cannot listen there.
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"
N=500 SUBS=16

start_redis || { fail "redis starts"; finish; }
A_PORT=$(free_port)
B_PORT=$A_PORT
start_instance A --reuse-port || { fail "instance A starts with --reuse-port"; finish; }
start_instance B --reuse-port || { fail "instance B starts on the same port"; finish; }
check_eq "both listen on one port" "$A_PORT" "$B_PORT"
check "both instances: cluster ok" wait_cluster A ok && wait_cluster B ok
"$WSB_BIN/wsbridge-serve" --listen "127.0.0.1:$A_PORT" --cluster "$REDIS_URL" 2>"$T/third.err" &
THIRD=$!; track $THIRD
wait_pid $THIRD 10
check_eq "without --reuse-port the port is taken (exit 69)" "$RC" 69

# Which instance answers is the kernel's choice: /health names the epoch
# and seq it sees, and both counted connections prove both serve.
for i in $(seq $SUBS); do
	# --from-start: one that joins after the first publish still gets it all
	"$WSB_BIN/wsbridge-sub" --url "$A_WS" --from-start --count $N --timeout 30 >"$T/sub.$i" 2>"$T/sub.$i.err" &
	track $!; eval "SUB_$i=$!"
done
_both_serve() {
	local a b
	a=$(redis-cli -p "$REDIS_PORT" zcard '{wsbridge}:instances')
	[ "$a" = 2 ] || return 1
	b=$(ss -Htnp state established "( sport = :$A_PORT )" 2>/dev/null | grep -o 'pid=[0-9]*' | sort -u | wc -l)
	[ "$b" -ge 2 ]
}
check "the kernel spread the $SUBS subscribers over both instances" poll 10 _both_serve
seq $N | sed 's/.*/{"type":"t","data":{"n":&}}/' | "$WSB_BIN/wsbridge-pub" --url "$A_WS" --producer rp 2>"$T/pub.err"
check_eq "pub through the shared port exits 0" "$?" 0
for i in $(seq $SUBS); do
	wait_pid "$(eval "echo \$SUB_$i")" 30
	check_eq "subscriber $i gets all $N" "$RC" 0
done
ok=1
for i in $(seq 2 $SUBS); do cmp -s "$T/sub.1" "$T/sub.$i" || ok=0; done
check_eq "every subscriber got the same stream, whichever instance it was on" $ok 1
stop "$A_PID"
check_eq "A exits 0 on SIGTERM" "$RC" 0
stop "$B_PID"
check_eq "B exits 0 on SIGTERM" "$RC" 0
finish
