#!/usr/bin/env bash
# Every shell example in README.md and in the man pages' EXAMPLES runs, as
# written, against a broker this test starts (scripts/extract-examples.sh
# finds them and describes the directives that say how each one runs; an
# example that cannot run says why in a no-run directive).
#
# Each example runs in a fresh folder holding the files the examples name
# (day.ndjson, app.log, ...), with the binaries under test first in PATH
# and as bin/, HOME set to that folder, and, for the tools' defaults,
# WSBRIDGE_URL, WSBRIDGE_HEALTH_URL and WSBRIDGE_LISTEN pointing at a free
# port. The text is rewritten only where it names places: any HOST:8765 is
# that port on 127.0.0.1 ("another broker" is the same test broker), a
# second instance's HOST:8766 and Redis's :6379 are free ports too, and
# /etc/wsbridge and /var/lib/wsbridge are folders inside the example's. An
# example that starts wsbridge-serve gets no broker from the test.
# Everything an example starts runs in its own session and is stopped by
# killing that process group.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$WSB_TESTS/.." && pwd)

if ! bash "$ROOT/scripts/extract-examples.sh" "$T/ex" >"$T/extract.out" 2>&1; then
	fail "extract-examples.sh" "$(head -c 500 "$T/extract.out")"
	finish
fi
for src in README.md docs/man/wsbridge-{serve,pub,sub,health,replay}.1.in; do
	check "$src has examples" grep -q "^source: $src:" "$T"/ex/*.meta
done

# ---- fixtures ----------------------------------------------------------------
FIX=$T/fixtures
mkdir -p "$FIX/etc/wsbridge" "$FIX/var/lib/wsbridge"
{	# a recording, as wsbridge-sub writes it: 2.5 s on 2026-03-02 around 14:30
	t=0
	for ts in 29:59.500 30:00.000 30:00.500 30:01.000 30:01.500 30:02.000; do
		t=$((t + 1))
		ty=order; [ $((t % 2)) = 0 ] && ty=tick
		printf '{"type":"%s","data":{"symbol":"AAPL","n":%d},"timestamp":"2026-03-02T14:%sZ","seq":%d}\n' \
			"$ty" "$t" "$ts" "$t"
	done
} >"$FIX/day.ndjson"
gzip -c "$FIX/day.ndjson" >"$FIX/day.ndjson.gz"
printf '%s\n' "GET /index.html 200" "GET /missing 404" "POST /orders 201" >"$FIX/app.log"
printf '%s\n' '{"symbol":"AAPL","px":190.1}' '{"symbol":"MSFT","px":410.2}' '{"symbol":"AAPL","px":190.3}' >"$FIX/trades.log"
echo "example-token" >"$FIX/.wsbridge-token"
echo "example-token" >"$FIX/etc/wsbridge/token"
# What "feed" publishes, over and over.
printf '%s\n' '{"type":"order","data":{"symbol":"AAPL","qty":100}}' '{"type":"tick","data":{"symbol":"AAPL","px":190.1}}' \
	'{"type":"position.AAPL","data":{"qty":100}}' '{"type":"equity_update","data":{"equity":1000}}' >"$T/feed.ndjson"

# ---- running one example -----------------------------------------------------
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
meta() { sed -n "s/^$2: *//p" "$1" | head -1; }
has() { grep -qx "$2" "$1"; }
code_of() { sed -e 's/^[[:space:]]*#.*//' -e 's/[[:space:]]#.*//' "$1"; }	# the commands without comments
runs_serve() { code_of "$1" | grep -Eq '(^|[[:space:];&|(])(bin/)?wsbridge-serve([[:space:]]|$)'; }
conns() { health_field active_connections; }
_conns_gt() { [ "$(conns)" -gt "$1" ] 2>/dev/null; }
_until() { (cd "$DIR" && EXAMPLE_OUT="$OUT" bash -c "$1") >/dev/null 2>&1; }

# spawn OUT CMD: CMD (a shell command line) in the example's folder and
# environment, in a session of its own; sets SPAWNED (its PID = its group).
spawn() {
	local out=$1 cmd=$2
	if [ "${TTY:-0}" = 1 ]; then
		(cd "$DIR" && exec setsid script -qfec "$cmd" /dev/null </dev/null >>"$out" 2>&1) &
	else
		(cd "$DIR" && exec setsid bash -e -o pipefail -c "$cmd" </dev/null >>"$out" 2>&1) &
	fi
	SPAWNED=$!
	track "$SPAWNED"
	GROUPS_STARTED+=("$SPAWNED")
}
stop_groups() {
	local g
	for g in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
	for g in "${GROUPS_STARTED[@]}"; do wait_pid "$g" 10 || kill -KILL -- "-$g" 2>/dev/null; done
	GROUPS_STARTED=()
}

start_feed() {
	TTY=0 spawn "$DIR.feed.err" "'$WSB_BIN/wsbridge-replay' --loop 0 --rate 40 '$T/feed.ndjson' | '$WSB_BIN/wsbridge-pub'"
	wait_health messages_in 1 10 || fail "$NAME: the feed publishes"
}

# run_terminals SCRIPT: each command line one terminal, in order; after each
# background one, wait until it is there (a broker answers /health, a client
# is counted by the broker). "make serve" is the test's broker.
run_terminals() {
	local lines=() l i last n
	mapfile -t lines < <(code_of "$1" | grep -v '^[[:space:]]*$' | grep -v '^make serve')
	last=$((${#lines[@]} - 1))
	for i in "${!lines[@]}"; do
		l=${lines[$i]}
		if [ "$i" -eq "$last" ]; then
			spawn "$OUT" "$l"
			wait_pid "$SPAWNED" "$TIMEOUT"
			return
		fi
		n=$(conns)
		spawn "$OUT" "$l"
		if printf '%s' "$l" | grep -q 'wsbridge-serve'; then
			HTTP_URL=$WSBRIDGE_HEALTH_URL
			poll 10 curl -sf -o /dev/null "$HTTP_URL/health" || fail "$NAME: terminal $((i + 1)) serves"
		else
			poll 10 _conns_gt "${n:-0}" || fail "$NAME: terminal $((i + 1)) connects"
		fi
	done
}

_gone_or_until() { _gone "$SPAWNED" || _until "$1"; }

run_example() {	# NNN
	local sh=$T/ex/$1.sh m=$T/ex/$1.meta want until after own=0
	NAME="$(meta "$m" source) example"
	want=$(meta "$m" status); want=${want:-0}
	until=$(meta "$m" until) after=$(meta "$m" check)
	TIMEOUT=$(meta "$m" timeout); TIMEOUT=${TIMEOUT:-20}
	TTY=0; has "$m" tty && TTY=1
	DIR=$T/run.$1 OUT=$T/run.$1.out
	GROUPS_STARTED=()
	cp -r "$FIX" "$DIR"
	ln -s "$WSB_BIN" "$DIR/bin"
	: >"$OUT"
	PORT=
	if runs_serve "$sh"; then
		own=1 PORT=$(free_port)
	else
		start_serve || { fail "$NAME: test broker starts"; return; }
	fi
	export HOME=$DIR PATH="$WSB_BIN:$ORIG_PATH"
	export WSBRIDGE_URL="ws://127.0.0.1:$PORT/ws" WSBRIDGE_HEALTH_URL="http://127.0.0.1:$PORT"
	export WSBRIDGE_LISTEN="127.0.0.1:$PORT"
	HTTP_URL=$WSBRIDGE_HEALTH_URL
	sed -i -E -e "s#[A-Za-z0-9.-]+:8765#127.0.0.1:$PORT#g" -e "s#[A-Za-z0-9.-]+:8766#127.0.0.1:$(free_port)#g" \
		-e "s#(--port |:)6379#\\1$(free_port)#g" \
		-e 's#/etc/wsbridge#etc/wsbridge#g' -e 's#/var/lib/wsbridge#var/lib/wsbridge#g' "$sh"
	has "$m" feed && start_feed

	if has "$m" terminals; then
		run_terminals "$sh"
		[ -n "$until" ] && poll "$TIMEOUT" _until "$until"
	else
		spawn "$OUT" "$(cat "$sh")"
		if [ -z "$until" ]; then
			wait_pid "$SPAWNED" "$TIMEOUT"
		elif poll "$TIMEOUT" _gone_or_until "$until" && ! _gone "$SPAWNED"; then
			RC=stopped	# it runs until interrupted, and did what it says
		else
			wait_pid "$SPAWNED" 1
		fi
	fi
	if [ "$RC" = stopped ]; then
		pass "$NAME: runs until stopped, and $until"
	else
		check_eq "$NAME: exit status" "$RC" "$want"
		for c in "$until" "$after"; do
			[ -z "$c" ] && continue
			if _until "$c"; then pass "$NAME: $c"; else fail "$NAME: $c"; fi
		done
	fi
	if [ "$_failed" -gt "${FAILED_BEFORE:-0}" ]; then
		echo "---- $NAME: what it ran and wrote"
		sed 's/^/  | /' "$sh"
		tail -n 15 "$OUT" | sed 's/^/  > /'
	fi
	FAILED_BEFORE=$_failed
	stop_groups
	[ "$own" = 0 ] && stop "$SERVE_PID"
}

ORIG_PATH=$PATH
for m in "$T"/ex/*.meta; do
	n=$(basename "$m" .meta)
	why=$(meta "$m" no-run)
	if [ -n "$why" ]; then
		echo "skip $(meta "$m" source): $why"
		continue
	fi
	run_example "$n"
done
finish
