#!/usr/bin/env bash
# wsbridge-sub --compress against servers that get permessage-deflate wrong
# or use it against us (tests/integration/hostile_server.py): an answer
# naming what was not offered fails at once and says so (RFC 7692 §5, 1002,
# exit 65, no retry); a decompression bomb closes 1009 with the client's
# memory bounded by --max-message; RSV1 without an agreement and data that
# does not inflate close 1002. And what a server may do: the compressed
# greeting in the 101's packet, fragments with a ping between them, plain
# messages beside compressed ones, the 101 cut inside the header's name.
. "$(dirname "$0")/../lib.sh"

# sub_to MODE [BYTES [SUB ARGS...]]: wsbridge-sub --compress against a
# hostile server in MODE; its exit status in RC, output in $T/MODE.out/.err.
sub_to() {
	local mode=$1 bytes=${2:-40}
	shift $(($# < 2 ? $# : 2))
	start_hostile "$mode" "$bytes" || { fail "hostile server ($mode) starts"; return 1; }
	timeout -k 2 30 "$WSB_BIN/wsbridge-sub" --compress --url "$HOSTILE_URL" --retries 2 --retry-min 0.1 \
		--timeout 5 "$@" >"$T/$mode.out" 2>"$T/$mode.err"
	RC=$?
	kill "$HOSTILE_PID" 2>/dev/null
}

for mode in pmd pmdsplit; do
	sub_to $mode 40
	check_eq "$mode: every message (compressed, fragmented, plain) arrives" "$RC $(lines "$T/$mode.out")" "0 41"
	check "$mode: ... in order, intact" test "$(jq -r '.seq' "$T/$mode.out" | tr '\n' ' ')" = "$(seq -s ' ' 41) "
	check "$mode: ... UTF-8 across the compressed bytes" jq -se 'map(select(.seq <= 40) | .data | endswith("café")) | all' "$T/$mode.out"
	check "$mode: the server saw our offer" hostile_saw "handshake 1 permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	check "$mode: the ping between fragments was answered" hostile_saw "pong 1"
done

sub_to extother
check_eq "an extension not offered: exit 65, no retry" "$RC $(grep -c '^conn' "$HOSTILE_LOG")" "65 1"
check "... said clearly" grep -q 'code 1002: permessage-deflate answer refused: it names "x-webkit-deflate-frame", which was not offered' "$T/extother.err"
check "... and the close told the server" hostile_saw "close 1 1002"

sub_to extparam
check_eq "a parameter not offered (client_max_window_bits): exit 65" "$RC" 65
check "... said clearly" grep -q 'refused: it agrees to "client_max_window_bits", which was not offered' "$T/extparam.err"

sub_to rsv1plain
check_eq "RSV1 without an agreement: exit 65" "$RC" 65
check "... 1002" grep -q 'code 1002: reserved bits set in a frame' "$T/rsv1plain.err"

sub_to badinflate
check_eq "an RSV1 message that does not inflate: exit 65" "$RC" 65
check "... 1002" grep -q 'code 1002: compressed message does not inflate' "$T/badinflate.err"

# A bomb: 300 MiB of spaces in ~300 KB; --max-message 1m. The client's peak
# RSS is measured by a parent that waits for it (ru_maxrss of children).
start_hostile bomb $((300 << 20)) || fail "hostile server (bomb) starts"
timeout -k 2 60 "$PY" -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$WSB_BIN/wsbridge-sub" --compress --url "$HOSTILE_URL" --max-message 1m --retries 2 \
	>"$T/bomb.rss" 2>"$T/bomb.err"
RC=$?
kill "$HOSTILE_PID" 2>/dev/null
check_eq "a decompression bomb: exit 65, no retry" "$RC $(grep -c '^conn' "$HOSTILE_LOG")" "65 1"
check "... 1009, said clearly" grep -q 'code 1009: message larger than 1048576 bytes (--max-message)' "$T/bomb.err"
check "... the server got 1009" hostile_saw "close 1 1009"
check "... the client's peak RSS stayed small ($(tail -1 "$T/bomb.rss") kB for a 300 MiB bomb)" \
	test "$(tail -1 "$T/bomb.rss")" -lt 40000
finish
