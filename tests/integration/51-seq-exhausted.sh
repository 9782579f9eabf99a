#!/usr/bin/env bash
# Issue 7, finding 12: seq never wraps. A journal ends at seq 2^64-2; the
# next message takes 2^64-1, and the one after is refused (SEQ_EXHAUSTED):
# wsbridge-pub is not acknowledged and exits 75, /health is unavailable
# (503, as for a cluster that is down: test 149) with a reason, and no message gets seq 0 (delivered or journaled).
. "$(dirname "$0")/../lib.sh"
J=$T/journal
mkdir -p "$J"
echo 0123456789abcdef >"$J/epoch"
echo '{"type":"t","data":0,"seq":18446744073709551614}' >"$J/18446744073709551614.ndjson"
start_serve --journal "$J" || { fail "serve starts"; finish; }
check_eq "recovered the last seq" "$(health_field seq)" 18446744073709551614

"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --type t --count 1 --timeout 15 >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!; track $SUB
wait_subscribers 1 || fail "sub subscribes"
echo '{"type":"t","data":1}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 5 2>"$T/pub1.err"
check_eq "the last seq is still handed out: pub exits 0" "$?" 0
code=$(curl -s -o "$T/h.json" -w '%{http_code}' "$HTTP_URL/health")
check_eq "/health is unavailable (503) once the last seq is taken" "$(jq -r .status "$T/h.json") $code" "unavailable 503"
echo '{"type":"t","data":2}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --linger 2 2>"$T/pub2.err"
check_eq "past the end: pub is not acknowledged (exit 75)" "$?" 75
check "pub says why" grep -q "seq space is exhausted" "$T/pub2.err"
code=$(curl -s -o "$T/post.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"type":"t","data":3}' "$HTTP_URL/publish")
check_eq "POST /publish past the end: 503 (the server's state, not a bad line)" "$code" 503
check "... naming SEQ_EXHAUSTED" grep -q SEQ_EXHAUSTED "$T/post.out"
check "/health gives the reason" sh -c "curl -s '$HTTP_URL/health' | grep -q 'publishes refused (SEQ_EXHAUSTED): seq space exhausted'"
wait_pid $SUB 20
check_eq "sub got the message with seq 2^64-1" "$RC/$(grep -c '"seq":18446744073709551615}' "$T/sub.out")" 0/1
check "nothing was journaled with seq 0" sh -c "! grep -q '\"seq\":0}' '$J'/*.ndjson"
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
