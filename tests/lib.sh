# tests/lib.sh — helpers for integration tests; source it from a test script.
#
# Every test starts the real binaries on 127.0.0.1, a free port per server
# (wsbridge-serve --listen 127.0.0.1:0 prints the port it bound), waits for
# readiness by polling /health, bounds every wait, and stops what it started
# by PID (an EXIT trap kills leftovers). Report with pass/fail:
#
#   . "$(dirname "$0")/../lib.sh"
#   start_serve                    # sets SERVE_PID, PORT, WS_URL, HTTP_URL
#   (start_serve --tls-cert C --tls-key K: wss:// and https://, curl trusts C;
#   make_test_cert writes such a pair)
#   "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --count 1 >"$T/out" & SUB=$!
#   wait_subscribers 1
#   echo '{"type":"a"}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL"
#   wait_pid $SUB 10 && check "got it" grep -q '"type":"a"' "$T/out"
#   finish
set -u
: "${WSB_BIN:?}"
SUITE=${SUITE:-$(basename "$0" .sh)}
T=$(mktemp -d "${TMPDIR:-/tmp}/wsb-$SUITE.XXXXXX")
PY=/usr/bin/python3		# Debian's, where python3-websockets lives
WSB_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)	# tests/
_pids=()
SERVE_CA=			# set by start_serve --tls-cert; see wcurl
_failed=0

pass() { echo "PASS $SUITE: $1"; }
fail() { echo "FAIL $SUITE: $1${2:+ — $2}"; _failed=$((_failed + 1)); }
# check NAME CMD...: PASS if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}
# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

track() { _pids+=("$1"); }

cleanup() {
	local p
	for p in "${_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$_failed" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "(test files kept in $T)"; fi
}
trap cleanup EXIT

# poll SECONDS CMD...: retry CMD every 20 ms until it succeeds or time is up.
poll() {
	local deadline=$(($(date +%s%N) + ${1%.*} * 1000000000 + 0))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

# make_test_cert [DIR]: a self-signed certificate for localhost and
# 127.0.0.1 in DIR/cert.pem (also its own CA) and DIR/key.pem; DIR is $T.
make_test_cert() {
	local d=${1:-$T}
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" -days 2 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$d/openssl.log" 2>&1
}

# wcurl ARGS...: curl that trusts the running TLS server's certificate, if any.
wcurl() { curl ${SERVE_CA:+--cacert "$SERVE_CA"} "$@"; }

# start_serve [ARGS...]: wsbridge-serve on 127.0.0.1 (port from $PORT if set
# by a previous start, so a restart keeps its address), ready when /health
# answers. Stderr goes to $T/serve.N.err. With --tls-cert FILE among ARGS the
# URLs are wss:// and https:// and SERVE_CA=FILE is what wcurl trusts.
# SERVE_STDIN=FILE: its standard input (default /dev/null).
_serve_n=0
start_serve() {
	local listen="127.0.0.1:${PORT:-0}" err a prev= ws=ws http=http
	SERVE_CA=
	for a in "$@"; do
		case $prev in --tls-cert) SERVE_CA=$a ;; esac
		case $a in --tls-cert=*) SERVE_CA=${a#--tls-cert=} ;; esac
		prev=$a
	done
	[ -n "$SERVE_CA" ] && ws=wss http=https
	_serve_n=$((_serve_n + 1))
	err="$T/serve.$_serve_n.err"
	SERVE_ERR=$err
	# A background command's stdin is /dev/null unless it is redirected
	# itself: $SERVE_STDIN is a file for --stdin to read.
	"$WSB_BIN/wsbridge-serve" --listen "$listen" "$@" 2>"$err" <"${SERVE_STDIN:-/dev/null}" &
	SERVE_PID=$!
	track "$SERVE_PID"
	if ! poll 10 grep -q 'listening on' "$err"; then
		echo "wsbridge-serve did not start:"; cat "$err"; return 1
	fi
	PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$err" | head -1)
	WS_URL="$ws://127.0.0.1:$PORT/ws"
	HTTP_URL="$http://127.0.0.1:$PORT"
	poll 10 wcurl -sf -o /dev/null "$HTTP_URL/health" || { echo "/health never answered"; return 1; }
}

# health_field NAME: one numeric or string field of /health (not -f: an
# instance that refuses publishes answers 503 with the same document).
health_field() {
	wcurl -s "$HTTP_URL/health" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}

_field_ge() { [ "$(health_field "$1")" -ge "$2" ] 2>/dev/null; }
# wait_subscribers N [SECS]: until /health counts at least N subscribers.
wait_subscribers() { poll "${2:-10}" _field_ge subscribers "$1"; }
# wait_health FIELD MIN [SECS]
wait_health() { poll "${3:-10}" _field_ge "$1" "$2"; }

# An exited child stays a zombie until waited for, and kill -0 still finds it.
_gone() {
	! kill -0 "$1" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# wait_pid PID SECS: wait for PID to exit within SECS; sets RC to its status.
wait_pid() {
	local pid=$1 secs=$2
	if ! poll "$secs" _gone "$pid"; then
		RC=timeout
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	RC=$?
	return 0
}

# stop PID [SIG]: signal (TERM) and wait up to 10 s, then KILL.
stop() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait_pid "$1" 10
}

# lines FILE: number of lines (0 if missing).
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
_lines_ge() { [ "$(lines "$1")" -ge "$2" ]; }
# wait_lines FILE N [SECS]
wait_lines() { poll "${3:-20}" _lines_ge "$1" "$2"; }

finish() {
	[ "$_failed" -eq 0 ]
	exit $?
}

# py_checks FILE [RC]: turn the "PASS name" / "FAIL name — why" lines a Python
# client (tests/integration/wsclient.py) wrote to FILE into this suite's
# checks; other lines are echoed. A non-zero RC without any FAIL line is a
# failure too (the client died or timed out before it could say so).
py_checks() {
	local l nfail=0
	while IFS= read -r l; do
		case $l in
		"PASS "*) pass "${l#PASS }" ;;
		"FAIL "*) fail "${l#FAIL }"; nfail=$((nfail + 1)) ;;
		*) echo "$l" ;;
		esac
	done <"$1"
	if [ "${2:-0}" != 0 ] && [ "$nfail" -eq 0 ]; then
		fail "python client $(basename "$1")" "exited ${2}$([ "$2" = 124 ] && echo ' (timed out)')"
	fi
}

# pyrun SECS ARGS...: run $PY ARGS (e.g. - PORT <<'EOF' ... EOF) in the
# foreground under a timeout, with tests/integration (wsclient.py) importable,
# and record its checks with py_checks.
_pyrun_n=0
pyrun() {
	local secs=$1 out rc
	shift
	_pyrun_n=$((_pyrun_n + 1))
	out="$T/py.$_pyrun_n.out"
	PYTHONPATH="$WSB_TESTS/integration" timeout -k 2 "$secs" "$PY" "$@" >"$out" 2>"$out.err"
	rc=$?
	[ -s "$out.err" ] && sed 's/^/  py stderr: /' "$out.err" | tail -n 20
	py_checks "$out" "$rc"
}

# start_hostile MODE[,MODE...] [BYTES]: tests/integration/hostile_server.py
# (a broken or hostile WebSocket server for the client tools; modes are
# described there) on a free port. Sets HOSTILE_PID, HOSTILE_URL and
# HOSTILE_LOG (one event per line: "conn N MODE", "close N CODE", ...).
_hostile_n=0
start_hostile() {
	_hostile_n=$((_hostile_n + 1))
	HOSTILE_LOG="$T/hostile.$_hostile_n.log"
	"$PY" "$WSB_TESTS/integration/hostile_server.py" "$@" >"$HOSTILE_LOG" 2>"$HOSTILE_LOG.err" &
	HOSTILE_PID=$!
	track "$HOSTILE_PID"
	poll 10 test -s "$HOSTILE_LOG" || { echo "hostile server did not start:"; cat "$HOSTILE_LOG.err"; return 1; }
	HOSTILE_URL="ws://127.0.0.1:$(head -1 "$HOSTILE_LOG")/ws"
}
# hostile_saw PATTERN: the hostile server logged a line matching PATTERN.
hostile_saw() { grep -q "$1" "$HOSTILE_LOG"; }

# start_wireproxy NAME: tests/tools/wireproxy.py in front of $PORT (it
# counts the bytes and the RSV1 frames each way); its port in PPORT. Then
# `wire NAME up|down bytes|frames|rsv1` reads a count, and wire_settled NAME
# waits until its client has gone and the counts are final.
start_wireproxy() {
	"$PY" "$WSB_TESTS/tools/wireproxy.py" --target "127.0.0.1:$PORT" --stats "$T/$1.json" >"$T/$1.out" 2>"$T/$1.err" &
	track $!
	poll 10 test -s "$T/$1.out" || { echo "wireproxy did not start:"; cat "$T/$1.err"; return 1; }
	PPORT=$(head -1 "$T/$1.out")
}
wire() { jq -r ".$2.$3" "$T/$1.json"; }
_wire_open0() { [ "$(jq -r .open "$T/$1.json")" = 0 ]; }
wire_settled() { poll 10 _wire_open0 "$1" || fail "proxy $1 sees its connection end"; }

# slow_resumes FILE...: how many times the wsbridge-sub processes whose
# stderr is in FILEs were closed as slow consumers (4008) and resumed. On a
# busy machine a reader starved of CPU for --max-stall is a slow consumer
# too; it loses nothing (it resumes from the history), so tests count such
# closures instead of asserting that none happened.
slow_resumes() { cat "$@" 2>/dev/null | grep -c 'closed as a slow consumer'; }
