#!/usr/bin/env bash
# tests/bench/cluster.sh — `make bench`'s cluster rows (issue 13): the same
# loads as bench.sh's, through two wsbridge-serve instances on one
# redis-server (127.0.0.1, no persistence), beside one instance alone:
#
# (d) fan-out: wsb-load's publisher on instance A, its SUBS subscribers on
#     instance B (every message goes A → Redis → B), MSGS messages of 200 B;
#     deliveries/s, latency p50/p99, loss. Once as fast as the socket takes,
#     once paced at RATE msgs/s, and the paced run also on one instance
#     alone: the difference of the p50/p99 is what the cluster adds.
# (e) pipeline: LINES lines, wsbridge-pub → A, B → wsbridge-sub --count;
#     msgs/s from the publisher's start to the subscriber's exit.
#
# Callable on its own or from bench.sh / make bench. Environment as bench.sh:
# WSB_BIN, WSB_TESTBIN, BENCH_RUNS (3), BENCH_LINES (200000), BENCH_SUBS
# (100), BENCH_MSGS (20000), BENCH_RATE (10000), BENCH_TIMEOUT (30 s per
# run). Every process started here is stopped by PID; waits are bounded.
# Exit status: 0, or 1 when a run lost messages or did not complete.
set -u
: "${WSB_BIN:?set WSB_BIN to the folder with the wsbridge binaries}"
: "${WSB_TESTBIN:?set WSB_TESTBIN to the folder with the test binaries}"
RUNS=${BENCH_RUNS:-3}
LINES=${BENCH_LINES:-200000}
SUBS=${BENCH_SUBS:-100}
MSGS=${BENCH_MSGS:-20000}
RATE=${BENCH_RATE:-10000}
TMO=${BENCH_TIMEOUT:-30}
LOAD=$WSB_TESTBIN/tools/wsb-load
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/wsb-bench-cluster.XXXXXX")
_pids=()
problems=0

track() { _pids+=("$1"); }
cleanup() {
	local p
	for p in "${_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v redis-server >/dev/null || { echo "cluster bench: redis-server missing (scripts/install-deps.sh bench)" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "cluster bench: $LOAD missing (run make)" >&2; exit 1; }

now_ns() { date +%s%N; }
poll() {
	local deadline=$(($(now_ns) + $1 * 1000000000))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(now_ns)" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}
stop() {
	kill -TERM "$1" 2>/dev/null
	poll 5 sh -c "! kill -0 $1 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$1/stat)\" = Z ]" ||
		kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# up: a fresh redis-server and instances A and B on it (or A alone with
# "single"); sets RPID APID BPID APORT BPORT. 0, or 1 with a line said.
up() {
	local rport i err
	APID= BPID= RPID=
	rport=$(free_port)
	redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" \
		--logfile "$T/redis.log" >/dev/null 2>&1 &
	RPID=$!; track $RPID
	poll 10 sh -c "redis-cli -p $rport ping | grep -q PONG" || { echo "  redis did not start"; return 1; }
	for i in A B; do
		[ "$1" = single ] && [ $i = B ] && break
		err=$T/serve.$i.err
		if [ "$1" = single ]; then
			"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 2>"$err" &
		else
			"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --cluster "redis://127.0.0.1:$rport" 2>"$err" &
		fi
		eval "${i}PID=$!"; track $!
		poll 10 grep -q 'listening on' "$err" || { echo "  instance $i did not start: $(head -c 300 "$err")"; return 1; }
		eval "${i}PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$err" | head -1)"
	done
	[ "$1" = single ] && BPORT=$APORT
	poll 10 curl -sf -o /dev/null "http://127.0.0.1:$BPORT/health"
}

down() {
	[ -n "$BPID" ] && [ "$BPID" != "$APID" ] && stop "$BPID"
	[ -n "$APID" ] && stop "$APID"
	[ -n "$RPID" ] && stop "$RPID"
}

# fanout MODE [WSB-LOAD ARGS...]: RUNS runs, a line each and the median.
fanout() {
	local mode=$1 i line rc dps=() p50=() p99=()
	shift
	for ((i = 1; i <= RUNS; i++)); do
		up "$mode" || { problems=$((problems + 1)); down; continue; }
		line=$(timeout -k 2 $((TMO + 10)) "$LOAD" fanout --url "ws://127.0.0.1:$BPORT/ws" \
			--pub-url "ws://127.0.0.1:$APORT/ws" --subs "$SUBS" --messages "$MSGS" --size 200 \
			--timeout "$TMO" "$@" 2>"$T/load.err")
		rc=$?
		down
		get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		if [ -z "$line" ]; then
			echo "  run $i  wsb-load failed (exit $rc): $(head -c 300 "$T/load.err")"
			problems=$((problems + 1))
			continue
		fi
		printf '  run %d  %10s deliveries/s  p50 %8s ms  p99 %8s ms  loss %s  out_of_order %s\n' "$i" \
			"$(get deliveries_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$(get loss)" "$(get out_of_order)"
		[ "$rc" -ne 0 ] && { echo "         LOSS or disorder: $line"; problems=$((problems + 1)); }
		dps+=("$(get deliveries_per_s)") p50+=("$(get p50_ms)") p99+=("$(get p99_ms)")
	done
	MED_P50=$(median "${p50[@]}") MED_P99=$(median "${p99[@]}")
	[ ${#dps[@]} -gt 0 ] && printf '  MEDIAN %9s deliveries/s  p50 %8s ms  p99 %8s ms\n' \
		"$(median "${dps[@]}")" "$MED_P50" "$MED_P99"
}

pipeline() {
	local i t0 t1 rc rates=()
	seq "$LINES" | awk '{ printf "{\"type\":\"bench\",\"data\":{\"i\":%d,\"pad\":\"%0150d\"}}\n", $1, 0 }' >"$T/lines"
	for ((i = 1; i <= RUNS; i++)); do
		up cluster || { problems=$((problems + 1)); down; continue; }
		timeout -k 2 $((TMO + 10)) "$WSB_BIN/wsbridge-sub" --url "ws://127.0.0.1:$BPORT/ws" --count "$LINES" \
			--timeout "$TMO" >/dev/null 2>"$T/sub.err" &
		local sub=$!
		poll 10 sh -c "curl -sf http://127.0.0.1:$BPORT/health | grep -q '\"subscribers\":1'"
		t0=$(now_ns)
		timeout -k 2 $((TMO + 10)) "$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$APORT/ws" <"$T/lines" 2>"$T/pub.err"
		wait $sub
		rc=$?
		t1=$(now_ns)
		down
		if [ "$rc" -ne 0 ]; then
			echo "  run $i  sub did not get all $LINES (exit $rc): $(tail -c 300 "$T/sub.err")"
			problems=$((problems + 1))
			continue
		fi
		rates+=("$(awk -v n="$LINES" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')")
		printf '  run %d  %10s msgs/s\n' "$i" "${rates[-1]}"
	done
	[ ${#rates[@]} -gt 0 ] && printf '  MEDIAN %9s msgs/s\n' "$(median "${rates[@]}")"
}

echo "(d) cluster fan-out: publisher on instance A, $SUBS subscribers on instance B, one redis-server, $MSGS × 200 B"
echo "    publisher paced only by its socket:"
fanout cluster
echo "    paced at $RATE msgs/s, through the cluster:"
fanout cluster --rate "$RATE"
c50=$MED_P50 c99=$MED_P99
echo "    paced at $RATE msgs/s, one instance alone (no Redis):"
fanout single --rate "$RATE"
echo "    added by the cluster at $RATE msgs/s: p50 $(awk -v a="$c50" -v b="$MED_P50" 'BEGIN { printf "%+.3f", a - b }') ms," \
	"p99 $(awk -v a="$c99" -v b="$MED_P99" 'BEGIN { printf "%+.3f", a - b }') ms"
echo
echo "(e) cluster pipeline: $LINES lines, wsbridge-pub → A → Redis → B → wsbridge-sub"
pipeline
echo
[ "$problems" -eq 0 ]
