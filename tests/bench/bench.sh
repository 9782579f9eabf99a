#!/usr/bin/env bash
# tests/bench/bench.sh — `make bench`: every figure of issue 12 in one run,
# wsbridge beside mosquitto (and Node `ws` where node is installed), on
# 127.0.0.1. docs/performance.md says what each figure means.
#
#   pipeline  LINES lines of ~200 B: wsbridge-pub → wsbridge-serve →
#             wsbridge-sub --count LINES >/dev/null, and mosquitto_pub -l →
#             mosquitto → mosquitto_sub -C LINES (QoS 0), a pair per run;
#             msg/s (publisher start → subscriber exit) and CPU µs per
#             message of each process (utime+stime: /proc/PID/stat for the
#             brokers, wait4's rusage through GNU time for the clients).
#   idle      IDLE_CONNS idle WebSocket connections (wsb-load idle) to
#             wsbridge-serve and to tests/bench/ws-fanout.js (Node ws):
#             growth of the server's VmRSS per connection.
#   fan-out   wsb-load fanout: 1 publisher → 5000 subscribers × 200 B, and
#             → 100 subscribers × 1 KiB; deliveries/s and deliveries per
#             second of server CPU over the publishing interval only.
#   latency   100 subscribers, publisher paced at 10 000 msg/s: p50, p99
#             (to the load client's reading), and the same to the bytes'
#             arrival in each subscriber's socket (the kernel's timestamp).
#             wsb-load reads them with its own epoll loop (--rate's default
#             --loop epoll), not lws's: docs/performance.md says why. Each
#             run is followed by one against tests/bench/relay, a bare
#             fan-out relay (the floor: what any server would have had in
#             that minute), and each says the host's steal and idle share.
#   durable   the pipeline acknowledged and journalled (serve --journal
#             --fsync batch) against mosquitto QoS 1 with persistence.
# Each scenario runs RUNS times with fresh servers (idle: once); the table
# gives medians, the lines above it every run. The same figures go to
# bench/results/<UTC time>.jsonl, one JSON object per figure and system,
# for tests/bench/compare.py (make bench-compare). Every wait is bounded and
# polls; every process started here is stopped by PID on exit.
#
# Environment: WSB_BIN, WSB_TESTBIN (build/rel/tests: tools/wsb-load);
# BENCH_RUNS (3), BENCH_LINES (200000), BENCH_IDLE_CONNS (10000),
# BENCH_FAN_MSGS (1000 for S=5000), BENCH_FAN1K_MSGS (50000 for S=100 ×
# 1 KiB), BENCH_LAT_MSGS (30000 at BENCH_RATE=10000 msg/s), BENCH_TIMEOUT
# (60 s per run), BENCH_DURABLE_TIMEOUT (90 s: mosquitto QoS 1 is slow),
# BENCH_DURABLE_DIR (journal and persistence; default: temporary folder),
# BENCH_DURABLE_SERVE_ARGS (more serve options for durable),
# BENCH_FAN_SERVE_ARGS (serve options for fan-out and latency; default
# "--max-queue 64M"), BENCH_SCENARIOS (any of "pipeline idle fanout latency durable"; default
# all), BENCH_RESULTS (bench/results), BENCH_NODE_DIR (build/bench/node,
# where `npm install ws@8` goes).
# Exit status: 0, or 1 when a run lost messages or did not complete.
set -u
: "${WSB_BIN:?set WSB_BIN to the folder with the wsbridge binaries}"
: "${WSB_TESTBIN:?set WSB_TESTBIN to the folder with the test binaries}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUNS=${BENCH_RUNS:-3}
LINES=${BENCH_LINES:-200000}
IDLE_CONNS=${BENCH_IDLE_CONNS:-10000}
FAN_MSGS=${BENCH_FAN_MSGS:-1000}
FAN1K_MSGS=${BENCH_FAN1K_MSGS:-50000}
LAT_MSGS=${BENCH_LAT_MSGS:-30000}
RATE=${BENCH_RATE:-10000}
TMO=${BENCH_TIMEOUT:-60}
TMO_DUR=${BENCH_DURABLE_TIMEOUT:-90}
# One load process on two shared cores can fall seconds behind the broker;
# these figures are about throughput, so a lagging load client is held back
# by --max-memory's pause rather than cut off as a slow consumer (4008).
FAN_SERVE_ARGS=${BENCH_FAN_SERVE_ARGS:---max-queue 64M}
SCENARIOS=" ${BENCH_SCENARIOS:-pipeline idle fanout latency durable} "
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
NODE_DIR=${BENCH_NODE_DIR:-$ROOT/build/bench/node}
want() { [ -z "${SCENARIOS##* $1 *}" ]; }
LOAD=$WSB_TESTBIN/tools/wsb-load
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
GNU_TIME=/usr/bin/time

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
"$GNU_TIME" -f %M true >/dev/null 2>&1 || die "GNU time missing (Debian package 'time'): it gives the clients' CPU time"
# Thousands of connections: the soft limit up to the hard one (the servers
# and wsb-load inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_CONNS + 64)) ]; then
	echo "bench: ulimit -n is $(ulimit -n): idle connections lowered to $(($(ulimit -n) - 64))"
	IDLE_CONNS=$(($(ulimit -n) - 64))
fi

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

# wait_exit PID: waits for a child (every measured command runs under
# `timeout`, so this is bounded); its status in $WAIT_RC.
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
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# utime+stime of a running process, in seconds (fields 14 and 15).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# µs per message from seconds of CPU.
per_msg() { awk -v s="${1:-0}" -v n="$2" 'BEGIN {printf "%.2f", s * 1e6 / n}'; }

# measured NAME INPUT OUTPUT CMD...: runs CMD in the background (PID in
# $MPID) under GNU time, which writes "peak-RSS-KB user-s sys-s" to
# $T/NAME.rt when it exits: wait4's rusage, the same counters as
# /proc/PID/stat, read once the process is gone.
measured() {
	local name=$1 input=$2 output=$3
	shift 3
	rm -f "$T/$name.rt"
	# timeout bounds every wait; its exit status is 124 when it fired.
	"$GNU_TIME" -f '%M %U %S' -o "$T/$name.rt" timeout -k 2 $((TMO + 10)) "$@" <"$input" >"$output" &
	MPID=$!
	track "$MPID"
}
rss_of() { awk '{print $1}' "$T/$1.rt" 2>/dev/null | tail -1; }
cpu_of() { awk '{printf "%.2f", $2 + $3}' "$T/$1.rt" 2>/dev/null | tail -1; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# ---------------------------------------------------------------- results
# rec FIGURE SYSTEM UNIT VALUE...: the median of the runs is the figure; a
# JSON line for bench/results, the median in FIG[FIGURE/SYSTEM] for the table.
declare -A FIG
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mkdir -p "$RESULTS" || die "cannot create $RESULTS"
JSONL=$RESULTS/$STAMP.jsonl
rec() {
	local fig=$1 sys=$2 unit=$3 med
	shift 3
	[ $# -gt 0 ] || return 0
	med=$(median "$@")
	FIG[$fig/$sys]=$med
	printf '{"time":"%s","host":"%s","nproc":%s,"cpu":"%s","figure":"%s","system":"%s","unit":"%s","median":%s,"runs":[%s]}\n' \
		"$STAMP" "$(uname -n)" "$(nproc)" "${CPU_MODEL//\"/}" "$fig" "$sys" "$unit" "$med" "$(IFS=,; echo "$*")" >>"$JSONL"
}

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

echo "wsbridge benchmark — $(nproc) cores ($CPU_MODEL), $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "data: $LINES lines, $data_bytes bytes ($((data_bytes / LINES)) B/line with newline); $RUNS runs per scenario, medians in the table"
echo

# start_serve NAME [OPTIONS...]: a fresh wsbridge-serve on a free port;
# SPID, SPORT. Returns 1 (with R_NOTE) if it did not come up.
start_serve() {
	local err=$T/$1.err
	shift
	# Removed first: the background shell may truncate it only after we
	# have read the last run's "listening on" and its port.
	rm -f "$err"
	"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 "$@" 2>"$err" &
	SPID=$!
	track $SPID
	poll 10 grep -q 'listening on' "$err" || { R_NOTE="serve did not start: $(head -c 300 "$err")"; stop $SPID; return 1; }
	SPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$err" | head -1)
	poll 10 curl -sf -o /dev/null "http://127.0.0.1:$SPORT/health" || { R_NOTE="/health never answered"; stop $SPID; return 1; }
}

# hfield NAME: a numeric field of the /health answer the last wsbridge run kept.
hfield() { printf '%s' "$R_HEALTH" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# finish_pair SUBRC PUBRC SUBNAME PUBNAME: R_OK and R_NOTE from the exits.
finish_pair() {
	R_OK=1 R_NOTE=
	if [ "$1" -ne 0 ]; then
		R_OK=0 R_NOTE="$3 exited $1 (fewer than $LINES messages within ${TMO}s?)"
	elif [ "$2" -ne 0 ]; then
		R_OK=0 R_NOTE="$4 exited $2"
	fi
}

# timed T0 T1: R_WALL and R_RATE from two now_ns values.
timed() {
	R_WALL=$(awk -v d=$(($2 - $1)) 'BEGIN {printf "%.3f", d / 1e9}')
	R_RATE=$(awk -v d=$(($2 - $1)) -v n="$LINES" 'BEGIN {printf "%.0f", n / (d / 1e9)}')
}

# ---------------------------------------------------------------- pipeline
# One run each; they set R_OK R_NOTE R_RATE R_WALL, R_*CPU (s) and R_*RSS (KB).
SERVE_EXTRA=()	# more wsbridge-serve options, for durable
run_wsbridge() {
	local url t0 t1 subpid pubpid subrc
	R_OK=0
	start_serve serve "${SERVE_EXTRA[@]}" || return
	url="ws://127.0.0.1:$SPORT/ws"
	measured sub /dev/null /dev/null "$WSB_BIN/wsbridge-sub" --url "$url" --count "$LINES" --timeout "$TMO" -q
	subpid=$MPID
	poll 10 sh -c "curl -sf http://127.0.0.1:$SPORT/health | grep -Eq '\"subscribers\":[1-9]'" ||
		{ R_NOTE="subscriber never registered"; stop $SPID; return; }
	t0=$(now_ns)
	measured pub "$DATA" /dev/null "$WSB_BIN/wsbridge-pub" --url "$url" -q
	pubpid=$MPID
	wait_exit "$subpid"
	subrc=$WAIT_RC
	t1=$(now_ns)
	wait_exit "$pubpid"
	R_SRVRSS=$(hwm_kb $SPID) R_SRVCPU=$(cpu_s $SPID)
	R_HEALTH=$(curl -sf "http://127.0.0.1:$SPORT/health")
	stop $SPID
	timed "$t0" "$t1"
	R_PUBCPU=$(cpu_of pub) R_SUBCPU=$(cpu_of sub) R_PUBRSS=$(rss_of pub) R_SUBRSS=$(rss_of sub)
	finish_pair "$subrc" "$WAIT_RC" wsbridge-sub wsbridge-pub
	[ "$subrc" -eq 0 ] || R_NOTE="$R_NOTE; serve closed $(hfield slow_consumers_closed) slow consumer(s)"
}

# mosq_start QOS [CONF LINES...]: mosquitto on a free port with a
# subscriber (-t bench) registered; MPORT, MOSQ_PID, subscriber in SUBPID.
mosq_start() {
	local qos=$1 conf=$T/mosquitto.conf log=$T/mosquitto.log
	shift
	MPORT=$(free_port)
	{
		printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$MPORT"
		printf '%s\n' "$@"
		printf 'log_dest stderr\nlog_type error\nlog_type subscribe\n'
	} >"$conf"
	rm -f "$log"	# as in start_serve: never the last run's lines
	"$MOSQUITTO" -c "$conf" 2>"$log" &
	MOSQ_PID=$!
	track $MOSQ_PID
	poll 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT" || { R_NOTE="mosquitto did not start: $(head -c 300 "$log")"; stop $MOSQ_PID; return 1; }
	measured msub /dev/null /dev/null mosquitto_sub -h 127.0.0.1 -p "$MPORT" -t bench -q "$qos" -C "$LINES" -W "$TMO"
	SUBPID=$MPID
	# log_type subscribe: "<time>: <client id> QOS bench" once the SUBSCRIBE is in.
	poll 10 grep -q " $qos bench\$" "$log" || { R_NOTE="mosquitto_sub never subscribed"; stop $MOSQ_PID; return 1; }
}

# mosq_finish PUBPID T0: waits, measures, stops mosquitto.
mosq_finish() {
	local subrc t1
	wait_exit "$SUBPID"
	subrc=$WAIT_RC
	t1=$(now_ns)
	wait_exit "$1"
	R_SRVRSS=$(hwm_kb $MOSQ_PID) R_SRVCPU=$(cpu_s $MOSQ_PID)
	stop $MOSQ_PID
	timed "$2" "$t1"
	R_PUBCPU=$(cpu_of mpub) R_SUBCPU=$(cpu_of msub) R_PUBRSS=$(rss_of mpub) R_SUBRSS=$(rss_of msub)
	finish_pair "$subrc" "$WAIT_RC" mosquitto_sub mosquitto_pub
}

run_mosquitto() {
	local t0
	R_OK=0
	mosq_start 0 'persistence false' || return
	t0=$(now_ns)
	measured mpub "$DATA" /dev/null mosquitto_pub -h 127.0.0.1 -p "$MPORT" -t bench -q 0 -l
	mosq_finish "$MPID" "$t0"
}

# pipeline_runs PREFIX NAME_A FUNC_A NAME_B FUNC_B: RUNS pairs, a line per
# run; the figures recorded under PREFIX.
pipeline_runs() {
	local prefix=$1 i k name fn
	declare -A rate=() pub=() srv=() sub=()
	for ((i = 1; i <= RUNS; i++)); do
		for k in 2 4; do
			name=${!k} fn=$((k + 1))
			fn=${!fn}
			R_OK=0 R_NOTE= R_EXTRA=
			"$fn"
			if [ "$R_OK" = 1 ]; then
				printf '  %-10s run %d  %8s msg/s  %6ss  cpu µs/msg pub %5s serve %5s sub %5s  peak RSS MB pub %5s serve %5s sub %5s%s\n' \
					"$name" "$i" "$R_RATE" "$R_WALL" "$(per_msg "$R_PUBCPU" "$LINES")" \
					"$(per_msg "$R_SRVCPU" "$LINES")" "$(per_msg "$R_SUBCPU" "$LINES")" \
					"$((R_PUBRSS / 1024))" "$((R_SRVRSS / 1024))" "$((R_SUBRSS / 1024))" "$R_EXTRA"
				rate[$name]+=" $R_RATE" pub[$name]+=" $(per_msg "$R_PUBCPU" "$LINES")"
				srv[$name]+=" $(per_msg "$R_SRVCPU" "$LINES")" sub[$name]+=" $(per_msg "$R_SUBCPU" "$LINES")"
			else
				printf '  %-10s run %d  INCOMPLETE: %s\n' "$name" "$i" "$R_NOTE"
				problems=$((problems + 1))
			fi
		done
	done
	for k in 2 4; do
		name=${!k}
		# shellcheck disable=SC2086
		{
			rec "$prefix.msg_per_s" "$name" msg/s ${rate[$name]:-}
			rec "$prefix.cpu_us_per_msg.pub" "$name" us/msg ${pub[$name]:-}
			rec "$prefix.cpu_us_per_msg.broker" "$name" us/msg ${srv[$name]:-}
			rec "$prefix.cpu_us_per_msg.sub" "$name" us/msg ${sub[$name]:-}
		}
	done
}

if want pipeline; then
	echo "pipeline: $LINES lines, publisher → broker → subscriber (stdout /dev/null), QoS 0"
	pipeline_runs pipeline wsbridge run_wsbridge mosquitto run_mosquitto
	echo
fi

# ---------------------------------------------------------------- idle
# idle_rss NAME PID PORT: IDLE_CONNS idle connections to the server PID
# listening on PORT; the growth of its VmRSS per connection, in bytes, in
# R_IDLE (empty if the connections could not all be held).
idle_rss() {
	local name=$1 pid=$2 port=$3 before after lpid
	R_IDLE=
	before=$(rss_kb "$pid")
	rm -f "$T/idle.out"
	timeout -k 2 $((TMO + 10)) "$LOAD" idle --url "ws://127.0.0.1:$port/ws" --subs "$IDLE_CONNS" \
		--timeout "$TMO" >"$T/idle.out" 2>"$T/idle.err" &
	lpid=$!
	track $lpid
	poll "$TMO" grep -q '^ready' "$T/idle.out" && after=$(rss_kb "$pid")
	stop $lpid
	if [ -n "${after:-}" ] && grep -q "greeted=$IDLE_CONNS closed=0" "$T/idle.out"; then
		R_IDLE=$(( (after - before) * 1024 / IDLE_CONNS ))
		printf '  %-10s %6d connections: server RSS %6d → %6d KB, %6d B per connection\n' \
			"$name" "$IDLE_CONNS" "$before" "$after" "$R_IDLE"
	else
		printf '  %-10s INCOMPLETE: %s %s\n' "$name" "$(tail -1 "$T/idle.out" 2>/dev/null)" "$(head -c 200 "$T/idle.err")"
		problems=$((problems + 1))
	fi
}

# node_ready: node, and the ws package installed once into NODE_DIR.
node_ready() {
	command -v node >/dev/null || { NODE_NOTE="node not installed"; return 1; }
	[ -f "$NODE_DIR/node_modules/ws/package.json" ] && return 0
	command -v npm >/dev/null || { NODE_NOTE="npm not installed"; return 1; }
	mkdir -p "$NODE_DIR"
	timeout 120 npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error ws@8 >"$T/npm.log" 2>&1 ||
		{ NODE_NOTE="npm install ws@8 failed: $(tail -1 "$T/npm.log")"; return 1; }
}

if want idle; then
	echo "idle: $IDLE_CONNS idle WebSocket connections (wsb-load idle); growth of the server's VmRSS"
	if start_serve idle; then
		idle_rss wsbridge "$SPID" "$SPORT"
		rec idle.rss_bytes_per_conn wsbridge B/conn $R_IDLE
		stop $SPID
	fi
	if node_ready; then
		rm -f "$T/node.err"
		NODE_PATH=$NODE_DIR/node_modules node "$HERE/ws-fanout.js" 0 2>"$T/node.err" &
		NPID=$!
		track $NPID
		if poll 10 grep -q 'listening on' "$T/node.err"; then
			idle_rss "node ws" "$NPID" "$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/node.err")"
			rec idle.rss_bytes_per_conn node_ws B/conn $R_IDLE
		else
			echo "  node ws    did not start: $(head -c 300 "$T/node.err")"
		fi
		stop $NPID
	else
		echo "  node ws    skipped: $NODE_NOTE"
	fi
	echo
fi

# ---------------------------------------------------------------- fan-out, latency
# The share of the machine the hypervisor gave to others (steal), and the
# idle share, over a run: /proc/stat's cpu line, before and after. A run
# in which the host took the CPUs away says so beside its figures.
cpu_line() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9, $5}' /proc/stat; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}'; }

# start_relay: tests/bench/relay (the latency floor) on a free port; SPID, SPORT.
start_relay() {
	rm -f "$T/relay.err"
	"$WSB_TESTBIN/bench/relay" 2>"$T/relay.err" &
	SPID=$!
	track $SPID
	poll 10 grep -q 'listening on' "$T/relay.err" || { R_NOTE="relay did not start: $(head -c 300 "$T/relay.err")"; stop $SPID; return 1; }
	SPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$T/relay.err" | head -1)
}

# load_run PREFIX SYSTEM SUBS MSGS SIZE [WSB-LOAD ARGS...]: one wsb-load
# fanout run against a fresh server (SYSTEM wsbridge: wsbridge-serve; relay:
# tests/bench/relay); prints the run's line and adds its figures to ACC.
declare -A ACC
load_run() {
	local prefix=$1 sys=$2 subs=$3 msgs=$4 size=$5 line rc c0 c1 st idle
	shift 5
	if [ "$sys" = relay ]; then
		start_relay || { echo "  $R_NOTE"; problems=$((problems + 1)); return; }
	else
		# shellcheck disable=SC2086
		start_serve fan $FAN_SERVE_ARGS || { echo "  run  $R_NOTE"; problems=$((problems + 1)); return; }
	fi
	c0=$(cpu_line)
	line=$(timeout -k 2 $((TMO + 10)) "$LOAD" fanout --url "ws://127.0.0.1:$SPORT/ws" --subs "$subs" \
		--messages "$msgs" --size "$size" --timeout "$TMO" --cpu-pid "$SPID" "$@" 2>"$T/load.err")
	rc=$?
	c1=$(cpu_line)
	stop $SPID
	if [ -z "$line" ]; then
		echo "  $sys  wsb-load failed (exit $rc): $(head -c 300 "$T/load.err")"
		problems=$((problems + 1))
		return
	fi
	get() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	# shellcheck disable=SC2086
	set -- $c0 $c1
	st=$(pct $(($5 - $2)) $(($4 - $1))) idle=$(pct $(($6 - $3)) $(($4 - $1)))
	printf '  %-8s %9s deliveries/s  %9s per server CPU-s (%ss)  p50 %8s ms  p99 %8s ms  loss %s  out_of_order %s\n' \
		"$sys" "$(get deliveries_per_s)" "$(get deliveries_per_cpu_s)" "$(get server_cpu_s)" \
		"$(get p50_ms)" "$(get p99_ms)" "$(get loss)" "$(get out_of_order)"
	# paced runs: the time to the subscriber's socket and the load client's
	# own CPU; every run: what the host left us
	if [ -n "$(get sock_p99_ms)" ]; then
		printf '           in the socket: p50 %s ms  p99 %s ms;  load client CPU %ss, server %ss;  host steal %s %%, idle %s %%;  load average %s\n' \
			"$(get sock_p50_ms)" "$(get sock_p99_ms)" "$(get client_cpu_s)" "$(get server_cpu_s)" \
			"$st" "$idle" "$(cut -d' ' -f1-3 /proc/loadavg)"
	else
		printf '           host steal %s %%, idle %s %%;  load average %s\n' "$st" "$idle" "$(cut -d' ' -f1-3 /proc/loadavg)"
	fi
	if [ "$rc" -ne 0 ]; then
		echo "           LOSS or disorder: $line"
		problems=$((problems + 1))
		return
	fi
	local k
	for k in deliveries_per_s deliveries_per_cpu_s p50_ms p99_ms sock_p50_ms sock_p99_ms client_cpu_s server_cpu_s; do
		[ -z "$(get $k)" ] || ACC[$prefix.$k/$sys]+=" $(get $k)"
	done
	ACC[$prefix.steal_pct/$sys]+=" $st"
}

# rec_runs PREFIX SYSTEM: the medians of what load_run gathered.
rec_runs() {
	local k u
	for k in deliveries_per_s:deliveries/s deliveries_per_cpu_s:deliveries/cpu-s p50_ms:ms p99_ms:ms \
		sock_p50_ms:ms sock_p99_ms:ms client_cpu_s:s server_cpu_s:s steal_pct:%; do
		u=${k#*:} k=${k%%:*}
		# shellcheck disable=SC2086
		rec "$1.$k" "$2" "$u" ${ACC[$1.$k/$2]:-}
	done
}

# fanout_runs PREFIX SYSTEM SUBS MSGS SIZE [WSB-LOAD ARGS...]: RUNS runs of
# load_run, a fresh server each; rec_runs then records their medians
# (deliveries/s, per server CPU-second, latency percentiles) under PREFIX.
fanout_runs() {
	local i
	for ((i = 1; i <= RUNS; i++)); do
		load_run "$@"
	done
}

if want fanout; then
	echo "fan-out: 1 publisher → 5000 subscribers × $FAN_MSGS messages of 200 B (wsb-load; server-bound)"
	fanout_runs fanout5000 wsbridge 5000 "$FAN_MSGS" 200
	rec_runs fanout5000 wsbridge
	echo "fan-out: 1 publisher → 100 subscribers × $FAN1K_MSGS messages of 1 KiB"
	fanout_runs fanout100_1k wsbridge 100 "$FAN1K_MSGS" 1024
	rec_runs fanout100_1k wsbridge
	echo
fi
if want latency; then
	echo "latency: 100 subscribers, publisher paced at $RATE msg/s, $LAT_MSGS messages of 200 B;"
	echo "  each run of wsbridge-serve is followed by one of a bare relay (tests/bench/relay: no"
	echo "  parsing, no lws, one send per subscriber per read), the floor of this machine in that minute"
	for ((i = 1; i <= RUNS; i++)); do
		load_run latency wsbridge 100 "$LAT_MSGS" 200 --rate "$RATE"
		load_run latency relay 100 "$LAT_MSGS" 200 --rate "$RATE"
	done
	rec_runs latency wsbridge
	rec_runs latency relay
	echo
fi

# ---------------------------------------------------------------- durable
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

# mosquitto with persistence (in $DUR, next to the journal), QoS 1 both
# ways. Two departures from the defaults, both needed for a complete run:
# - max_queued_messages 0: the default (1000) makes the broker drop QoS 1
#   messages for a subscriber with 1000 queued, silently (measured here:
#   ~5 000 of 200 000 lost);
# - mosquitto_pub runs once per 50 000 lines: mosquitto_pub -l -q 1 (2.0.x)
#   exits 0 as soon as the PUBACK of the message id of its last line
#   arrives, and ids wrap at 65 535, so with 200 000 lines it stops after
#   the first 68 930 and drops the rest.
# Not like for like in mosquitto's favour: its persistence writes a
# snapshot every autosave_interval (30 min) and at exit, not each message,
# while the journal is written and fsynced every 10 ms before the acks go out.
run_mosquitto_qos1() {
	local TMO=$TMO_DUR pdir=$DUR/mosquitto t0 user=
	rm -rf "$pdir"
	mkdir -p "$pdir"
	R_OK=0
	# As root mosquitto would switch to user "mosquitto", who cannot write
	# in our temporary folder.
	[ "$(id -u)" = 0 ] && user='user root'
	mosq_start 1 'persistence true' "persistence_location $pdir/" 'max_queued_messages 0' ${user:+"$user"} || return
	t0=$(now_ns)
	# shellcheck disable=SC2016
	measured mpub /dev/null /dev/null sh -c 'p=$1; shift; for f; do mosquitto_pub -h 127.0.0.1 -p "$p" -t bench -q 1 -l <"$f" || exit; done' \
		sh "$MPORT" "$DATA".part.*
	mosq_finish "$MPID" "$t0"
	R_EXTRA="  persistence $(du -sk "$pdir" | cut -f1) KB after exit"
	rm -rf "$pdir"
}

if want durable; then
	split -l 50000 -a 3 -d "$DATA" "$DATA.part." || die "cannot split $DATA"
	echo "durable: $LINES lines, acknowledged publishing, stored by the broker"
	echo "  wsbridge: pub (acks) → serve --journal --fsync batch ${BENCH_DURABLE_SERVE_ARGS:+$BENCH_DURABLE_SERVE_ARGS }→ sub;  mosquitto: QoS 1, persistence true"
	echo "  journal and mosquitto persistence in $(df -P "$DUR" | awk 'NR == 2 {print $1 " (" $6 ")"}')"
	pipeline_runs durable wsbridge run_wsbridge_journal mosquitto run_mosquitto_qos1
	echo
fi

# ---------------------------------------------------------------- the table
# row LABEL FIGURE GOAL: wsbridge, mosquitto and Node ws medians side by
# side, the ratio wsbridge/other, and the goal of issue 12 with its verdict.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b}'; }
verdict() {
	# verdict VALUE OP LIMIT
	[ -n "$1" ] && [ "$1" != - ] || { echo "-"; return; }
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {ok = op == ">=" ? v >= l : v <= l; print ok ? "met" : "MISSED"}'
}
row() {
	local label=$1 fig=$2 goal=${3:-} w m n f r v=
	w=${FIG[$fig/wsbridge]:-} m=${FIG[$fig/mosquitto]:-} n=${FIG[$fig/node_ws]:-} f=${FIG[$fig/relay]:-}
	r=$(ratio "$w" "${m:-${n:-$f}}")
	# goal "ratio >= 3", "ratio <= 0.4" or "value <= 1500"
	case $goal in
	ratio*) v=$(verdict "$r" "$(echo "$goal" | cut -d' ' -f2)" "$(echo "$goal" | cut -d' ' -f3)") ;;
	value*) v=$(verdict "$w" "$(echo "$goal" | cut -d' ' -f2)" "$(echo "$goal" | cut -d' ' -f3)") ;;
	esac
	printf '%-44s %12s %12s %10s %9s %7s  %-16s %s\n' "$label" "${w:--}" "${m:--}" "${n:--}" "${f:--}" "$r" "$goal" "$v"
}

echo "figures (medians of $RUNS runs; ratio = wsbridge / mosquitto, or / Node ws, or / relay: the"
echo "latency floor, a bare relay run in the same minutes with the same load client)"
printf '%-44s %12s %12s %10s %9s %7s  %-16s %s\n' figure wsbridge mosquitto "node ws" relay ratio "goal (issue 12)" ""
row "pipeline msg/s (QoS 0, $LINES × 200 B)" pipeline.msg_per_s "ratio >= 3"
row "  CPU µs/msg publisher" pipeline.cpu_us_per_msg.pub "ratio <= 0.6"
row "  CPU µs/msg broker" pipeline.cpu_us_per_msg.broker "ratio <= 0.4"
row "  CPU µs/msg subscriber" pipeline.cpu_us_per_msg.sub "ratio <= 0.4"
row "idle connection: server B/conn ($IDLE_CONNS)" idle.rss_bytes_per_conn "value <= 1500"
row "fan-out S=5000 × 200 B deliveries/s" fanout5000.deliveries_per_s "value >= 4000000"
row "  deliveries per server CPU-s" fanout5000.deliveries_per_cpu_s
row "  host steal % during the runs" fanout5000.steal_pct
row "fan-out S=100 × 1 KiB deliveries/s" fanout100_1k.deliveries_per_s
row "  deliveries per server CPU-s" fanout100_1k.deliveries_per_cpu_s
row "latency p50 ms ($RATE msg/s × 100 subs)" latency.p50_ms
row "latency p99 ms" latency.p99_ms "value <= 2"
row "  p50 ms to the subscriber's socket" latency.sock_p50_ms
row "  p99 ms to the subscriber's socket" latency.sock_p99_ms
row "  server CPU-s per run" latency.server_cpu_s
row "  host steal % during the runs" latency.steal_pct
row "durable msg/s (journal vs QoS 1)" durable.msg_per_s "ratio >= 1"
row "  durable: CPU µs/msg broker" durable.cpu_us_per_msg.broker
echo "results: $JSONL (compare two runs: make bench-compare A=... B=...)"
if [ "$problems" -gt 0 ]; then
	echo "bench: $problems run(s) incomplete or lossy"
	exit 1
fi
echo "bench: all runs complete, no loss"
