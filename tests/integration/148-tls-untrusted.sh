#!/usr/bin/env bash
# A server certificate the client does not trust is no more transient than
# a wrong scheme: every attempt meets the same certificate. With the default
# --retries -1, pub and sub end at once with 78 (bad configuration) and say
# how to fix it (--cafile FILE, --insecure); -q keeps that line. It used to
# be retried forever.
. "$(dirname "$0")/../lib.sh"

make_test_cert || { fail "openssl makes a test certificate" "$(cat "$T/openssl.log")"; finish; }
mkdir -p "$T/other"
make_test_cert "$T/other" || { fail "a second test certificate"; finish; }
start_serve --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { fail "TLS serve starts"; finish; }
fix='use --cafile FILE (the CA that signed it) or --insecure'

timeout -k 2 30 "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --retry-min 0.05 >/dev/null 2>"$T/s1.err"
check_eq "sub, no --cafile, default --retries: exit 78" "$?" 78
check "... saying the certificate failed and how to fix it" \
	grep -q "error: cannot connect to $WS_URL: TLS: certificate verify failed (self-signed certificate); $fix" "$T/s1.err"
check "... without retrying" test "$(grep -c retrying "$T/s1.err")" -eq 0

timeout -k 2 30 "$WSB_BIN/wsbridge-sub" --url "$WS_URL" --cafile "$T/other/cert.pem" >/dev/null 2>"$T/s2.err"
check_eq "sub, a --cafile that did not sign it: exit 78" "$?" 78
check "... the same advice" grep -q "TLS: certificate verify failed.*; $fix" "$T/s2.err"

echo '{"type":"a"}' | timeout -k 2 30 "$WSB_BIN/wsbridge-pub" -q --url "$WS_URL" --retry-min 0.05 2>"$T/p1.err"
check_eq "pub -q, no --cafile: exit 78" "$?" 78
check "... one line, the cause in it" \
	sh -c "[ \$(wc -l <'$T/p1.err') -eq 1 ] && grep -q 'TLS: certificate verify failed.*--insecure' '$T/p1.err'"

echo '{"type":"a"}' | timeout -k 2 30 "$WSB_BIN/wsbridge-pub" --url "$WS_URL" --cafile "$T/cert.pem" 2>"$T/p2.err"
check_eq "pub with the right --cafile: exit 0" "$?" 0
stop "$SERVE_PID"
finish
