#!/usr/bin/env bash
# /health is consistent about an instance that cannot take publishes: a
# --journal that cannot be written (nothing is acknowledged or delivered
# until it can; POST /publish answers 503) is "unavailable" with 503, as a
# --cluster that is down (test 145) and a used-up seq space (test 51) are,
# with a reason naming the journal; wsbridge-health says so in one line and
# exits 1. Once the disk has room it is "healthy" with 200 again. It used
# to be "degraded" with 200, which a load balancer's check takes as up.
. "$(dirname "$0")/../lib.sh"

code_of() { curl -s -o "$T/h.json" -w '%{http_code}' "$HTTP_URL/health"; }
SHIM=$T/failwrite.so
cc -shared -fPIC -o "$SHIM" "$WSB_TESTS/tools/shim/failwrite.c" -ldl 2>"$T/cc.err" ||
	{ fail "build the failwrite shim" "$(cat "$T/cc.err")"; finish; }
asan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
eval "$asan LD_PRELOAD=$SHIM FAILWRITE_MATCH=$T/j/ FAILWRITE_FLAG=$T/full start_serve --journal \"$T/j\"" ||
	{ fail "serve starts"; finish; }
check_eq "writable: healthy, 200" "$(code_of) $(jq -r .status "$T/h.json")" "200 healthy"

touch "$T/full"
echo '{"type":"t","data":1}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 60 2>"$T/pub.err" &
PUB=$!; track $PUB
_unavailable() { [ "$(code_of)" = 503 ]; }
check "the disk full: /health answers 503" poll 10 _unavailable
check_eq "... status unavailable" "$(jq -r .status "$T/h.json")" unavailable
check "... the reason names the journal" grep -q '"reason":"publishes not acknowledged (journal): ' "$T/h.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"type":"t"}' "$HTTP_URL/publish")
check_eq "... as POST /publish does" "$code" 503
"$WSB_BIN/wsbridge-health" -q "$HTTP_URL" >/dev/null 2>"$T/h.err"
check_eq "wsbridge-health exits 1 (answered, not healthy)" "$?" 1
check "... one line naming status, code and cause" sh -c "[ \$(wc -l <'$T/h.err') -eq 1 ] &&
	grep -q 'server status \"unavailable\" (HTTP 503): publishes not acknowledged (journal)' '$T/h.err'"
check "pub is not acknowledged meanwhile" kill -0 $PUB

rm -f "$T/full"
_healthy() { [ "$(code_of)" = 200 ] && grep -q '"status":"healthy"' "$T/h.json"; }
check "room again: healthy, 200" poll 10 _healthy
wait_pid $PUB 20
check_eq "... and pub is acknowledged (exit 0)" "$RC" 0
stop "$SERVE_PID"
finish
