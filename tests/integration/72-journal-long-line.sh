#!/usr/bin/env bash
# Journal recovery runs in bounded memory (issue 7, finding 11): a segment
# holding a 200 MB line of zeros (sparse, so the test is cheap) between
# good lines: serve starts, its peak RSS stays far below the line's size,
# the line is skipped and logged, the lines around it are recovered and
# served, and new messages continue after the last seq.
. "$(dirname "$0")/../lib.sh"
# ASan (quarantine, shadow memory) inflates RSS: the bound is looser there.
hwm_lim=40000; [ "${WSB_SAN:-}" = 1 ] && hwm_lim=$((hwm_lim * 3))
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

start_serve --journal "$T/j" || { fail "serve starts"; finish; }
printf '{"type":"t","data":1}\n{"type":"t","data":2}\n' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>"$T/pub.err"
check_eq "pub exits 0" "$?" 0
stop $SERVE_PID
seg=$(find "$T/j" -name '*.ndjson' | sort | tail -1)
size=$(stat -c %s "$seg")
truncate -s $((size + 200 * 1024 * 1024)) "$seg"
printf '\n{"type":"t","data":3,"timestamp":"2026-01-01T00:00:00.000Z","seq":3}\n' >>"$seg"

start_serve --journal "$T/j" || { fail "serve starts on the journal with a 200 MB line"; finish; }
h=$(hwm_kb "$SERVE_PID")
check "peak RSS stays bounded (${h} kB, the line is 200 MB)" test "${h:-999999}" -lt "$hwm_lim"
check "the long line is skipped and logged" grep -q 'skipped 1 unreadable line' "$SERVE_ERR"
check_eq "seq continues from the journal" "$(health_field seq)" 3
"$WSB_BIN/wsbridge-sub" --url "$WS_URL" --from-start --count 3 --timeout 5 >"$T/out" 2>"$T/sub.err"
check_eq "the other lines are recovered and served" "$(jq -r .data <"$T/out" | tr '\n' ' ')" "1 2 3 "
echo '{"type":"t","data":4}' | "$WSB_BIN/wsbridge-pub" --url "$WS_URL" 2>>"$T/pub.err"
check_eq "new messages continue after it" "$(health_field seq)" 4
stop $SERVE_PID
check_eq "serve exits 0" "$RC" 0
finish
