#!/usr/bin/env bash
# The house rules a compiler does not check (make lint; make check runs it
# through tests/run.sh). One line per rule, "PASS lint: <rule>" or
# "FAIL lint: <rule> — <what breaks it>", which tests/run.sh counts.
#   scripts/lint.sh [TESTBIN]   (TESTBIN: unit test binaries, for test_options)
# Rules: a -Werror build of everything (objects in build/lint), include
# boundaries, no public function that nothing outside its file uses, no
# function over 80 lines, no C file over 1000 lines, unique option names and
# letters per tool, and docs/design.md naming every lib/*.c and cmd/ program.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
testbin=${1:-${WSB_TESTBIN:-$root/build/rel/tests}}
obj=build/lint
failed=0

pass() { echo "PASS lint: $1"; }
fail() { echo "FAIL lint: $1 — $2"; failed=$((failed + 1)); }
src() { ls lib/*.c cmd/*/*.c; }

# Breaches a branch in flight already removes: reported, not failed, until it
# lands; then the entry must go (a stale one fails), so the list only shrinks.
pending="
"
used_pending=

# judge RULE KEY...: PASS unless a KEY is not pending. A KEY is "kind what"
# (file lib/x.c, func lib/x.c:name, unused symbol); its text follows a tab.
judge() {
	local rule=$1 k bad= held=
	shift
	for k in "$@"; do
		if grep -qP "^\Q${k%%$'\t'*}\E\t" <<<"$pending"; then
			held="$held ${k%%$'\t'*}"
			used_pending="$used_pending|${k%%$'\t'*}|"
		else
			bad="$bad ${k#*$'\t'}"
		fi
	done
	if [ -n "$bad" ]; then fail "$rule" "$bad"; else pass "$rule${held:+ (pending:$held)}"; fi
}

stale_pending() {
	local line key bad=
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		key=${line%%$'\t'*}
		case $used_pending in *"|$key|"*) ;; *) bad="$bad '$key'" ;; esac
	done <<<"$pending"
	if [ -z "$bad" ]; then pass "pending exceptions all still needed"; else
		fail "pending exceptions all still needed" "fixed, remove from scripts/lint.sh:$bad"; fi
}

# -Werror in its own build folder, so the normal build never breaks on a new
# compiler's new warning, and nothing here depends on what was built before.
werror() {
	local log
	log=$(mktemp)
	if MAKEFLAGS= make --no-print-directory -s -j"${JOBS:-2}" LINT=1 lint-objs >"$log" 2>&1; then
		pass "-Werror build"
	else
		grep -E 'error|warning' "$log" | head -n 20
		fail "-Werror build" "see the errors above"
	fi
	rm -f "$log"
}

# Who may include what (header regex, then the files allowed to). The
# transport files are the only ones that speak libwebsockets; jq has one
# wrapper; curl is the health probe's and the clients' one look at a
# broker's / after a 404 (lib/diag.c), zlib the replay program's and
# permessage-deflate's (lib/pmd.c).
boundaries() {
	local bad=
	while read -r hdr allowed; do
		for f in $(grep -lE "^#[[:space:]]*include[[:space:]]*<($hdr)" lib/*.[ch] cmd/*/*.[ch]); do
			case " $allowed " in *" $f "*) ;; *) bad="$bad $f:<$hdr>" ;; esac
		done
	done <<-'EOF'
		libwebsockets\.h lib/wsserver.c lib/wsserver_int.h lib/wsserver_http.c lib/wsserver_rx.c lib/wsserver_own.c lib/wsdoor.c lib/wsclient.c lib/wsclient_int.h lib/wsclient_in.c lib/lwsglue.c
		(jq|jv)\.h lib/jqfilter.c
		curl/ cmd/wsbridge-health/probe.c lib/diag.c
		zlib\.h cmd/wsbridge-replay/replay_run.c lib/pmd.c
		hiredis/ lib/redis.c
	EOF
	if [ -z "$bad" ]; then pass "include boundaries"; else fail "include boundaries" "not allowed:$bad"; fi
}

# A symbol lib/ or cmd/ defines that no other object (tests included: what
# they need counts) refers to is dead, or should be static. main and the
# recv/SSL_read/bind/shutdown interposers of lwsio.c are referenced by the C runtime
# and libwebsockets.so, which nm does not see.
unused() {
	local defs refs keys=()
	[ -d "$obj/lib" ] || { fail "no unused public functions" "no objects in $obj"; return; }
	refs=$(find "$obj" -name '*.o' -exec nm -u {} + 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u)
	defs=$(for o in "$obj"/lib/*.o "$obj"/cmd/*/*.o; do
		nm -g --defined-only "$o" | awk -v o="$o" '$2 ~ /^[TDBR]$/ { print $3, o }'
	done)
	while read -r sym o; do
		case $sym in main | recv | SSL_read | bind | shutdown) continue ;; esac
		grep -qxF "$sym" <<<"$refs" || keys+=("unused $sym"$'\t'"$sym(${o#"$obj"/})")
	done <<<"$defs"
	judge "no unused public functions" "${keys[@]}"
}

# Function lengths from universal-ctags' end: field (scripts/install-deps.sh
# installs it), counted from the line of the name to the closing brace.
func_lines() {
	local keys=() l
	if ! command -v ctags >/dev/null || ! ctags --version 2>/dev/null | grep -q Universal; then
		fail "no function over 80 lines" "universal-ctags is not installed (scripts/install-deps.sh)"
		return
	fi
	while IFS= read -r l; do
		[ -n "$l" ] && keys+=("$l")
	done < <(ctags --c-kinds=f --fields=+ne --output-format=u-ctags -o - $(src) |
		awk -F'\t' '{ l = e = 0
			for (i = 4; i <= NF; i++) {
				if ($i ~ /^line:/) l = substr($i, 6)
				if ($i ~ /^end:/) e = substr($i, 5)
			}
			if (e - l + 1 > 80)
				printf "func %s:%s\t%s:%d %s (%d lines)\n", $2, $1, $2, l, $1, e - l + 1 }')
	judge "no function over 80 lines" "${keys[@]}"
}

file_lines() {
	local keys=() l
	while IFS= read -r l; do
		[ -n "$l" ] && keys+=("$l")
	done < <(wc -l lib/*.[ch] cmd/*/*.[ch] |
		awk '$2 != "total" && $1 > 1000 { printf "file %s\t%s (%d lines)\n", $2, $2, $1 }')
	judge "no C file over 1000 lines" "${keys[@]}"
}

# test_options holds every tool's rows to unique long names and letters.
letters() {
	local t=$testbin/test_options
	if [ -x "$t" ] && "$t" | grep -q '^PASS options: test_names_and_letters_unique_per_tool$'; then
		pass "unique option names and letters per tool"
	else
		fail "unique option names and letters per tool" "$t test_names_and_letters_unique_per_tool"
	fi
}

# docs/design.md is the map: every module and program is on it, and it names
# none that is gone.
design() {
	local bad= f m
	for f in lib/*.c; do
		grep -qF "$(basename "$f")" docs/design.md || bad="$bad $f"
	done
	for f in cmd/*/; do
		grep -qF "${f%/}" docs/design.md || bad="$bad ${f%/}"
	done
	for m in $(grep -oE '\b(lib/[a-z0-9_]+\.c|cmd/wsbridge-[a-z]+)\b' docs/design.md | sort -u); do
		[ -e "$m" ] || bad="$bad $m(gone)"
	done
	if [ -z "$bad" ]; then pass "docs/design.md names every module and program"; else
		fail "docs/design.md names every module and program" "$bad"; fi
}

werror
boundaries
unused
func_lines
file_lines
letters
design
stale_pending
[ "$failed" -eq 0 ]
