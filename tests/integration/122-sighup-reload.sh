#!/usr/bin/env bash
# SIGHUP (issue 10): the token file, the JWT secret and --allow-origin-file
# are read again without dropping anyone: a token added gets in, a token
# removed is 401 for new connections while its connected clients stay and
# keep receiving; a reload that fails (a bad line) keeps the old set and
# says why; --log-file is reopened after logrotate moved it.
. "$(dirname "$0")/../lib.sh"
OLD=OldTok51d2 NEW=NewTok93b7
echo "$OLD" >"$T/tokens"
echo "http://a.example" >"$T/origins"
LOG=$T/serve.log
"$WSB_BIN/wsbridge-serve" --listen 127.0.0.1:0 --token-file "$T/tokens" --allow-origin-file "$T/origins" \
	--log-file "$LOG" 2>"$T/serve.stderr" &
SERVE_PID=$!; track $SERVE_PID
poll 10 grep -q 'listening on' "$LOG" || { fail "serve starts and logs to --log-file"; cat "$T/serve.stderr"; finish; }
check "stderr stays empty with --log-file" test ! -s "$T/serve.stderr"
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$LOG" | head -1)
WS_URL="ws://127.0.0.1:$PORT/ws"; HTTP_URL="http://127.0.0.1:$PORT"

status() {	# status TOKEN [ORIGIN]: the upgrade's HTTP status
	$PY - "$PORT" "$1" "${2:-}" <<'PYEOF'
import sys
from rawws import handshake
s, st, _, _ = handshake(int(sys.argv[1]), path="/ws?token=" + sys.argv[2], origin=sys.argv[3] or None)
print(st)
PYEOF
}
export PYTHONPATH=$WSB_TESTS/integration
hup() {	# hup WHAT: SIGHUP, then wait for the log line that answers it
	local n
	n=$(grep -c 'SIGHUP' "$LOG")
	kill -HUP $SERVE_PID
	poll 10 sh -c "[ \$(grep -c SIGHUP '$LOG') -gt $n ]" || fail "serve answered SIGHUP ($1)"
}

check_eq "the old token gets in" "$(status $OLD)" 101
check_eq "the new token does not yet" "$(status $NEW)" 401
check_eq "origin b is not allowed yet" "$(status $OLD http://b.example)" 403
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --token $OLD --timeout 60 --count 2 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub with the old token subscribes"

# Rotate: the new token in, the old one out; origin b in.
echo "$NEW pub,sub" >"$T/tokens"
printf 'http://a.example\nhttp://b.example\n' >"$T/origins"
hup "rotation"
check "serve logged the reload" grep -q 'SIGHUP: reloaded 1 token and 2 allowed origins' "$LOG"
check_eq "after SIGHUP the new token gets in" "$(status $NEW)" 101
check_eq "after SIGHUP the old token is 401" "$(status $OLD)" 401
check_eq "after SIGHUP origin b is allowed" "$(status $NEW http://b.example)" 101
echo '{"type":"a"}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token $NEW 2>"$T/pub1.err"
check_eq "pub with the new token exits 0" "$?" 0

# A bad reload keeps what works.
printf '%s\n%s publish\n' "$NEW" "$OLD" >"$T/tokens"
hup "a bad file"
check "a failed reload says why and that it keeps the old set" \
	grep -q 'SIGHUP: reload failed, keeping the previous tokens, JWT secret and origins: token file .* line 2: unknown scope "publish"' "$LOG"
check_eq "after the failed reload the new token still gets in" "$(status $NEW)" 101
check_eq "and the old one is still out" "$(status $OLD)" 401

# logrotate: move the file away, SIGHUP, a fresh file.
echo "$NEW pub,sub" >"$T/tokens"
mv "$LOG" "$LOG.1"
kill -HUP $SERVE_PID
check "SIGHUP reopened --log-file: the reload line is in a new file" poll 10 grep -q 'SIGHUP: reloaded' "$LOG"
echo '{"type":"b"}' | timeout 10 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --token $NEW 2>"$T/pub2.err"
wait_pid $SUB 20
check_eq "the client connected with the removed token stayed and got both messages" \
	"$RC/$(jq -r .type "$T/sub.out" | tr -d '\n')" "0/ab"
check "it never reconnected" sh -c "! grep -qi 'reconnect\|disconnected' '$T/sub.err'"
stop $SERVE_PID
check_eq "serve exits 0" "$RC" 0
for tok in $OLD $NEW; do
	check "no log holds token ${tok:0:3}..." sh -c "! grep -q $tok '$LOG' '$LOG.1' '$T'/*.err"
done
finish
