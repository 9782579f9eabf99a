#!/usr/bin/env bash
# A scheme the port does not speak (wss:// to a plain port, ws:// to a TLS
# one) is the URL's mistake, not a passing trouble: with the default
# --retries -1, pub, sub and wsbridge-health --ws end at once with 78 and
# say which scheme to use.
. "$(dirname "$0")/../lib.sh"

start_serve || { fail "serve starts"; finish; }
PLAIN=$PORT
make_test_cert
PORT=
start_serve --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || fail "TLS serve starts"
TLS=$PORT

t0=$(date +%s)
timeout -k 2 30 "$WSB_BIN/wsbridge-sub" --url "wss://127.0.0.1:$PLAIN/ws" >/dev/null 2>"$T/s1.err"
check_eq "sub wss:// to a plain port exits 78" "$?" 78
check "... at once" test $(($(date +%s) - t0)) -le 5
check "... saying use ws://" grep -q "does not speak TLS on this port: use ws://" "$T/s1.err"
check "... without retrying" test "$(grep -c retrying "$T/s1.err")" -eq 0

timeout -k 2 30 "$WSB_BIN/wsbridge-sub" --url "ws://127.0.0.1:$TLS/ws" >/dev/null 2>"$T/s2.err"
check_eq "sub ws:// to a TLS port exits 78" "$?" 78
check "... saying use wss://" grep -q "the broker speaks TLS: use wss://" "$T/s2.err"

echo '{"type":"a"}' | timeout -k 2 30 "$WSB_BIN/wsbridge-pub" --url "ws://127.0.0.1:$TLS/ws" 2>"$T/p.err"
check_eq "pub ws:// to a TLS port exits 78" "$?" 78
check "... saying use wss://" grep -q "the broker speaks TLS: use wss://" "$T/p.err"

timeout -k 2 30 "$WSB_BIN/wsbridge-health" --url "ws://127.0.0.1:$TLS/ws" --ws >/dev/null 2>"$T/h1.err"
check_eq "health ws:// to a TLS port exits 78" "$?" 78
check "... saying use wss://" grep -q "speaks TLS: use wss://" "$T/h1.err"
timeout -k 2 30 "$WSB_BIN/wsbridge-health" --url "https://127.0.0.1:$PLAIN" >/dev/null 2>"$T/h2.err"
check_eq "health https:// to a plain port exits 78" "$?" 78
check "... saying use http://" grep -q "does not speak TLS on this port: use http://" "$T/h2.err"
check "... not --cafile advice" test "$(grep -c cafile "$T/h2.err")" -eq 0
timeout -k 2 30 "$WSB_BIN/wsbridge-health" --url "http://127.0.0.1:$TLS" >/dev/null 2>"$T/h3.err"
check_eq "health http:// to a TLS port exits 78" "$?" 78
check "... saying use https://" grep -q "speaks TLS: use https://" "$T/h3.err"
finish
