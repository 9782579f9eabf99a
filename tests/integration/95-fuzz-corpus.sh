#!/usr/bin/env bash
# Every committed fuzz corpus replays cleanly: each tests/fuzz/corpus/NAME/
# is fed once through replay_NAME (the fuzz target linked with
# tests/fuzz/replay_main.c by the normal compiler, in $WSB_TESTBIN/fuzz), so
# an input that once crashed a target or broke its invariant stays fixed
# without clang. Under make check SAN=1 the replays run sanitized.
. "$(dirname "$0")/../lib.sh"
: "${WSB_TESTBIN:?}"
FUZZ=$WSB_TESTS/fuzz

names=()
for src in "$FUZZ"/fuzz_*.c; do
	n=${src##*/fuzz_}
	names+=("${n%.c}")
done
[ ${#names[@]} -gt 0 ] || fail "fuzz targets" "none in $FUZZ"

for n in "${names[@]}"; do
	bin=$WSB_TESTBIN/fuzz/replay_$n
	corpus=$FUZZ/corpus/$n
	if [ ! -x "$bin" ]; then
		fail "corpus $n" "$bin not built (make all)"
		continue
	fi
	if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
		fail "corpus $n" "no seeds in $corpus"
		continue
	fi
	timeout -k 5 120 "$bin" "$corpus" >"$T/$n.out" 2>"$T/$n.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "corpus $n replays cleanly ($(sed -n 's/^replayed \([0-9]*\).*/\1/p' "$T/$n.out") inputs)"
	else
		fail "corpus $n" "replay_$n exited $rc at $(grep '^replay: ' "$T/$n.err" | tail -1)"
		grep -v '^replay: ' "$T/$n.err" | tail -n 20
	fi
done
finish
