#!/usr/bin/env bash
# tests/bench/bench.sh — `make bench`: the benchmarks of issue 2, on 127.0.0.1.
#
# (a) Pipeline: LINES lines of ~200-byte JSON through
#       wsbridge-pub → wsbridge-serve → wsbridge-sub --count LINES > /dev/null
#     and the same through
#       mosquitto_pub -l → mosquitto → mosquitto_sub -C LINES (QoS 0) > /dev/null
#     timed from the publisher's start to the subscriber's exit; msgs/s, peak
#     RSS of the three processes, and the ratio wsbridge/mosquitto (target ≥ 1).
# (b) Fan-out: wsbridge-serve and wsb-load (tests/tools): 1 publisher,
#     SUBS subscribers × MSGS messages of 200 B; deliveries/s, latency
#     p50/p99 and loss; once as fast as the socket takes, once paced at RATE
#     msgs/s to show latency below saturation.
# (c) Durable pipeline: the same LINES lines with acknowledgements (pub waits
#     for every ack before it exits) through
#       wsbridge-serve --journal DIR --fsync batch
#     and through mosquitto at QoS 1 with persistence on (persistence_location
#     on the same filesystem as the journal, autosave_interval default);
#     msgs/s, broker RSS, the ratio (target ≥ 1). Both runs must deliver
#     every line: wsbridge's /health durable_seq must reach LINES.
#     Not like for like in mosquitto's favour: its persistence writes a
#     snapshot every autosave_interval (30 min) and at exit, not each
#     message, while the journal is written and fsynced every 10 ms before
#     the acks go out.
# Each scenario runs RUNS times with fresh servers; the report gives every run
# and the median. Every wait is bounded and polls (no fixed sleeps); every
# process started here is stopped by PID on exit.
#
# Environment: WSB_BIN (the wsbridge binaries), WSB_TESTBIN (build/rel/tests,
# for tools/wsb-load); optional BENCH_RUNS (3), BENCH_LINES (200000),
# BENCH_SUBS (100), BENCH_MSGS (20000), BENCH_RATE (10000 msgs/s for the
# paced fan-out run), BENCH_TIMEOUT (30 s per run), BENCH_DURABLE_TIMEOUT (90 s
# per run of (c): mosquitto QoS 1 is slow), BENCH_DURABLE_DIR (where (c)
# puts the journal and mosquitto's persistence; default: the temporary
# folder), BENCH_DURABLE_SERVE_ARGS (more wsbridge-serve options for (c),
# e.g. "--max-queue 4M"), BENCH_SCENARIOS (which of "a b c" to run; default all).
# Exit status: 0, or 1 when a run lost messages or did not complete.
set -u
: "${WSB_BIN:?set WSB_BIN to the folder with the wsbridge binaries}"
: "${WSB_TESTBIN:?set WSB_TESTBIN to the folder with the test binaries}"
RUNS=${BENCH_RUNS:-3}
LINES=${BENCH_LINES:-200000}
SUBS=${BENCH_SUBS:-100}
MSGS=${BENCH_MSGS:-20000}
TMO=${BENCH_TIMEOUT:-30}
RATE=${BENCH_RATE:-10000}
TMO_DUR=${BENCH_DURABLE_TIMEOUT:-90}
SCENARIOS=" ${BENCH_SCENARIOS:-a b c} "
want() { [ -z "${SCENARIOS##* $1 *}" ]; }
LOAD=$WSB_TESTBIN/tools/wsb-load
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
GNU_TIME=
[ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && GNU_TIME=/usr/bin/time

T=$(mktemp -d "${TMPDIR:-/tmp}/wsb-bench.XXXXXX")
DUR=$(mktemp -d "${BENCH_DURABLE_DIR:-$T}/wsb-durable.XXXXXX") || { echo "bench: cannot create a folder in ${BENCH_DURABLE_DIR:-$T}" >&2; exit 1; }
_pids=()
problems=0

track() { _pids+=("$1"); }
cleanup() {
	local p
	for p in "${_pids[@]}"; do
		# A tracked PID may be GNU time's: TERM its child too (timeout
		# passes TERM on to the command it runs).
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$DUR" "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }
for b in wsbridge-serve wsbridge-pub wsbridge-sub; do
	[ -x "$WSB_BIN/$b" ] || die "$WSB_BIN/$b missing (run make)"
done
[ -x "$LOAD" ] || die "$LOAD missing (run make)"
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || die "mosquitto missing (scripts/install-deps.sh bench)"
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
{ command -v mosquitto_pub && command -v mosquitto_sub; } >/dev/null || die "mosquitto-clients missing"
command -v curl >/dev/null || die "curl missing"

now_ns() { date +%s%N; }

# poll SECONDS CMD...: retry CMD every 10 ms until it succeeds or time is up.
poll() {
	local deadline=$(($(now_ns) + $1 * 1000000000))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(now_ns)" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

# wait_exit PID: waits for a child (all measured commands run under
# `timeout`, so this is bounded); its status in $WAIT_RC. A plain `wait`
# costs no CPU while the benchmark runs, unlike a polling loop.
wait_exit() {
	wait "$1"
	WAIT_RC=$?
}

# stop PID: SIGTERM, then SIGKILL if it is still there after 5 s.
stop() {
	kill -TERM "$1" 2>/dev/null
	poll 5 sh -c "! kill -0 $1 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$1/stat)\" = Z ]" ||
		kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# measured NAME INPUT OUTPUT CMD...: runs CMD in the background with stdin
# from INPUT and stdout to OUTPUT (PID in $MPID), peak RSS in KB later in
# $T/NAME.rss: from GNU time when present, else sampled VmHWM.
measured() {
	local name=$1 input=$2 output=$3
	shift 3
	rm -f "$T/$name.rss"
	# timeout bounds every wait; its exit status is 124 when it fired.
	if [ -n "$GNU_TIME" ]; then
		"$GNU_TIME" -f %M -o "$T/$name.rss" timeout -k 2 $((TMO + 10)) "$@" <"$input" >"$output" &
		MPID=$!
	else
		timeout -k 2 $((TMO + 10)) "$@" <"$input" >"$output" &
		MPID=$!
		(
			# $MPID is timeout's; the command is its child.
			while kill -0 "$MPID" 2>/dev/null; do
				for c in $(pgrep -P "$MPID"); do
					h=$(hwm_kb "$c")
					[ -n "$h" ] && [ "$h" != 0 ] && echo "$h" >"$T/$name.rss"
				done
				sleep 0.05
			done
		) &
		track $!
	fi
	track "$MPID"
}
rss_of() { tail -1 "$T/$1.rss" 2>/dev/null | tr -dc 0-9 || true; }
mb() { awk -v k="${1:-0}" 'BEGIN {printf "%.1f", k / 1024}'; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# ---------------------------------------------------------------- data
DATA=$T/ticks.ndjson
awk -v n="$LINES" 'BEGIN {
	split("EURUSD GBPUSD USDJPY AUDUSD USDCHF XAUUSD", sym, " ")
	pad = sprintf("%200s", ""); gsub(/ /, "x", pad)
	srand(42)
	for (i = 0; i < n; i++) {
		bid = 1 + rand()
		line = sprintf("{\"type\":\"tick\",\"data\":{\"symbol\":\"%s\",\"bid\":%.5f,\"ask\":%.5f,\"n\":%d,\"venue\":\"LMAX\",\"pad\":\"", sym[i % 6 + 1], bid, bid + 0.0002, i)
		print line substr(pad, 1, 197 - length(line)) "\"}}"
	}
}' >"$DATA" || die "cannot write $DATA"
data_bytes=$(wc -c <"$DATA")

echo "wsbridge benchmark — $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "data: $LINES lines, $data_bytes bytes ($((data_bytes / LINES)) B/line with newline); $RUNS runs per scenario, median reported"
[ -n "$GNU_TIME" ] || echo "note: /usr/bin/time (Debian package 'time') not found; client RSS is sampled VmHWM"
echo

# ---------------------------------------------------------------- (a) wsbridge
# One run; sets R_RATE R_WALL R_SRV R_PUB R_SUB R_OK R_NOTE.
SERVE_EXTRA=()	# more wsbridge-serve options, for (c)
run_wsbridge() {
	local err=$T/serve.err port url t0 t1 spid
	"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 "${SERVE_EXTRA[@]}" 2>"$err" &
	spid=$!
	track $spid
	poll 10 grep -q 'listening on' "$err" || { R_OK=0; R_NOTE="serve did not start: $(head -c 300 "$err")"; kill $spid; return; }
	port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$err" | head -1)
	url="ws://127.0.0.1:$port/ws"
	poll 10 curl -sf -o /dev/null "http://127.0.0.1:$port/health" || { R_OK=0; R_NOTE="/health never answered"; kill $spid; return; }
	measured sub /dev/null /dev/null "$WSB_BIN/wsbridge-sub" --url "$url" --count "$LINES" --timeout "$TMO" -q
	local subpid=$MPID
	poll 10 sh -c "curl -sf http://127.0.0.1:$port/health | grep -Eq '\"subscribers\":[1-9]'" ||
		{ R_OK=0; R_NOTE="subscriber never registered"; kill $spid; return; }
	t0=$(now_ns)
	measured pub "$DATA" /dev/null "$WSB_BIN/wsbridge-pub" --url "$url" -q
	local pubpid=$MPID
	wait_exit "$subpid"
	local subrc=$WAIT_RC
	t1=$(now_ns)
	wait_exit "$pubpid"
	local pubrc=$WAIT_RC
	R_SRV=$(hwm_kb $spid)
	R_SRVCPU=$(cpu_s $spid)
	R_HEALTH=$(curl -sf "http://127.0.0.1:$port/health")
	stop $spid
	R_WALL=$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f", d / 1e9}')
	R_RATE=$(awk -v d=$((t1 - t0)) -v n="$LINES" 'BEGIN {printf "%.0f", n / (d / 1e9)}')
	R_PUB=$(rss_of pub)
	R_SUB=$(rss_of sub)
	R_OK=1
	R_NOTE=
	if [ "$subrc" -ne 0 ]; then
		R_OK=0
		R_NOTE="sub exited $subrc (75 = fewer than $LINES messages within ${TMO}s); serve: $(hfield slow_consumers_closed) slow consumer(s) closed"
	elif [ "$pubrc" -ne 0 ]; then
		R_OK=0
		R_NOTE="pub exited $pubrc"
	fi
}

# ---------------------------------------------------------------- (a) mosquitto
run_mosquitto() {
	local port conf=$T/mosquitto.conf log=$T/mosquitto.log t0 t1 mpid
	port=$(free_port)
	printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type subscribe\n' \
		"$port" >"$conf"
	"$MOSQUITTO" -c "$conf" 2>"$log" &
	mpid=$!
	track $mpid
	poll 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { R_OK=0; R_NOTE="mosquitto did not start: $(head -c 300 "$log")"; kill $mpid; return; }
	measured msub /dev/null /dev/null mosquitto_sub -h 127.0.0.1 -p "$port" -t bench -q 0 -C "$LINES" -W "$TMO"
	local subpid=$MPID
	# log_type subscribe: "<time>: <client id> 0 bench" once the SUBSCRIBE is in.
	poll 10 grep -q ' 0 bench$' "$log" || { R_OK=0; R_NOTE="mosquitto_sub never subscribed"; kill $mpid; return; }
	t0=$(now_ns)
	measured mpub "$DATA" /dev/null mosquitto_pub -h 127.0.0.1 -p "$port" -t bench -q 0 -l
	local pubpid=$MPID
	wait_exit "$subpid"
	local subrc=$WAIT_RC
	t1=$(now_ns)
	wait_exit "$pubpid"
	local pubrc=$WAIT_RC
	R_SRV=$(hwm_kb $mpid)
	R_SRVCPU=$(cpu_s $mpid)
	stop $mpid
	R_WALL=$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f", d / 1e9}')
	R_RATE=$(awk -v d=$((t1 - t0)) -v n="$LINES" 'BEGIN {printf "%.0f", n / (d / 1e9)}')
	R_PUB=$(rss_of mpub)
	R_SUB=$(rss_of msub)
	R_OK=1
	R_NOTE=
	if [ "$subrc" -ne 0 ]; then
		R_OK=0
		R_NOTE="mosquitto_sub exited $subrc (27 = fewer than $LINES messages within ${TMO}s: QoS 0 loss)"
	elif [ "$pubrc" -ne 0 ]; then
		R_OK=0
		R_NOTE="mosquitto_pub exited $pubrc"
	fi
}

# pipeline NAME FUNC: RUNS runs, a line each, then the median line; the
# median rate in $MED_RATE.
pipeline() {
	local name=$1 fn=$2 i rates=() walls=() srv=() pub=() sub=() cpu=() ok=1
	for ((i = 1; i <= RUNS; i++)); do
		R_OK=0 R_RATE=0 R_WALL=0 R_SRV=0 R_PUB=0 R_SUB=0 R_SRVCPU=0 R_NOTE= R_EXTRA= R_HEALTH=
		"$fn"
		if [ "$R_OK" = 1 ]; then
			printf '  %-10s run %d  %10s msgs/s  %7ss  broker %5s MB %5ss cpu  pub %6s MB  sub %6s MB%s\n' \
				"$name" "$i" "$R_RATE" "$R_WALL" "$(mb "$R_SRV")" "$R_SRVCPU" "$(mb "$R_PUB")" "$(mb "$R_SUB")" "$R_EXTRA"
			rates+=("$R_RATE") walls+=("$R_WALL") srv+=("$R_SRV") pub+=("$R_PUB") sub+=("$R_SUB") cpu+=("$R_SRVCPU")
		else
			printf '  %-10s run %d  INCOMPLETE: %s\n' "$name" "$i" "$R_NOTE"
			ok=0
			problems=$((problems + 1))
		fi
	done
	if [ ${#rates[@]} -eq 0 ]; then
		MED_RATE=0
		printf '  %-10s median  no complete run\n' "$name"
		return
	fi
	MED_RATE=$(median "${rates[@]}")
	printf '  %-10s MEDIAN %10s msgs/s  %7ss  broker %5s MB %5ss cpu  pub %6s MB  sub %6s MB%s\n' \
		"$name" "$MED_RATE" "$(median "${walls[@]}")" "$(mb "$(median "${srv[@]}")")" "$(median "${cpu[@]}")" \
		"$(mb "$(median "${pub[@]}")")" "$(mb "$(median "${sub[@]}")")" "$([ $ok = 1 ] || echo '  (some runs incomplete)')"
}

# hfield NAME: a numeric field of the /health answer the last wsbridge run kept.
hfield() { printf '%s' "$R_HEALTH" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# ratio A B: "ratio wsbridge/mosquitto" line for two median rates.
ratio() {
	if [ "$2" != 0 ] && [ "$1" != 0 ]; then
		local r
		r=$(awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}')
		echo "  ratio wsbridge/mosquitto (median msgs/s): $r  (target >= 1: $(awk -v r="$r" 'BEGIN {print (r >= 1 ? "target met" : "TARGET MISSED")}'))"
	else
		echo "  ratio wsbridge/mosquitto: n/a (a side had no complete run)"
	fi
}

if want a; then
echo "(a) pipeline: $LINES lines, publisher → broker → subscriber (count $LINES, stdout /dev/null), QoS 0"
echo "    time = publisher start → subscriber exit; RSS = peak (VmHWM); broker cpu = user+sys"
pipeline wsbridge run_wsbridge
WSB_RATE=$MED_RATE
pipeline mosquitto run_mosquitto
MQ_RATE=$MED_RATE
ratio "$WSB_RATE" "$MQ_RATE"
echo
fi

# ---------------------------------------------------------------- (c) wsbridge durable
# run_wsbridge with a fresh journal under $DUR and --fsync batch; complete
# only if the server made all LINES durable.
run_wsbridge_journal() {
	local dur
	rm -rf "$DUR/journal"
	# shellcheck disable=SC2206
	SERVE_EXTRA=(--journal "$DUR/journal" --fsync batch ${BENCH_DURABLE_SERVE_ARGS:-})
	run_wsbridge
	SERVE_EXTRA=()
	dur=$(hfield durable_seq)
	R_EXTRA="  journal $(du -sm "$DUR/journal" 2>/dev/null | cut -f1) MB"
	if [ "$(hfield slow_consumers_closed)" != 0 ]; then
		R_EXTRA="$R_EXTRA  ($(hfield slow_consumers_closed) slow consumer close(s), sub resumed from history)"
	fi
	if [ "$R_OK" = 1 ] && [ "${dur:-0}" != "$LINES" ]; then
		R_OK=0
		R_NOTE="durable_seq ${dur:-?} at the end, want $LINES"
	fi
	rm -rf "$DUR/journal"
}

# ---------------------------------------------------------------- (c) mosquitto QoS 1
# mosquitto with persistence (in $DUR, next to the journal), QoS 1 both
# ways. Two departures from the defaults, both needed for a complete run:
# - max_queued_messages 0: the default (1000) makes the broker drop QoS 1
#   messages for a subscriber with 1000 queued, silently (measured here:
#   ~5 000 of 200 000 lost);
# - mosquitto_pub runs once per 50 000 lines: mosquitto_pub -l -q 1 (2.0.x)
#   exits 0 as soon as the PUBACK of the message id of its last line
#   arrives, and ids wrap at 65 535, so with 200 000 lines it stops after
#   the first 68 930 and drops the rest.
run_mosquitto_qos1() {
	local TMO=$TMO_DUR port conf=$T/mosquitto-q1.conf log=$T/mosquitto-q1.log t0 t1 mpid pdir=$DUR/mosquitto
	rm -rf "$pdir"
	mkdir -p "$pdir"
	port=$(free_port)
	{
		printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port"
		printf 'persistence true\npersistence_location %s/\nmax_queued_messages 0\n' "$pdir"
		# As root mosquitto would switch to user "mosquitto", who cannot
		# write in our temporary folder.
		[ "$(id -u)" = 0 ] && printf 'user root\n'
		printf 'log_dest stderr\nlog_type error\nlog_type subscribe\n'
	} >"$conf"
	"$MOSQUITTO" -c "$conf" 2>"$log" &
	mpid=$!
	track $mpid
	poll 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { R_OK=0; R_NOTE="mosquitto did not start: $(head -c 300 "$log")"; kill $mpid; return; }
	measured msub /dev/null /dev/null mosquitto_sub -h 127.0.0.1 -p "$port" -t bench -q 1 -C "$LINES" -W "$TMO"
	local subpid=$MPID
	poll 10 grep -q ' 1 bench$' "$log" || { R_OK=0; R_NOTE="mosquitto_sub never subscribed"; kill $mpid; return; }
	t0=$(now_ns)
	# shellcheck disable=SC2016
	measured mpub /dev/null /dev/null sh -c 'p=$1; shift; for f; do mosquitto_pub -h 127.0.0.1 -p "$p" -t bench -q 1 -l <"$f" || exit; done' \
		sh "$port" "$DATA".part.*
	local pubpid=$MPID
	wait_exit "$subpid"
	local subrc=$WAIT_RC
	t1=$(now_ns)
	wait_exit "$pubpid"
	local pubrc=$WAIT_RC
	R_SRV=$(hwm_kb $mpid)
	R_SRVCPU=$(cpu_s $mpid)
	stop $mpid
	R_WALL=$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f", d / 1e9}')
	R_RATE=$(awk -v d=$((t1 - t0)) -v n="$LINES" 'BEGIN {printf "%.0f", n / (d / 1e9)}')
	R_PUB=$(rss_of mpub)
	R_SUB=$(rss_of msub)
	R_EXTRA="  persistence $(du -sk "$pdir" | cut -f1) KB after exit"
	R_OK=1
	R_NOTE=
	if [ "$subrc" -ne 0 ]; then
		R_OK=0
		R_NOTE="mosquitto_sub exited $subrc (27 = fewer than $LINES messages within ${TMO}s)"
	elif [ "$pubrc" -ne 0 ]; then
		R_OK=0
		R_NOTE="mosquitto_pub exited $pubrc"
	fi
	rm -rf "$pdir"
}


# ---------------------------------------------------------------- (b) fan-out
# fanout [WSB-LOAD ARGS...]: RUNS runs with a fresh broker each, a line per
# run and the median line.
fanout() {
	local i err spid port line rc shwm scpu dps=() p50=() p99=() mx=() srv=() cpu=()
	for ((i = 1; i <= RUNS; i++)); do
		err=$T/serve-fan.err
		"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 2>"$err" &
		spid=$!
		track $spid
		if ! poll 10 grep -q 'listening on' "$err"; then
			echo "  run $i  serve did not start: $(head -c 300 "$err")"
			problems=$((problems + 1))
			continue
		fi
		port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$err" | head -1)
		poll 10 curl -sf -o /dev/null "http://127.0.0.1:$port/health"
		line=$(timeout -k 2 $((TMO + 10)) "$LOAD" fanout --url "ws://127.0.0.1:$port/ws" --subs "$SUBS" \
			--messages "$MSGS" --size 200 --timeout "$TMO" "$@" 2>"$T/load.err")
		rc=$?
		shwm=$(hwm_kb $spid)
		scpu=$(cpu_s $spid)
		stop $spid
		if [ -z "$line" ]; then
			echo "  run $i  wsb-load failed (exit $rc): $(head -c 300 "$T/load.err")"
			problems=$((problems + 1))
			continue
		fi
		get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		printf '  run %d  %10s deliveries/s  p50 %8s ms  p99 %8s ms  max %8s ms  loss %s  out_of_order %s  broker %s MB %ss cpu\n' \
			"$i" "$(get deliveries_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$(get max_ms)" "$(get loss)" \
			"$(get out_of_order)" "$(mb "$shwm")" "$scpu"
		if [ "$rc" -ne 0 ]; then
			echo "         LOSS or disorder: $line"
			problems=$((problems + 1))
		fi
		dps+=("$(get deliveries_per_s)") p50+=("$(get p50_ms)") p99+=("$(get p99_ms)") mx+=("$(get max_ms)")
		srv+=("$shwm") cpu+=("$scpu")
	done
	if [ ${#dps[@]} -gt 0 ]; then
		printf '  MEDIAN %9s deliveries/s  p50 %8s ms  p99 %8s ms  max %8s ms  broker %s MB %ss cpu\n' \
			"$(median "${dps[@]}")" "$(median "${p50[@]}")" "$(median "${p99[@]}")" "$(median "${mx[@]}")" \
			"$(mb "$(median "${srv[@]}")")" "$(median "${cpu[@]}")"
	fi
}

if want b; then
echo "(b) fan-out: 1 publisher → $SUBS subscribers × $MSGS messages of 200 B (wsb-load, one process)"
echo "    publisher paced only by its socket (throughput; latencies are queueing delay at saturation):"
fanout
echo "    publisher paced at $RATE msgs/s = $((RATE * SUBS)) deliveries/s (latency below saturation):"
fanout --rate "$RATE"
echo
fi
if want c; then
split -l 50000 -a 3 -d "$DATA" "$DATA.part." || die "cannot split $DATA"
echo "(c) durable pipeline: $LINES lines, acknowledged publishing, stored by the broker"
echo "    wsbridge: pub (acks) → serve --journal --fsync batch ${BENCH_DURABLE_SERVE_ARGS:+$BENCH_DURABLE_SERVE_ARGS }→ sub;  mosquitto: QoS 1 pub/sub, persistence true"
echo "    journal and mosquitto persistence in $(df -P "$DUR" | awk 'NR == 2 {print $1 " (" $6 ")"}')"
pipeline wsb+jrnl run_wsbridge_journal
WSBJ_RATE=$MED_RATE
pipeline mosq-qos1 run_mosquitto_qos1
MQ1_RATE=$MED_RATE
ratio "$WSBJ_RATE" "$MQ1_RATE"
echo
fi
if [ "$problems" -gt 0 ]; then
	echo "bench: $problems run(s) incomplete or lossy"
	exit 1
fi
echo "bench: all runs complete, no loss"
