#!/usr/bin/env bash
# The latency scenario's measuring client (issue 12: tests/tools/wsb-load,
# which make bench's latency figure comes from) tells the server's part of
# a delivery's latency from its own. With --rate each delivery is also
# timed to the kernel's receive timestamp of the read that brought it
# (the bytes in the subscriber's socket), and the client reports its own
# CPU time: a message is in the socket before this one process reads it,
# so sock_p50/p99/max never exceed p50/p99/max, and every delivery is
# timed (the figure is printed only then). Without --rate nothing changes
# (no sock_ figures: fan-out's reads stay plain recv()).
# With --rate the client runs its own epoll loop rather than lws's (the
# measuring side's CPU was more than the broker's): loop=epoll, the same
# promises; --loop lws keeps the old loop, and --loop epoll works unpaced.
. "$(dirname "$0")/../lib.sh"

start_serve --max-queue 64M || { fail "serve starts"; finish; }
line=$(timeout 70 "$WSB_TESTBIN/tools/wsb-load" fanout --url "$WS_URL" --subs 20 --messages 2000 --size 200 \
	--rate 5000 --timeout 60 2>"$T/load.err")
get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check "paced run: no loss, in order ($line $(head -c 300 "$T/load.err"))" \
	test "$(get loss)" = 0 -a "$(get out_of_order)" = 0 -a "$(get deliveries)" = 40000
check "client_cpu_s reported: $(get client_cpu_s)" test -n "$(get client_cpu_s)"
check "paced run: the client's own epoll loop (loop=$(get loop))" test "$(get loop)" = epoll
check "sock_p50_ms, sock_p99_ms, sock_max_ms reported" \
	test -n "$(get sock_p50_ms)" -a -n "$(get sock_p99_ms)" -a -n "$(get sock_max_ms)"
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && b != "" && a + 0 <= b + 0)}'; }
check "in the socket no later than read: sock_p50 $(get sock_p50_ms) <= p50 $(get p50_ms)" le "$(get sock_p50_ms)" "$(get p50_ms)"
check "sock_p99 $(get sock_p99_ms) <= p99 $(get p99_ms)" le "$(get sock_p99_ms)" "$(get p99_ms)"
check "sock_max $(get sock_max_ms) <= max $(get max_ms)" le "$(get sock_max_ms)" "$(get max_ms)"

line=$(timeout 70 "$WSB_TESTBIN/tools/wsb-load" fanout --url "$WS_URL" --subs 5 --messages 2000 --size 200 \
	--timeout 60 2>"$T/load2.err")
check "unpaced run: no loss ($line)" test "$(get loss)" = 0 -a "$(get out_of_order)" = 0
check "unpaced run: no sock_ figures" test -z "$(get sock_p99_ms)"
check "unpaced run: lws's loop by default (loop=$(get loop))" test "$(get loop)" = lws

line=$(timeout 70 "$WSB_TESTBIN/tools/wsb-load" fanout --url "$WS_URL" --subs 5 --messages 2000 --size 200 \
	--rate 5000 --loop lws --timeout 60 2>"$T/load3.err")
check "paced run, --loop lws: no loss, timed ($line)" test "$(get loss)" = 0 -a "$(get out_of_order)" = 0 \
	-a "$(get loop)" = lws -a -n "$(get sock_p99_ms)"
line=$(timeout 70 "$WSB_TESTBIN/tools/wsb-load" fanout --url "$WS_URL" --subs 5 --messages 2000 --size 200 \
	--loop epoll --timeout 60 2>"$T/load4.err")
check "unpaced run, --loop epoll: no loss ($line)" test "$(get loss)" = 0 -a "$(get out_of_order)" = 0 \
	-a "$(get deliveries)" = 10000 -a "$(get loop)" = epoll -a -z "$(get sock_p99_ms)"
# the publisher elsewhere (cluster.sh's --pub-url): here the same broker by another name
line=$(timeout 70 "$WSB_TESTBIN/tools/wsb-load" fanout --url "$WS_URL" --pub-url "ws://localhost:${WS_URL#ws://127.0.0.1:}" \
	--subs 5 --messages 2000 --size 200 --rate 5000 --timeout 60 2>"$T/load5.err")
check "paced run, --pub-url: no loss, own loop ($line $(head -c 300 "$T/load5.err"))" test "$(get loss)" = 0 \
	-a "$(get out_of_order)" = 0 -a "$(get deliveries)" = 10000 -a "$(get loop)" = epoll
timeout 10 "$WSB_TESTBIN/tools/wsb-load" idle --url "$WS_URL" --subs 1 --loop epoll --timeout 5 >/dev/null 2>&1
check "--loop epoll is not for idle: usage (64)" test $? = 64
stop $SERVE_PID
finish
