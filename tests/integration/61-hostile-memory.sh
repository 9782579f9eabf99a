#!/usr/bin/env bash
# Client memory is bounded (issue 7, finding 9). A hostile server sends
# 300 MB as endless fragments of one message, or one frame announcing 300 MB:
# wsbridge-sub fails the connection with 1009 past --max-message (16 MiB by
# default) and exits 65, and its peak RSS stays near --max-message instead of
# following what was sent. pub fails the same way.
. "$(dirname "$0")/../lib.sh"
# ASan's shadow memory and quarantine inflate RSS; the bound still has to
# stay far below the 300 MB sent.
slack_kb=$((14 * 1024)); [ "${WSB_SAN:-}" = 1 ] && slack_kb=$((120 * 1024))

# sub_hwm ARGS...: runs sub against $HOSTILE_URL under /usr/bin/time; sets
# RC and HWM_KB (peak RSS).
sub_hwm() {
	/usr/bin/time -f 'maxrss %M' -o "$T/time" "$WSB_BIN/wsbridge-sub" --url "$HOSTILE_URL" "$@" \
		>"$T/sub.out" 2>"$T/sub.err" &
	SUB=$!; track $SUB
	wait_pid $SUB 60
	HWM_KB=$(sed -n 's/^maxrss //p' "$T/time")
}

start_hostile fragments $((300 << 20)) || { fail "hostile server starts"; finish; }
sub_hwm
check_eq "300 MB of fragments: sub exits 65" "$RC" 65
check "…closing with 1009" hostile_saw '^close 1 1009'
check "…saying why" grep -q 'message larger than 16777216 bytes' "$T/sub.err"
check "…peak RSS ${HWM_KB:-?} kB < 16 MiB + $slack_kb kB" test "${HWM_KB:-999999999}" -lt $((16 * 1024 + slack_kb))
check_eq "…printed nothing" "$(lines "$T/sub.out")" 0
check "…and did not take all 300 MB" test "$(sed -n 's/^sent 1 //p' "$HOSTILE_LOG")" -lt $((100 << 20))
stop $HOSTILE_PID

start_hostile hugeframe $((300 << 20)) || { fail "hostile server starts"; finish; }
sub_hwm --max-message 1M
check_eq "one frame announcing 300 MB: sub exits 65" "$RC" 65
check "…closing with 1009 at its first bytes" hostile_saw '^close 1 1009'
check "…peak RSS ${HWM_KB:-?} kB stays small" test "${HWM_KB:-999999999}" -lt $((1024 + slack_kb))
stop $HOSTILE_PID

start_hostile fragments $((8 << 20)) || { fail "hostile server starts"; finish; }
echo '{"type":"a"}' >"$T/in"
"$WSB_BIN/wsbridge-pub" --url "$HOSTILE_URL" --max-message 1M --linger 5 <"$T/in" 2>"$T/pub.err" &
PUB=$!; track $PUB
wait_pid $PUB 30
check_eq "pub against an oversized server message exits 65" "$RC" 65
check "…after closing with 1009" hostile_saw '^close 1 1009'
stop $HOSTILE_PID

"$WSB_BIN/wsbridge-sub" --max-message 10 2>"$T/e1"
check_eq "--max-message below 64 is a usage error" "$?" 64
finish
