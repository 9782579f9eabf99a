#!/usr/bin/env bash
# Runs libFuzzer targets, one at a time (they would only fight over the
# cores), each for SECONDS starting from its committed corpus.
#   tests/fuzz/run.sh BUILD_DIR SECONDS NAME...      (make fuzz calls it)
# New interesting inputs go to a temporary folder, not into the committed
# corpus (add the ones worth keeping by hand, minimised: fuzz_NAME
# -minimize_crash=1 or -merge=1). A crash, leak, timeout or broken invariant
# is reported with the reproducer's path and the run fails at the end; the
# last line is "fuzz: N targets, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?build dir}
secs=${2:?seconds}
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/wsb-fuzz.XXXXXX")
failed=() n=0
for name in "$@"; do
	bin=$build/fuzz_$name
	[ -x "$bin" ] || { echo "fuzz: $bin is missing" >&2; failed+=("$name"); continue; }
	n=$((n + 1))
	mkdir -p "$work/$name/new" "$work/$name/crash"
	dict=()
	[ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
	echo "fuzz: $name for ${secs}s"
	# -timeout: an input that takes 10 s is a hang worth reporting.
	"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/$name/crash/" "${dict[@]}" \
		"$work/$name/new" "$here/corpus/$name" >"$work/$name/log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)' "$work/$name/log" |
		sed "s/^/  /"
	if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/$name/crash")" ]; then
		failed+=("$name")
		echo "FUZZ FAILURE: fuzz_$name exited $rc; reproducer(s):"
		ls -d "$work/$name/crash/"* 2>/dev/null | sed 's/^/  /'
		grep -E -A12 '^==[0-9]+==ERROR|invariant failed|runtime error|SUMMARY' "$work/$name/log" | head -40
		echo "  replay: $bin <file>; full log: $work/$name/log"
	fi
done
echo "fuzz: $n targets, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
if [ ${#failed[@]} -eq 0 ]; then rm -rf "$work"; else echo "fuzz: files kept in $work"; fi
[ ${#failed[@]} -eq 0 ]
