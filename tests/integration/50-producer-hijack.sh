#!/usr/bin/env bash
# Issue 7, finding 1: nobody can silence a publisher. A real wsbridge-pub
# feeds lines while a hostile client (hijack.py) reads a delivered message,
# takes its producer id and tries to poison it: as that producer without a
# secret and with a guessed one (each followed by pseq 2^64-1), with
# producer/pseq planted in a plain message, and with a pseq jump under its
# own id. Every line of the real pub must arrive once, in order, and pub
# exits 0; every attack is refused. Then the same through a --journal
# restart (SIGKILL) with a planted message: recovery trusts only what the
# broker wrote, and the id stays closed to anyone without its secret.
. "$(dirname "$0")/../lib.sh"
N=3000 HALF=1500
retry=(--retry-min 0.05 --retry-max 0.3)

# gen FIFO MARK: lines 1..HALF, then (once MARK exists) HALF+1..N.
gen() {
	seq 1 $HALF | sed 's/.*/{"type":"t","data":{"n":&}}/'
	poll 90 test -f "$2" || exit 1
	seq $((HALF + 1)) $N | sed 's/.*/{"type":"t","data":{"n":&}}/'
}

# run_pub_sub TAG: sub (--type t) and pub (fed by gen) started, first half through.
run_pub_sub() {
	"$WSB_BIN/wsbridge-sub" --url "$WS_URL" "${retry[@]}" --type t --count $N --timeout 90 \
		>"$T/$1.sub.out" 2>"$T/$1.sub.err" &
	SUB=$!; track $SUB
	wait_subscribers 1 || fail "$1: sub subscribes"
	mkfifo "$T/$1.fifo"
	"$WSB_BIN/wsbridge-pub" --url "$WS_URL" "${retry[@]}" --linger 60 <"$T/$1.fifo" 2>"$T/$1.pub.err" &
	PUB=$!; track $PUB
	gen "$T/$1.fifo" "$T/$1.done" >"$T/$1.fifo" &
	GEN=$!; track $GEN
	wait_lines "$T/$1.sub.out" $HALF 30 || fail "$1: first half delivered" "got $(lines "$T/$1.sub.out")"
}

# end_pub_sub TAG: pub exits 0 and sub has 1..N once each, in order.
end_pub_sub() {
	wait_pid $GEN 60
	wait_pid $PUB 60
	check_eq "$1: pub exits 0" "$RC" 0
	wait_pid $SUB 60
	check_eq "$1: sub exits 0 after --count $N" "$RC" 0
	seq $N >"$T/want"
	jq -r '.data.n' <"$T/$1.sub.out" >"$T/$1.got"
	check "$1: every line of the real pub arrived once, in order" cmp -s "$T/want" "$T/$1.got" ||
		{ diff "$T/want" "$T/$1.got" | head -5; }
}

# --- live: attacks while the broker runs ---
start_serve --history 100000 || { fail "serve starts"; finish; }
run_pub_sub live
pyrun 60 "$WSB_TESTS/integration/hijack.py" live "$PORT" "$T/live.done" "$T/live.id"
touch "$T/live.done"	# let the pub go on even if the attacker died
end_pub_sub live
check_eq "live: nothing was taken for a duplicate" "$(health_field duplicates)" 0
check "live: refusals are logged without the secret" grep -q "refused producer" "$SERVE_ERR"
check "live: no secret in the pub's log" sh -c "! grep -q producer_secret '$T/live.pub.err'"
stop $SERVE_PID

# --- journal: a planted message through a restart ---
PORT=
srv=(--journal "$T/journal" --history 100000)
start_serve "${srv[@]}" || { fail "serve starts with --journal"; finish; }
run_pub_sub journal
pyrun 60 "$WSB_TESTS/integration/hijack.py" plant "$PORT" "$T/plant.done" "$T/journal.id"
# The planted message is journaled (with a seq) before the kill.
poll 10 grep -q '"type":"evil"' "$T"/journal/*.ndjson || fail "journal: the planted message is journaled"
kill -KILL $SERVE_PID
wait_pid $SERVE_PID 10
start_serve "${srv[@]}" || { fail "serve restarts with its journal"; finish; }
pyrun 60 "$WSB_TESTS/integration/hijack.py" after "$PORT" "$T/after.done" "$T/journal.id"
touch "$T/journal.done"
end_pub_sub journal
check "journal: no client-supplied pseq in the journal" \
	sh -c "! grep -q 18446744073709551615 '$T'/journal/*.ndjson"
check "journal: the producers file holds hashes, not secrets" \
	awk 'length($2) != 64 { bad = 1 } END { exit bad || NR == 0 }' "$T/journal/producers"
stop $SERVE_PID
check_eq "serve exits 0 on SIGTERM" "$RC" 0
finish
