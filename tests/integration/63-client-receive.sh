#!/usr/bin/env bash
# The clients' receive path (lib/wsrx.c, issue 12): frames are parsed in
# bulk from each read, not by lws's byte-at-a-time parser, and every client
# guarantee holds on it, over ws and wss. A text message that is not UTF-8
# fails the connection with 1007 and exit 65, printing nothing (RFC 6455
# §8.1); thousands of messages in one send arrive whole and in order, a
# message in fragments that split a character is put back together, and
# a ping between those fragments is still answered (control frames stay
# lws's).
. "$(dirname "$0")/../lib.sh"
once=(--retries 0 --retry-min 0.1 --retry-max 0.1)
N=3000
tls=()
if command -v openssl >/dev/null && make_test_cert; then
	tls=(wss)
else
	pass "wss cases skipped: no openssl"
fi

for proto in ws "${tls[@]}"; do
	args=()
	if [ "$proto" = wss ]; then
		export HOSTILE_CERT="$T/cert.pem" HOSTILE_KEY="$T/key.pem"
		args=(--cafile "$T/cert.pem")
	fi
	start_hostile badutf8 || { fail "hostile server starts"; finish; }
	url=$HOSTILE_URL; [ "$proto" = wss ] && url="wss://${HOSTILE_URL#ws://}"
	"$WSB_BIN/wsbridge-sub" --url "$url" "${args[@]}" --count 2 --timeout 10 "${once[@]}" \
		>"$T/bad.$proto.out" 2>"$T/bad.$proto.err" &
	SUB=$!; track $SUB
	wait_pid $SUB 15
	check_eq "$proto: a text message that is not UTF-8: sub exits 65" "$RC" 65
	check "…closing with 1007" hostile_saw '^close 1 1007'
	check_eq "…printing nothing, not even what came after" "$(lines "$T/bad.$proto.out")" 0
	check "…saying why" grep -q 'not UTF-8' "$T/bad.$proto.err"
	stop $HOSTILE_PID

	start_hostile bulk $N || { fail "hostile server starts"; finish; }
	url=$HOSTILE_URL; [ "$proto" = wss ] && url="wss://${HOSTILE_URL#ws://}"
	"$WSB_BIN/wsbridge-sub" --url "$url" "${args[@]}" --count $N --timeout 20 "${once[@]}" \
		>"$T/bulk.$proto.out" 2>"$T/bulk.$proto.err" &
	SUB=$!; track $SUB
	wait_pid $SUB 25
	check_eq "$proto: $N messages in one send: sub exits 0 on --count $N" "$RC" 0
	"$PY" - "$N" >"$T/want" <<'PYEOF'
import sys
for i in range(1, int(sys.argv[1]) + 1):
    print('{"type":"n","seq":3,"data":"caf\u00e9"}' if i == 3 else '{"type":"n","seq":%d,"data":"%s"}' % (i, "x" * (i % 300)))
PYEOF
	check "…every one whole and in order, the split character put back together" \
		cmp -s "$T/want" "$T/bulk.$proto.out"
	check "…and the ping between its fragments answered" poll 5 hostile_saw '^pong 1'
	stop $HOSTILE_PID
	unset HOSTILE_CERT HOSTILE_KEY
done
finish
