#!/usr/bin/env bash
# Runs every test: the unit binaries in $WSB_TESTBIN, the house rules
# (scripts/lint.sh), then the integration scripts in tests/integration/
# against the binaries in $WSB_BIN, $JOBS at a time (default 2: they use
# their own ports and temporary folders), their output printed whole and in
# order as each finishes.
# Every test prints "PASS <suite>: <name>" or "FAIL <suite>: <name>"; this
# script counts them (a script that dies without saying so counts as one
# failure) and ends with the line "N passed, N failed".
#   tests/run.sh [unit|lint|integration] [NAME-GLOB]     (lint: only with all or lint)
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${WSB_BIN:?set WSB_BIN to the folder with the wsbridge binaries}"
: "${WSB_TESTBIN:?set WSB_TESTBIN to the folder with the unit test binaries}"
export WSB_BIN WSB_TESTBIN
what=${1:-all}
pattern=${2:-*}
per_test_timeout=${WSB_TEST_TIMEOUT:-300}
passed=0 failed=0
failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/wsb-tests.XXXXXX")
if [ "${WSB_SAN:-}" = 1 ]; then
	# Every sanitizer report from any process lands in $logdir/san.*; one
	# report fails the run even if the process's exit status went unchecked.
	export ASAN_OPTIONS="log_path=$logdir/san.asan:detect_leaks=1:exitcode=99"
	export UBSAN_OPTIONS="log_path=$logdir/san.ubsan:print_stacktrace=1:halt_on_error=1"
	export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
fi

jobs_max=${JOBS:-2}
case $jobs_max in '' | *[!0-9]* | 0) jobs_max=1 ;; esac

logname() { echo "$logdir/$(echo "$1" | tr '/ ' '__').log"; }

run_one() {	# name, command...
	local name=$1 out
	shift
	out=$(logname "$name")
	timeout -k 5 "$per_test_timeout" "$@" >"$out" 2>&1
	report "$name" "$out" $?
}

# Counts one test's PASS/FAIL lines and shows them (its log on failure).
report() {	# name, log, exit status
	local name=$1 out=$2 rc=$3 p f
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	grep -E '^(PASS|FAIL) ' "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited $rc$([ "$rc" -eq 124 ] && echo ' (timed out)')"
		f=1
	fi
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		echo "---- $name output (last 40 lines) ----"
		tail -n 40 "$out"
		echo "----"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$WSB_TESTBIN"/test_$pattern; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$t"
	done
fi
# One script in the background; its status goes to <log>.rc last, so a
# present .rc means the log is complete.
start_script() {	# name, script
	local out
	out=$(logname "$1")
	timeout -k 5 "$per_test_timeout" bash "$2" >"$out" 2>&1
	echo $? >"$out.rc.tmp" && mv "$out.rc.tmp" "$out.rc"
}

run_integration() {
	local scripts=() names=() t n started=0 printed=0 out
	for t in "$here"/integration/$pattern.sh; do
		[ -f "$t" ] || continue
		scripts+=("$t")
		names+=("integration/$(basename "$t" .sh)")
	done
	n=${#scripts[@]}
	while [ "$printed" -lt "$n" ]; do
		while [ "$started" -lt "$n" ] && [ "$(jobs -rp | wc -l)" -lt "$jobs_max" ]; do
			start_script "${names[$started]}" "${scripts[$started]}" &
			started=$((started + 1))
		done
		out=$(logname "${names[$printed]}")
		if [ -e "$out.rc" ]; then
			report "${names[$printed]}" "$out" "$(cat "$out.rc")"
			printed=$((printed + 1))
		else
			wait -n 2>/dev/null || sleep 0.1	# bash < 5.1 may return at once
		fi
	done
}

if [ "$what" = all ] || [ "$what" = lint ]; then
	run_one "lint" "$here/../scripts/lint.sh" "$WSB_TESTBIN"
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
	run_integration
fi
if [ "${WSB_SAN:-}" = 1 ]; then
	# LeakSanitizer's own trouble, not a finding: a process that a test's
	# cleanup killed (SIGKILL) while LSan was checking it at exit leaves
	# only "Unable to get registers from thread N". Said, not counted;
	# any other line in the file is a report and fails the run.
	for f in "$logdir"/san.*; do
		[ -e "$f" ] || continue
		if ! grep -qv 'Unable to get registers from thread' "$f"; then
			echo "note: LeakSanitizer could not check a process killed during its exit check: $(head -c 200 "$f")"
			rm -f "$f"
		fi
	done
	if ls "$logdir"/san.* >/dev/null 2>&1; then
		echo "FAIL sanitizers: reports in $logdir:"
		head -n 30 "$logdir"/san.*
		failures+=(sanitizers)
		failed=$((failed + 1))
	else
		echo "PASS sanitizers: no AddressSanitizer/UBSan reports"
		passed=$((passed + 1))
	fi
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]} (logs in $logdir)"
else
	rm -rf "$logdir"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
